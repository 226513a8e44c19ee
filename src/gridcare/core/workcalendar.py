"""China's working-day calendar as a pure rule: which dates are working days, and the working-day
arithmetic the stage clocks need.

The convention is the one at the top of data/time-limits.yaml:

* A working day is a date of China's official calendar (Monday–Friday, minus the State Council's
  holidays, plus its swapped working days, 调休上班). It runs from 00:00 to 24:00 Asia/Shanghai.
* N working days from a start **on a working day** end at the same clock time on the N-th following
  working day (Friday 17:00 + 1 → Monday 17:00; a swapped Saturday working day counts).
* N working days from a start **on a non-working day** end at 24:00 of the N-th working day after
  it. 24:00 is represented as 00:00 of the next date (a datetime has no 24:00).
* The working-day-ness of a start is decided by its local (Asia/Shanghai) date, so 00:00 belongs to the
  day it begins: Friday 00:00 + 1 working day is Monday 00:00.

Nothing is guessed: a date in a year the calendar does not cover (no schedule loaded for it) raises
`CalendarNotCovered`, including when a count runs from a covered year into an uncovered one.

`WorkCalendar` is built from plain data (covered years + exception days) and does no I/O. The data
lives in the `CalendarYear`/`CalendarDay` tables (seeded from the `chinese-calendar` package, extended
by an administrator); `get_calendar()` loads it with caching (see calendar_services.py).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import NamedTuple
from zoneinfo import ZoneInfo

from .api_support import DomainError

TZ = ZoneInfo("Asia/Shanghai")
ONE_DAY = dt.timedelta(days=1)
WORKING_DAY = dt.timedelta(days=1)  # a working day counts 00:00–24:00

# Chinese names of the package's holidays, normalised to the names the State Council's notices use.
_HOLIDAY_NAMES = {
    "清明": "清明节",
    "端午": "端午节",
    "中秋": "中秋节",
    "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日": "抗战胜利70周年纪念日",
}


class CalendarNotCovered(DomainError):
    """A working-day computation touched a year whose holiday schedule has not been loaded."""

    def __init__(self, year: int):
        self.year = year
        super().__init__(
            f"{year}年的节假日安排尚未录入，无法计算工作日时限；"
            f"请管理员录入国务院办公厅公布的{year}年放假安排后重试"
        )


class ScheduleDay(NamedTuple):
    date: dt.date
    is_workday: bool
    name: str = ""


def to_local(moment: dt.datetime) -> dt.datetime:
    """The same instant in Asia/Shanghai. Naive datetimes are refused: a clock needs a definite instant."""
    if not isinstance(moment, dt.datetime):
        raise TypeError(f"需要 datetime，得到 {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("时间必须带时区（如 +08:00）")
    return moment.astimezone(TZ)


def start_of_day(day: dt.date) -> dt.datetime:
    """00:00 Asia/Shanghai of `day` (equivalently 24:00 of the day before)."""
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=TZ)


class WorkCalendar:
    """China's official working-day calendar over a set of covered years.

    `years`: the years whose schedule is known. `days`: the exceptions to the Monday–Friday rule in
    those years, as `ScheduleDay`/(date, is_workday[, name]) tuples or a {date: is_workday} mapping.
    Entries that agree with the weekday rule (a holiday on a Saturday) are allowed and only give a name.
    """

    def __init__(self, years: Iterable[int], days: Iterable | Mapping = ()):
        self.years = frozenset(int(y) for y in years)
        if isinstance(days, Mapping):
            days = [ScheduleDay(d, bool(w)) for d, w in days.items()]
        self._workday: dict[dt.date, bool] = {}
        self._name: dict[dt.date, str] = {}
        for entry in days:
            day = ScheduleDay(*entry)
            if day.date.year not in self.years:
                raise ValueError(f"{day.date} 不在已录入的年份内")
            self._workday[day.date] = bool(day.is_workday)
            if day.name:
                self._name[day.date] = day.name

    def __repr__(self):
        span = f"{min(self.years)}–{max(self.years)}" if self.years else "无"
        return f"<WorkCalendar years={span} exceptions={len(self._workday)}>"

    def __eq__(self, other):
        return (isinstance(other, WorkCalendar) and self.years == other.years
                and self._workday == other._workday and self._name == other._name)

    __hash__ = None

    @classmethod
    def from_package(cls) -> WorkCalendar:
        """The calendar as the installed `chinese-calendar` package knows it (no database)."""
        schedule = package_schedule()
        return cls(schedule, [day for days in schedule.values() for day in days])

    # --- single dates ------------------------------------------------------------------------------
    def covers(self, day: dt.date | int) -> bool:
        return (day if isinstance(day, int) else day.year) in self.years

    def check_covered(self, day: dt.date) -> None:
        if day.year not in self.years:
            raise CalendarNotCovered(day.year)

    def is_workday(self, day: dt.date) -> bool:
        if isinstance(day, dt.datetime):
            day = to_local(day).date()
        self.check_covered(day)
        return self._workday.get(day, day.weekday() < 5)

    def day_name(self, day: dt.date) -> str:
        """The schedule's name for the date ("国庆节", "调休上班（国庆节）"), or "" for an ordinary day."""
        self.check_covered(day)
        return self._name.get(day, "")

    def exceptions(self) -> list[ScheduleDay]:
        return [ScheduleDay(d, w, self._name.get(d, "")) for d, w in sorted(self._workday.items())]

    def next_workday(self, day: dt.date) -> dt.date:
        """The first working day strictly after `day`."""
        day += ONE_DAY
        while not self.is_workday(day):
            day += ONE_DAY
        return day

    def working_days_after(self, first: dt.date, last: dt.date) -> int:
        """How many working days d satisfy first < d <= last (0 when last <= first)."""
        count, day = 0, first + ONE_DAY
        while day <= last:
            count += self.is_workday(day)
            day += ONE_DAY
        return count

    # --- the working-day convention -----------------------------------------------------------------
    def add_working_days(self, start: dt.datetime, n: int) -> dt.datetime:
        """The end of an N-working-day limit that starts at `start` (see the module docstring).

        `n == 0` is due at `start`. The result is in Asia/Shanghai.
        """
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError("工作日数必须是整数")
        if n < 0:
            raise ValueError("工作日数不能为负")
        local = to_local(start)
        day = local.date()
        starts_on_workday = self.is_workday(day)  # also checks the start's year is covered
        if n == 0:
            return local
        for _ in range(n):
            day = self.next_workday(day)
        if starts_on_workday:
            return dt.datetime.combine(day, local.timetz())
        return start_of_day(day + ONE_DAY)  # 24:00 of the N-th working day

    def working_time_between(self, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
        """The part of [a, b) that falls on working days (each counted 00:00–24:00); zero when b <= a.

        Consistent with `add_working_days`: from any start, N working days later exactly N×24 hours of
        working time have passed.
        """
        a, b = to_local(a), to_local(b)
        total = dt.timedelta(0)
        day = a.date()
        while start_of_day(day) < b:
            lo, hi = max(a, start_of_day(day)), min(b, start_of_day(day + ONE_DAY))
            if hi > lo and self.is_workday(day):
                total += hi - lo
            day += ONE_DAY
        return total

    def add_working_time(self, start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
        """The earliest instant t >= start with working_time_between(start, t) == amount."""
        if amount < dt.timedelta(0):
            raise ValueError("工作时间不能为负")
        cursor = to_local(start)
        if not amount:
            return cursor
        while True:
            day_end = start_of_day(cursor.date() + ONE_DAY)
            if self.is_workday(cursor.date()):
                available = day_end - cursor
                if amount <= available:
                    return cursor + amount
                amount -= available
            cursor = day_end

    def subtract_working_time(self, end: dt.datetime, amount: dt.timedelta) -> dt.datetime:
        """The latest instant t <= end with working_time_between(t, end) == amount."""
        if amount < dt.timedelta(0):
            raise ValueError("工作时间不能为负")
        cursor = to_local(end)
        if not amount:
            return cursor
        while True:
            # the day that the instant just before `cursor` belongs to
            day = (cursor - dt.timedelta(microseconds=1)).date()
            day_start = start_of_day(day)
            if self.is_workday(day):
                available = cursor - day_start
                if amount <= available:
                    return cursor - amount
                amount -= available
            cursor = day_start


def package_schedule() -> dict[int, list[ScheduleDay]]:
    """Every year the installed `chinese-calendar` package covers, with its holidays and swapped working
    days, as {year: [ScheduleDay, ...]} (sorted by date). The package raises for years outside
    [first, last] of its holidays table, so that range is what it covers."""
    import chinese_calendar
    from chinese_calendar.constants import Holiday

    def chinese(english: str) -> str:
        name = Holiday(english).chinese
        return _HOLIDAY_NAMES.get(name, name)

    days = [ScheduleDay(d, False, chinese(v)) for d, v in chinese_calendar.holidays.items()]
    days += [ScheduleDay(d, True, f"调休上班（{chinese(v)}）") for d, v in chinese_calendar.workdays.items()]
    first = min(d.date.year for d in days)
    last = max(d.date.year for d in days)
    out: dict[int, list[ScheduleDay]] = {year: [] for year in range(first, last + 1)}
    for day in sorted(days):
        out[day.date.year].append(day)
    return out


def package_source() -> str:
    import chinese_calendar

    return f"chinese-calendar {chinese_calendar.__version__}"


def get_calendar() -> WorkCalendar:
    """The calendar stored in the database, cached per process and reloaded when its rows change.
    Call it once per request or batch and pass the object on to the clock functions."""
    from .calendar_services import current_calendar

    return current_calendar()
