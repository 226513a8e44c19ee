"""Estimation of time-of-use registers (a held TOU read resolved by estimation is billed, not held forever)
and the automatic rebill when the next actual read differs from an estimate (interpolation)."""
import datetime as dt
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcare.billing import catalog
from gridcare.billing.models import Bill, BillingAccount, BillRun
from gridcare.billing.rules import compute_bill
from gridcare.billing.services import execute_run
from gridcare.grid.models import Meter
from gridcare.metering import rules, services
from gridcare.metering.models import MeterRead, ReadException

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 20, tzinfo=TZ)


@given(st.integers(0, 10**8), st.lists(st.integers(0, 1000), min_size=1, max_size=4))
def test_split_tou_sums_exactly_and_follows_the_shares(cents, weights):
    regs = ("sharp", "peak", "flat", "valley")[:len(weights)]
    total = D(cents) / 100
    parts = rules.split_tou(total, dict(zip(regs, map(D, weights))))
    assert sum(parts.values()) == total and all(p >= 0 and p == p.quantize(D("0.01")) for p in parts.values())
    w = sum(weights) or len(weights)
    for r, wt in zip(regs, weights if sum(weights) else [1] * len(weights)):
        assert abs(parts[r] - total * wt / w) < D("0.01")  # off the exact share by less than one hundredth


def test_tou_shares_history_then_defaults_then_equal():
    defaults = rules.config().tou_default_shares
    assert rules.tou_shares(("peak", "valley"), {"peak": D(70), "valley": D(30)}, defaults) == {
        "peak": D(70), "valley": D(30)}
    assert rules.tou_shares(("peak", "valley"), {"peak": D(70)}, defaults) == {"peak": D("0.62"), "valley": D("0.38")}
    assert rules.tou_shares(("peak", "flat"), {}, defaults) == {"peak": D(1), "flat": D(1)}
    assert rules.split_tou(D("100.01"), {"peak": D(1), "valley": D(1)}) == {"peak": D("50.01"), "valley": D("50.00")}


def tou_account(world, with_history=True):
    meter = Meter.objects.create(meter_no="M1", customer=world.cust_a, transformer_area=world.taiqu_a, tou=True)
    BillingAccount.objects.create(customer=world.cust_a, tariff_code="ZJ-RES-TOU")
    total, peak, valley = D(600), D(400), D(200)
    for i in range(5):  # reads closing May..September (5 June .. 5 October): 300 kWh a month, 70 % peak
        at = dt.datetime(2026, 6 + i, 5, 9, tzinfo=TZ)
        period = dt.date(2026, 5 + i, 1)
        k = None if i == 0 else D(300)
        total += 0 if i == 0 else 300
        peak += 0 if i == 0 else 210
        valley += 0 if i == 0 else 90
        regs = [("total", total, k)]
        if with_history or i == 0:
            regs += [("peak", peak, k and D(210)), ("valley", valley, k and D(90))]
        for reg, value, kwh in regs:
            MeterRead.objects.create(customer=world.cust_a, meter=meter, unit=world.cust_a.unit, period=period,
                                     register=reg, read_at=at, value_kwh=value, consumption_kwh=kwh, source="ami")
    return meter


def october_run(world):
    run = BillRun.objects.create(unit=world.station_a, period=dt.date(2026, 10, 1), started_by=world.admin)
    return execute_run(run)


@pytest.mark.django_db
def test_held_tou_read_estimated_with_the_accounts_own_shares_is_billed(world):
    tou_account(world)
    at = dt.datetime(2026, 11, 4, 9, tzinfo=TZ)
    # October: a total far too high (a digit too many) and a valley register lower than before
    read = services.do_record_read(world.admin, world.cust_a, "M1", at, D(2100) + 9000, now=NOW)
    peak = services.do_record_read(world.admin, world.cust_a, "M1", at, D(1050) + 200, "peak", now=NOW)
    valley = services.do_record_read(world.admin, world.cust_a, "M1", at, D(100), "valley", now=NOW)
    assert read.status == valley.status == "exception" and peak.status == "valid"
    assert october_run(world).held == 1 and not Bill.objects.exists()
    services.do_resolve(world.admin, read.exceptions.get(), "estimate", "示数疑似多录一位，按历史估算")
    assert ReadException.objects.filter(status="open").exists() is False  # the valley finding went with it
    read.refresh_from_db(), peak.refresh_from_db(), valley.refresh_from_db()
    est = read.consumption_kwh
    assert read.status == "estimated" and est > 0
    # split 70/30 by the account's own history, to the hundredth, summing exactly to the total
    assert peak.consumption_kwh + valley.consumption_kwh == est
    assert peak.consumption_kwh == rules.split_tou(est, {"peak": D(840), "valley": D(360)})["peak"]
    assert {peak.status, valley.status, peak.source, valley.source} == {"estimated", "estimate"}
    assert valley.value_kwh == D(560) + valley.consumption_kwh   # September's valley read + its share
    assert read.value_kwh == D(1800) + est   # not the 11,100 typed: the next actual read is checked against this
    run = october_run(world)
    assert run.bills == 1 and run.held == 0
    bill = Bill.objects.get()
    assert bill.estimated and bill.kwh == est
    versions = catalog.resolve("ZJ-RES-TOU")
    expected = compute_bill(versions, dt.date(2026, 10, 1), dt.date(2026, 10, 31),
                            {"peak": peak.consumption_kwh, "valley": valley.consumption_kwh}, D(0))
    assert bill.amount == expected.total and "峰" in bill.lines[0]["item"]


@pytest.mark.django_db
def test_missed_tou_read_estimated_with_default_shares_is_billed(world):
    tou_account(world, with_history=False)
    exc = ReadException.objects.create(customer=world.cust_a, unit=world.cust_a.unit, period=dt.date(2026, 10, 1),
                                       rule="missed_read", message="漏抄")
    assert october_run(world).held == 1
    services.do_resolve(world.admin, exc, "estimate", "门锁无法入户", estimate_kwh="250")
    regs = dict(MeterRead.objects.filter(period=dt.date(2026, 10, 1)).values_list("register", "consumption_kwh"))
    assert regs == {"total": D("250.00"), "peak": D("155.00"), "valley": D("95.00")}  # 0.62 / 0.38 of vee.yaml
    assert october_run(world).bills == 1


@pytest.mark.django_db
def test_actual_read_after_an_estimate_rebills_by_interpolation(world):
    meter = Meter.objects.create(meter_no="M1", customer=world.cust_a, transformer_area=world.taiqu_a)
    BillingAccount.objects.create(customer=world.cust_a, tariff_code="ZJ-RES-TIERED")
    for i, value in enumerate((600, 900, 1200, 1500, 1800)):   # 5 June .. 5 October, 300 kWh a month
        MeterRead.objects.create(customer=world.cust_a, meter=meter, unit=world.cust_a.unit,
                                 period=dt.date(2026, 5 + i, 1), read_at=dt.datetime(2026, 6 + i, 5, 9, tzinfo=TZ),
                                 value_kwh=D(value), consumption_kwh=None if i == 0 else D(300), source="ami")
    est = services.do_record_read(world.admin, world.cust_a, "M1", dt.datetime(2026, 11, 4, 9, tzinfo=TZ), D(2100),
                                  source="estimate", now=NOW)
    assert est.status == "estimated"
    october_run(world)
    old = Bill.objects.get()
    assert old.estimated and old.kwh == D(300)
    # the next actual read: 800 kWh since 5 October, 30 of 60 days in October → October was 400, not 300
    actual = services.do_record_read(world.admin, world.cust_a, "M1", dt.datetime(2026, 12, 4, 9, tzinfo=TZ),
                                     D(2600), now=NOW)
    est.refresh_from_db(), old.refresh_from_db()
    assert (est.consumption_kwh, est.value_kwh, actual.consumption_kwh) == (D(400), D(2200), D(400))
    assert old.status == "cancelled"
    new = Bill.objects.get(rebill_of=old)
    expected = compute_bill(catalog.resolve("ZJ-RES-TIERED"), dt.date(2026, 10, 1), dt.date(2026, 10, 31),
                            {"total": D(400)}, D(0))
    assert new.kwh == D(400) and new.amount == expected.total and not new.estimated and new.status == "issued"
    assert old.audit_entries().exists() and "插值" in new.note
    # recording the same situation again changes nothing (no second rebill)
    assert services.rebill_after_estimate(world.admin, world.cust_a, actual) == []


@pytest.mark.django_db
def test_a_wrong_tou_register_is_estimated_from_what_the_total_and_the_other_registers_leave(world):
    tou_account(world)   # 5 October: total 1800, peak 1240, valley 560
    at = dt.datetime(2026, 11, 4, 9, tzinfo=TZ)
    total = services.do_record_read(world.admin, world.cust_a, "M1", at, D(2100), now=NOW)
    valley = services.do_record_read(world.admin, world.cust_a, "M1", at, D(650), "valley", now=NOW)
    peak = services.do_record_read(world.admin, world.cust_a, "M1", at, D(1100), "peak", now=NOW)  # below 1240
    assert peak.status == "exception" and valley.status == "valid"
    exc = peak.exceptions.get(rule="lower_than_previous")
    for other in ReadException.objects.filter(status="open").exclude(pk=exc.pk):   # e.g. the TOU sum check
        services.do_resolve(world.admin, other, "accept", "总表与谷段示数经核对无误")
    total.refresh_from_db()
    assert total.status == "valid" and total.consumption_kwh == D(300)
    services.do_resolve(world.admin, exc, "estimate", "峰段示数抄错")
    peak.refresh_from_db()
    # 300 on the total, 90 on the valley: the peak is the 210 they leave (not a whole month's history again)
    assert (peak.status, peak.consumption_kwh, peak.value_kwh) == ("estimated", D(210), D(1450))
    exc.refresh_from_db()
    assert "原录入示数 1100" in exc.reason
    run = october_run(world)
    assert run.bills == 1 and run.held == 0
    bill = Bill.objects.get()
    assert bill.kwh == D(300) and bill.estimated
    expected = compute_bill(catalog.resolve("ZJ-RES-TOU"), dt.date(2026, 10, 1), dt.date(2026, 10, 31),
                            {"peak": D(210), "valley": D(90)}, D(0))
    assert bill.amount == expected.total
    # the next actual peak read is checked against the estimate (1450), not against the wrong 1100
    december = services.do_record_read(world.admin, world.cust_a, "M1", dt.datetime(2026, 12, 4, 9, tzinfo=TZ),
                                       D(1660), "peak", now=NOW)
    assert december.consumption_kwh == D(210)


@pytest.mark.django_db
def test_a_wrong_tou_register_without_a_sound_neighbour_takes_its_share_of_the_total(world):
    tou_account(world)
    at = dt.datetime(2026, 11, 4, 9, tzinfo=TZ)
    services.do_record_read(world.admin, world.cust_a, "M1", at, D(2100), now=NOW)
    services.do_record_read(world.admin, world.cust_a, "M1", at, D(500), "valley", now=NOW)   # below 560 too
    peak = services.do_record_read(world.admin, world.cust_a, "M1", at, D(1100), "peak", now=NOW)
    exc = peak.exceptions.get(rule="lower_than_previous")
    for other in ReadException.objects.filter(status="open", read__register="total"):
        services.do_resolve(world.admin, other, "accept", "总表示数经核对无误")
    services.do_resolve(world.admin, exc, "estimate", "峰段示数抄错")
    peak.refresh_from_db()
    # the valley is wrong too: the peak is its own 70 % share of the sound total (history 840 : 360)
    assert peak.consumption_kwh == rules.split_tou(D(300), {"peak": D(840), "valley": D(360)})["peak"] == D(210)
