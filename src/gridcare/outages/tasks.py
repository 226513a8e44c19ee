"""Scheduled work of the outage capability: the daily frequent-outage scan, and the delivery of outbound
messages (also kicked after every commit that queues messages; the schedule picks up expired leases)."""
from django.utils import timezone
from django_tasks import task

from gridcare.core.scheduler import register as schedule


def run_frequent_scan(as_of=None) -> dict:
    from .services import scan_frequent, update_watch_list

    as_of = as_of or timezone.localdate()
    result = scan_frequent(as_of)
    return update_watch_list(result)


@task()
def frequent_outage_scan_task(as_of: str | None = None):
    from datetime import date

    return run_frequent_scan(date.fromisoformat(as_of) if as_of else None)


schedule("outages.frequent_outage_scan", 24 * 3600, "gridcare.outages.tasks.frequent_outage_scan_task", at="02:00")
schedule("notifications.deliver", 60, "gridcare.notifications.delivery.deliver_task")
