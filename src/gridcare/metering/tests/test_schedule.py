"""Reading schedule per route, the missed-read sweep (through the real task worker), and estimation from
the account's history when an exception is resolved without a figure."""
import datetime as dt
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from gridcare.billing.models import BillingAccount
from gridcare.grid.models import Meter
from gridcare.metering import services
from gridcare.metering.models import MeterRead, ReadException, ReadingRoute

TZ = ZoneInfo("Asia/Shanghai")


def history(world, customer, meter, kwh=(300, 300, 300)):
    """Reads closing May..August (600 read on 5 June, then `kwh` a month read on 5 July, August, September)."""
    value = D(600)
    MeterRead.objects.create(customer=customer, meter=meter, unit=customer.unit, period=dt.date(2026, 5, 1),
                             read_at=dt.datetime(2026, 6, 5, 9, tzinfo=TZ), value_kwh=value, source="ami")
    for i, k in enumerate(kwh):
        value += k
        MeterRead.objects.create(customer=customer, meter=meter, unit=customer.unit, period=dt.date(2026, 6 + i, 1),
                                 read_at=dt.datetime(2026, 7 + i, 5, 9, tzinfo=TZ), value_kwh=value,
                                 consumption_kwh=D(k), source="ami")


@pytest.fixture
def route(world):
    r = ReadingRoute.objects.create(code="CB01", name="城关第一抄表段", unit=world.station_a, reader=world.reader,
                                    reading_day=5)
    r.transformer_areas.set([world.taiqu_a, world.taiqu_a2])
    return r


def test_reading_date_by_day_and_cycle():
    r = ReadingRoute(reading_day=9, cycle_months=1)
    assert services.reading_date(r, dt.date(2026, 10, 1)) == dt.date(2026, 11, 9)
    assert services.reading_date(r, dt.date(2026, 12, 1)) == dt.date(2027, 1, 9)
    two = ReadingRoute(reading_day=3, cycle_months=2)  # read every other month: periods Feb, Apr, ...
    assert services.reading_date(two, dt.date(2026, 1, 1)) is None
    assert services.reading_date(two, dt.date(2026, 2, 1)) == dt.date(2026, 3, 3)


@pytest.mark.django_db(transaction=True)
def test_missed_reads_swept_once_after_the_reading_day_and_estimated_from_history(world, route):
    m1 = Meter.objects.create(meter_no="M1", customer=world.cust_a, transformer_area=world.taiqu_a)
    m2 = Meter.objects.create(meter_no="M2", customer=world.cust_a2, transformer_area=world.taiqu_a2)
    BillingAccount.objects.create(customer=world.cust_a, tariff_code="ZJ-RES-TIERED")
    history(world, world.cust_a, m1)
    history(world, world.cust_a2, m2)
    MeterRead.objects.create(customer=world.cust_a2, meter=m2, unit=world.cust_a2.unit, period=dt.date(2026, 9, 1),
                             read_at=dt.datetime(2026, 10, 5, 9, tzinfo=TZ), value_kwh=D(2000), source="ami")
    # September closes on 5 October; with 2 days' grace nothing is missed on the 7th, cust_a is on the 8th
    assert services.sweep_missed_reads(dt.date(2026, 10, 7))["missed_reads"] == 0
    assert services.sweep_missed_reads(dt.date(2026, 10, 8))["missed_reads"] == 1
    assert services.sweep_missed_reads(dt.date(2026, 10, 9))["missed_reads"] == 0  # never twice
    exc = ReadException.objects.get(rule="missed_read")
    assert exc.customer == world.cust_a and exc.period == dt.date(2026, 9, 1) and exc.read is None
    # the scheduled task sweeps as of the real today: last month's reads of both accounts are missing
    from django.utils import timezone

    from gridcare.metering.tasks import missed_reads_task

    missed_reads_task.enqueue()
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
    last_month = services.add_months(timezone.localdate().replace(day=1), -1)
    if timezone.localdate() > services.reading_date(route, last_month) + dt.timedelta(days=2):
        assert set(ReadException.objects.filter(rule="missed_read", period=last_month)
                   .values_list("customer__account_no", flat=True)) == {"3100000001", "3100000002"}
    # resolved by estimation without a figure: the account's history (300 kWh a month) over the days
    # since its last read (5 September → now), not zero
    services.do_resolve(world.admin, exc, "estimate", "门锁无法入户，按历史估抄")
    exc.refresh_from_db()
    read = exc.read
    assert read.source == "estimate" and read.status == "estimated" and read.period == dt.date(2026, 9, 1)
    days = (read.read_at - dt.datetime(2026, 9, 5, 9, tzinfo=TZ)).days
    assert read.consumption_kwh == (D(300) * days / 30).quantize(D("0.01")) > 0
    assert read.value_kwh == D(1500) + read.consumption_kwh  # the last read (5 September) + the estimate


@pytest.mark.django_db
def test_held_read_resolved_by_estimate_uses_history(world):
    m1 = Meter.objects.create(meter_no="M1", customer=world.cust_a, transformer_area=world.taiqu_a)
    history(world, world.cust_a, m1, kwh=(200, 260, 320))
    now = dt.datetime(2026, 11, 20, tzinfo=TZ)
    # October: 5,000 kWh against ~260 a month is far too high → held
    read = services.do_record_read(world.admin, world.cust_a, "M1", dt.datetime(2026, 11, 4, 9, tzinfo=TZ),
                                   D(1380) + 5000, now=now)
    exc = read.exceptions.get()
    assert exc.rule == "high_usage" and read.status == "exception"
    services.do_resolve(world.admin, exc, "estimate", "示数疑似多录一位，按历史估算")
    read.refresh_from_db()
    # mean of the last 3 months (260) over the 60 days since the last read on 5 September
    assert read.status == "estimated" and read.consumption_kwh == (D(260) * 60 / 30).quantize(D("0.01"))
    with pytest.raises(Exception):
        services.do_resolve(world.admin, exc, "estimate", "again")


@pytest.mark.django_db
def test_schedule_api(world, route):
    from gridcare.testing import ApiClient

    Meter.objects.create(meter_no="M1", customer=world.cust_a, transformer_area=world.taiqu_a)
    r = ApiClient(world.reader).get("/api/metering/schedule?period=2026-10")
    assert r.status_code == 200
    assert r.json() == [{"route": "CB01", "name": "城关第一抄表段", "reader": world.reader.username,
                         "reading_date": "2026-11-05", "meters": 1}]
    assert ApiClient(world.reader).get("/api/metering/schedule?period=2026-13").status_code == 400
