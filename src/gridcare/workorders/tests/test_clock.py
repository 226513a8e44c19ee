"""Stage clocks: the limits table from time-limits.yaml, deadlines in natural time and working days,
pauses and warnings. Pure: the calendar is built from the chinese-calendar package, no database."""
import datetime as dt

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcare.core.api_support import DomainError
from gridcare.core.taxonomy import taxonomy
from gridcare.core.workcalendar import TZ, CalendarNotCovered, WorkCalendar
from gridcare.workorders.clock import (
    LIMITS_FILE,
    LimitNotFound,
    LimitTable,
    TimeLimit,
    default_table,
    due_at,
    due_with_pauses,
    limit_for,
    load_limits,
    merge_spans,
    parse_limits,
    warn_at,
)

CAL = WorkCalendar.from_package()
H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


# --- the table -------------------------------------------------------------------------------------------

def test_every_order_type_of_the_taxonomy_has_limits():
    table = default_table()
    assert set(table.order_types()) == set(taxonomy()["order_types"])


def test_table_mirrors_the_yaml():
    data = yaml.safe_load(LIMITS_FILE.read_text("utf-8"))
    table = load_limits()
    for order_type, stages in data["stage_limits"].items():
        for stage, spec in stages.items():
            (unit, amount), = spec.items()
            limit = table.get(order_type, stage)
            assert (limit.unit, limit.amount, limit.area_kind) == (unit, amount, None)
    assert set(table.stages("fault_repair")) == {"dispatch", "arrival", "restoration_after_arrival",
                                                 "reply_after_restoration"}
    for stage in ("arrival", "restoration_after_arrival"):
        assert set(table.area_kinds("fault_repair", stage)) == set(taxonomy()["area_kinds"])
    assert len(table) == sum(len(s) for s in data["stage_limits"].values()) + 2 + 3 + 3


@pytest.mark.parametrize("order_type, stage, area, unit, amount, label", [
    ("complaint", "dispatch", None, "minutes", 20, "20分钟"),
    ("complaint", "receive", None, "hours", 2, "2小时"),
    ("complaint", "contact", None, "working_days", 1, "1个工作日"),
    ("complaint", "handle", None, "working_days", 5, "5个工作日"),
    ("report", "handle", None, "working_days", 9, "9个工作日"),
    ("inquiry", "handle", None, "working_days", 1, "1个工作日"),
    ("fault_repair", "dispatch", None, "minutes", 3, "3分钟"),
    ("fault_repair", "arrival", "urban", "minutes", 45, "45分钟"),
    ("fault_repair", "arrival", "rural", "minutes", 90, "90分钟"),
    ("fault_repair", "arrival", "remote", "hours", 2, "2小时"),
    ("fault_repair", "restoration_after_arrival", "urban", "hours", 3, "3小时"),
    ("fault_repair", "restoration_after_arrival", "rural", "hours", 4, "4小时"),
    ("fault_repair", "restoration_after_arrival", "remote", "hours", 4, "4小时"),
    ("fault_repair", "reply_after_restoration", None, "minutes", 30, "30分钟"),
    ("fault_repair", "dispatch", "rural", "minutes", 3, "3分钟"),   # area ignored where it does not matter
    ("complaint", "contact", "remote", "working_days", 1, "1个工作日"),
])
def test_limit_for(order_type, stage, area, unit, amount, label):
    limit = limit_for(order_type, stage, area)
    assert (limit.unit, limit.amount, limit.label) == (unit, amount, label)
    assert limit.natural is (unit != "working_days")


@pytest.mark.parametrize("args, field, words", [
    (("fault", "arrival", "urban"), "order_type", ["未知的工单类型“fault”", "fault_repair 故障报修"]),
    (("complaint", "arrival"), "stage", ["投诉（complaint）没有“arrival”环节的时限", "contact（联系客户）"]),
    (("fault_repair", "arrival"), "area_kind", ["到达现场", "请指定地区类型", "rural 农村"]),
    (("fault_repair", "restoration_after_arrival", None), "area_kind", ["请指定地区类型"]),
    (("fault_repair", "arrival", "suburb"), "area_kind", ["未知的地区类型“suburb”", "remote 特殊边远地区"]),
    (("complaint", "contact", "suburb"), "area_kind", ["未知的地区类型"]),
])
def test_limit_for_errors_in_chinese(args, field, words):
    with pytest.raises(LimitNotFound) as exc:
        limit_for(*args)
    assert isinstance(exc.value, DomainError) and exc.value.status == 400
    assert list(exc.value.errors) == [field]
    for word in words:
        assert word in exc.value.errors[field]


def test_overrides_are_data():
    table = default_table().with_overrides([
        TimeLimit("complaint", "contact", None, "hours", 12, source="db"),
        TimeLimit("fault_repair", "arrival", "urban", "minutes", 30, source="db"),
    ])
    assert limit_for("complaint", "contact", table=table).label == "12小时"
    assert limit_for("fault_repair", "arrival", "urban", table=table).amount == 30
    assert limit_for("fault_repair", "arrival", "rural", table=table).amount == 90
    assert limit_for("complaint", "contact").unit == "working_days"  # the default table is untouched


def test_parse_rejects_bad_data():
    with pytest.raises(ValueError, match="单位"):
        parse_limits({"stage_limits": {"complaint": {"contact": {"weeks": 1}}}})
    with pytest.raises(ValueError):
        parse_limits({"stage_limits": {"complaint": {"contact": {"hours": -1}}}})
    with pytest.raises(ValueError, match="时区"):
        parse_limits({"calendar": {"timezone": "UTC"}, "stage_limits": {}})
    assert len(parse_limits({"stage_limits": {"complaint": {"contact": {"hours": 1}}}})) == 1
    with pytest.raises(ValueError):
        TimeLimit("complaint", "contact", None, "working_days", 1).delta
    assert LimitTable([]).order_types() == []


# --- deadlines -----------------------------------------------------------------------------------------

def test_complaint_contact_over_national_day_and_spring_festival():
    contact = limit_for("complaint", "contact")
    assert due_at(at("2025-09-30 17:00"), contact, CAL) == at("2025-10-09 17:00")
    assert due_at(at("2025-10-10 17:00"), contact, CAL) == at("2025-10-11 17:00")  # swapped Saturday
    assert due_at(at("2026-09-30 17:00"), contact, CAL) == at("2026-10-08 17:00")
    assert due_at(at("2026-10-09 17:00"), contact, CAL) == at("2026-10-10 17:00")  # swapped Saturday
    assert due_at(at("2026-10-03 09:00"), contact, CAL) == at("2026-10-09 00:00")  # holiday: 24:00 Oct 8
    assert due_at(at("2026-02-13 17:00"), contact, CAL) == at("2026-02-14 17:00")  # swapped Saturday
    assert due_at(at("2026-02-14 17:00"), contact, CAL) == at("2026-02-24 17:00")
    assert due_at(at("2026-02-18 17:00"), contact, CAL) == at("2026-02-25 00:00")  # holiday: 24:00 Feb 24
    handle = limit_for("complaint", "handle")
    assert due_at(at("2026-02-13 17:00"), handle, CAL) == at("2026-02-27 17:00")
    assert due_at(at("2026-03-13 17:00"), contact, CAL) == at("2026-03-16 17:00")  # Friday → Monday


def test_natural_minutes_run_through_holidays_and_uncovered_years():
    arrival = limit_for("fault_repair", "arrival", "rural")
    assert due_at(at("2026-10-01 23:30"), arrival) == at("2026-10-02 01:00")
    assert due_at(at("2026-02-16 12:00"), limit_for("fault_repair", "arrival", "urban")) == at("2026-02-16 12:45")
    assert due_at(at("2026-02-16 23:00"), limit_for("fault_repair", "arrival", "remote")) == at("2026-02-17 01:00")
    restore = limit_for("fault_repair", "restoration_after_arrival", "rural")
    assert due_at(at("2025-10-04 22:00"), restore, CAL) == at("2025-10-05 02:00")
    # no schedule needed for a natural clock, so a year without one is fine
    assert due_at(at("2027-01-01 10:00"), arrival) == at("2027-01-01 11:30")
    week = TimeLimit("outage", "notice", None, "days", 7)
    assert due_at(at("2026-09-28 08:00"), week) == at("2026-10-05 08:00")


def test_rural_urban_remote_arrival_limits_differ():
    start = at("2026-05-01 20:00")
    dues = {area: due_at(start, limit_for("fault_repair", "arrival", area)) for area in ("urban", "rural", "remote")}
    assert dues == {"urban": at("2026-05-01 20:45"), "rural": at("2026-05-01 21:30"), "remote": at("2026-05-01 22:00")}


def test_working_days_need_a_calendar_and_a_covered_year():
    contact = limit_for("complaint", "contact")
    with pytest.raises(TypeError):
        due_at(at("2026-03-13 17:00"), contact)
    with pytest.raises(CalendarNotCovered, match="2027年的节假日安排尚未录入"):
        due_at(at("2027-01-04 09:00"), contact, CAL)
    with pytest.raises(CalendarNotCovered):
        due_at(at("2026-12-31 09:00"), contact, CAL)
    with pytest.raises(ValueError, match="时区"):
        due_at(dt.datetime(2026, 3, 13, 17), contact, CAL)


def test_results_are_in_shanghai():
    due = due_at(dt.datetime(2026, 3, 13, 9, tzinfo=dt.UTC), limit_for("complaint", "contact"), CAL)
    assert due.isoformat() == "2026-03-16T17:00:00+08:00"
    due = due_at(dt.datetime(2026, 3, 13, 9, tzinfo=dt.UTC), limit_for("complaint", "dispatch"))
    assert due.isoformat() == "2026-03-13T17:20:00+08:00"


# --- pauses --------------------------------------------------------------------------------------------

def test_merge_spans():
    spans = [(at("2026-03-13 12:00"), at("2026-03-13 13:00")), (at("2026-03-13 09:00"), at("2026-03-13 10:00")),
             (at("2026-03-13 09:30"), at("2026-03-13 11:00")), (at("2026-03-13 08:00"), at("2026-03-13 08:30")),
             (at("2026-03-13 13:00"), None)]
    assert merge_spans(spans, not_before=at("2026-03-13 08:15")) == [
        (at("2026-03-13 08:15"), at("2026-03-13 08:30")),
        (at("2026-03-13 09:00"), at("2026-03-13 11:00")),
        (at("2026-03-13 12:00"), None),
    ]
    with pytest.raises(ValueError, match="早于"):
        merge_spans([(at("2026-03-13 12:00"), at("2026-03-13 11:00"))])


def test_natural_clock_extends_by_the_paused_duration():
    arrival = limit_for("fault_repair", "arrival", "urban")  # 45 minutes
    start = at("2026-10-01 10:00")
    assert due_with_pauses(start, arrival, []) == at("2026-10-01 10:45")
    assert due_with_pauses(start, arrival, [(at("2026-10-01 10:10"), at("2026-10-01 10:30"))]) == at("2026-10-01 11:05")
    # a pause beginning before the start counts only from the start
    assert due_with_pauses(start, arrival, [(at("2026-10-01 09:00"), at("2026-10-01 10:20"))]) == at("2026-10-01 11:05")
    # a second pause that begins after 10:45 matters only because the first pushed the deadline past it
    spans = [(at("2026-10-01 10:10"), at("2026-10-01 10:30")), (at("2026-10-01 10:50"), at("2026-10-01 11:00"))]
    assert due_with_pauses(start, arrival, spans) == at("2026-10-01 11:15")
    # a pause that begins once the stage is overdue changes nothing
    assert due_with_pauses(start, arrival, [(at("2026-10-01 11:00"), at("2026-10-01 12:00"))]) == at("2026-10-01 10:45")
    # still paused: no deadline until the clock resumes
    assert due_with_pauses(start, arrival, [(at("2026-10-01 10:10"), None)]) is None
    assert due_with_pauses(start, arrival, [(at("2026-10-01 11:10"), None)]) == at("2026-10-01 10:45")


def test_working_day_clock_extends_by_the_working_time_lost():
    contact = limit_for("complaint", "contact")  # 1 working day
    start = at("2026-03-12 17:00")                # Thursday → due Friday 17:00
    assert due_with_pauses(start, contact, [], CAL) == at("2026-03-13 17:00")
    # paused Friday 15:00 → Monday 09:00: 9 h of Friday and 9 h of Monday are lost; 2 h were left at 15:00
    assert due_with_pauses(start, contact, [(at("2026-03-13 15:00"), at("2026-03-16 09:00"))], CAL) == \
        at("2026-03-16 11:00")
    # a pause over the weekend costs nothing: the clock was not running
    weekend = [(at("2026-03-14 08:00"), at("2026-03-15 20:00"))]
    assert due_with_pauses(at("2026-03-13 17:00"), contact, weekend, CAL) == at("2026-03-16 17:00")
    # National Day: a pause inside the holiday costs nothing, one spanning its last working hours does
    start = at("2025-09-30 17:00")
    assert due_with_pauses(start, contact, [(at("2025-10-02 09:00"), at("2025-10-05 09:00"))], CAL) == \
        at("2025-10-09 17:00")
    assert due_with_pauses(start, contact, [(at("2025-09-30 21:00"), at("2025-10-09 03:00"))], CAL) == \
        at("2025-10-09 23:00")  # 3 h of Sep 30 + 3 h of Oct 9 lost: 17:00 + 6 h
    # Spring Festival 2026, start on the swapped Saturday Feb 14 (due Feb 24 09:00); paused from 18:00 that
    # day to Feb 24 10:00: 9 h had run, 15 h are left from 10:00
    assert due_with_pauses(at("2026-02-14 09:00"), contact,
                           [(at("2026-02-14 18:00"), at("2026-02-24 10:00"))], CAL) == at("2026-02-25 01:00")
    # the lost time may run into an uncovered year: refused, not guessed
    with pytest.raises(CalendarNotCovered):
        due_with_pauses(at("2026-12-30 10:00"), contact, [(at("2026-12-30 12:00"), at("2026-12-31 08:00"))], CAL)


spans_strategy = st.lists(
    st.tuples(st.integers(min_value=-2 * 24 * 60, max_value=40 * 24 * 60), st.integers(min_value=0, max_value=4 * 24 * 60)),
    max_size=6)
starts = st.datetimes(min_value=dt.datetime(2005, 1, 1), max_value=dt.datetime(2026, 6, 30), timezones=st.just(TZ))
limits = st.sampled_from(list(default_table()))


def _spans(start, raw):
    return [(start + b * M, start + (b + length) * M) for b, length in raw]


def _paused_within(spans, start, end, measure):
    return sum((measure(max(a, start), min(b, end)) for a, b in merge_spans(spans) if min(b, end) > max(a, start)),
               dt.timedelta(0))


@settings(max_examples=300, deadline=None)
@given(start=starts, limit=limits, raw=spans_strategy)
def test_property_running_time_equals_the_limit(start, limit, raw):
    """Between the start and the deadline the clock runs (outside the pauses) for exactly the limit."""
    spans = _spans(start, raw)
    due = due_with_pauses(start, limit, spans, CAL)
    plain = due_at(start, limit, CAL)
    assert due >= plain
    assert due_with_pauses(start, limit, [], CAL) == plain
    if limit.natural:
        assert (due - start) - _paused_within(spans, start, due, lambda a, b: b - a) == limit.delta
    else:
        ran = CAL.working_time_between(start, due) - _paused_within(spans, start, due, CAL.working_time_between)
        assert ran == limit.working_time


@settings(max_examples=200, deadline=None)
@given(start=starts, limit=limits, raw=spans_strategy, extra=st.integers(min_value=1, max_value=600))
def test_property_longer_pauses_never_bring_the_deadline_forward(start, limit, raw, extra):
    spans = _spans(start, raw)
    longer = [(a, b + extra * M) for a, b in spans]
    assert due_with_pauses(start, limit, longer, CAL) >= due_with_pauses(start, limit, spans, CAL)


# --- warnings ------------------------------------------------------------------------------------------

def test_warn_at():
    arrival = limit_for("fault_repair", "arrival", "urban")
    start = at("2026-10-01 10:00")
    assert warn_at(start, at("2026-10-01 10:45")) == at("2026-10-01 10:33:45")
    assert warn_at(start, at("2026-10-01 10:45"), limit=arrival) == at("2026-10-01 10:33:45")
    # with a 20-minute pause the deadline is 11:05 and the warning 11:05 − 25 % of 45 minutes
    assert warn_at(start, at("2026-10-01 11:05"), limit=arrival) == at("2026-10-01 10:53:45")
    assert warn_at(start, at("2026-10-01 10:45"), 0) == at("2026-10-01 10:45")
    assert warn_at(start, at("2026-10-01 10:45"), 1) == start
    contact = limit_for("complaint", "contact")
    # Friday 17:00 + 1 working day = Monday 17:00: 6 working hours left at Monday 11:00, not on Sunday night
    assert warn_at(at("2026-03-13 17:00"), at("2026-03-16 17:00"), limit=contact, calendar=CAL) == at("2026-03-16 11:00")
    assert warn_at(at("2026-03-13 17:00"), at("2026-03-16 17:00")) == at("2026-03-15 23:00")
    # start in the National Day holiday: due 24:00 Oct 9, warned at 18:00 Oct 9
    assert warn_at(at("2025-10-03 10:00"), at("2025-10-10 00:00"), limit=contact, calendar=CAL) == at("2025-10-09 18:00")
    handle = limit_for("complaint", "handle")  # 5 working days: warned when 30 working hours are left
    assert warn_at(at("2026-02-13 17:00"), at("2026-02-27 17:00"), limit=handle, calendar=CAL) == \
        at("2026-02-26 11:00")
    with pytest.raises(ValueError):
        warn_at(start, at("2026-10-01 10:45"), 1.5)
    with pytest.raises(TypeError):
        warn_at(start, at("2026-10-01 10:45"), limit=contact)


@settings(max_examples=200, deadline=None)
@given(start=starts, limit=limits, fraction=st.floats(min_value=0, max_value=1))
def test_property_warning_between_start_and_due(start, limit, fraction):
    due = due_at(start, limit, CAL)
    moment = warn_at(start, due, fraction, limit=limit, calendar=CAL)
    assert start <= moment <= due
