"""Pure rules of the outage capability: notice timing, template fields, sustained interruptions,
reliability indices (IEEE 1366 and China's RS-1), frequent-outage counting and the feeder-fault
grouping rule. Plain data in, plain data out: no ORM, no I/O (the thresholds come in as arguments;
`config.py` reads them from the YAML tables)."""
from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

KINDS = ("planned", "temporary", "fault")


# ---------------------------------------------------------------- times
def check_times(start_at: datetime | None, end_at: datetime | None, restored_at: datetime | None = None) -> dict:
    """Field errors of an outage's times ({} when fine)."""
    errors = {}
    if start_at is None:
        errors["start_at"] = "必须填写停电开始时间"
        return errors
    if end_at is not None and end_at <= start_at:
        errors["end_at"] = "计划送电时间必须晚于停电开始时间"
    if restored_at is not None and restored_at < start_at:
        errors["restored_at"] = "恢复送电时间不能早于停电开始时间"
    return errors


# ---------------------------------------------------------------- notice timing
@dataclass(frozen=True)
class NoticeCheck:
    kind: str
    required_before: timedelta | None   # None: immediate (fault)
    deadline: datetime | None           # the latest moment the notice may go out
    late: bool
    applies: bool                       # False when the rule does not bind this outage (e.g. temporary, no critical)
    message: str

    def as_dict(self):
        return {"kind": self.kind, "late": self.late, "applies": self.applies, "message": self.message,
                "deadline": self.deadline.isoformat() if self.deadline else None,
                "required_hours": (self.required_before.total_seconds() / 3600) if self.required_before else 0}


def notice_lead(kind: str, limits: dict) -> timedelta | None:
    """How long before the start the notice must go out, from time-limits.yaml `outage_notice`
    ({"planned": {"days": 7}, "temporary": {"hours": 24}, "fault": {"immediate": True}})."""
    spec = limits.get(kind)
    if spec is None:
        raise ValueError(f"未知的停电类型：{kind}")
    if spec.get("immediate"):
        return None
    return timedelta(days=spec.get("days", 0), hours=spec.get("hours", 0), minutes=spec.get("minutes", 0))


def check_notice(kind: str, start_at: datetime, notice_at: datetime, limits: dict, has_critical: bool) -> NoticeCheck:
    """Is a notice sent at `notice_at` early enough for an outage of `kind` starting at `start_at`?

    计划停电: every affected customer at least the planned lead (7 days) ahead. 临时检修: critical
    customers at least the temporary lead (24 hours) ahead; without critical customers among the affected
    the rule does not bind. 故障停电: published as soon as known, never late."""
    lead = notice_lead(kind, limits)
    if lead is None:
        return NoticeCheck(kind, None, None, False, True, "故障停电：立即发布停电信息")
    deadline = start_at - lead
    applies = kind != "temporary" or has_critical
    late = applies and notice_at > deadline
    label = _lead_label(lead)
    if kind == "planned":
        msg = (f"计划停电须提前{label}通知，最迟 {_fmt(deadline)} 前发出；现在发出已晚" if late
               else f"计划停电须提前{label}通知（最迟 {_fmt(deadline)}），满足要求")
    elif not applies:
        msg = f"临时检修停电：停电范围内无重要客户，不受提前{label}通知重要客户的限制"
    else:
        msg = (f"临时检修停电须提前{label}通知重要客户，最迟 {_fmt(deadline)} 前发出；现在发出已晚" if late
               else f"临时检修停电须提前{label}通知重要客户（最迟 {_fmt(deadline)}），满足要求")
    return NoticeCheck(kind, lead, deadline, late, applies, msg)


def _lead_label(lead: timedelta) -> str:
    if lead.total_seconds() % 86400 == 0 and lead >= timedelta(days=2):
        return f"{int(lead.total_seconds() // 86400)}天"
    if lead.total_seconds() % 3600 == 0:
        return f"{int(lead.total_seconds() // 3600)}小时"
    return f"{int(lead.total_seconds() // 60)}分钟"


def _fmt(value: datetime) -> str:
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")


# ---------------------------------------------------------------- templates
TEMPLATE_FIELDS = {
    "outage_no": "停电编号", "kind": "停电类型", "scope": "停电范围", "start": "停电开始时间",
    "end": "计划送电时间", "reason": "停电原因", "unit": "责任单位", "note": "说明",
    "expected": "预计恢复时间", "restored": "恢复送电时间", "hotline": "服务热线",
}


def template_fields(body: str) -> list[str]:
    """The `{field}` names a template uses; raises ValueError on a malformed template."""
    names = []
    for _literal, name, spec, conv in string.Formatter().parse(body):
        if name is None:
            continue
        if name == "" or not name.isidentifier():
            raise ValueError("模板中的占位符必须写成 {字段名}，如 {start}")
        if spec or conv:
            raise ValueError(f"模板占位符 {{{name}}} 不能带格式说明")
        names.append(name)
    return names


def check_template(body: str, allowed: Iterable[str] = TEMPLATE_FIELDS) -> str | None:
    """None when every field is known; else the Chinese message naming the unknown field(s)."""
    try:
        names = template_fields(body)
    except ValueError as exc:
        return str(exc)
    allowed = set(allowed)
    unknown = sorted({n for n in names if n not in allowed})
    if unknown:
        return ("模板中有未知字段：" + "、".join("{" + n + "}" for n in unknown)
                + "（可用字段：" + "、".join("{" + n + "}" for n in sorted(allowed)) + "）")
    if not body.strip():
        return "模板内容不能为空"
    return None


def render(body: str, values: dict) -> str:
    problem = check_template(body, values.keys())
    if problem:
        raise ValueError(problem)
    return body.format(**{k: ("" if v is None else v) for k, v in values.items()})


# ---------------------------------------------------------------- interruptions and reliability
def minutes_between(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds() / 60.0)


def is_sustained(start: datetime, end: datetime, sustained_minutes: float) -> bool:
    """IEEE 1366: an interruption lasting MORE than the threshold (5 minutes) is sustained."""
    return minutes_between(start, end) > sustained_minutes


@dataclass(frozen=True)
class Interruption:
    """One group of customers (a 台区, or one customer) out from `start` to `end`."""

    group: object          # hashable: the customers of one group share their interruption counts
    customers: int
    start: datetime
    end: datetime
    planned: bool = False


def reliability(interruptions: Iterable[Interruption], customers_served: int, period_start: datetime,
                period_end: datetime, *, sustained_minutes: float = 5, exclude_planned: bool = False,
                cemi_n: int = 3, group_sizes: dict | None = None) -> dict:
    """IEEE 1366 indices over a period [period_start, period_end).

    Only sustained interruptions count (duration > sustained_minutes, judged on the whole interruption,
    then clipped to the period for the minutes). N_T = customers_served.
    SAIFI = Σ N_i / N_T; SAIDI = Σ r_i·N_i / N_T (minutes); CAIDI = SAIDI / SAIFI (minutes; 0 when no
    interruption); ASAI = 1 − Σ r_i·N_i / (N_T·T); CEMI-n = customers with more than n sustained
    interruptions / N_T (group_sizes: customers per group; by default the largest N_i seen for it).
    RS-1 (供电可靠率, DL/T 836) = 1 − (customer-minutes of every interruption, planned included) / (N_T·T):
    it ignores `exclude_planned` by definition."""
    period_minutes = minutes_between(period_start, period_end)
    ci = cm = cm_all = 0.0
    events = 0
    per_group: dict = {}
    sizes = dict(group_sizes or {})
    for it in interruptions:
        if not is_sustained(it.start, it.end, sustained_minutes):
            continue
        start, end = max(it.start, period_start), min(it.end, period_end)
        if end <= start:
            continue
        minutes = minutes_between(start, end)
        cm_all += minutes * it.customers
        if exclude_planned and it.planned:
            continue
        events += 1
        ci += it.customers
        cm += minutes * it.customers
        per_group[it.group] = per_group.get(it.group, 0) + 1
        if group_sizes is None:
            sizes[it.group] = max(sizes.get(it.group, 0), it.customers)
    n = customers_served
    saifi = ci / n if n else 0.0
    saidi = cm / n if n else 0.0
    caidi = saidi / saifi if saifi else 0.0
    denom = n * period_minutes
    asai = 1 - cm / denom if denom else 1.0
    rs1 = 1 - cm_all / denom if denom else 1.0
    over_n = sum(sizes.get(g, 0) for g, count in per_group.items() if count > cemi_n)
    return {
        "customers_served": n,
        "interruptions": events,
        "customer_interruptions": int(round(ci)),
        "customer_minutes": round(cm, 2),
        "saifi": round(saifi, 6),
        "saidi": round(saidi, 4),
        "caidi": round(caidi, 4),
        "asai": round(asai, 8),
        "cemi_n": cemi_n,
        "cemi": round(over_n / n, 6) if n else 0.0,
        "customers_over_n": over_n,
        "rs1": round(rs1, 8),
        "period_minutes": round(period_minutes, 2),
    }


# ---------------------------------------------------------------- frequent outages
def frequent(events: Iterable[tuple[object, datetime, datetime]], window_start: datetime, window_end: datetime,
             threshold: int, sustained_minutes: float) -> dict:
    """{key: count} of keys (台区 or customers) with `threshold` or more sustained interruptions
    starting inside [window_start, window_end). events: (key, start, end)."""
    counts: dict = {}
    for key, start, end in events:
        if window_start <= start < window_end and is_sustained(start, end, sustained_minutes):
            counts[key] = counts.get(key, 0) + 1
    return {k: c for k, c in counts.items() if c >= threshold}


# ---------------------------------------------------------------- feeder-level fault grouping
def feeder_fault_suspected(calls: Iterable[tuple[datetime, object]], at: datetime, window_minutes: int,
                           min_taiqu: int, min_calls: int) -> tuple[bool, int, int]:
    """Calls (accepted_at, 台区) from one feeder: within the window ending at `at`, are there at least
    `min_calls` calls from at least `min_taiqu` distinct 台区? Returns (suspected, calls, 台区)."""
    since = at - timedelta(minutes=window_minutes)
    recent = [(t, tq) for t, tq in calls if since <= t <= at]
    taiqu = {tq for _t, tq in recent if tq is not None}
    return (len(recent) >= min_calls and len(taiqu) >= min_taiqu), len(recent), len(taiqu)
