"""The delivery log and its workers: outbound messages sent exactly once per customer per event.

1. `queue_event()` runs inside the caller's transaction (the one that records the outage notice or
   update): it creates the `OutboundEvent` (unique key) and one `Delivery` row per customer (unique
   (event, customer)) with one INSERT … SELECT over the customers, choosing each customer's channel
   from their preferences. A customer with no reachable contact gets a row with status
   `unreachable` — reported on the outage page and in the API, never silently skipped. If the
   transaction rolls back, no event and no row exist; if the caller retries, the unique keys make the
   retry a no-op. A worker is kicked after commit.
2. `claim()` takes a batch of rows that are `pending`, or `sending` with an expired lease (a crashed
   worker's): on PostgreSQL with SELECT … FOR UPDATE SKIP LOCKED, so concurrent workers never take the
   same row; on SQLite with one UPDATE statement (one writer at a time). The claim is committed before
   anything is sent.
3. `send_claimed()` sends through the channel backends (channels.py) with the idempotency key
   `<event key>/<customer id>`, then marks the rows sent in one UPDATE. A crash between send and mark
   leaves the rows `sending`; when the lease expires another worker claims and sends them again with
   the same key, and the gateway acknowledges the duplicate without delivering it twice.
See docs/outages.md ("Exactly once") for the whole argument.
"""
from __future__ import annotations

import os
import socket
import time
import uuid
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_tasks import task

from .channels import ChannelError, OutMessage, backend_for, setting
from .models import Delivery, DeliveryStatus, OutboundEvent

UNREACHABLE_MESSAGE = "客户无可用联系方式（无手机号码或邮箱，或未开通短信/微信通知）"


def _delivery_config() -> dict:
    try:
        from gridcare.outages.config import delivery

        conf = dict(delivery())
    except Exception:  # noqa: BLE001 - the defaults below when the outage rules are not installed
        conf = {}
    return {"lease_seconds": float(setting("GRIDCARE_NOTIFY_LEASE_SECONDS", conf.get("lease_seconds", 60))),
            "max_attempts": int(conf.get("max_attempts", 5)), "batch": int(conf.get("batch", 200))}


# ---------------------------------------------------------------- queueing
_MOBILE = "({col} LIKE '1__________')"


def channel_sql() -> tuple[str, str]:
    """SQL expressions (over a customer aliased ``c``) for the channel a customer is reached on and
    the address to use: WeChat, then SMS, on a mobile number; e-mail; else 'none'. Shared by every
    bulk producer of outbound events (outage notices, billing reminders, demo data)."""
    p1, p2 = _MOBILE.format(col="c.phone"), _MOBILE.format(col="c.phone2")
    channel = (f"CASE WHEN c.notify_wechat AND {p1} THEN 'wechat' WHEN c.notify_wechat AND {p2} THEN 'wechat' "
               f"WHEN c.notify_sms AND {p1} THEN 'sms' WHEN c.notify_sms AND {p2} THEN 'sms' "
               f"WHEN c.email <> '' THEN 'email' ELSE 'none' END")
    address = (f"CASE WHEN (c.notify_wechat OR c.notify_sms) AND {p1} THEN c.phone "
               f"WHEN (c.notify_wechat OR c.notify_sms) AND {p2} THEN c.phone2 "
               f"WHEN c.email <> '' THEN c.email ELSE '' END")
    return channel, address


def queue_event(key: str, kind: str, body: str, customers, subject: str = "", source_type: str = "",
                source_id: str = "", kick: bool = True) -> dict:
    """Create the event and one delivery per customer of the `customers` queryset (in the caller's
    transaction). Returns {"event", "queued", "unreachable"}; calling it again with the same key adds
    only customers not yet covered."""
    from gridcare.customers.models import Customer

    event, _ = OutboundEvent.objects.get_or_create(key=key, defaults={
        "kind": kind, "subject": subject[:200], "body": body, "source_type": source_type, "source_id": str(source_id)})
    sub_sql, sub_params = customers.values("id").query.sql_with_params()
    channel, address = channel_sql()
    d, c = Delivery._meta.db_table, Customer._meta.db_table
    now = timezone.now()
    sql = (f"INSERT INTO {d} (event_id, customer_id, channel, address, status, attempts, claim_token, provider_ref, "
           f"error, created_at) "
           f"SELECT %s, s.id, s.ch, s.addr, CASE WHEN s.ch = 'none' THEN 'unreachable' ELSE 'pending' END, 0, '', '', "
           f"CASE WHEN s.ch = 'none' THEN %s ELSE '' END, %s FROM "
           f"(SELECT c.id AS id, {channel} AS ch, {address} AS addr FROM {c} c WHERE c.id IN ({sub_sql}) "
           f"AND NOT EXISTS (SELECT 1 FROM {d} x WHERE x.event_id = %s AND x.customer_id = c.id)) s")
    with connection.cursor() as cur:
        cur.execute(sql, [event.pk, UNREACHABLE_MESSAGE, now, *sub_params, event.pk])
    counts = {row["status"]: row["n"] for row in
              Delivery.objects.filter(event=event).values("status").annotate(n=_count())}
    if kick:
        kick_workers()
    return {"event": event, "queued": sum(counts.values()), "unreachable": counts.get(DeliveryStatus.UNREACHABLE, 0)}


def _count():
    from django.db.models import Count

    return Count("id")


def kick_workers():
    """Enqueue a delivery task after the current transaction commits (nothing is sent for a rollback)."""
    transaction.on_commit(lambda: deliver_task.enqueue())


# ---------------------------------------------------------------- claiming and sending
def _worker_id() -> str:
    return f"{socket.gethostname()[:16]}-{os.getpid()}"


def claim(worker: str | None = None, batch: int | None = None, lease_seconds: float | None = None, now=None) -> list[dict]:
    conf = _delivery_config()
    batch = batch or conf["batch"]
    lease = conf["lease_seconds"] if lease_seconds is None else lease_seconds
    now = now or timezone.now()
    expired = now - timedelta(seconds=lease)
    token = f"{(worker or _worker_id())[:24]}:{uuid.uuid4().hex[:12]}"
    fields = ("id", "customer_id", "channel", "address", "attempts", "event_id")
    claim_update = {"status": DeliveryStatus.SENDING, "claimed_at": now, "claim_token": token,
                    "attempts": F("attempts") + 1}
    pending = Q(status=DeliveryStatus.PENDING)
    stale = Q(status=DeliveryStatus.SENDING, claimed_at__lt=expired)
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            ids = []
            for cond in (pending, stale):
                if len(ids) < batch:
                    ids += list(Delivery.objects.filter(cond).select_for_update(skip_locked=True)
                                .values_list("id", flat=True)[:batch - len(ids)])
            if not ids:
                return []
            Delivery.objects.filter(id__in=ids).update(**claim_update)
        return list(Delivery.objects.filter(id__in=ids).values(*fields))
    # SQLite: a single UPDATE is atomic (one writer at a time), the condition is re-checked by it
    with transaction.atomic():
        n = 0
        for cond in (pending, stale):
            if n < batch:
                sub = Delivery.objects.filter(cond).values("id")[:batch - n]
                n += Delivery.objects.filter(cond, id__in=list(sub.values_list("id", flat=True))).update(**claim_update)
    if not n:
        return []
    return list(Delivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at=now, claim_token=token)
                .values(*fields))


class SimulatedCrash(Exception):
    """Raised by the crash hook of tests and the benchmark between sending and marking."""


def send_claimed(rows: list[dict], crash_after_send=None) -> dict:
    """Send claimed rows and mark them. Returns {"sent", "failed", "retry"}."""
    conf = _delivery_config()
    now = timezone.now()
    by_channel: dict[str, list[OutMessage]] = {}
    by_key = {}
    if rows and "event__key" not in rows[0]:
        events = {e["id"]: e for e in OutboundEvent.objects.filter(id__in={r["event_id"] for r in rows})
                  .values("id", "key", "subject", "body")}
        for r in rows:
            e = events[r["event_id"]]
            r["event__key"], r["event__subject"], r["event__body"] = e["key"], e["subject"], e["body"]
    for r in rows:
        key = f"{r['event__key']}/{r['customer_id']}"
        by_key[key] = r
        by_channel.setdefault(r["channel"], []).append(
            OutMessage(key, r["channel"], r["address"], r["event__subject"], r["event__body"]))
    results: dict[str, tuple[bool, str]] = {}
    retry_errors: dict[str, str] = {}
    for channel, messages in by_channel.items():
        try:
            results.update(backend_for(channel).send(messages))
        except ChannelError as exc:
            for m in messages:
                retry_errors[m.idempotency_key] = str(exc)[:300]
    if crash_after_send is not None:
        crash_after_send(rows, results)
    sent_ids = [by_key[k]["id"] for k, (ok, _ref) in results.items() if ok]
    refs = {by_key[k]["id"]: ref for k, (ok, ref) in results.items() if ok and ref}
    failed = [(by_key[k]["id"], msg) for k, (ok, msg) in results.items() if not ok]
    with transaction.atomic():
        if sent_ids:
            Delivery.objects.filter(id__in=sent_ids).update(status=DeliveryStatus.SENT, sent_at=now, error="")
        # the gateway's own message ids are kept for single sends; in batches the idempotency key is the
        # reference both sides share (a per-row UPDATE would halve the delivery rate)
        if len(refs) == 1 or (refs and len(set(refs.values())) == 1):
            Delivery.objects.filter(id__in=list(refs)).update(provider_ref=next(iter(refs.values())))
        for pk, msg in failed:
            Delivery.objects.filter(id=pk).update(status=DeliveryStatus.FAILED, error=msg[:300])
        # transient failures stay `sending`: the lease is their back-off; give up after max_attempts
        give_up = [by_key[k]["id"] for k in retry_errors if by_key[k]["attempts"] + 1 >= conf["max_attempts"]]
        retry = [by_key[k]["id"] for k in retry_errors if by_key[k]["id"] not in set(give_up)]
        if give_up:
            Delivery.objects.filter(id__in=give_up).update(status=DeliveryStatus.FAILED,
                                                           error=next(iter(retry_errors.values())))
        if retry:
            Delivery.objects.filter(id__in=retry).update(error=next(iter(retry_errors.values())))
    return {"sent": len(sent_ids), "failed": len(failed) + len(give_up), "retry": len(retry)}


def run(worker: str | None = None, batch: int | None = None, lease_seconds: float | None = None,
        max_seconds: float | None = None, crash_after_send=None) -> dict:
    """Claim and send until nothing is claimable (or max_seconds). Safe to run in any number of
    processes at once."""
    worker = worker or _worker_id()
    started = time.monotonic()
    stats = {"claimed": 0, "sent": 0, "failed": 0, "retry": 0, "rounds": 0}
    while max_seconds is None or time.monotonic() - started < max_seconds:
        rows = claim(worker, batch, lease_seconds)
        if not rows:
            break
        stats["rounds"] += 1
        stats["claimed"] += len(rows)
        result = send_claimed(rows, crash_after_send)
        for k in ("sent", "failed", "retry"):
            stats[k] += result[k]
        if result["retry"] == len(rows):
            break  # the channel is down: leave the rest to the lease and the next run
    return stats


def claimable_now() -> bool:
    conf = _delivery_config()
    expired = timezone.now() - timedelta(seconds=conf["lease_seconds"])
    return Delivery.objects.filter(Q(status=DeliveryStatus.PENDING)
                                   | Q(status=DeliveryStatus.SENDING, claimed_at__lt=expired)).exists()


@task()
def deliver_task():
    """Deliver what is queued (bounded to under a minute per run; enqueues itself again when work is
    left, and the scheduler runs it every minute for expired leases)."""
    stats = run(max_seconds=50)
    if stats["retry"] == 0 and claimable_now():
        deliver_task.enqueue()
    return stats


def event_summary(event_ids) -> dict:
    """{event_id: {status: count}}."""
    out: dict = {}
    for row in Delivery.objects.filter(event_id__in=list(event_ids)).values("event_id", "status").annotate(n=_count()):
        out.setdefault(row["event_id"], {})[row["status"]] = row["n"]
    return out
