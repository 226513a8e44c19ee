"""`gridcare` console command: Django's management commands with GridCare's settings.

`gridcare migrate`, `gridcare runserver`, `gridcare import customers FILE`, `gridcare sla due ...`.
"""
import os
import sys


def main(argv=None):
    import warnings

    # jieba (word segmentation) still imports pkg_resources; its deprecation notice is not for our users
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridcare.settings")
    argv = list(sys.argv if argv is None else argv)
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
