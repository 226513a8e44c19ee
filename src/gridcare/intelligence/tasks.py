"""After an intake: record the classifier's suggestion (accuracy tracking) and look for earlier orders
about the same problem — on the task queue, so the intake request stays fast."""
from django_tasks import task


@task()
def after_intake_task(order_id: int, user_id: int | None = None):
    from gridcare.accounts.models import User
    from gridcare.workorders.models import WorkOrder

    from . import services

    order = WorkOrder.objects.filter(pk=order_id).first()
    if order is None:
        return {"skipped": True}
    user = User.objects.filter(pk=user_id).first() if user_id else None
    services.record_suggestion(order, user)
    repeats = services.find_repeats(order)
    return {"order": order.order_no, "repeats": len(repeats or [])}
