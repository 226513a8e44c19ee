"""A small scheduler that enqueues periodic sweeps onto the task queue (the Django Tasks API).

Each schedule entry is (name, interval seconds, dotted path of a task). Apps add entries to
SCHEDULE; the scheduler only enqueues, workers do the work, so any number of workers can share it.

When each entry was last enqueued is kept in the database (`core.ScheduledRun`), in wall-clock time:
an entry never enqueued before is due at once, and a restarted scheduler carries on where the last one
stopped (a weekly scan is neither run again at every restart nor put off by a week). A due run is
claimed by one conditional UPDATE in the same transaction as its enqueue, so schedulers on several
hosts enqueue it once between them, and a failed enqueue leaves the run due for the next pass."""
import logging
import time
from datetime import timedelta

from django.db import close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)

SCHEDULE: list[tuple[str, int, str]] = []


def register(name: str, every_seconds: int, task_path: str):
    SCHEDULE.append((name, every_seconds, task_path))


def _claim(name: str, every_seconds: int, now) -> bool:
    """Mark `name` as enqueued at `now` if it is due (never enqueued, last enqueued at least
    `every_seconds` ago, or stamped in the future by a clock that has since been set back)."""
    from .models import ScheduledRun

    due = (Q(last_enqueued_at__isnull=True) | Q(last_enqueued_at__lte=now - timedelta(seconds=every_seconds))
           | Q(last_enqueued_at__gt=now + timedelta(minutes=5)))
    return ScheduledRun.objects.filter(due, name=name).update(last_enqueued_at=now) == 1


def run_due(now=None, entries=None) -> list[tuple[str, str]]:
    """One pass: enqueue every entry that is due; returns [(name, task id)] of those enqueued."""
    from .models import ScheduledRun

    now = now or timezone.now()
    entries = SCHEDULE if entries is None else entries
    ScheduledRun.objects.bulk_create([ScheduledRun(name=name) for name, _every, _path in entries],
                                     ignore_conflicts=True)
    enqueued = []
    for name, every, path in entries:
        try:
            with transaction.atomic():
                if not _claim(name, every, now):
                    continue
                result = import_string(path).enqueue()
                ScheduledRun.objects.filter(name=name).update(last_task_id=str(result.id)[:64])
            enqueued.append((name, str(result.id)))
            log.info("enqueued %s (%s)", name, result.id)
        except Exception:  # noqa: BLE001 - a broken entry must not stop the others; it stays due
            log.exception("could not enqueue %s", name)
    return enqueued


def run_forever(poll_seconds: float = 5.0, stop_after: float | None = None):
    from django.apps import apps  # noqa: F401 - ensure registry is ready

    started = time.monotonic()
    while stop_after is None or time.monotonic() - started < stop_after:
        close_old_connections()  # a long-lived thread: drop a connection the database has closed
        try:
            run_due()
        except Exception:  # noqa: BLE001 - the database away for a moment: try again at the next poll
            log.exception("scheduler pass failed")
        time.sleep(poll_seconds)
