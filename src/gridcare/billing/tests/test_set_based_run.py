"""The set-based bill run writes, for every account of a varied sample, exactly the bill the per-bill rules
(rules.compute_bill) give; exceptions, missing reads, unpriceable accounts and cancelled bills are handled."""
import datetime as dt
import random
from decimal import Decimal as D

import pytest
from django.utils import timezone

from gridcare.billing import catalog
from gridcare.billing.models import Bill, BillingAccount, BillRun, BillStatus
from gridcare.billing.rules import compute_bill
from gridcare.billing.services import execute_run
from gridcare.customers.models import Customer
from gridcare.grid.models import Meter
from gridcare.metering.models import MeterRead, ReadException

JULY = dt.date(2026, 7, 1)
TARIFFS = ["ZJ-RES-TIERED", "ZJ-RES-TOU", "EX-RES-TIERED", "EX-NONRES-FLAT", "EX-NONRES-TOU", "EX-AGRI",
           "JS-RES-TIERED"]


def make_sample(world, n=60, seed=3):
    rng = random.Random(seed)
    now = timezone.now()
    expected = {}
    for i in range(n):
        code = TARIFFS[i % len(TARIFFS)]
        c = Customer.objects.create(account_no=f"35{i:08d}", name=f"客户{i}", customer_class="residential",
                                    unit=world.station_a, transformer_area=world.taiqu_a, address="地址",
                                    area_kind="urban")
        m = Meter.objects.create(meter_no=f"MS{i:06d}", customer=c, transformer_area=world.taiqu_a)
        BillingAccount.objects.create(customer=c, tariff_code=code)
        versions = catalog.resolve(code)
        tou = versions[-1].tou
        regs = {}
        if tou:
            for reg in versions[-1].energy:
                regs[reg] = D(rng.randint(0, 40_000)) / 100
        else:
            regs["total"] = D(rng.choice([0, 24_000, 40_000, rng.randint(0, 150_000)])) / 100
        for reg, kwh in regs.items():
            MeterRead.objects.create(customer=c, meter=m, unit=c.unit, read_at=now, period=JULY, register=reg,
                                     value_kwh=kwh, consumption_kwh=kwh, source="ami", status="valid")
        ytd = D(0)
        if i % 3 == 0:  # earlier bills this year make annual tiers start higher
            ytd = D(rng.randint(0, 5000))
            Bill.objects.create(bill_no=f"OLD{i}", customer=c, unit=c.unit, period=dt.date(2026, 3, 1),
                                period_start=dt.date(2026, 3, 1), period_end=dt.date(2026, 3, 31), tariff_code=code,
                                kwh=ytd, amount=D("1.00"), due_date=dt.date(2026, 4, 25), issued_at=now)
        res = compute_bill(versions, JULY, dt.date(2026, 7, 31), regs, ytd)
        expected[c.pk] = (res.total_kwh, res.total, [line.as_json() for line in res.lines])
    return expected


@pytest.mark.django_db
def test_set_based_run_equals_compute_bill_on_a_sample(world):
    expected = make_sample(world)
    # held: an open exception; no read at all; a TOU tariff with only a total read
    c_exc, c_none, c_tou = [Customer.objects.create(account_no=f"36{i:08d}", name="客户", customer_class="residential",
                                                    unit=world.station_a, transformer_area=world.taiqu_a,
                                                    address="地址", area_kind="urban") for i in range(3)]
    for c, code in ((c_exc, "ZJ-RES-TIERED"), (c_none, "ZJ-RES-TIERED"), (c_tou, "EX-NONRES-TOU")):
        BillingAccount.objects.create(customer=c, tariff_code=code)
    for c in (c_exc, c_tou):
        m = Meter.objects.create(meter_no=f"MX{c.pk}", customer=c, transformer_area=world.taiqu_a)
        r = MeterRead.objects.create(customer=c, meter=m, unit=c.unit, read_at=timezone.now(), period=JULY,
                                     register="total", value_kwh=D(10), consumption_kwh=D(10), source="ami",
                                     status="exception" if c is c_exc else "valid")
        if c is c_exc:
            ReadException.objects.create(customer=c, meter=m, unit=c.unit, read=r, period=JULY, rule="high_usage",
                                         message="x")
    run = execute_run(BillRun.objects.create(unit=world.city, period=JULY, started_by=world.admin))
    bills = {b.customer_id: b for b in Bill.objects.filter(run=run)}
    assert set(bills) == set(expected)
    for cid, (kwh, total, lines) in expected.items():
        b = bills[cid]
        assert (b.kwh, b.amount, b.lines) == (kwh, total, lines), cid
        assert b.status == BillStatus.ISSUED and b.due_date == dt.date(2026, 8, 25) and b.unit_id == world.station_a.pk
    assert run.bills == len(expected) and run.held == 3
    assert run.amount == sum((t for _, t, _ in expected.values()), D("0.00"))
    assert "抄表异常未处理 1 户" in run.error and "本期无有效示数 1 户" in run.error and "分时" in run.error
    # a second run bills nothing twice; after a cancellation it bills that account again under a new number
    again = execute_run(BillRun.objects.create(unit=world.city, period=JULY, started_by=world.admin))
    assert again.bills == 0
    first = bills[next(iter(expected))]
    Bill.objects.filter(pk=first.pk).update(status=BillStatus.CANCELLED)
    third = execute_run(BillRun.objects.create(unit=world.city, period=JULY, started_by=world.admin))
    assert third.bills == 1
    rebilled = Bill.objects.get(run=third)
    assert rebilled.customer_id == first.customer_id and rebilled.bill_no == first.bill_no + "-N2"
    assert rebilled.amount == first.amount
