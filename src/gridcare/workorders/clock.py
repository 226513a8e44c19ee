"""Stage clocks of the work-order engine: the time limit of each stage, and when it falls due.

Pure rules over plain data (no ORM, no I/O except reading the YAML table once):

* The limits are data: `data/time-limits.yaml` (`stage_limits` per order type, and the `repair`
  section for `fault_repair`) is loaded into a `LimitTable` of `TimeLimit` rows keyed by
  (order_type, stage, area_kind). `LimitTable.with_overrides()` lets a later database table (or a
  utility's own figures) replace rows without touching the rules.
* `due_at()` applies a limit: natural units (minutes, hours, days) run round the clock through nights,
  weekends and holidays; working days follow China's official calendar by the convention at the top of
  time-limits.yaml (see gridcare.core.workcalendar).
* `due_with_pauses()` adds paused spans (derived by the caller from the stage history);
  `warn_at()` gives the moment a warning is due (25 % of the limit left by default).

All datetimes must be timezone-aware; results are in Asia/Shanghai.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from gridcare.core.api_support import DomainError
from gridcare.core.taxonomy import DATA_DIR, taxonomy
from gridcare.core.workcalendar import TZ, WORKING_DAY, WorkCalendar, to_local

LIMITS_FILE = DATA_DIR / "time-limits.yaml"

NATURAL_UNITS = {"minutes": "分钟", "hours": "小时", "days": "天"}
UNITS = (*NATURAL_UNITS, "working_days")

# Order types whose limits sit in a section of their own rather than under `stage_limits`.
SECTION_ORDER_TYPES = {"repair": "fault_repair"}

STAGE_LABELS = {
    "dispatch": "派单",
    "receive": "接单",
    "contact": "联系客户",
    "handle": "处理",
    "audit": "审核",
    "visit": "回访",
    "arrival": "到达现场",
    "restoration_after_arrival": "到达现场后恢复供电",
    "reply_after_restoration": "恢复供电后回单",
}


class LimitNotFound(DomainError):
    """No time limit for the order type / stage / area asked for (400, with the field at fault)."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__({field: message})


@dataclass(frozen=True)
class TimeLimit:
    order_type: str
    stage: str
    area_kind: str | None
    unit: str  # minutes | hours | days | working_days
    amount: int
    source: str = "time-limits.yaml"

    def __post_init__(self):
        if self.unit not in UNITS:
            raise ValueError(f"未知的时限单位：{self.unit}（应为 {'、'.join(UNITS)}）")
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 0:
            raise ValueError(f"时限数值应为非负整数：{self.amount!r}")

    @property
    def natural(self) -> bool:
        """Runs round the clock (minutes/hours/days) rather than on working days."""
        return self.unit != "working_days"

    @property
    def delta(self) -> dt.timedelta:
        """The length of a natural limit."""
        if not self.natural:
            raise ValueError("工作日时限没有固定长度，需按日历计算")
        return dt.timedelta(**{self.unit: self.amount})

    @property
    def working_time(self) -> dt.timedelta:
        """The working time a working-day limit grants (N × 24 h of working days)."""
        if self.natural:
            raise ValueError("自然时间时限不按工作日计算")
        return self.amount * WORKING_DAY

    @property
    def label(self) -> str:
        if self.unit == "working_days":
            return f"{self.amount}个工作日"
        return f"{self.amount}{NATURAL_UNITS[self.unit]}"

    @property
    def key(self) -> tuple[str, str, str | None]:
        return (self.order_type, self.stage, self.area_kind)


def _order_type_label(code: str) -> str:
    return taxonomy()["order_types"].get(code, code)


def _stage_text(stage: str) -> str:
    label = STAGE_LABELS.get(stage)
    return f"{stage}（{label}）" if label else stage


class LimitTable:
    """The time limits in force: one `TimeLimit` per (order_type, stage, area_kind); area_kind is None
    for stages whose limit does not depend on the area."""

    def __init__(self, limits: Iterable[TimeLimit]):
        self._rows: dict[tuple, TimeLimit] = {}
        for limit in limits:
            self._rows[limit.key] = limit

    def __iter__(self):
        return iter(sorted(self._rows.values(), key=lambda r: (r.order_type, r.stage, r.area_kind or "")))

    def __len__(self):
        return len(self._rows)

    def with_overrides(self, limits: Iterable[TimeLimit]) -> LimitTable:
        """A copy in which the given rows replace (or add to) the table's; an area-specific row for a
        stage replaces the stage's area-free row for that area only."""
        return LimitTable([*self._rows.values(), *limits])

    def order_types(self) -> list[str]:
        return sorted({k[0] for k in self._rows})

    def stages(self, order_type: str) -> list[str]:
        seen = []
        for (t, s, _a) in self._rows:
            if t == order_type and s not in seen:
                seen.append(s)
        return seen

    def area_kinds(self, order_type: str, stage: str) -> list[str]:
        """The areas a stage's limit depends on ([] when it does not depend on the area)."""
        return [a for (t, s, a) in self._rows if t == order_type and s == stage and a is not None]

    def get(self, order_type: str, stage: str, area_kind: str | None = None) -> TimeLimit:
        """The limit for a stage. `area_kind` is required where the limit depends on it (repair arrival
        and restoration) and ignored elsewhere; an unknown code of any kind is an error in Chinese."""
        area_kind = area_kind or None
        types = taxonomy()["order_types"]
        if order_type not in types and order_type not in self.order_types():
            options = "、".join(f"{c} {label}" for c, label in types.items())
            raise LimitNotFound("order_type", f"未知的工单类型“{order_type}”（可选：{options}）")
        stages = self.stages(order_type)
        if stage not in stages:
            options = "、".join(_stage_text(s) for s in stages) or "无"
            raise LimitNotFound(
                "stage", f"{_order_type_label(order_type)}（{order_type}）没有“{stage}”环节的时限（可选：{options}）")
        area_names = taxonomy()["area_kinds"]
        if area_kind is not None and area_kind not in area_names:
            options = "、".join(f"{c} {label}" for c, label in area_names.items())
            raise LimitNotFound("area_kind", f"未知的地区类型“{area_kind}”（可选：{options}）")
        if area_kind is not None and (order_type, stage, area_kind) in self._rows:
            return self._rows[(order_type, stage, area_kind)]
        if (order_type, stage, None) in self._rows:
            return self._rows[(order_type, stage, None)]
        options = "、".join(f"{a} {area_names.get(a, a)}" for a in self.area_kinds(order_type, stage))
        if area_kind is None:
            message = (f"{_order_type_label(order_type)}“{_stage_text(stage)}”环节的时限按地区类型不同，"
                       f"请指定地区类型（{options}）")
        else:
            message = (f"{_order_type_label(order_type)}“{_stage_text(stage)}”环节没有"
                       f"{area_names[area_kind]}（{area_kind}）的时限（可选：{options}）")
        raise LimitNotFound("area_kind", message)


def _parse_amount(spec, where: str) -> tuple[str, int]:
    if not isinstance(spec, dict) or len(spec) != 1:
        raise ValueError(f"{where}：时限应写成 {{单位: 数值}}，得到 {spec!r}")
    (unit, amount), = spec.items()
    if unit not in UNITS:
        raise ValueError(f"{where}：未知的时限单位 {unit}")
    return unit, amount


def _parse_stages(order_type: str, stages: dict, source: str) -> list[TimeLimit]:
    rows = []
    for stage, spec in stages.items():
        if isinstance(spec, dict) and spec and all(isinstance(v, dict) for v in spec.values()):
            for area, area_spec in spec.items():  # {urban: {minutes: 45}, rural: ...}
                unit, amount = _parse_amount(area_spec, f"{order_type}.{stage}.{area}")
                rows.append(TimeLimit(order_type, stage, area, unit, amount, source))
        else:
            unit, amount = _parse_amount(spec, f"{order_type}.{stage}")
            rows.append(TimeLimit(order_type, stage, None, unit, amount, source))
    return rows


def parse_limits(data: dict, source: str = "time-limits.yaml") -> LimitTable:
    """Build the table from the parsed YAML document: every order type under `stage_limits`, plus
    `fault_repair` from the `repair` section."""
    timezone = (data.get("calendar") or {}).get("timezone", "Asia/Shanghai")
    if timezone != str(TZ):
        raise ValueError(f"时限表的时区 {timezone} 与系统时区 {TZ} 不一致")
    rows: list[TimeLimit] = []
    for order_type, stages in (data.get("stage_limits") or {}).items():
        rows += _parse_stages(order_type, stages, source)
    for section, order_type in SECTION_ORDER_TYPES.items():
        rows += _parse_stages(order_type, data.get(section) or {}, source)
    return LimitTable(rows)


def load_limits(path: Path | str = LIMITS_FILE) -> LimitTable:
    with open(path, encoding="utf-8") as fh:
        return parse_limits(yaml.safe_load(fh), source=Path(path).name)


@lru_cache(maxsize=1)
def default_table() -> LimitTable:
    """The limits of the project's time-limits.yaml (read once per process)."""
    return load_limits()


def looser_than(limit: TimeLimit, base: TimeLimit) -> str | None:
    """Why `limit` would grant more time than the national `base` (None when it grants no more): a
    utility may set its own limits stricter than the national ones, never looser. Natural limits compare
    by length; N working days always span at least N × 24 h, so a natural limit within that is stricter;
    a working-day limit cannot be compared with a natural one (a holiday makes it longer) and is refused."""
    if limit.natural and base.natural:
        ok = limit.delta <= base.delta
    elif not limit.natural and not base.natural:
        ok = limit.amount <= base.amount
    elif limit.natural:
        ok = limit.delta <= base.working_time
    else:
        return f"国家规定的时限按自然时间计（{base.label}），本单位时限也须按自然时间（分钟、小时、天）计"
    return None if ok else f"本单位时限不能宽于国家规定的{base.label}"


def limit_for(order_type: str, stage: str, area_kind: str | None = None,
              table: LimitTable | None = None) -> TimeLimit:
    """The `TimeLimit` of a stage (from `table`, default the YAML one); raises `LimitNotFound` with a
    Chinese message for an unknown type/stage/area or a missing area where the limit depends on it."""
    return (table or default_table()).get(order_type, stage, area_kind)


def due_at(start: dt.datetime, limit: TimeLimit, calendar: WorkCalendar | None = None) -> dt.datetime:
    """When a stage entered at `start` is due. Natural limits: start + the limit, through nights,
    weekends and holidays (no calendar needed, any year). Working-day limits: the convention of
    time-limits.yaml via `calendar.add_working_days` (raises CalendarNotCovered outside covered years)."""
    start = to_local(start)
    if limit.natural:
        return start + limit.delta
    if calendar is None:
        raise TypeError("工作日时限需要传入工作日日历（gridcare.core.workcalendar.get_calendar()）")
    return calendar.add_working_days(start, limit.amount)


Span = tuple[dt.datetime, dt.datetime | None]


def merge_spans(spans: Iterable[Span], not_before: dt.datetime | None = None) -> list[Span]:
    """Sorted, non-overlapping paused spans, clipped to begin no earlier than `not_before`. An open span
    (end None: still paused) swallows everything after its beginning."""
    cleaned = []
    for begin, end in spans:
        begin = to_local(begin)
        end = None if end is None else to_local(end)
        if end is not None and end < begin:
            raise ValueError(f"暂停区间的结束 {end.isoformat()} 早于开始 {begin.isoformat()}")
        if not_before is not None:
            if end is not None and end <= not_before:
                continue
            begin = max(begin, to_local(not_before))
        if end is not None and end == begin:
            continue
        cleaned.append((begin, end))
    cleaned.sort(key=lambda s: s[0])
    merged: list[Span] = []
    for begin, end in cleaned:
        if merged and (merged[-1][1] is None or begin <= merged[-1][1]):
            last_begin, last_end = merged[-1]
            merged[-1] = (last_begin, None if end is None or last_end is None else max(last_end, end))
        else:
            merged.append((begin, end))
    return merged


def due_with_pauses(start: dt.datetime, limit: TimeLimit, paused_spans: Iterable[Span],
                    calendar: WorkCalendar | None = None) -> dt.datetime | None:
    """When a stage entered at `start` is due, given the spans during which its clock was paused.

    The spans come from the stage history (the caller derives them; this function does not decide which
    states pause). They may overlap, be unsorted or begin before `start` (the part before `start` is
    ignored). A span that begins at or after the deadline as it stands by then changes nothing: the
    stage was already overdue when it was paused.

    Decision — what a pause costs:
    * Natural limits (minutes/hours/days) are extended by the paused duration: a 45-minute arrival clock
      paused for 20 minutes is due 65 minutes after the start.
    * Working-day limits are extended by the *working time* the pause covered (the part of the span that
      falls on working days, each counted 00:00–24:00), added from the deadline onwards on working days.
      A pause over a weekend or holiday costs nothing, because the clock was not running then; a pause
      from Friday 15:00 to Monday 09:00 costs 9 + 9 = 18 hours of working time. Without pauses the result
      is exactly `due_at` (the convention of time-limits.yaml is kept, including its 24:00 ends).
    * An open span (end None: still paused) means the deadline is unknown until the clock resumes:
      the result is None. Callers that store `due_at` keep it empty while paused, or pass
      (begin, now) to get a provisional deadline.
    """
    start = to_local(start)
    due = due_at(start, limit, calendar)
    for begin, end in merge_spans(paused_spans, not_before=start):
        if begin >= due:
            break
        if end is None:
            return None
        if limit.natural:
            due = due + (end - begin)
        else:
            due = calendar.add_working_time(due, calendar.working_time_between(begin, end))
    return due


def warn_at(start: dt.datetime, due: dt.datetime, fraction_left: float = 0.25, *,
            limit: TimeLimit | None = None, calendar: WorkCalendar | None = None) -> dt.datetime:
    """The moment when `fraction_left` of the limit is left (a warning, 预警, goes out then).

    Without `limit`: the fraction of the span start → due (right for natural limits without pauses).
    With a natural `limit`: due − fraction × the limit, so paused time does not move the warning
    earlier. With a working-day `limit` (needs `calendar`): the moment when fraction × N working days of
    working time are left before `due` (1 working day from Friday 17:00, due Monday 17:00, warns Monday
    11:00, not on Sunday night). Never earlier than `start`.
    """
    if not 0 <= fraction_left <= 1:
        raise ValueError("剩余比例应在 0 到 1 之间")
    start, due = to_local(start), to_local(due)
    if limit is None:
        moment = start + (due - start) * (1 - fraction_left)
    elif limit.natural:
        moment = due - limit.delta * fraction_left
    else:
        if calendar is None:
            raise TypeError("工作日时限的预警时间需要传入工作日日历")
        moment = calendar.subtract_working_time(due, limit.working_time * fraction_left)
    return max(start, moment).astimezone(TZ)
