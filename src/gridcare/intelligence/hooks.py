"""Entry points the work-order engine calls (one line each in workorders/services.py):

    do_create_order, after the order is saved:   intelligence.hooks.on_order_created(order, user)
    do_advance, in the `target == "audited"` branch: intelligence.hooks.on_order_audited(order, user)

Both run after commit so that a model problem can never roll back an intake or an audit; the intake
one only enqueues a task (intelligence.tasks), so the classifier never slows the intake request."""
import logging

from django.db import transaction

log = logging.getLogger(__name__)


def on_order_created(order, user=None):
    """Queue the suggestion record and the repeat search for the worker (after commit)."""
    def run():
        from .tasks import after_intake_task

        try:
            after_intake_task.enqueue(order.pk, getattr(user, "pk", None))
        except Exception:  # noqa: BLE001 - suggestions must never break intake
            log.exception("could not queue the intelligence intake task for %s", order.order_no)

    transaction.on_commit(run)


def on_order_audited(order, user=None):
    def run():
        from . import services

        try:
            services.flag_on_audit(order, user)
        except Exception:  # noqa: BLE001
            log.exception("intelligence audit hook failed for %s", order.order_no)

    transaction.on_commit(run)
