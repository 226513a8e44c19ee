"""Entry points the work-order engine calls (one line each in workorders/services.py):

    do_create_order, after the order is saved:   intelligence.hooks.on_order_created(order, user)
    do_advance, in the `target == "audited"` branch: intelligence.hooks.on_order_audited(order, user)

The intake one only queues the order for the intelligence sweep (intelligence.tasks), so the classifier
never slows the intake request and a model problem can never roll back an intake; the audit one runs
after commit for the same reason."""
import logging

from django.db import transaction

log = logging.getLogger(__name__)


def on_order_created(order, user=None):
    """Put the order in the queue of the intelligence sweep (intelligence.tasks): one row written in the
    intake's own transaction, so it commits or rolls back with the order and no second commit follows."""
    from gridcare.core.fixed_sql import insert

    from .models import PendingIntake

    insert(PendingIntake(order=order, user=user if getattr(user, "pk", None) else None), defer=True)


def on_order_audited(order, user=None):
    def run():
        from . import services

        try:
            services.flag_on_audit(order, user)
        except Exception:  # noqa: BLE001
            log.exception("intelligence audit hook failed for %s", order.order_no)

    transaction.on_commit(run)
