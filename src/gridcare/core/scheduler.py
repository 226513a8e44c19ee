"""A small scheduler that enqueues periodic sweeps onto the task queue (the Django Tasks API).

Apps register entries (`register(name, every_seconds, task_path, at=..., weekday=..., window_seconds=...)`)
in SCHEDULE; the scheduler only enqueues, workers do the work, so any number of workers can share it.

* An interval entry (no `at`) is due `every_seconds` after its last run.
* A timed entry runs once per period at a local time of day (`at="09:00"`; weekly ones on `weekday`,
  0 = Monday): it is due when the last run is older than the latest such time, and only within
  `window_seconds` after it (default: the whole period). Customer reminders thus go out by day, and a
  scheduler that was down at the time catches up within the window, not in the middle of the night.

When each entry was last enqueued is kept in the database (`core.ScheduledRun`), in wall-clock time:
an entry never enqueued before is due at once (a timed one within its window), and a restarted scheduler
carries on where the last one stopped (a weekly scan is neither run again at every restart nor put off by
a week). A due run is claimed by one conditional UPDATE in the same transaction as its enqueue, so
schedulers on several hosts enqueue it once between them, and a failed enqueue leaves the run due for
the next pass.

An operator may change a registered entry without touching the code or restarting anything
(`gridcare scheduler --set NAME --at 10:00 | --every 120 | --disable | --enable | --reset`, or the admin):
the change is kept on the entry's ScheduledRun row, which every pass reads anyway, and applies from
the next pass."""
import logging
import re
import time
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db import close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)

CLOCK_SLACK_MINUTES = 5  # a last run stamped further in the future than this is taken as a clock set back


class Entry(NamedTuple):
    name: str
    every_seconds: int
    task_path: str
    at: str | None = None              # "HH:MM" local time: a timed entry
    weekday: int | None = None         # 0 = Monday, for weekly timed entries
    window_seconds: int | None = None  # how long after `at` a missed run is still made (default: the period)


SCHEDULE: list[Entry] = []


MIN_INTERVAL_SECONDS = 10  # an operator's interval below this would only load the queue


def _valid_at(at: str) -> bool:
    if not re.fullmatch(r"\d{2}:\d{2}", at or ""):
        return False
    hour, minute = (int(x) for x in at.split(":"))
    return 0 <= hour < 24 and 0 <= minute < 60


def register(name: str, every_seconds: int, task_path: str, *, at: str | None = None, weekday: int | None = None,
             window_seconds: int | None = None):
    entry = Entry(name, every_seconds, task_path, at, weekday, window_seconds)
    if at is not None:
        if not _valid_at(at) or every_seconds not in (86400, 7 * 86400):
            raise ValueError(f"定时任务 {name}: at 须为 HH:MM，且只用于每天或每周的任务")
        if (weekday is not None) != (every_seconds == 7 * 86400) or weekday not in (None, *range(7)):
            raise ValueError(f"定时任务 {name}: 每周的任务须给出 weekday（0=周一），每天的任务不给")
    SCHEDULE.append(entry)


def find(name: str) -> Entry | None:
    return next((e for e in SCHEDULE if e.name == name), None)


def check_override(entry: Entry, at: str = "", every_seconds: int | None = None) -> dict:
    """Field errors, in Chinese, of an operator's change to a registered entry (empty when it is valid):
    a timed entry takes another time of day, an interval entry another interval, not the other way round."""
    errors = {}
    if at:
        if entry.at is None:
            errors["at"] = f"{entry.name} 按间隔执行（每{entry.every_seconds}秒），不能设执行时间，请改间隔"
        elif not _valid_at(at):
            errors["at"] = f"执行时间须为 HH:MM（如 09:30），收到：{at}"
    if every_seconds is not None:
        if entry.at is not None:
            errors["every_seconds"] = f"{entry.name} 每{'周' if entry.weekday is not None else '天'}定时执行，不能设间隔，请改执行时间"
        elif every_seconds < MIN_INTERVAL_SECONDS:
            errors["every_seconds"] = f"间隔不能少于{MIN_INTERVAL_SECONDS}秒，收到：{every_seconds}"
    return errors


def effective(entry: Entry, enabled: bool = True, at: str = "", every_seconds: int | None = None) -> Entry | None:
    """The entry as the operator's change makes it (None when disabled). A change that no longer fits the
    registered entry (the code made a timed task an interval one since) is ignored."""
    if not enabled:
        return None
    if entry.at is not None and at and _valid_at(at):
        return entry._replace(at=at)
    if entry.at is None and every_seconds and every_seconds >= MIN_INTERVAL_SECONDS:
        return entry._replace(every_seconds=every_seconds)
    return entry


def describe(entry: Entry) -> str:
    """The entry's period in Chinese: 每60秒, 每天 09:00, 每周一 02:30."""
    if entry.at is None:
        return f"每{entry.every_seconds}秒"
    return (f"每周{'一二三四五六日'[entry.weekday]} " if entry.weekday is not None else "每天 ") + entry.at


def ensure_rows():
    """A ScheduledRun row for every registered entry (so an operator can change one never run yet)."""
    from .models import ScheduledRun

    ScheduledRun.objects.bulk_create([ScheduledRun(name=e.name) for e in SCHEDULE], ignore_conflicts=True)


def slot(entry: Entry, now: datetime) -> datetime | None:
    """The latest local time of day (on `weekday` for weekly entries) at or before `now`; None for an
    interval entry."""
    if entry.at is None:
        return None
    hour, minute = (int(x) for x in entry.at.split(":"))
    local = timezone.localtime(now)
    start = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if start > local:
        start -= timedelta(days=1)
    if entry.weekday is not None:
        start -= timedelta(days=(start.weekday() - entry.weekday) % 7)
    return start


def _due_filter(entry: Entry, now: datetime) -> Q:
    """The stored last runs for which `entry` is due at `now` (the window is checked apart: it depends on
    the time only)."""
    start = slot(entry, now)
    stale = Q(last_enqueued_at__lt=start) if start else Q(last_enqueued_at__lte=now - timedelta(seconds=entry.every_seconds))
    return (Q(last_enqueued_at__isnull=True) | stale
            | Q(last_enqueued_at__gt=now + timedelta(minutes=CLOCK_SLACK_MINUTES)))


def _in_window(entry: Entry, now: datetime) -> bool:
    start = slot(entry, now)
    return start is None or now < start + timedelta(seconds=entry.window_seconds or entry.every_seconds)


def _is_due(entry: Entry, last, now) -> bool:
    if not _in_window(entry, now):
        return False
    if last is None or last > now + timedelta(minutes=CLOCK_SLACK_MINUTES):
        return True
    start = slot(entry, now)
    return last < start if start else last <= now - timedelta(seconds=entry.every_seconds)


def _claim(entry: Entry, now) -> bool:
    """Mark the entry as enqueued at `now` if it is still due: the conditional UPDATE that only one of
    several schedulers wins."""
    from .models import ScheduledRun

    return ScheduledRun.objects.filter(_due_filter(entry, now), name=entry.name).update(last_enqueued_at=now) == 1


def run_due(now=None, entries=None) -> list[tuple[str, str]]:
    """One pass: enqueue every entry that is due; returns [(name, task id)] of those enqueued. One
    SELECT finds the due entries, so a pass with nothing due writes nothing (SQLite's single writer is
    not taken every few seconds)."""
    from .models import ScheduledRun

    now = now or timezone.now()
    entries = [Entry(*e) for e in (SCHEDULE if entries is None else entries)]
    rows = {name: rest for name, *rest in ScheduledRun.objects.filter(name__in=[e.name for e in entries])
            .values_list("name", "last_enqueued_at", "enabled", "at", "every_seconds")}
    missing = [ScheduledRun(name=e.name) for e in entries if e.name not in rows]
    if missing:
        ScheduledRun.objects.bulk_create(missing, ignore_conflicts=True)
    enqueued = []
    for entry in entries:
        name = entry.name
        last, enabled, at, every = rows.get(name, (None, True, "", None))
        entry = effective(entry, enabled, at, every)
        if entry is None or not _is_due(entry, last, now):
            continue
        try:
            with transaction.atomic():
                if not _claim(entry, now):
                    continue  # another scheduler enqueued it since the SELECT
                result = import_string(entry.task_path).enqueue()
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
