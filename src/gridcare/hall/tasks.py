"""Background work of the hall on the Django Tasks queue: tickets still waiting from an earlier day are
marked 未办理离开 (abandoned), bounded per run and safe to run twice."""
from django_tasks import task

from gridcare.core.scheduler import register as schedule


@task()
def sweep_abandoned_tickets():
    from .services import sweep_abandoned

    return {"abandoned": sweep_abandoned()}


schedule("hall-abandoned-sweep", 3600, "gridcare.hall.tasks.sweep_abandoned_tickets")
