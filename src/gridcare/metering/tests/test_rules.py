"""VEE rules: each rule on hand-made reads, rollover and meter exchange, and the Polars batch version
agreeing with the one-read reference on random data."""
import datetime as dt
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcare.metering.rules import (ReadContext, ReadRejected, check_read, config, estimate_kwh, expected_usage,
                                     vee_frame)

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 8, 3, 12, tzinfo=TZ)
PREV = dt.datetime(2026, 7, 3, 10, tzinfo=TZ)
AT = dt.datetime(2026, 8, 3, 10, tzinfo=TZ)


def ctx(**kw):
    return ReadContext(now=NOW, previous_value=D("1000"), previous_at=PREV, **kw)


def rules_of(value, source="manual", register="total", **kw):
    return [f.rule for f in check_read(D(value), AT, register, source, ctx(**kw))[2]]


def test_clean_read():
    kwh, rolled, findings = check_read(D("1250"), AT, "total", "ami", ctx(expected_kwh=D("240")))
    assert (kwh, rolled, findings) == (D("250"), False, [])


@pytest.mark.parametrize("value,at,field", [
    ("-1", AT, "value_kwh"),
    ("1000000", AT, "value_kwh"),                             # beyond 6 register digits
    ("1100", NOW + dt.timedelta(hours=1), "read_at"),        # a read in the future
    ("1100", PREV - dt.timedelta(days=1), "read_at"),        # before the previous read
])
def test_reads_that_cannot_be_stored(value, at, field):
    with pytest.raises(ReadRejected) as exc:
        check_read(D(value), at, "total", "manual", ctx())
    assert field in exc.value.errors


def test_lower_than_previous_and_rollover():
    assert rules_of("900") == ["lower_than_previous"]
    # 999,900 → 000,150 on a 6-digit register: 250 kWh, a rollover, not an exception
    kwh, rolled, findings = check_read(D("150"), AT, "total", "ami",
                                       ReadContext(now=NOW, previous_value=D("999900"), previous_at=PREV))
    assert (kwh, rolled, findings) == (D("250"), True, [])


def test_meter_exchange_spans_old_and_new_meter():
    # old meter 1000 → final 1180 (180 kWh), new meter 0 → 70: 250 kWh
    kwh, _, findings = check_read(D("70"), AT, "total", "manual", ReadContext(
        now=NOW, previous_value=D("1000"), previous_at=PREV, exchange=(D("1000"), D("1180"), D("0"))))
    assert kwh == D("250") and findings == []


def test_zero_consumption_unless_explained():
    assert rules_of("1000") == ["zero_consumption"]
    assert rules_of("1000", zero_explained="计划停电 7月") == []
    assert rules_of("1000", account_status="vacant") == []


def test_usage_against_history():
    assert rules_of("2000", expected_kwh=D("250")) == ["high_usage"]       # 1000 > 3 × 250
    assert rules_of("1020", expected_kwh=D("250")) == ["low_usage"]        # 20 < 0.2 × 250
    assert rules_of("1500", expected_kwh=D("250")) == []                   # 500 ≤ 750
    assert rules_of("1080", expected_kwh=D("20")) == []                    # history too small to judge
    assert expected_usage(D("300"), [D("1"), D("2")]) == D("300")
    assert expected_usage(None, [D("100"), D("200"), D("300"), D("600")]) == D("1100") / 3


def test_tou_must_sum_to_total():
    assert rules_of("1250", tou_values={"peak": D("150"), "valley": D("100")}) == []
    assert rules_of("1250", tou_values={"peak": D("150"), "valley": D("90")}) == ["tou_mismatch"]


def test_consecutive_estimates_and_disconnected():
    assert rules_of("1250", source="estimate", consecutive_estimates=1) == []
    assert rules_of("1250", source="estimate", consecutive_estimates=2) == ["consecutive_estimates"]
    assert rules_of("1250", account_status="disconnected") == ["disconnected_consumption"]
    assert rules_of("1000", account_status="disconnected") == []


def test_estimation():
    assert estimate_kwh(30, None, None, next_actual=(D("300"), 60)) == D("150.00")  # interpolation
    assert estimate_kwh(15, D("240"), None) == D("120.00")                             # seasonal history
    assert estimate_kwh(10, None, D("7.5")) == D("75.00")
    assert estimate_kwh(10, None, None) == D("0.00")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(
    st.integers(0, 999_999), st.integers(0, 999_999), st.one_of(st.none(), st.integers(0, 3000)),
    st.sampled_from(["active", "vacant", "disconnected"]), st.booleans(), st.integers(1, 62),
    st.sampled_from(["ami", "manual", "estimate"]), st.integers(0, 3)), min_size=1, max_size=30))
def test_polars_batch_agrees_with_the_reference(rows):
    cfg = config()
    frame = vee_frame(pl.DataFrame(
        [{"value": float(v), "previous": float(p), "expected": None if e is None else float(e), "status": s,
          "zero_explained": z, "days": d, "source": src, "estimates_before": n}
         for v, p, e, s, z, d, src, n in rows],
        schema={"value": pl.Float64, "previous": pl.Float64, "expected": pl.Float64, "status": pl.String,
                "zero_explained": pl.Boolean, "days": pl.Int64, "source": pl.String, "estimates_before": pl.Int64}), cfg)
    for (v, p, e, s, z, d, src, n), got in zip(rows, frame.iter_rows(named=True)):
        previous_at = AT - dt.timedelta(days=d)
        kwh, rolled, findings = check_read(D(v), AT, "total", src, ReadContext(
            now=NOW, previous_value=D(p), previous_at=previous_at, account_status=s,
            zero_explained="停电" if z else None, expected_kwh=None if e is None else D(e),
            consecutive_estimates=n), cfg)
        assert D(str(got["kwh"])) == kwh and got["rollover"] == rolled
        assert got["rule"] == (findings[0].rule if findings else None)
