"""The working-day calendar: the convention of time-limits.yaml, China's holidays and swapped working
days (National Day and Spring Festival), uncovered years, and the stored, cached, extensible data."""
import datetime as dt
import io

import chinese_calendar
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcare.core.api_support import DomainError
from gridcare.core.workcalendar import (
    TZ,
    CalendarNotCovered,
    ScheduleDay,
    WorkCalendar,
    package_schedule,
    package_source,
    start_of_day,
)

CAL = WorkCalendar.from_package()
H = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def at(text: str) -> dt.datetime:
    """'2025-09-30 17:00' in Asia/Shanghai."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


def add(start: str, n: int, cal=CAL) -> str:
    return cal.add_working_days(at(start), n).strftime("%Y-%m-%d %H:%M")


# An independent reading of the package's own tables, used as the oracle below.
def oracle_is_workday(day: dt.date) -> bool:
    return day in chinese_calendar.workdays or (day.weekday() < 5 and day not in chinese_calendar.holidays)


def oracle_nth_workday_after(day: dt.date, n: int) -> dt.date:
    while n:
        day += DAY
        n -= oracle_is_workday(day)
    return day


# --- the data the package gives ----------------------------------------------------------------------

def test_package_covers_2004_to_2026_and_agrees_with_it_on_every_day():
    schedule = package_schedule()
    assert min(schedule) == 2004 and max(schedule) == max(d.year for d in chinese_calendar.holidays)
    assert set(schedule) == set(range(2004, max(schedule) + 1))
    assert CAL.years == frozenset(schedule)
    day = dt.date(2004, 1, 1)
    while day.year in schedule:
        assert CAL.is_workday(day) == chinese_calendar.is_workday(day), day
        day += DAY


def test_package_names_in_chinese():
    assert CAL.day_name(dt.date(2025, 10, 1)) == "国庆节"
    assert CAL.day_name(dt.date(2025, 10, 6)) == "中秋节"
    assert CAL.day_name(dt.date(2025, 9, 28)) == "调休上班（国庆节）"
    assert CAL.day_name(dt.date(2026, 2, 17)) == "春节"
    assert CAL.day_name(dt.date(2026, 4, 5)) == "清明节"
    assert CAL.day_name(dt.date(2026, 3, 10)) == ""
    assert package_source() == f"chinese-calendar {chinese_calendar.__version__}"


# --- National Day and Spring Festival, with their swapped working days --------------------------------

@pytest.mark.parametrize("day, is_workday", [
    # National Day 2025: Oct 1–8 off (Mid-autumn on the 6th), Sunday Sep 28 and Saturday Oct 11 worked
    ("2025-09-27", False), ("2025-09-28", True), ("2025-09-30", True), ("2025-10-01", False),
    ("2025-10-06", False), ("2025-10-08", False), ("2025-10-09", True), ("2025-10-11", True),
    ("2025-10-12", False),
    # National Day 2026: Oct 1–7 off, Sunday Sep 20 and Saturday Oct 10 worked; Mid-autumn Sep 25–27 off
    ("2026-09-20", True), ("2026-09-25", False), ("2026-09-30", True), ("2026-10-01", False),
    ("2026-10-07", False), ("2026-10-08", True), ("2026-10-10", True), ("2026-10-11", False),
    # Spring Festival 2026: Feb 15–23 off, Saturdays Feb 14 and Feb 28 worked
    ("2026-02-13", True), ("2026-02-14", True), ("2026-02-15", False), ("2026-02-23", False),
    ("2026-02-24", True), ("2026-02-28", True), ("2026-03-01", False),
    # Spring Festival 2025: Jan 28–Feb 4 off, Sunday Jan 26 and Saturday Feb 8 worked
    ("2025-01-26", True), ("2025-01-28", False), ("2025-02-04", False), ("2025-02-05", True),
    ("2025-02-08", True),
])
def test_holidays_and_swapped_working_days(day, is_workday):
    assert CAL.is_workday(dt.date.fromisoformat(day)) is is_workday


@pytest.mark.parametrize("start, n, due", [
    # an ordinary week: Friday 17:00 + 1 working day = Monday 17:00
    ("2026-03-13 17:00", 1, "2026-03-16 17:00"),
    ("2026-03-16 09:30", 1, "2026-03-17 09:30"),
    ("2026-03-13 17:00", 5, "2026-03-20 17:00"),
    # National Day 2025
    ("2025-09-30 17:00", 1, "2025-10-09 17:00"),   # last day before the holiday → first day after
    ("2025-09-30 17:00", 5, "2025-10-14 17:00"),   # Oct 9, 10, 11 (Sat, worked), 13, 14
    ("2025-09-26 17:00", 1, "2025-09-28 17:00"),   # Friday → the swapped Sunday counts
    ("2025-10-10 17:00", 1, "2025-10-11 17:00"),   # Friday → the swapped Saturday counts
    ("2025-09-28 10:00", 1, "2025-09-29 10:00"),   # start on the swapped Sunday: it is a working day
    ("2025-10-03 10:00", 1, "2025-10-10 00:00"),   # start on a holiday: 24:00 of Oct 9
    ("2025-10-03 10:00", 5, "2025-10-15 00:00"),   # 24:00 of Oct 14
    ("2025-09-27 10:00", 1, "2025-09-29 00:00"),   # start on Saturday: 24:00 of the swapped Sunday
    ("2025-10-11 18:00", 1, "2025-10-13 18:00"),   # swapped Saturday → Monday
    ("2025-10-12 18:00", 1, "2025-10-14 00:00"),   # ordinary Sunday → 24:00 Monday
    # National Day 2026 (and Mid-autumn Sep 25–27)
    ("2026-09-30 17:00", 1, "2026-10-08 17:00"),
    ("2026-10-08 17:00", 1, "2026-10-09 17:00"),
    ("2026-10-09 17:00", 1, "2026-10-10 17:00"),   # Friday → the swapped Saturday
    ("2026-09-24 17:00", 1, "2026-09-28 17:00"),   # Thursday → Monday (Fri–Sun is Mid-autumn)
    ("2026-09-19 09:00", 1, "2026-09-21 00:00"),   # Saturday → 24:00 of the swapped Sunday Sep 20
    ("2026-10-01 00:00", 1, "2026-10-09 00:00"),   # holiday at 00:00 → 24:00 of Oct 8
    # Spring Festival 2026
    ("2026-02-13 17:00", 1, "2026-02-14 17:00"),   # Friday → the swapped Saturday Feb 14
    ("2026-02-14 17:00", 1, "2026-02-24 17:00"),   # over the nine-day holiday
    ("2026-02-16 11:00", 1, "2026-02-25 00:00"),   # start in the holiday: 24:00 of Feb 24
    ("2026-02-27 17:00", 1, "2026-02-28 17:00"),   # Friday → the swapped Saturday Feb 28
    ("2026-02-13 17:00", 5, "2026-02-27 17:00"),   # 14, 24, 25, 26, 27
    ("2026-02-13 17:00", 6, "2026-02-28 17:00"),
    # Spring Festival 2025
    ("2025-01-24 17:00", 1, "2025-01-26 17:00"),   # Friday → the swapped Sunday Jan 26
    ("2025-01-27 17:00", 1, "2025-02-05 17:00"),
    ("2025-02-07 17:00", 1, "2025-02-08 17:00"),
    # the clock time is kept, to the second
    ("2026-03-13 23:59:59", 1, "2026-03-16 23:59"),
    # a working day begins at 00:00: Friday 00:00 + 1 → Monday 00:00
    ("2026-03-13 00:00", 1, "2026-03-16 00:00"),
    ("2026-03-14 00:00", 1, "2026-03-17 00:00"),   # Saturday 00:00 → 24:00 Monday
    # zero working days: due at once
    ("2025-10-03 10:00", 0, "2025-10-03 10:00"),
])
def test_add_working_days_follows_the_convention(start, n, due):
    assert add(start, n) == due


def test_2026_09_29_plus_9_counted_by_hand():
    worked = [d for d in (dt.date(2026, 9, 29) + i * DAY for i in range(1, 20)) if CAL.is_workday(d)]
    assert worked[:9] == [dt.date(2026, 9, 30), dt.date(2026, 10, 8), dt.date(2026, 10, 9), dt.date(2026, 10, 10),
                          dt.date(2026, 10, 12), dt.date(2026, 10, 13), dt.date(2026, 10, 14),
                          dt.date(2026, 10, 15), dt.date(2026, 10, 16)]
    assert add("2026-09-29 08:00", 9) == "2026-10-16 08:00"


def test_results_are_aware_and_in_shanghai_whatever_the_input_zone():
    start = dt.datetime(2026, 3, 13, 9, 0, tzinfo=dt.UTC)  # 17:00 in Shanghai, a Friday
    due = CAL.add_working_days(start, 1)
    assert due.utcoffset() == 8 * H and due.isoformat() == "2026-03-16T17:00:00+08:00"
    # 2026-02-13 20:00 UTC is Saturday Feb 14 04:00 in Shanghai: a swapped working day
    assert CAL.add_working_days(dt.datetime(2026, 2, 13, 20, tzinfo=dt.UTC), 1).isoformat() == \
        "2026-02-24T04:00:00+08:00"


def test_bad_arguments():
    with pytest.raises(ValueError, match="时区"):
        CAL.add_working_days(dt.datetime(2026, 3, 13, 17), 1)
    with pytest.raises(ValueError):
        CAL.add_working_days(at("2026-03-13 17:00"), -1)
    with pytest.raises(TypeError):
        CAL.add_working_days(at("2026-03-13 17:00"), 1.5)
    with pytest.raises(TypeError):
        CAL.add_working_days(dt.date(2026, 3, 13), 1)


# --- years without a schedule are refused, never guessed ------------------------------------------------

def test_uncovered_year_is_an_explicit_error_in_chinese():
    with pytest.raises(CalendarNotCovered) as exc:
        CAL.add_working_days(at("2027-01-04 09:00"), 1)
    assert exc.value.year == 2027
    assert "2027年的节假日安排尚未录入，无法计算工作日时限" in str(exc.value)
    assert isinstance(exc.value, DomainError) and exc.value.status == 400
    with pytest.raises(CalendarNotCovered):
        CAL.is_workday(dt.date(2027, 3, 1))  # an ordinary Monday, still not guessed
    with pytest.raises(CalendarNotCovered, match="2003年"):
        CAL.is_workday(dt.date(2003, 12, 31))


def test_count_running_into_an_uncovered_year_is_refused():
    assert add("2026-12-30 10:00", 1) == "2026-12-31 10:00"
    with pytest.raises(CalendarNotCovered) as exc:
        CAL.add_working_days(at("2026-12-31 10:00"), 1)
    assert exc.value.year == 2027
    with pytest.raises(CalendarNotCovered):
        CAL.working_time_between(at("2026-12-31 10:00"), at("2027-01-02 10:00"))


def test_exceptions_outside_the_covered_years_are_refused():
    with pytest.raises(ValueError):
        WorkCalendar([2026], [(dt.date(2027, 1, 1), False, "元旦")])


def test_a_calendar_built_from_plain_data():
    cal = WorkCalendar([2027], {dt.date(2027, 1, 1): False, dt.date(2027, 2, 20): True})
    assert cal.covers(2027) and not cal.covers(2026) and cal.covers(dt.date(2027, 5, 5))
    assert not cal.is_workday(dt.date(2027, 1, 1))      # Friday, a holiday
    assert cal.is_workday(dt.date(2027, 2, 20))         # Saturday, swapped
    assert cal.is_workday(dt.date(2027, 3, 1))          # ordinary Monday
    assert add("2027-02-19 17:00", 1, cal) == "2027-02-20 17:00"
    assert cal.exceptions() == [ScheduleDay(dt.date(2027, 1, 1), False, ""), ScheduleDay(dt.date(2027, 2, 20), True, "")]


# --- working time, the measure behind pauses ----------------------------------------------------------

def test_working_time_between():
    wt = CAL.working_time_between
    assert wt(at("2026-03-13 17:00"), at("2026-03-16 17:00")) == 24 * H        # Fri → Mon
    assert wt(at("2026-03-14 10:00"), at("2026-03-15 22:00")) == dt.timedelta(0)  # a weekend
    assert wt(at("2025-09-30 17:00"), at("2025-10-09 17:00")) == 24 * H        # over National Day
    assert wt(at("2026-02-13 00:00"), at("2026-03-02 00:00")) == 7 * 24 * H    # 13, 14, 24–28
    assert wt(at("2026-03-16 17:00"), at("2026-03-13 17:00")) == dt.timedelta(0)  # reversed: zero


def test_add_and_subtract_working_time():
    assert CAL.add_working_time(at("2026-03-13 20:00"), 6 * H) == at("2026-03-16 02:00")
    assert CAL.add_working_time(at("2026-03-13 20:00"), 4 * H) == at("2026-03-14 00:00")  # 24:00 Friday
    assert CAL.add_working_time(at("2026-03-14 10:00"), dt.timedelta(0)) == at("2026-03-14 10:00")
    assert CAL.subtract_working_time(at("2026-03-16 17:00"), 6 * H) == at("2026-03-16 11:00")
    assert CAL.subtract_working_time(at("2026-03-16 02:00"), 6 * H) == at("2026-03-13 20:00")
    assert CAL.subtract_working_time(at("2026-02-24 03:00"), 10 * H) == at("2026-02-14 17:00")
    with pytest.raises(ValueError):
        CAL.add_working_time(at("2026-03-13 20:00"), -H)


# --- properties over every covered year -----------------------------------------------------------------

starts = st.datetimes(min_value=dt.datetime(2004, 1, 1), max_value=dt.datetime(2026, 10, 31),
                      timezones=st.just(TZ))


@settings(max_examples=400, deadline=None)
@given(start=starts, n=st.integers(min_value=0, max_value=32))
def test_property_convention_matches_an_independent_oracle(start, n):
    due = CAL.add_working_days(start, n)
    day = start.date()
    assert due.tzinfo is not None and due.utcoffset() == 8 * H
    if n == 0:
        assert due == start
    elif oracle_is_workday(day):
        assert due.date() == oracle_nth_workday_after(day, n)
        assert due.timetz() == start.timetz()
        assert CAL.working_days_after(day, due.date()) == n
    else:
        assert due.time() == dt.time(0) and due.date() - DAY == oracle_nth_workday_after(day, n)
        assert CAL.working_days_after(day, due.date() - DAY) == n


@settings(max_examples=300, deadline=None)
@given(start=starts, n=st.integers(min_value=0, max_value=32))
def test_property_n_working_days_are_n_times_24_hours_of_working_time(start, n):
    due = CAL.add_working_days(start, n)
    assert CAL.working_time_between(start, due) == n * 24 * H
    # and the earliest instant with that much working time is never later than the convention's end
    assert CAL.add_working_time(start, n * 24 * H) <= due


@settings(max_examples=300, deadline=None)
@given(a=starts, b=starts, n=st.integers(min_value=0, max_value=20))
def test_property_monotonic(a, b, n):
    a, b = min(a, b), max(a, b)
    assert CAL.add_working_days(a, n) <= CAL.add_working_days(b, n)
    assert CAL.add_working_days(a, n) <= CAL.add_working_days(a, n + 1)
    if n:
        assert CAL.add_working_days(a, n) > a


@settings(max_examples=300, deadline=None)
@given(start=starts, minutes=st.integers(min_value=0, max_value=30 * 24 * 60))
def test_property_working_time_round_trips(start, minutes):
    amount = dt.timedelta(minutes=minutes)
    end = CAL.add_working_time(start, amount)
    assert CAL.working_time_between(start, end) == amount
    back = CAL.subtract_working_time(end, amount)
    assert start <= back <= end and CAL.working_time_between(back, end) == amount


def test_exhaustive_every_day_of_2025_and_2026():
    for offset in range(365 + 300):
        day = dt.date(2025, 1, 1) + offset * DAY
        for clock in (dt.time(0, 0), dt.time(17, 0)):
            start = dt.datetime.combine(day, clock, tzinfo=TZ)
            for n in (1, 2, 5, 9):
                due = CAL.add_working_days(start, n)
                if oracle_is_workday(day):
                    assert due == dt.datetime.combine(oracle_nth_workday_after(day, n), clock, tzinfo=TZ)
                else:
                    assert due == start_of_day(oracle_nth_workday_after(day, n) + DAY)


# --- stored data: seeded on migrate, cached, extended by import or the admin --------------------------

@pytest.fixture
def calendar_2027_csv(tmp_path):
    """A made-up 2027 schedule (test data only, not the State Council's)."""
    path = tmp_path / "2027.csv"
    path.write_text(
        "date,is_workday,name\n"
        "2027-01-01,0,元旦\n"
        "2027-02-06,1,调休上班（春节）\n"
        "2027-02-07,0,春节\n2027-02-08,0,春节\n2027-02-09,0,春节\n2027-02-10,0,春节\n"
        "2027-02-11,0,春节\n2027-02-12,0,春节\n2027-02-13,0,春节\n",
        encoding="utf-8-sig")
    return path


def test_migrate_seeded_every_package_year(db):
    from gridcare.core.calendar_services import load_calendar
    from gridcare.core.models import CalendarYear

    stored = load_calendar()
    assert stored == CAL
    assert set(CalendarYear.objects.values_list("source", flat=True)) == {package_source()}


def test_seed_command_is_idempotent_and_refills_a_missing_year(db):
    from gridcare.core.models import CalendarDay, CalendarYear

    out = io.StringIO()
    call_command("calendar", "seed", stdout=out)
    assert "无需更新" in out.getvalue()
    count = CalendarDay.objects.count()
    CalendarYear.objects.filter(year=2025).delete()
    call_command("calendar", "seed", stdout=io.StringIO())
    assert CalendarDay.objects.count() == count
    assert CalendarYear.objects.get(year=2025).days.count() == len(package_schedule()[2025])


def test_seed_refresh_restores_package_years_but_keeps_admin_years(db, calendar_2027_csv):
    from gridcare.core.calendar_services import load_calendar
    from gridcare.core.models import CalendarDay

    call_command("calendar", "import", str(calendar_2027_csv), stdout=io.StringIO())
    CalendarDay.objects.filter(date=dt.date(2025, 10, 8)).delete()
    call_command("calendar", "seed", stdout=io.StringIO())  # without --refresh the correction stays
    assert load_calendar().is_workday(dt.date(2025, 10, 8))
    out = io.StringIO()
    call_command("calendar", "seed", "--refresh", stdout=out)
    assert "2025" in out.getvalue()
    cal = load_calendar()
    assert not cal.is_workday(dt.date(2025, 10, 8)) and cal.covers(2027)


def test_get_calendar_is_cached_and_notices_changes(db, django_assert_num_queries):
    from gridcare.core.models import CalendarDay, CalendarYear
    from gridcare.core.workcalendar import get_calendar

    first = get_calendar()
    with django_assert_num_queries(1):  # one cheap check, no reload
        assert get_calendar() is first
    # an administrator declares an extra holiday …
    monday = dt.date(2026, 3, 16)
    year = CalendarYear.objects.get(year=2026)
    day = CalendarDay(calendar_year=year, date=monday, is_workday=False, name="临时放假（测试）")
    day.save()
    assert get_calendar().is_workday(monday) is False
    assert add("2026-03-13 17:00", 1, get_calendar()) == "2026-03-17 17:00"
    # … edits it …
    day.is_workday = True
    day.save()
    assert get_calendar().is_workday(monday) is True
    # … and removes it
    day.delete()
    assert get_calendar() == CAL
    # deleting a year makes it uncovered at once
    CalendarYear.objects.filter(year=2026).delete()
    with pytest.raises(CalendarNotCovered):
        get_calendar().is_workday(monday)


def test_import_makes_2027_covered(db, calendar_2027_csv):
    from gridcare.core.models import AuditLog, CalendarYear
    from gridcare.core.workcalendar import get_calendar

    with pytest.raises(CalendarNotCovered):
        get_calendar().add_working_days(at("2026-12-31 10:00"), 1)
    out = io.StringIO()
    call_command("calendar", "import", str(calendar_2027_csv), "--published-on", "2026-11-10",
                 "--note", "国办发明电〔2026〕X号（测试）", stdout=out)
    assert "已新增 2027 年安排（9 天）" in out.getvalue()
    row = CalendarYear.objects.get(year=2027)
    assert row.source == "管理员录入" and row.published_on == dt.date(2026, 11, 10)
    cal = get_calendar()
    assert add("2026-12-31 10:00", 1, cal) == "2027-01-04 10:00"      # Jan 1 off, then a weekend
    assert add("2027-02-05 17:00", 1, cal) == "2027-02-06 17:00"      # the swapped Saturday
    assert add("2027-02-06 17:00", 1, cal) == "2027-02-15 17:00"
    assert add("2027-02-08 09:00", 1, cal) == "2027-02-16 00:00"      # in the holiday: 24:00 Feb 15
    assert AuditLog.objects.filter(object_repr__startswith="2027年").exists()
    # importing the same file again changes nothing
    out = io.StringIO()
    call_command("calendar", "import", str(calendar_2027_csv), stdout=out)
    assert "未变化" in out.getvalue()


def test_import_refuses_to_overwrite_a_different_year_without_replace(db, tmp_path):
    from gridcare.core.calendar_services import load_calendar

    path = tmp_path / "2026.csv"
    path.write_text("2026-10-09,0,国庆节（测试）\n", encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        call_command("calendar", "import", str(path), stdout=io.StringIO())
    assert exc.value.returncode == 2 and "--replace" in str(exc.value) and "2026年已有节假日安排" in str(exc.value)
    assert load_calendar() == CAL
    call_command("calendar", "import", str(path), "--replace", stdout=io.StringIO())
    cal = load_calendar()
    assert not cal.is_workday(dt.date(2026, 10, 9))
    assert cal.is_workday(dt.date(2026, 10, 10)) is False  # the whole year was replaced: Oct 10 is a Saturday again


@pytest.mark.parametrize("content, message", [
    ("2027-01-01,0,元旦\n2027-13-01,0,x\n", "第2行：日期“2027-13-01”格式不正确"),
    ("2027-01-01,maybe,元旦\n", "第1行：是否上班“maybe”无法识别"),
    ("2027-01-01,0,元旦\n2027-01-01,0,元旦\n", "第2行：日期 2027-01-01 与第1行重复"),
    ("2027-01-01\n", "第1行：应为 日期,是否上班,名称 三列"),
    ("date,is_workday,name\n", "文件中没有任何日期"),
])
def test_import_bad_file_changes_nothing(db, tmp_path, content, message):
    from gridcare.core.models import CalendarDay, CalendarYear

    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    before = (CalendarYear.objects.count(), CalendarDay.objects.count())
    with pytest.raises(CommandError) as exc:
        call_command("calendar", "import", str(path), stdout=io.StringIO())
    assert message in str(exc.value) and exc.value.returncode == 2
    assert (CalendarYear.objects.count(), CalendarDay.objects.count()) == before


def test_import_missing_file_and_bad_date_option(db, tmp_path, calendar_2027_csv):
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("calendar", "import", str(tmp_path / "nope.csv"))
    with pytest.raises(CommandError, match="发布日期"):
        call_command("calendar", "import", str(calendar_2027_csv), "--published-on", "11/10/2026")


def test_show(db):
    out = io.StringIO()
    call_command("calendar", "show", stdout=out)
    assert out.getvalue().splitlines()[0] == f"2004\t{package_source()}"
    out = io.StringIO()
    call_command("calendar", "show", "2025", stdout=out)
    assert "2025-09-28\t上班\t调休上班（国庆节）" in out.getvalue().splitlines()
    with pytest.raises(CommandError, match="2027年的节假日安排尚未录入"):
        call_command("calendar", "show", "2027")


def test_admin_adds_next_year(world, client):
    from gridcare.core.models import CalendarYear
    from gridcare.core.workcalendar import get_calendar

    client.force_login(world.admin)
    assert client.get("/admin/core/calendaryear/").status_code == 200
    assert client.get("/admin/core/calendaryear/add/").status_code == 200
    form = {
        "year": "2027", "source": "管理员录入", "published_on": "2026-11-10", "note": "",
        "days-TOTAL_FORMS": "2", "days-INITIAL_FORMS": "0", "days-MIN_NUM_FORMS": "0", "days-MAX_NUM_FORMS": "1000",
        "days-0-date": "2027-01-01", "days-0-name": "元旦",
        "days-1-date": "2027-02-06", "days-1-is_workday": "on", "days-1-name": "调休上班（春节）",
    }
    bad = dict(form, **{"days-1-date": "2026-02-06"})
    resp = client.post("/admin/core/calendaryear/add/", bad)
    assert resp.status_code == 200 and "日期不在2027年内" in resp.content.decode()
    assert not CalendarYear.objects.filter(year=2027).exists()
    resp = client.post("/admin/core/calendaryear/add/", form)
    assert resp.status_code == 302, resp.content.decode()[:2000]
    cal = get_calendar()
    assert cal.covers(2027) and not cal.is_workday(dt.date(2027, 1, 1)) and cal.is_workday(dt.date(2027, 2, 6))
    assert client.get(f"/admin/core/calendaryear/{CalendarYear.objects.get(year=2027).pk}/change/").status_code == 200
    assert client.get("/admin/core/calendarday/?calendar_year__id__exact=1").status_code == 200
