"""After an intake: record the classifier's suggestion (accuracy tracking) and look for earlier orders
about the same problem. The intake only writes a `PendingIntake` row; a sweep on the task queue, every
few seconds, handles what has come in as one batch (the classifier is far cheaper on a batch than on
one text at a time), so the intake request stays fast and the worker keeps up with the hotline's peaks."""
from django_tasks import task

from gridcare.core.scheduler import register as schedule

SWEEP_SECONDS = 10


@task()
def after_intake_sweep_task(batch: int = 500):
    from . import services

    total = {"orders": 0, "repeats": 0}
    for _ in range(20):  # bounded per run: at most 20 batches, the next sweep takes the rest
        done = services.process_pending(batch)
        total = {k: total[k] + done[k] for k in total}
        if done["orders"] < batch:
            break
    return total


@task()
def after_intake_task(order_id: int, user_id: int | None = None):
    """One order's suggestion and repeat search (tasks queued per order by earlier versions)."""
    from gridcare.accounts.models import User
    from gridcare.workorders.models import WorkOrder

    from . import services
    from .models import PendingIntake

    order = WorkOrder.objects.filter(pk=order_id).first()
    if order is None:
        return {"skipped": True}
    user = User.objects.filter(pk=user_id).first() if user_id else None
    services.record_suggestion(order, user)
    repeats = services.find_repeats(order)
    PendingIntake.objects.filter(order=order).delete()
    return {"order": order.order_no, "repeats": len(repeats or [])}


schedule("intelligence.after_intake", SWEEP_SECONDS, "gridcare.intelligence.tasks.after_intake_sweep_task")
