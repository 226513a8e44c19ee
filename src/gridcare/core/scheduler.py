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
CLOCK_SLACK_MINUTES = 5  # a last run stamped further in the future than this is taken as a clock set back


def register(name: str, every_seconds: int, task_path: str):
    SCHEDULE.append((name, every_seconds, task_path))


def _is_due(last, every_seconds: int, now) -> bool:
    """Never enqueued, last enqueued at least `every_seconds` ago, or stamped in the future by a clock
    that has since been set back."""
    return (last is None or last <= now - timedelta(seconds=every_seconds)
            or last > now + timedelta(minutes=CLOCK_SLACK_MINUTES))


def _claim(name: str, every_seconds: int, now) -> bool:
    """Mark `name` as enqueued at `now` if it is still due: the conditional UPDATE that only one of
    several schedulers wins."""
    from .models import ScheduledRun

    due = (Q(last_enqueued_at__isnull=True) | Q(last_enqueued_at__lte=now - timedelta(seconds=every_seconds))
           | Q(last_enqueued_at__gt=now + timedelta(minutes=CLOCK_SLACK_MINUTES)))
    return ScheduledRun.objects.filter(due, name=name).update(last_enqueued_at=now) == 1


def run_due(now=None, entries=None) -> list[tuple[str, str]]:
    """One pass: enqueue every entry that is due; returns [(name, task id)] of those enqueued. One
    SELECT finds the due entries, so a pass with nothing due writes nothing (SQLite's single writer is
    not taken every few seconds)."""
    from .models import ScheduledRun

    now = now or timezone.now()
    entries = SCHEDULE if entries is None else entries
    last = dict(ScheduledRun.objects.filter(name__in=[e[0] for e in entries])
                .values_list("name", "last_enqueued_at"))
    missing = [ScheduledRun(name=name) for name, _every, _path in entries if name not in last]
    if missing:
        ScheduledRun.objects.bulk_create(missing, ignore_conflicts=True)
    enqueued = []
    for name, every, path in entries:
        if not _is_due(last.get(name), every, now):
            continue
        try:
            with transaction.atomic():
                if not _claim(name, every, now):
                    continue  # another scheduler enqueued it since the SELECT
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
