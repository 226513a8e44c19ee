"""Pure rules, hand-computed."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcare.outages import rules
from gridcare.outages.rules import Interruption

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 6, 1, 0, 0, tzinfo=TZ)
LIMITS = {"planned": {"days": 7}, "temporary": {"hours": 24}, "fault": {"immediate": True}}


def m(minutes):
    return T0 + timedelta(minutes=minutes)


# ---------------------------------------------------------------- reliability
ITS = [
    Interruption("tq1", 30, m(100), m(160)),                 # 60 min, fault
    Interruption("tq2", 20, m(300), m(420), planned=True),   # 120 min, planned
    Interruption("tq1", 30, m(500), m(503)),                 # 3 min: momentary, not counted
    Interruption("tq1", 30, m(600), m(610)),                 # 10 min
    Interruption("tq3", 10, m(700), m(705)),                 # exactly 5 min: not sustained (> 5 required)
]


def test_reliability_hand_computed():
    r = rules.reliability(ITS, 100, T0, T0 + timedelta(days=1), cemi_n=1)
    # CI = 30 + 20 + 30 = 80; CM = 30·60 + 20·120 + 30·10 = 4500; T = 1440 min
    assert r["customer_interruptions"] == 80 and r["customer_minutes"] == 4500
    assert r["saifi"] == pytest.approx(0.8) and r["saidi"] == pytest.approx(45.0)
    assert r["caidi"] == pytest.approx(56.25)
    assert r["asai"] == pytest.approx(1 - 4500 / 144000)
    assert r["rs1"] == pytest.approx(0.96875)
    assert r["interruptions"] == 3
    assert r["cemi"] == pytest.approx(0.3) and r["customers_over_n"] == 30  # tq1 had 2 > 1


def test_reliability_excluding_planned_keeps_rs1_whole():
    r = rules.reliability(ITS, 100, T0, T0 + timedelta(days=1), exclude_planned=True, cemi_n=1)
    assert r["customer_interruptions"] == 60 and r["customer_minutes"] == 2100
    assert r["saifi"] == pytest.approx(0.6) and r["saidi"] == pytest.approx(21.0) and r["caidi"] == pytest.approx(35.0)
    assert r["asai"] == pytest.approx(1 - 2100 / 144000)
    assert r["rs1"] == pytest.approx(0.96875)


def test_reliability_clips_to_the_period_but_judges_duration_whole():
    its = [Interruption("a", 10, m(-30), m(30)),   # 60 min, 30 of them inside
           Interruption("b", 10, m(-10), m(2))]    # 12 min sustained, 2 inside
    r = rules.reliability(its, 50, T0, T0 + timedelta(hours=1))
    assert r["customer_minutes"] == 10 * 30 + 10 * 2 and r["customer_interruptions"] == 20


def test_reliability_without_interruptions_or_customers():
    r = rules.reliability([], 100, T0, T0 + timedelta(days=1))
    assert (r["saifi"], r["saidi"], r["caidi"], r["asai"], r["cemi"]) == (0, 0, 0, 1.0, 0)
    assert rules.reliability([], 0, T0, T0 + timedelta(days=1))["saifi"] == 0


@given(st.lists(st.tuples(st.integers(1, 50), st.integers(0, 2000), st.integers(0, 600), st.booleans()), max_size=20))
def test_reliability_invariants(rows):
    its = [Interruption(i % 5, n, m(s), m(s + d), p) for i, (n, s, d, p) in enumerate(rows)]
    r = rules.reliability(its, 500, T0, T0 + timedelta(days=1))
    assert 0 <= r["asai"] <= 1 and r["rs1"] <= r["asai"] + 1e-12
    if r["saifi"]:
        assert r["caidi"] == pytest.approx(r["saidi"] / r["saifi"], rel=1e-3)
    assert r["saidi"] <= 1440 * 500 / 500 * 20  # never more than the period times the events


# ---------------------------------------------------------------- notice timing
def test_planned_needs_seven_days():
    start = T0 + timedelta(days=10)
    assert not rules.check_notice("planned", start, start - timedelta(days=7), LIMITS, False).late  # exactly on time
    late = rules.check_notice("planned", start, start - timedelta(days=7) + timedelta(minutes=1), LIMITS, False)
    assert late.late and "7天" in late.message and late.deadline == start - timedelta(days=7)


def test_temporary_binds_only_with_critical_customers():
    start = T0 + timedelta(hours=10)
    assert rules.check_notice("temporary", start, T0, LIMITS, True).late
    free = rules.check_notice("temporary", start, T0, LIMITS, False)
    assert not free.late and not free.applies
    assert not rules.check_notice("temporary", T0 + timedelta(hours=25), T0, LIMITS, True).late


def test_fault_is_immediate_never_late():
    r = rules.check_notice("fault", T0 - timedelta(hours=3), T0, LIMITS, True)
    assert not r.late and r.deadline is None


def test_times():
    assert rules.check_times(T0, T0 - timedelta(minutes=1)) == {"end_at": "计划送电时间必须晚于停电开始时间"}
    assert rules.check_times(T0, T0) and not rules.check_times(T0, m(1))
    assert "restored_at" in rules.check_times(T0, None, m(-1))
    assert "start_at" in rules.check_times(None, None)


# ---------------------------------------------------------------- templates
def test_template_fields():
    assert rules.check_template("因{reason}，{start}至{end}停电") is None
    msg = rules.check_template("尊敬的{customer_name}：{start}停电")
    assert "{customer_name}" in msg and "未知字段" in msg
    assert "占位符" in rules.check_template("坏模板{")  or "占位符" in rules.check_template("坏模板{}")
    assert "格式" in rules.check_template("{start:%Y}")
    assert rules.render("{scope}停电", {"scope": "城关台区"}) == "城关台区停电"
    with pytest.raises(ValueError):
        rules.render("{nope}", {"scope": "x"})


# ---------------------------------------------------------------- frequent outages and grouping
def test_frequent_counts_sustained_in_window():
    ws, we = T0, T0 + timedelta(days=60)
    ev = [("A", m(10), m(20)), ("A", m(5000), m(5100)), ("A", m(9000), m(9010)),  # 3 sustained
          ("B", m(10), m(20)), ("B", m(100), m(104)), ("B", m(300), m(400)),       # one momentary
          ("C", m(10), m(20)), ("C", m(100), m(200)), ("C", we, we + timedelta(hours=1))]  # one outside
    assert rules.frequent(ev, ws, we, 3, 5) == {"A": 3}


def test_feeder_fault_grouping():
    at = m(100)
    calls = [(m(80), "t1"), (m(90), "t1"), (m(95), "t2")]
    assert rules.feeder_fault_suspected(calls, at, 30, 2, 3) == (True, 3, 2)
    assert rules.feeder_fault_suspected(calls[:2] + [(m(96), "t1")], at, 30, 2, 3)[0] is False   # one 台区
    assert rules.feeder_fault_suspected([(m(10), "t1"), (m(90), "t2"), (m(95), "t3")], at, 30, 2, 3)[0] is False
