"""A small scheduler that enqueues periodic sweeps onto the task queue (the Django Tasks API).

Each schedule entry is (name, interval seconds, dotted path of a task). Apps add entries to
SCHEDULE; the scheduler only enqueues, workers do the work, so any number of workers can share it.
Run one scheduler per installation (`gridcare scheduler` or inside `gridcare run_worker`)."""
import logging
import time

from django.utils.module_loading import import_string

log = logging.getLogger(__name__)

SCHEDULE: list[tuple[str, int, str]] = []


def register(name: str, every_seconds: int, task_path: str):
    SCHEDULE.append((name, every_seconds, task_path))


def due_entries(last_run: dict, now: float):
    return [e for e in SCHEDULE if now - last_run.get(e[0], 0) >= e[1]]


def run_forever(poll_seconds: float = 5.0, stop_after: float | None = None):
    from django.apps import apps  # noqa: F401 - ensure registry is ready

    last_run: dict[str, float] = {}
    started = time.monotonic()
    while stop_after is None or time.monotonic() - started < stop_after:
        now = time.monotonic()
        for name, _every, path in due_entries(last_run, now):
            try:
                import_string(path).enqueue()
                log.info("enqueued %s", name)
            except Exception:  # noqa: BLE001 - a broken entry must not stop the others
                log.exception("could not enqueue %s", name)
            last_run[name] = now
        time.sleep(poll_seconds)
