"""Metering background work: the daily missed-read sweep (bounded, safe to run twice)."""
from django_tasks import task

from gridcare.core.scheduler import register as schedule


@task()
def missed_reads_task():
    from .services import sweep_missed_reads

    return sweep_missed_reads()


schedule("metering.missed_reads", 24 * 3600, "gridcare.metering.tasks.missed_reads_task", at="06:00")  # before the teams start
