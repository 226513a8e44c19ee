"""Billing background work on the Django Tasks queue: bill runs (with progress on the BillRun row),
reminders (daily) and the reconnection sweep (every minute). Sweeps are bounded and safe to run twice."""
from django_tasks import task

from gridcare.core.scheduler import register as schedule


@task()
def bill_run_task(run_id: int):
    from django.db import transaction

    from .models import BillRun, RunStatus
    from .services import execute_run

    run = BillRun.objects.select_related("unit").get(pk=run_id)
    try:
        with transaction.atomic():
            run = execute_run(run)
    except Exception as exc:  # noqa: BLE001 - the run shows why it failed
        BillRun.objects.filter(pk=run_id).update(status=RunStatus.FAILED, error=str(exc)[:2000])
        raise
    return {"bills": run.bills, "held": run.held, "amount": str(run.amount)}


@task()
def reminders_task():
    from .services import send_reminders

    result = send_reminders()
    if result["more"]:  # a bounded batch a run; the rest in the next one, right away
        reminders_task.enqueue()
    return result


@task()
def reconnection_sweep_task():
    from .services import sweep_reconnections

    return sweep_reconnections()


# customers get reminders by day: at 09:00, or later until 19:00 when the scheduler was down at nine
schedule("billing.reminders", 24 * 3600, "gridcare.billing.tasks.reminders_task", at="09:00", window_seconds=10 * 3600)
schedule("billing.reconnection_sweep", 60, "gridcare.billing.tasks.reconnection_sweep_task")
