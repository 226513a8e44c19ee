"""Entry points the work-order engine calls (one line each in workorders/services.py):

    do_create_order, after the order is saved:   intelligence.hooks.on_order_created(order, user)
    do_advance, in the `target == "audited"` branch: intelligence.hooks.on_order_audited(order, user)

The intake one only enqueues a task (intelligence.tasks), so the classifier never slows the intake request
and a model problem can never roll back an intake; the audit one runs after commit for the same reason."""
import logging

from django.db import DatabaseError, transaction

log = logging.getLogger(__name__)


def on_order_created(order, user=None):
    """Queue the suggestion record and the repeat search for the worker. With the database task queue
    (the default) the task row is written in the intake's own transaction, so it commits or rolls back with
    the order and costs the intake no second commit; any other queue gets it after commit, when the
    worker can already read the order."""
    def run():
        from .tasks import after_intake_task

        try:
            after_intake_task.enqueue(order.pk, getattr(user, "pk", None))
        except DatabaseError:
            raise  # inside the intake's transaction: the intake fails with it rather than half-commit
        except Exception:  # noqa: BLE001 - suggestions must never break intake
            log.exception("could not queue the intelligence intake task for %s", order.order_no)

    if _queue_in_the_database():
        run()
    else:
        transaction.on_commit(run)


def _queue_in_the_database() -> bool:
    from django_tasks_db.backend import DatabaseBackend

    from .tasks import after_intake_task

    return isinstance(after_intake_task.get_backend(), DatabaseBackend) and transaction.get_connection().in_atomic_block


def on_order_audited(order, user=None):
    def run():
        from . import services

        try:
            services.flag_on_audit(order, user)
        except Exception:  # noqa: BLE001
            log.exception("intelligence audit hook failed for %s", order.order_no)

    transaction.on_commit(run)
