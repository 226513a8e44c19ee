"""Pure rules of the reports: periods, percentiles, 台区 month sets, stage spans, terms."""
import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcare.analytics import rules
from gridcare.workorders.workflow import WORKFLOWS

TZ = rules.TZ
D = dt.date


@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=60),
       st.sampled_from([0.1, 0.5, 0.9, 0.99]))
def test_percentile_is_linear_interpolation_like_percentile_cont(values, q):
    assert rules.percentile(sorted(values), q) == pytest.approx(float(np.percentile(values, 100 * q)), rel=1e-9,
                                                                abs=1e-9)


def test_percentile_positions():
    assert rules.percentile_positions(4, 0.5) == (2, 3, 0.5)
    assert rules.percentile_positions(1, 0.9) == (1, 1, 0.0)
    assert rules.percentile([], 0.5) is None


def test_period_bounds_are_inclusive_local_days():
    p = rules.Period(D(2026, 3, 1), D(2026, 3, 31))
    assert p.days == 31
    assert p.start_at == dt.datetime(2026, 3, 1, tzinfo=TZ) and p.end_at == dt.datetime(2026, 4, 1, tzinfo=TZ)
    with pytest.raises(rules.PeriodError, match="早于开始日期"):
        rules.Period(D(2026, 3, 2), D(2026, 3, 1))


@pytest.mark.parametrize("period, previous, last_year", [
    ((D(2026, 3, 1), D(2026, 3, 31)), (D(2026, 2, 1), D(2026, 2, 28)), (D(2025, 3, 1), D(2025, 3, 31))),
    ((D(2026, 1, 1), D(2026, 3, 31)), (D(2025, 10, 1), D(2025, 12, 31)), (D(2025, 1, 1), D(2025, 3, 31))),
    ((D(2024, 2, 1), D(2024, 2, 29)), (D(2024, 1, 1), D(2024, 1, 31)), (D(2023, 2, 1), D(2023, 2, 28))),
    ((D(2026, 3, 10), D(2026, 3, 16)), (D(2026, 3, 3), D(2026, 3, 9)), (D(2025, 3, 10), D(2025, 3, 16))),
])
def test_comparison_periods(period, previous, last_year):
    p = rules.Period(*period)
    assert (p.previous().start, p.previous().end) == previous
    assert (p.last_year().start, p.last_year().end) == last_year


@pytest.mark.parametrize("preset, expected", [
    ("month", (D(2026, 2, 1), D(2026, 2, 28))), ("last_month", (D(2026, 1, 1), D(2026, 1, 31))),
    ("quarter", (D(2026, 1, 1), D(2026, 3, 31))), ("last_quarter", (D(2025, 10, 1), D(2025, 12, 31))),
    ("year", (D(2026, 1, 1), D(2026, 12, 31))), ("last_year", (D(2025, 1, 1), D(2025, 12, 31))),
])
def test_presets(preset, expected):
    p = rules.preset_period(preset, D(2026, 2, 14))
    assert (p.start, p.end) == expected
    with pytest.raises(rules.PeriodError, match="未知的时间段"):
        rules.preset_period("week", D(2026, 2, 14))


def test_interactive_limit_is_data():
    assert rules.check_interactive(rules.Period(D(2025, 1, 1), D(2025, 12, 31)))
    assert not rules.check_interactive(rules.Period(D(2024, 1, 1), D(2025, 12, 31)))
    assert rules.check_interactive(rules.Period(D(2024, 1, 1), D(2025, 12, 31)), max_days=800)


def test_consecutive_month_hits():
    pairs = [("A", 202602), ("A", 202603), ("B", 202503), ("B", 202603), ("C", 202601), ("C", 202603),
             ("D", 202512), ("D", 202601)]
    months = [202601, 202602, 202603]
    assert rules.consecutive_month_hits(pairs, months, 1) == {"A": [202603], "D": [202601]}
    assert rules.consecutive_month_hits(pairs, months, 12) == {"B": [202603]}
    assert rules.previous_month(202601) == 202512 and rules.previous_month(202603, 12) == 202503


def test_stage_spans_first_pass_and_shared_limit():
    at = lambda h: dt.datetime(2026, 3, 2, h, tzinfo=TZ)  # noqa: E731
    events = [("create", "accepted", at(8), 1), ("advance", "dispatched", at(9), 2),
              ("advance", "received", at(10), 3), ("advance", "contacted", at(11), 3),
              ("advance", "handled", at(12), 3), ("advance", "replied", at(13), 3),
              ("reject", "contacted", at(14), 4), ("advance", "handled", at(15), 3)]
    spans = {s.limit_key: s for s in rules.stage_spans(WORKFLOWS["complaint"].clocks, at(8), events)}
    assert (spans["dispatch"].start, spans["dispatch"].end, spans["dispatch"].actor_id) == (at(8), at(9), 2)
    # 处理 runs from acceptance to leaving 处理 (回单 at 13:00); the rejection ends the first pass
    assert (spans["handle"].start, spans["handle"].end) == (at(8), at(13))
    assert (spans["audit"].start, spans["audit"].end) == (at(13), at(14))
    assert "visit" not in spans
    open_spans = rules.stage_spans(WORKFLOWS["complaint"].clocks, at(8), events[:3])
    assert [(s.limit_key, s.end) for s in open_spans] == [("dispatch", at(9)), ("receive", at(10)), ("contact", None)]


def test_segment_and_top_terms():
    words = rules.segment("塘村新华路小区频繁停电，客户要求给予答复，三个人员安排上门")
    assert "频繁" in words and "停电" in words
    assert not {"塘村", "新华路", "客户", "三个", "答复", "人员"} & set(words)   # places, stop words, numerals
    top = rules.top_terms([["频繁", "停电"], ["频繁", "停电", "电压"], ["电压"]], n=3)
    assert top == [("停电", 2), ("电压", 2), ("频繁", 2)]
    assert ("频繁停电", 2) in rules.top_terms([["频繁", "停电"], ["频繁", "停电", "电压"], ["电压"]], n=10)
    assert ("停电电压", 1) not in rules.top_terms([["频繁", "停电", "电压"]], n=10)  # a phrase needs 2 texts


def test_id_gaps_and_without_ids():
    from gridcare.analytics.rules import id_gaps, without_ids

    assert id_gaps(10, [11, 12, 15, 16, 20]) == [(13, 14), (17, 19)]
    assert id_gaps(10, [13]) == [(11, 12)] and id_gaps(10, [11, 12]) == [] and id_gaps(10, []) == []
    assert without_ids([(13, 14), (17, 19)], [13, 18]) == [(14, 14), (17, 17), (19, 19)]
    assert without_ids([(1, 5)], [1, 2, 3, 4, 5]) == [] and without_ids([(1, 5)], [9]) == [(1, 5)]
