"""core.fixed_sql writes and reads the same rows as the ORM it stands in for on the intake path."""
import datetime as dt
from decimal import Decimal

import pytest
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from gridcare.core import fixed_sql
from gridcare.core.models import AuditLog


def _row(model, pk):
    return model.objects.filter(pk=pk).values().get()


def test_insert_writes_the_row_save_writes_and_sends_the_signals(world):
    from gridcare.workorders.models import StageEvent, WorkOrder

    at = timezone.make_aware(dt.datetime(2026, 10, 8, 9, 30))
    order = WorkOrder(order_no="FX-1", order_type="inquiry", channel="hotline", customer=world.cust_a,
                      area_kind="urban", unit=world.station_a, text="咨询电价", accepted_at=at, stage_entered_at=at)
    order.insert()
    twin = WorkOrder(order_no="FX-2", order_type="inquiry", channel="hotline", customer=world.cust_a,
                     area_kind="urban", unit=world.station_a, text="咨询电价", accepted_at=at, stage_entered_at=at)
    twin.save()
    assert order.pk and not order._state.adding
    a, b = _row(WorkOrder, order.pk), _row(WorkOrder, twin.pk)
    for key in ("id", "order_no"):
        a.pop(key), b.pop(key)
    assert a == b
    # the audit row of insert() is the one save() writes
    logs = {log.object_pk: log.changes for log in AuditLog.objects.filter(
        content_type__model="workorder", object_pk__in=[str(order.pk), str(twin.pk)], action="create")}
    assert logs[str(order.pk)]["order_no"] == [None, "FX-1"]
    assert {k: v for k, v in logs[str(order.pk)].items() if k not in ("id", "order_no")} == \
        {k: v for k, v in logs[str(twin.pk)].items() if k not in ("id", "order_no")}

    seen = []

    def pre(sender, instance, **kw):
        seen.append(("pre", instance.pk))

    def post(sender, instance, created, **kw):
        seen.append(("post", instance.pk, created))

    pre_save.connect(pre, sender=StageEvent)
    post_save.connect(post, sender=StageEvent)
    try:
        event = fixed_sql.insert(StageEvent(order=order, kind="create", at=at, note="受理",
                                            data={"金额": str(Decimal("1.50"))}))
    finally:
        pre_save.disconnect(pre, sender=StageEvent)
        post_save.disconnect(post, sender=StageEvent)
    assert seen == [("pre", None), ("post", event.pk, True)]
    stored = StageEvent.objects.get(pk=event.pk)
    assert (stored.order_id, stored.kind, stored.at, stored.note, stored.data) == \
        (order.pk, "create", at, "受理", {"金额": "1.50"})


def test_get_one_matches_select_related(world):
    from gridcare.customers.models import Customer
    from gridcare.grid.models import TransformerArea

    got = fixed_sql.get_one(Customer, "account_no", world.cust_a.account_no, ("unit", "transformer_area"))
    orm = Customer.objects.select_related("unit", "transformer_area").get(account_no=world.cust_a.account_no)
    assert got == orm
    assert {f.attname: getattr(got, f.attname) for f in Customer._meta.concrete_fields} == \
        {f.attname: getattr(orm, f.attname) for f in Customer._meta.concrete_fields}
    # the relations come loaded and converted like the ORM's (no further query)
    assert Customer.unit.is_cached(got) and Customer.transformer_area.is_cached(got)
    assert got.unit.__dict__.keys() >= {"id", "name"} and got.unit.name == orm.unit.name
    assert got.transformer_area.code == orm.transformer_area.code
    assert not got._state.adding and got._state.db == "default"
    # a missing row is None
    assert fixed_sql.get_one(Customer, "account_no", "不存在的户号", ("unit",)) is None
    ta = fixed_sql.get_one(TransformerArea, "code", world.cust_a.transformer_area.code, ("unit",))
    assert ta.pk == world.cust_a.transformer_area_id and ta.unit.pk == world.cust_a.transformer_area.unit_id


def test_get_one_caches_a_missing_relation_as_none(world):
    from gridcare.workorders.models import WorkOrder

    at = timezone.make_aware(dt.datetime(2026, 10, 8, 9, 30))
    WorkOrder.objects.create(order_no="FX-3", order_type="inquiry", area_kind="rural", unit=world.station_a,
                             text="无台区", accepted_at=at, stage_entered_at=at)
    got = fixed_sql.get_one(WorkOrder, "order_no", "FX-3", ("unit", "transformer_area", "customer"))
    assert WorkOrder.transformer_area.is_cached(got) and got.transformer_area is None and got.customer is None
    assert got.unit.pk == world.station_a.pk and got.accepted_at == at


def test_only_plain_models():
    from django.db import connection

    class Child:  # a model with a parent model (multi-table inheritance) needs two INSERTs: refused
        _meta = type("Meta", (), {"parents": {object: None}, "local_concrete_fields": [], "label": "x.Child"})()

    with pytest.raises(TypeError, match="plain models"):
        fixed_sql._Insert(Child, connection)


def test_fixed_statements_are_prepared_on_postgresql_and_orm_queries_are_not(world):
    """On PostgreSQL the fixed statements run as prepared statements of the session (parsed and planned once
    per connection), and stay in Django's query log; ordinary ORM queries are not prepared."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from gridcare.customers.models import Customer

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")

    def prepared():
        with connection.cursor() as cur:
            cur.execute("SELECT statement FROM pg_prepared_statements")
            return [row[0] for row in cur.fetchall()]

    prepared()  # rows the fixture left deferred (core.pgbackend) go out with this, not in the capture below
    with CaptureQueriesContext(connection) as captured:
        for _ in range(3):
            assert fixed_sql.get_one(Customer, "account_no", world.cust_a.account_no, ("unit",)).pk == world.cust_a.pk
    # Django's query log still shows what ran
    assert [q["sql"] for q in captured.captured_queries] == [fixed_sql._lookups[
        (Customer, "account_no", ("unit",), "default")].sql.replace("%s", "$1")] * 3
    lookups = [s for s in prepared() if s.startswith('SELECT r0."id"') and "customers_customer" in s]
    assert len(lookups) == 1
    for _ in range(6):
        list(Customer.objects.filter(account_no=world.cust_a.account_no))
    assert not [s for s in prepared() if s.startswith('SELECT "customers_customer"')]


def test_insert_values_are_the_fields_own_conversions(world):
    """The values `insert()` takes straight from the instance are the ones the fields' own
    `get_db_prep_save(pre_save(...))` give, for ordinary values and for those it must not pass on as they
    are (a choices member, a bool in an integer field, a naive datetime, an id as text)."""
    import warnings

    from django.db import connection

    from gridcare.workorders.models import Channel, StageEvent, WorkOrder

    def typed(values):  # a JSON value is an adapter object (psycopg's Jsonb): compared by what it holds
        return [(type(v), getattr(v, "obj", v)) for v in values]

    def own(obj):
        stmt = fixed_sql._Insert(type(obj), connection)
        return typed(f.get_db_prep_save(f.pre_save(obj, True), connection) for f in stmt.fields)

    def fast(obj):
        return typed(fixed_sql._params(fixed_sql._Insert(type(obj), connection), obj, connection))

    at = timezone.make_aware(dt.datetime(2026, 10, 8, 9, 30))
    order = WorkOrder(order_no="FX-4", order_type="complaint", channel=Channel.WECHAT, customer=world.cust_a,
                      area_kind="urban", unit=world.station_a, text="投诉", accepted_at=at, stage_entered_at=at,
                      urge_count=True)
    assert fast(order) == own(order)
    odd = WorkOrder(order_no="FX-5", order_type="inquiry", unit_id=str(world.station_a.pk), area_kind="rural",
                    text="x", accepted_at=dt.datetime(2026, 10, 8, 9, 30), stage_entered_at=at)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the naive datetime's warning, from both
        got, want = fast(odd), own(odd)
    assert got == want
    event = StageEvent(order=order, kind="create", at=at, note="受理", data={"a": 1})
    assert fast(event) == own(event)


def test_fetch_together_reads_each_statement_in_one_round_trip_after_held_rows(world, monkeypatch):
    """fetch_together: the rows of each read as one after the other would give them; on PostgreSQL in one
    pipeline (entered once), behind the rows the transaction holds, which the reads see."""
    from django.db import DatabaseError, connection, transaction

    from gridcare.workorders.models import StageEvent, WorkOrder

    at = timezone.make_aware(dt.datetime(2026, 10, 8, 9, 30))
    order = WorkOrder.objects.create(order_no="FT-1", order_type="inquiry", area_kind="urban", unit=world.station_a,
                                     text="x", accepted_at=at, stage_entered_at=at)
    events = f"SELECT note FROM {StageEvent._meta.db_table} WHERE order_id = %s ORDER BY id"
    orders = f"SELECT order_no FROM {WorkOrder._meta.db_table} WHERE id = %s"
    pipelines = []
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        real = connection.connection.pipeline
        monkeypatch.setattr(connection.connection, "pipeline", lambda *a, **k: pipelines.append(1) or real(*a, **k))
    with transaction.atomic():
        fixed_sql.insert(StageEvent(order=order, kind="comment", at=at, note="一"), defer=True)
        before = len(pipelines)
        got = fixed_sql.fetch_together([(events, [order.pk]), (orders, [order.pk]), (orders, [-1])])
        entered = len(pipelines) - before
    assert got == [[("一",)], [("FT-1",)], []]
    if connection.vendor == "postgresql":
        assert entered == 1
    # an error in one of them is Django's, and the transaction it broke is rolled back
    with pytest.raises(DatabaseError):
        with transaction.atomic():
            fixed_sql.insert(StageEvent(order=order, kind="comment", at=at, note="二"), defer=True)
            fixed_sql.fetch_together([(orders, [order.pk]), ("SELECT no_such_column FROM " + WorkOrder._meta.db_table
                                                             + " WHERE id = %s", [order.pk])])
    assert list(StageEvent.objects.filter(order=order).values_list("note", flat=True)) == ["一"]
