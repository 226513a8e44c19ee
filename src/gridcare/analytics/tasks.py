"""Background work of the reports on the Django Tasks queue: the incremental fact refresh (every minute,
bounded per run, safe to run twice) and reports too large to compute while the user waits."""
from django_tasks import task

from gridcare.core.scheduler import register as schedule


@task()
def refresh_facts_task(max_batches: int = 10):
    from . import facts

    return facts.refresh(max_batches=max_batches)


@task()
def report_run_task(run_id: int):
    from . import services

    return services.execute_run(run_id)


schedule("analytics.refresh_facts", 60, "gridcare.analytics.tasks.refresh_facts_task")
