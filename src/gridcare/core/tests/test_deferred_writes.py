"""Deferred writes (core.fixed_sql `insert(..., defer=True)`, core.pgbackend): on PostgreSQL inside a
transaction the row waits for the next statement or the COMMIT and travels with it; whatever happens, the
database ends up as if it had been written at once."""
import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gridcare.core import fixed_sql

AT = timezone.make_aware(dt.datetime(2026, 10, 8, 9, 30))


def _order(world, no):
    from gridcare.workorders.models import WorkOrder

    return WorkOrder.objects.create(order_no=no, order_type="inquiry", channel="hotline", customer=world.cust_a,
                                    area_kind="urban", unit=world.station_a, text="咨询电价", accepted_at=AT,
                                    stage_entered_at=AT)


def _event(order, note):
    from gridcare.workorders.models import StageEvent

    return fixed_sql.insert(StageEvent(order=order, kind="comment", at=AT, note=note), defer=True)


def _defers():
    return connection.vendor == "postgresql"


def test_a_deferred_row_is_written_before_the_next_statement_in_order(world):
    from gridcare.workorders.models import StageEvent

    order = _order(world, "DW-1")
    with transaction.atomic():
        first = _event(order, "一")
        if _defers():
            assert first.pk is None and len(connection.deferred_writes) == 1
        else:  # SQLite: written at once
            assert first.pk is not None
        _event(order, "二")
        # the next statement sees both rows, in the order they were written
        assert list(StageEvent.objects.filter(order=order).order_by("id").values_list("note", flat=True)) == ["一", "二"]
        if _defers():
            assert connection.deferred_writes == []


def test_the_deferred_statements_stay_in_the_query_log(world):
    order = _order(world, "DW-2")
    with CaptureQueriesContext(connection) as captured:
        with transaction.atomic():
            _event(order, "记录")
            fixed_sql.execute_deferred("UPDATE workorders_workorder SET urge_count = urge_count + 1 WHERE id = %s",
                                       [order.pk])
        order.refresh_from_db()
    sqls = [q["sql"] for q in captured.captured_queries]
    assert any(s.startswith('INSERT INTO "workorders_stageevent"') for s in sqls)
    assert any(s.startswith("UPDATE workorders_workorder SET urge_count") for s in sqls)
    assert order.urge_count == 1


@pytest.mark.django_db(transaction=True)
def test_deferred_rows_travel_with_the_commit_and_vanish_with_a_rollback(world):
    from gridcare.core.models import AuditLog
    from gridcare.workorders.models import StageEvent

    order = _order(world, "DW-3")
    with transaction.atomic():
        _event(order, "提交")
    # nothing was read after the write: the row went with COMMIT
    assert StageEvent.objects.filter(order=order, note="提交").count() == 1
    audit_rows = AuditLog.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        _event(order, "回滚")
        order.text = "改过"
        order.save()  # its audit row is deferred too
        raise RuntimeError("放弃")
    assert not StageEvent.objects.filter(note="回滚").exists()
    assert AuditLog.objects.count() == audit_rows
    if _defers():
        assert connection.deferred_writes == []


@pytest.mark.django_db(transaction=True)
def test_a_bad_deferred_row_fails_the_commit_and_nothing_of_the_transaction_stays(world):
    from gridcare.workorders.models import StageEvent, WorkOrder

    order = _order(world, "DW-4")
    ghost = WorkOrder(pk=order.pk + 10_000)  # no such order: the foreign key refuses the row at COMMIT
    with pytest.raises(IntegrityError), transaction.atomic():
        _event(order, "好的一行")
        _event(ghost, "坏的一行")
    assert not StageEvent.objects.filter(order=order).exists()
    # the connection is usable afterwards
    with transaction.atomic():
        _event(order, "之后")
    assert list(StageEvent.objects.filter(order=order).values_list("note", flat=True)) == ["之后"]


def test_a_server_side_cursor_after_a_deferred_row_sees_it(world):
    from gridcare.workorders.models import StageEvent

    order = _order(world, "DW-5")
    with transaction.atomic():
        _event(order, "游标")
        assert [e.note for e in StageEvent.objects.filter(order=order).iterator(chunk_size=10)] == ["游标"]


def test_outside_a_transaction_and_with_a_receiver_the_row_is_written_at_once(world):
    from django.db.models.signals import post_save

    from gridcare.workorders.models import StageEvent

    order = _order(world, "DW-6")
    seen = []

    def post(sender, instance, **kw):
        seen.append(instance.pk)

    post_save.connect(post, sender=StageEvent)
    try:
        with transaction.atomic():
            event = _event(order, "有接收者")
    finally:
        post_save.disconnect(post, sender=StageEvent)
    assert event.pk is not None and seen == [event.pk]


def test_flush_sends_deferred_rows_before_the_driver_is_used_directly(world):
    """billing.runs reads and writes with COPY through the driver's cursor, past Django's: it flushes first."""
    order = _order(world, "DW-7")
    with transaction.atomic():
        _event(order, "直连")
        fixed_sql.flush()
        if _defers():
            assert connection.deferred_writes == []
        raw = connection.connection.cursor()
        try:
            raw.execute("SELECT note FROM workorders_stageevent WHERE order_id = %s" % int(order.pk))
            assert [r[0] for r in raw.fetchall()] == ["直连"]
        finally:
            raw.close()


@pytest.mark.django_db(transaction=True)
def test_begin_goes_with_the_first_statement_and_the_transaction_holds(world):
    """core.pgbackend sends a transaction's BEGIN with its first statement; the block is still one
    transaction: what it wrote is gone after a rollback, and all its statements see one transaction."""
    from gridcare.workorders.models import StageEvent

    order = _order(world, "DW-8")
    with pytest.raises(RuntimeError), transaction.atomic():
        if _defers():
            assert connection.begin_pending  # nothing sent yet
        StageEvent.objects.create(order=order, kind="comment", at=AT, note="第一句")  # BEGIN travels with it
        if _defers():
            assert not connection.begin_pending
            with connection.cursor() as cur:
                cur.execute("SELECT txid_current(), now()")
                first = cur.fetchone()
                cur.execute("SELECT txid_current(), now()")
                assert cur.fetchone() == first
        raise RuntimeError("回滚")
    assert not StageEvent.objects.filter(order=order).exists()
    if _defers():
        assert connection.connection.info.transaction_status == 0  # IDLE: nothing left open
    with transaction.atomic():
        pass  # a block that sends nothing sends no BEGIN and no COMMIT
    if _defers():
        assert not connection.begin_pending and connection.connection.info.transaction_status == 0


@pytest.mark.django_db(transaction=True)
def test_a_transaction_may_start_with_a_server_side_cursor_or_several_statements(world):
    from gridcare.workorders.models import StageEvent

    order = _order(world, "DW-9")
    StageEvent.objects.create(order=order, kind="comment", at=AT, note="已有")
    with transaction.atomic():  # a named cursor first: not held past the transaction, as in Django
        assert [e.note for e in StageEvent.objects.filter(order=order).iterator(chunk_size=10)] == ["已有"]
    if connection.vendor != "postgresql":
        return  # SQLite's driver takes one statement at a time
    with transaction.atomic():
        with connection.cursor() as cur:  # no parameters: may be several statements (a migration's DDL)
            cur.execute("CREATE TEMPORARY TABLE dw_probe (n integer); INSERT INTO dw_probe VALUES (1)")
            cur.execute("SELECT n FROM dw_probe")
            assert cur.fetchall() == [(1,)]


@pytest.mark.django_db(transaction=True)
def test_with_the_pipeline_off_every_write_goes_at_once(world, settings):
    from gridcare.workorders.models import StageEvent

    settings.GRIDCARE_PG_PIPELINE = False
    order = _order(world, "DW-10")
    with transaction.atomic():
        event = _event(order, "立即")
        assert event.pk is not None
        if _defers():
            assert connection.deferred_writes == [] and not connection.begin_pending
    assert list(StageEvent.objects.filter(order=order).values_list("note", flat=True)) == ["立即"]


@pytest.mark.django_db(transaction=True)
def test_an_error_of_a_statement_sent_with_begin_or_deferred_rows_is_djangos(world):
    """A statement sent in one pipeline with its transaction's BEGIN, or after deferred rows, fails when the
    pipeline ends: that error is still Django's IntegrityError (what callers catch), and nothing stays."""
    from gridcare.workorders.models import StageEvent

    first = _order(world, "DW-11")
    with pytest.raises(IntegrityError), transaction.atomic():
        _order(world, "DW-11")  # the first statement of the transaction: a duplicate order number
    with pytest.raises(IntegrityError), transaction.atomic():
        _event(first, "之前")
        _order(world, "DW-11")  # after a deferred row
    assert not StageEvent.objects.filter(order=first).exists()


def _new_order(world, no):
    from gridcare.workorders.models import WorkOrder

    return WorkOrder(order_no=no, order_type="inquiry", channel="hotline", customer=world.cust_a, area_kind="urban",
                     unit=world.station_a, text="咨询电价", accepted_at=AT, stage_entered_at=AT)


def test_a_deferred_row_whose_id_is_read_gets_it_from_a_reserved_block(world):
    """insert(..., allocate_id=True): the id is set at once (receivers and the audit row read it), the row
    waits on PostgreSQL, and whatever runs next on the connection sees it."""
    from django.db.models.signals import post_save

    from gridcare.core.models import AuditLog
    from gridcare.workorders.models import WorkOrder

    seen = []

    def receiver(sender, instance, created, **kw):  # a receiver reading the row back by its id
        seen.append((instance.pk, WorkOrder.objects.filter(pk=instance.pk).values_list("order_no", flat=True).first()))

    post_save.connect(receiver, sender=WorkOrder)
    try:
        with transaction.atomic():
            a, b = _new_order(world, "AL-1"), _new_order(world, "AL-2")
            a.insert(defer=True)
            if _defers():
                assert a.pk is not None and connection.deferred_writes == []  # the receiver's SELECT sent it
            b.insert(defer=True)
    finally:
        post_save.disconnect(receiver, sender=WorkOrder)
    assert seen == [(a.pk, "AL-1"), (b.pk, "AL-2")]
    assert b.pk > a.pk
    assert set(WorkOrder.objects.filter(pk__in=[a.pk, b.pk]).values_list("order_no", flat=True)) == {"AL-1", "AL-2"}
    # the audit row names the id the row got
    assert AuditLog.objects.filter(content_type__model="workorder", object_pk=str(a.pk), action="create").exists()
    # ids from the sequence afterwards (the ORM's) do not clash with the reserved ones
    later = [_order(world, f"AL-ORM-{i}") for i in range(fixed_sql.ID_BLOCK + 2)]
    assert len({o.pk for o in later} | {a.pk, b.pk}) == len(later) + 2


def test_a_reserved_block_is_renewed_when_used_up(world):
    from gridcare.workorders.models import WorkOrder

    if not _defers():
        pytest.skip("blocks are reserved only where writes are deferred (PostgreSQL)")
    ids = []
    with transaction.atomic():
        for i in range(fixed_sql.ID_BLOCK + 3):
            o = _new_order(world, f"AB-{i}")
            o.insert(defer=True)
            ids.append(o.pk)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert WorkOrder.objects.filter(pk__in=ids).count() == len(ids)


def test_a_clash_of_a_deferred_row_with_its_own_id_fails_the_transaction_and_leaves_nothing(world):
    from gridcare.core.models import AuditLog
    from gridcare.workorders.models import StageEvent, WorkOrder

    first = _order(world, "AC-1")
    events, logs = StageEvent.objects.count(), AuditLog.objects.count()
    dup = _new_order(world, "AC-1")  # order_no is unique
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            dup.insert(first=lambda o: _event(o, "受理"), defer=True)
    if _defers():  # its id was taken from the block; on SQLite the INSERT itself failed
        assert dup.pk is not None and dup.pk != first.pk and not WorkOrder.objects.filter(pk=dup.pk).exists()
    assert list(WorkOrder.objects.filter(order_no="AC-1").values_list("pk", flat=True)) == [first.pk]
    assert (StageEvent.objects.count(), AuditLog.objects.count()) == (events, logs)
    # the connection is usable afterwards, and the next order gets a fresh id
    ok = _new_order(world, "AC-2")
    with transaction.atomic():
        ok.insert(defer=True)
    assert WorkOrder.objects.filter(pk=ok.pk, order_no="AC-2").exists()


@pytest.mark.django_db(transaction=True)
def test_an_intake_on_a_stale_reserved_id_is_retried_on_a_fresh_block(world):
    """A reserved id already taken (the sequence was set back, e.g. by a restore) fails the intake's
    transaction; the rollback drops the block and the intake's retry takes a fresh one: one order, no error."""
    from gridcare.workorders.models import WorkOrder
    from gridcare.workorders.services import do_create_order

    if not _defers():
        pytest.skip("ids are reserved only where writes are deferred (PostgreSQL)")
    taken = [_order(world, f"ST-{i}") for i in range(6)]
    # the ids the block would hand out next are all used (more than the intake's five attempts)
    connection.id_blocks[WorkOrder._meta.db_table] = [o.pk for o in taken]
    order, created = do_create_order(world.agent, {"order_type": "inquiry", "account_no": world.cust_a.account_no,
                                                   "text": "咨询电费"})
    assert created and order.pk not in {o.pk for o in taken}
    assert WorkOrder.objects.filter(pk=order.pk, order_no=order.order_no).exists()
    assert [WorkOrder.objects.get(pk=o.pk).order_no for o in taken] == [f"ST-{i}" for i in range(6)]
