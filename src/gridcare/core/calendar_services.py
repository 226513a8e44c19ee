"""The working-day calendar's data: loading it from the database (cached), seeding it from the
`chinese-calendar` package, and importing a year the State Council has just published.

Rules live in workcalendar.py; this module only moves data between the tables and `WorkCalendar`.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import threading
import time
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Count, Max
from django.db.models.signals import post_delete, post_migrate, post_save
from django.utils import timezone

from .api_support import DomainError
from .workcalendar import ScheduleDay, WorkCalendar, package_schedule, package_source

ADMIN_SOURCE = "管理员录入"
PACKAGE_NOTE = "由 chinese-calendar 软件包载入（国务院办公厅历年放假安排）"


# --- loading, with a cache that notices changes ----------------------------------------------------
# The calendar is read on every deadline computation, so it is cached per process. Before each use one
# aggregate query (row counts and the latest `updated_at` of both tables) tells whether anything was
# added, edited or deleted since — by this process, another worker, the admin or a rolled-back test —
# and the calendar is rebuilt only then. Seeding/import write through save()/bulk_create, both of which
# set `updated_at`; deletions change the counts.

_lock = threading.Lock()
_cached: tuple[tuple, WorkCalendar] | None = None


def _fingerprint(using=DEFAULT_DB_ALIAS) -> tuple:
    from .models import CalendarYear

    row = CalendarYear.objects.using(using).aggregate(
        n_years=Count("id", distinct=True), n_days=Count("days__id"),
        years_at=Max("updated_at"), days_at=Max("days__updated_at"))
    return (row["n_years"], row["n_days"], row["years_at"], row["days_at"])


def load_calendar(using=DEFAULT_DB_ALIAS) -> WorkCalendar:
    """The calendar as stored now (no cache)."""
    from .models import CalendarDay, CalendarYear

    years = CalendarYear.objects.using(using).values_list("year", flat=True)
    years = set(years)
    days = CalendarDay.objects.using(using).values_list("date", "is_workday", "name")
    # A day filed under the wrong year would make WorkCalendar refuse the whole table; a day in a year
    # that is not covered has no effect anyway (that year raises CalendarNotCovered), so it is dropped.
    return WorkCalendar(years, [ScheduleDay(*row) for row in days if row[0].year in years])


# A hot path that computes deadlines many times a second (the 95598 intake) may pass `max_age`: the
# fingerprint is then checked at most once per `max_age` seconds per process, so a change made in another
# process is used everywhere within that time. A change written in this process (post_save/post_delete of
# either table, seeding, import) is seen at once, and for RECENT_WRITE_SECONDS afterwards the fingerprint
# is checked on every call, so that a change rolled back is not kept either.
RECENT_WRITE_SECONDS = 60.0
_checked_at = float("-inf")
_written_at = float("-inf")


def current_calendar(using=DEFAULT_DB_ALIAS, max_age: float | None = None) -> WorkCalendar:
    global _cached, _checked_at
    now = time.monotonic()
    cached = _cached
    if (max_age is not None and cached is not None and cached[0][0] == using and now - _checked_at < max_age
            and now - _written_at > RECENT_WRITE_SECONDS):
        return cached[1]
    key = (using, *_fingerprint(using))
    if cached is not None and cached[0] == key:
        _checked_at = now
        return cached[1]
    with _lock:
        calendar = load_calendar(using)
        _cached = (key, calendar)
        _checked_at = now
    return calendar


def clear_cache(**_kwargs) -> None:
    """Forget the cached calendar (also connected to the calendar tables' post_save/post_delete and to
    post_migrate, which seeds them)."""
    global _cached, _written_at
    _cached = None
    _written_at = time.monotonic()


for _signal in (post_save, post_delete):
    for _model in ("core.CalendarYear", "core.CalendarDay"):
        _signal.connect(clear_cache, sender=_model, dispatch_uid=f"gridcare.core.calendar_cache.{_model}.{_signal is post_save}")
post_migrate.connect(clear_cache, dispatch_uid="gridcare.core.calendar_cache.migrate")


# --- seeding from the chinese-calendar package -----------------------------------------------------

@dataclass
class SeedResult:
    added: list[int]
    refreshed: list[int]
    kept: list[int]


def seed_calendar(refresh: bool = False, using=DEFAULT_DB_ALIAS, year_model=None, day_model=None) -> SeedResult:
    """Load every year the installed chinese-calendar package covers. Idempotent: a year already in the
    table is kept as it is (an administrator may have corrected it), unless `refresh` is set and the
    stored year came from the package, in which case it is replaced by the package's current data.
    Years an administrator entered are never touched.

    `year_model`/`day_model` let the post_migrate hook pass the migration state's models."""
    if year_model is None or day_model is None:
        from .models import CalendarDay, CalendarYear

        year_model, day_model = CalendarYear, CalendarDay
    schedule = package_schedule()
    source = package_source()
    result = SeedResult([], [], [])
    with transaction.atomic(using=using):
        years = year_model.objects.using(using)
        existing = {y.year: y for y in years.filter(year__in=list(schedule))}
        replace_days = {}
        for year, days in sorted(schedule.items()):
            row = existing.get(year)
            if row is None:
                result.added.append(year)
                replace_days[year] = days
            elif refresh and row.source.startswith("chinese-calendar") and _stored_days(day_model, row, using) != days:
                result.refreshed.append(year)
                replace_days[year] = days
            else:
                result.kept.append(year)
        # Bulk writes, no audit rows: seeding is the system's own act, and the source column says where
        # each year came from.
        years.bulk_create([year_model(year=y, source=source, note=PACKAGE_NOTE) for y in result.added])
        years.filter(year__in=result.refreshed).update(source=source, updated_at=timezone.now())
        rows = {y.year: y for y in years.filter(year__in=list(replace_days))}
        day_model.objects.using(using).filter(calendar_year__year__in=result.refreshed).delete()
        day_model.objects.using(using).bulk_create(
            [day_model(calendar_year=rows[year], date=d.date, is_workday=d.is_workday, name=d.name)
             for year, days in sorted(replace_days.items()) for d in days], batch_size=1000)
    clear_cache()
    return result


def _stored_days(day_model, year_row, using) -> list[ScheduleDay]:
    rows = day_model.objects.using(using).filter(calendar_year=year_row).order_by("date")
    return [ScheduleDay(*r) for r in rows.values_list("date", "is_workday", "name")]


def seed_after_migrate(sender, app_config=None, using=DEFAULT_DB_ALIAS, apps=None, verbosity=1, stdout=None,
                       **kwargs):
    """post_migrate hook: a freshly migrated database (and a flushed test database) has the calendar."""
    if apps is None:  # `flush` (and so every transactional test) emits post_migrate without `apps`
        from django.apps import apps
    try:
        year_model = apps.get_model("core", "CalendarYear")
        day_model = apps.get_model("core", "CalendarDay")
    except (LookupError, AttributeError):  # migrated back to before the calendar tables
        return
    result = seed_calendar(using=using, year_model=year_model, day_model=day_model)
    if result.added and verbosity >= 1 and stdout is not None:
        stdout.write(f"  节假日日历：已载入 {package_source()} 的 {_years_text(result.added)} 年安排\n")


def _years_text(years: list[int]) -> str:
    years = sorted(years)
    if len(years) > 2 and years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}–{years[-1]}"
    return "、".join(str(y) for y in years)


# --- importing a year from a CSV file (date,is_workday,name) ---------------------------------------

class ScheduleFileError(DomainError):
    """The file cannot be imported; `lines` lists every problem, nothing was changed."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        super().__init__({"file": "；".join(lines)})


_TRUE = {"1", "true", "yes", "y", "t", "是", "上班", "工作日", "workday"}
_FALSE = {"0", "false", "no", "n", "f", "否", "放假", "休息", "休息日", "holiday"}


def parse_schedule_csv(text: str) -> dict[int, list[ScheduleDay]]:
    """Parse `date,is_workday,name` rows (header optional, UTF-8 with or without BOM) into
    {year: [ScheduleDay]}. is_workday accepts 1/0, true/false, 是/否, 上班/放假. Every error is reported
    with its line number; no partial result."""
    errors: list[str] = []
    seen: dict[dt.date, int] = {}
    out: dict[int, list[ScheduleDay]] = {}
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    for lineno, row in enumerate(reader, start=1):
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if lineno == 1 and cells[0].lower() in {"date", "日期"}:
            continue
        if len(cells) < 2 or len(cells) > 3:
            errors.append(f"第{lineno}行：应为 日期,是否上班,名称 三列")
            continue
        try:
            day = dt.date.fromisoformat(cells[0])
        except ValueError:
            errors.append(f"第{lineno}行：日期“{cells[0]}”格式不正确，应为 YYYY-MM-DD")
            continue
        flag = cells[1].lower()
        if flag in _TRUE:
            is_workday = True
        elif flag in _FALSE:
            is_workday = False
        else:
            errors.append(f"第{lineno}行：是否上班“{cells[1]}”无法识别，应为 1/0、true/false、上班/放假")
            continue
        name = cells[2] if len(cells) == 3 else ""
        if len(name) > 60:
            errors.append(f"第{lineno}行：名称过长（最多60字）")
            continue
        if day in seen:
            errors.append(f"第{lineno}行：日期 {day} 与第{seen[day]}行重复")
            continue
        seen[day] = lineno
        out.setdefault(day.year, []).append(ScheduleDay(day, is_workday, name))
    if not errors and not out:
        errors.append("文件中没有任何日期")
    if errors:
        raise ScheduleFileError(errors)
    return {year: sorted(days) for year, days in sorted(out.items())}


@dataclass
class ImportResult:
    added: list[int]
    replaced: list[int]
    unchanged: list[int]


def import_schedule(schedule: dict[int, list[ScheduleDay]], source: str = ADMIN_SOURCE,
                    published_on: dt.date | None = None, note: str = "", replace: bool = False,
                    using=DEFAULT_DB_ALIAS) -> ImportResult:
    """Store the holidays and swapped working days of whole years; each year is covered from then on.

    A year already stored with the same days is left as it is; with different days it is replaced only
    when `replace` is set (otherwise ScheduleFileError, and nothing changes)."""
    from .audit import record_bulk
    from .models import CalendarDay, CalendarYear

    result = ImportResult([], [], [])
    with transaction.atomic(using=using):
        existing = {y.year: y for y in CalendarYear.objects.using(using).filter(year__in=list(schedule))}
        conflicts = [y for y, row in existing.items()
                     if _stored_days(CalendarDay, row, using) != schedule[y] and not replace]
        if conflicts:
            raise ScheduleFileError([
                f"{y}年已有节假日安排（来源：{existing[y].source}）且与文件不同；确认要覆盖请加 --replace"
                for y in sorted(conflicts)])
        new_days = []
        for year, days in sorted(schedule.items()):
            row = existing.get(year)
            if row is not None and _stored_days(CalendarDay, row, using) == days:
                result.unchanged.append(year)
                continue
            if row is None:
                row = CalendarYear(year=year)
                result.added.append(year)
            else:
                CalendarDay.objects.using(using).filter(calendar_year=row).delete()
                result.replaced.append(year)
            row.source = source
            row.published_on = published_on
            row.note = note
            row.save(using=using)
            new_days += [CalendarDay(calendar_year=row, date=d.date, is_workday=d.is_workday, name=d.name)
                         for d in days]
        created = CalendarDay.objects.using(using).bulk_create(new_days, batch_size=1000)
        if created and created[0].pk is not None:
            record_bulk(created, note=f"导入{_years_text(result.added + result.replaced)}年节假日安排")
    clear_cache()
    return result
