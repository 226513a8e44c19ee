"""facts.refresh is incremental on StageEvent ids; an event whose id is below the watermark when it becomes
visible (its transaction committed after a later one) still reaches the facts."""
import datetime as dt

import pytest
from django.utils import timezone

from gridcare.analytics import facts
from gridcare.analytics.models import ComplaintFact, FactWatermark
from gridcare.workorders import services as wo_services
from gridcare.workorders.models import StageEvent


def _complaint(world, text):
    order, _ = wo_services.do_create_order(world.agent, {
        "order_type": "complaint", "category_l2": "voltage", "account_no": "3100000001", "text": text},
        None, at=timezone.now() - dt.timedelta(minutes=5))
    return order


def test_an_event_committed_late_below_the_watermark_still_reaches_the_facts(world):
    first = _complaint(world, "电压低，灯很暗")
    # the event ids given to a transaction that has not committed when refresh runs: taken, not there yet
    late_order = _complaint(world, "电压不稳，电器烧坏")
    late = [{f.attname: getattr(e, f.attname) for f in StageEvent._meta.concrete_fields}
            for e in StageEvent.objects.filter(order=late_order).order_by("id")]
    StageEvent.objects.filter(order=late_order).delete()
    later = _complaint(world, "又是电压低")
    facts.refresh()
    wm = FactWatermark.objects.get()
    assert wm.last_event_id >= StageEvent.objects.filter(order=later).order_by("id").first().pk > late[-1]["id"]
    # (other gaps may be pending too: ids other tests' rolled-back transactions took)
    assert [late[0]["id"], late[-1]["id"]] in [g[:2] for g in wm.pending_gaps]
    assert set(ComplaintFact.objects.values_list("order_id", flat=True)) == {first.pk, later.pk}

    for fields in late:  # the late transaction commits, its ids below the watermark
        StageEvent.objects.create(**fields)
    result = facts.refresh()
    assert result["orders"] == 1
    assert set(ComplaintFact.objects.values_list("order_id", flat=True)) == {first.pk, later.pk, late_order.pk}
    assert not any(lo <= late[0]["id"] <= hi for lo, hi, _seen in FactWatermark.objects.get().pending_gaps)


def test_a_gap_is_given_up_after_the_wait(world, monkeypatch):
    _complaint(world, "电压低")
    gone = _complaint(world, "电压不稳")
    StageEvent.objects.filter(order=gone).delete()  # rolled back: its ids never appear
    _complaint(world, "又是电压低")
    facts.refresh()
    ids = sorted(StageEvent.objects.values_list("id", flat=True))
    gone_ids = [i for i in range(ids[0], ids[-1]) if i not in ids]
    assert gone_ids and all(any(lo <= i <= hi for lo, hi, _s in FactWatermark.objects.get().pending_gaps)
                            for i in gone_ids)
    facts.refresh()  # still within the wait: kept
    assert FactWatermark.objects.get().pending_gaps
    later = timezone.now() + facts.GAP_WAIT + dt.timedelta(minutes=1)
    monkeypatch.setattr(facts.timezone, "now", lambda: later)
    facts.refresh()
    assert FactWatermark.objects.get().pending_gaps == []


@pytest.mark.django_db(transaction=True)
def test_a_real_concurrent_transaction_committing_late_reaches_the_facts(world):
    """Two connections on PostgreSQL: one holds its intake's transaction open while another commits an
    order; refresh runs in between; the first commits; the next refresh has its order."""
    import threading

    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writing transaction at a time")
    wrote, release, done = threading.Event(), threading.Event(), {}

    def slow_intake():
        try:
            with transaction.atomic():
                done["order"] = _complaint(world, "电压不稳，电器烧坏")
                StageEvent.objects.filter(order=done["order"]).exists()  # its rows are sent, ids taken
                wrote.set()
                release.wait(30)
        finally:
            connection.close()

    t = threading.Thread(target=slow_intake)
    t.start()
    assert wrote.wait(30)
    fast = _complaint(world, "又是电压低")
    facts.refresh()
    assert ComplaintFact.objects.filter(order_id=fast.pk).exists()
    release.set()
    t.join(30)
    facts.refresh()
    assert ComplaintFact.objects.filter(order_id=done["order"].pk).exists()
