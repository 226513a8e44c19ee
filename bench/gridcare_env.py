"""What every benchmark needs around the project: run a `gridcare` command against the bench database,
set up Django in-process on it, and pick a free loopback port for a real server."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run_gridcare(args, env, log_path, timeout=600):
    """`gridcare ARGS` with `env` (DATABASE_URL …), output appended to `log_path`; raises on failure."""
    with open(log_path, "ab") as log:
        subprocess.run([str(BIN / "gridcare"), *args], env=env, stdout=log, stderr=subprocess.STDOUT, check=True,
                       timeout=timeout, cwd=ROOT)


def setup_django(url: str):
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "gridcare.settings"
    os.environ["GRIDCARE_DEBUG"] = "0"
    import django

    django.setup()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
