"""Tariff calculation and arrears rules as pure functions over plain data (no ORM, no I/O).

Formats: shared/domain/formats.md ("Tariff schedule", "bill-calc input"). Money is `Decimal` yuan; every
bill line is rounded to the fen half up and the total is the sum of the lines.

Proration (a tariff version changes inside the billing period): the period's usage is split over the
versions in proportion to the calendar days each covers (kWh rounded to 0.01 kWh, the last segment takes
the remainder so the split adds up); monthly tier bounds are scaled by the same share of days; annual
tiers keep counting the year's usage across the segments.

Late-payment charge (电费违约金, 《供电营业规则》, time-limits.yaml `arrears.late_payment_charge`): from the
day after the due date to the day paid (overdue days = paid_on − due_date) × rate × overdue amount;
residential 1‰/day; others 2‰/day for the days in the due date's calendar year and 3‰/day for days in
later years (跨年度欠费部分); a total under the minimum (1 yuan) is charged as the minimum.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from gridcare.core.workcalendar import to_local

FEN = Decimal("0.01")
KWH_Q = Decimal("0.01")
TOU_REGISTERS = ("sharp", "peak", "flat", "valley")
REGISTER_LABELS = {"sharp": "尖峰", "peak": "峰", "flat": "平", "valley": "谷", "total": "总"}
TIER_LABELS = ["第一档", "第二档", "第三档", "第四档", "第五档"]
CUSTOMER_CLASSES = ("residential", "non_residential", "large_industrial", "agricultural")


class TariffError(ValueError):
    """Bad tariff or bill input: `errors` maps a field to a Chinese message."""

    def __init__(self, errors: dict[str, str] | str):
        self.errors = {"__all__": errors} if isinstance(errors, str) else dict(errors)
        super().__init__("；".join(f"{k}: {v}" for k, v in self.errors.items()))


def load_json(text: str):
    """A formats.md JSON document (bill-calc input, tariff); TariffError saying where it is not JSON. The
    CLI and the API both read their input through it."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TariffError(f"JSON格式错误：第{exc.lineno}行第{exc.colno}列 {exc.msg}") from None


def fen(amount: Decimal) -> Decimal:
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def _dec(value, field_name: str, errors: dict, *, allow_negative=False) -> Decimal | None:
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()):
        errors[field_name] = "必填，应为数字"
        return None
    if isinstance(value, str) and EXPONENT.fullmatch(value.strip()):
        # as for payments: a price written "1e3" is a slip, not 1000 yuan/kWh (a number YAML or JSON has
        # already read, e.g. unquoted 0.00001, is taken at its value: its notation is not known)
        errors[field_name] = f"“{value}”须写成普通小数（如 0.4883），不接受科学计数法"
        return None
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors[field_name] = f"“{value}”不是数字"
        return None
    if not d.is_finite():
        errors[field_name] = "应为有限数字"
        return None
    if d < 0 and not allow_negative:
        errors[field_name] = "不能为负数"
        return None
    return d


def _date(value, field_name: str, errors: dict, required=True) -> dt.date | None:
    if value is None or value == "":
        if required:
            errors[field_name] = "必填，日期格式 YYYY-MM-DD"
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errors[field_name] = f"日期格式不正确（{value}），应为 YYYY-MM-DD"
        return None


# ---------------------------------------------------------------------------------------------------
# Tariff schedules


@dataclass(frozen=True)
class Tiers:
    basis: str                      # monthly | annual
    bounds_kwh: tuple[Decimal, ...]  # upper bound of each tier but the last
    increments: tuple[Decimal, ...]  # one per tier


@dataclass(frozen=True)
class Surcharge:
    code: str
    name: str
    price: Decimal


@dataclass(frozen=True)
class Tariff:
    code: str
    name: str
    customer_class: str
    valid_from: dt.date
    valid_to: dt.date | None
    energy: dict  # register -> Decimal price
    tiers: Tiers | None = None
    surcharges: tuple[Surcharge, ...] = ()
    source: str = ""
    province: str = ""
    raw: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def tou(self) -> bool:
        return set(self.energy) != {"flat"}

    def covers(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


def parse_tariff(data) -> Tariff:
    """A tariff schedule (formats.md) → Tariff; TariffError with every problem found."""
    if not isinstance(data, dict):
        raise TariffError({"tariff": "电价方案应为对象（YAML/JSON 映射）"})
    errors: dict[str, str] = {}
    code = str(data.get("code") or "").strip()
    if not code:
        errors["code"] = "必填：电价代码"
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = "必填：电价名称"
    cclass = data.get("customer_class")
    if cclass not in CUSTOMER_CLASSES:
        errors["customer_class"] = f"用电类别应为 {'、'.join(CUSTOMER_CLASSES)} 之一"
    valid_from = _date(data.get("valid_from"), "valid_from", errors)
    valid_to = _date(data.get("valid_to"), "valid_to", errors, required=False)
    if valid_from and valid_to and valid_to < valid_from:
        errors["valid_to"] = "失效日期早于生效日期"
    energy_raw = data.get("energy")
    energy: dict[str, Decimal] = {}
    if not isinstance(energy_raw, dict) or not energy_raw:
        errors["energy"] = "必填：电度电价（flat，或分时 sharp/peak/flat/valley）"
    else:
        for reg, price in energy_raw.items():
            if reg not in TOU_REGISTERS:
                errors[f"energy.{reg}"] = f"未知的计费时段“{reg}”，应为 sharp/peak/flat/valley"
                continue
            d = _dec(price, f"energy.{reg}", errors)
            if d is not None:
                energy[reg] = d
        if energy and set(energy) != {"flat"} and not {"peak", "valley"} <= set(energy):
            errors["energy"] = "分时电价至少应有 peak 和 valley 两个时段"
    tiers = None
    tiers_raw = data.get("tiers")
    if tiers_raw is not None:
        if not isinstance(tiers_raw, dict):
            errors["tiers"] = "阶梯应为对象（basis, bounds_kwh, increments）"
        else:
            basis = tiers_raw.get("basis")
            if basis not in ("monthly", "annual"):
                errors["tiers.basis"] = "阶梯周期应为 monthly 或 annual"
            bounds = tiers_raw.get("bounds_kwh") or []
            incs = tiers_raw.get("increments") or []
            b = tuple(_dec(x, f"tiers.bounds_kwh[{i}]", errors) for i, x in enumerate(bounds))
            n = tuple(_dec(x, f"tiers.increments[{i}]", errors, allow_negative=True) for i, x in enumerate(incs))
            if not bounds:
                errors["tiers.bounds_kwh"] = "至少应有一个阶梯分界"
            elif len(incs) != len(bounds) + 1:
                errors["tiers.increments"] = f"加价个数应为分界个数+1（{len(bounds) + 1}个），实为{len(incs)}个"
            if None not in b and any(b[i] >= b[i + 1] for i in range(len(b) - 1)):
                errors["tiers.bounds_kwh"] = "阶梯分界应严格递增"
            if not any(k.startswith("tiers") for k in errors):
                tiers = Tiers(basis, b, n)
    surcharges = []
    for i, s in enumerate(data.get("surcharges") or []):
        if not isinstance(s, dict) or not s.get("code") or not s.get("name"):
            errors[f"surcharges[{i}]"] = "附加费应有 code、name、price"
            continue
        d = _dec(s.get("price"), f"surcharges[{i}].price", errors)
        if d is not None:
            surcharges.append(Surcharge(str(s["code"]), str(s["name"]), d))
    if errors:
        raise TariffError(errors)
    return Tariff(code=code, name=name, customer_class=cclass, valid_from=valid_from, valid_to=valid_to,
                  energy=energy, tiers=tiers, surcharges=tuple(surcharges), source=str(data.get("source") or ""),
                  province=str(data.get("province") or ""), raw=dict(data))


def tariff_to_dict(t: Tariff) -> dict:
    """Tariff → the exchange format (prices as strings, dates ISO); parse_tariff(tariff_to_dict(t)) == t."""
    out = {"code": t.code, "name": t.name, "customer_class": t.customer_class,
           "valid_from": t.valid_from.isoformat(), "valid_to": t.valid_to.isoformat() if t.valid_to else None,
           "energy": {k: str(v) for k, v in t.energy.items()}}
    if t.province:
        out["province"] = t.province
    if t.source:
        out["source"] = t.source
    if t.tiers:
        out["tiers"] = {"basis": t.tiers.basis, "bounds_kwh": [_num(b) for b in t.tiers.bounds_kwh],
                        "increments": [str(i) for i in t.tiers.increments]}
    if t.surcharges:
        out["surcharges"] = [{"code": s.code, "name": s.name, "price": str(s.price)} for s in t.surcharges]
    return out


def _num(d: Decimal):
    return int(d) if d == d.to_integral_value() else str(d)


def overlaps(tariffs) -> list[str]:
    """Messages for versions of one code whose validity overlaps (an error: a day must have one price)."""
    by_code: dict[str, list[Tariff]] = {}
    for t in tariffs:
        by_code.setdefault(t.code, []).append(t)
    problems = []
    far = dt.date.max
    for code, versions in by_code.items():
        versions.sort(key=lambda t: t.valid_from)
        for a, b in zip(versions, versions[1:]):
            if (a.valid_to or far) >= b.valid_from:
                problems.append(f"电价 {code} 的有效期重叠：{a.valid_from}～{a.valid_to or '长期'} 与 "
                                f"{b.valid_from}～{b.valid_to or '长期'}")
    return problems


# ---------------------------------------------------------------------------------------------------
# Bills


@dataclass(frozen=True)
class Line:
    item: str
    kwh: Decimal | None
    price: Decimal | None
    amount: Decimal
    kind: str = "energy"  # energy | tier | surcharge | late_charge

    def as_json(self) -> dict:
        return {"item": self.item, "kwh": None if self.kwh is None else _plain(self.kwh),
                "price": None if self.price is None else str(self.price), "amount": str(self.amount)}


def _plain(d: Decimal) -> str:
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s or "0"


@dataclass
class BillResult:
    lines: list[Line]
    period_start: dt.date
    period_end: dt.date
    tariff_codes: list[str]
    usage: dict
    total_kwh: Decimal
    late: Line | None = None          # 违约金 when paid after the due date: owed beside the bill, not a bill line
    overdue_days: int = 0

    @property
    def total(self) -> Decimal:
        """The bill's amount: the sum of its lines (formats.md)."""
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def amount_due(self) -> Decimal:
        """What the customer pays on `paid_on`: the bill plus the late-payment charge."""
        return self.total + (self.late.amount if self.late else Decimal("0.00"))

    def as_json(self) -> dict:
        out = {"lines": [line.as_json() for line in self.lines], "total": str(self.total)}
        if self.late is not None:
            rate = None if self.late.price is None else str(self.late.price)
            out["late_charge"] = {"item": self.late.item, "days": self.overdue_days, "rate_per_day": rate,
                                  "amount": str(self.late.amount)}
            out["amount_due"] = str(self.amount_due)
        return out


@dataclass(frozen=True)
class LateRules:
    residential: Decimal
    other_current_year: Decimal
    other_previous_years: Decimal
    minimum_total: Decimal

    @classmethod
    def from_yaml(cls, section: dict) -> LateRules:
        """`arrears.late_payment_charge` of time-limits.yaml."""
        return cls(Decimal(str(section["residential"]["rate_per_day"])),
                   Decimal(str(section["other_current_year"]["rate_per_day"])),
                   Decimal(str(section["other_previous_years"]["rate_per_day"])),
                   Decimal(str(section["minimum_total_yuan"])))


def segments(versions, start: dt.date, end: dt.date) -> list[tuple[Tariff, dt.date, dt.date]]:
    """The tariff versions covering [start, end] with the days each covers; an uncovered day is an error."""
    if end < start:
        raise TariffError({"period.end": "计费期结束日早于开始日"})
    out = []
    day = start
    ordered = sorted(versions, key=lambda t: t.valid_from)
    while day <= end:
        t = next((v for v in ordered if v.covers(day)), None)
        if t is None:
            raise TariffError({"tariff": f"电价 {ordered[0].code if ordered else ''} 在 {day} 没有有效版本"})
        seg_end = min(end, t.valid_to or end)
        out.append((t, day, seg_end))
        day = seg_end + dt.timedelta(days=1)
    return out


def _split(amount: Decimal, weights: list[int]) -> list[Decimal]:
    """Split `amount` by integer weights at 0.01 kWh, the last part taking the remainder."""
    total = sum(weights)
    parts = [(amount * w / total).quantize(KWH_Q, rounding=ROUND_HALF_UP) for w in weights[:-1]]
    return parts + [amount - sum(parts, Decimal(0))]


def tier_kwh(tiers: Tiers, usage: Decimal, before: Decimal, scale: Decimal = Decimal(1)) -> list[Decimal]:
    """kWh of `usage` in each tier, usage counted from `before` (annual: the year's usage so far;
    monthly: 0). Monthly bounds are scaled (proration)."""
    bounds = [b * scale for b in tiers.bounds_kwh] if tiers.basis == "monthly" else list(tiers.bounds_kwh)
    lo_edges = [Decimal(0)] + bounds
    hi_edges = bounds + [None]
    start, stop = before, before + usage
    out = []
    for lo, hi in zip(lo_edges, hi_edges):
        top = stop if hi is None else min(stop, hi)
        out.append(max(Decimal(0), top - max(start, lo)).quantize(KWH_Q, rounding=ROUND_HALF_UP))
    # rounding of scaled bounds must not lose or gain kWh
    drift = usage - sum(out, Decimal(0))
    if drift:
        last = max(i for i, v in enumerate(out) if v > 0 or i == 0)
        out[last] += drift
    return out


# Classes whose catalogue price already includes the government funds (政府性基金及附加): their tariff may name
# the funds, but no separate line is billed. Non-residential customers pay them as separate lines (the issue:
# "government surcharges listed separately (e.g. 国家重大水利工程建设基金 for non-residential customers)"), and
# formats.md's bill-calc example — a residential tariff naming the water fund — totals 297.92 without it.
FUNDS_INCLUDED_CLASSES = frozenset({"residential"})


def billed_surcharges(t: Tariff) -> tuple[Surcharge, ...]:
    """The surcharges billed as separate lines for a tariff: none for a class whose price includes them."""
    return () if t.customer_class in FUNDS_INCLUDED_CLASSES else t.surcharges


def compute_bill(versions, start: dt.date, end: dt.date, usage: dict, ytd_before: Decimal = Decimal(0)) -> BillResult:
    """The bill lines of one period: energy by register, tier increments, surcharges (formats.md)."""
    versions = list(versions)
    if not versions:
        raise TariffError({"tariff": "没有电价"})
    usage = normalise_usage(usage)
    total = sum(usage.values(), Decimal(0))
    segs = segments(versions, start, end)
    days = [(b - a).days + 1 for _, a, b in segs]
    period_days = sum(days)
    multi = len(segs) > 1
    # usage per register per segment
    reg_parts = {reg: _split(kwh, days) for reg, kwh in usage.items()}
    lines: list[Line] = []
    ytd = ytd_before
    for i, (t, a, b) in enumerate(segs):
        suffix = f"（{a:%m-%d}～{b:%m-%d}，{days[i]}天）" if multi else ""
        seg_usage = {reg: parts[i] for reg, parts in reg_parts.items()}
        seg_total = sum(seg_usage.values(), Decimal(0))
        if t.tou:
            if set(seg_usage) == {"total"}:
                raise TariffError({"usage_kwh": f"电价 {t.code} 为分时电价，需要分时示数（{'/'.join(t.energy)}）"})
            unknown = set(seg_usage) - set(t.energy)
            if unknown:
                raise TariffError({"usage_kwh": f"电价 {t.code} 没有时段 {'、'.join(sorted(unknown))}"})
            for reg in TOU_REGISTERS:
                if reg in seg_usage:
                    price = t.energy[reg]
                    lines.append(Line(f"电度电费（{REGISTER_LABELS[reg]}）{suffix}", seg_usage[reg], price,
                                      fen(seg_usage[reg] * price)))
        else:
            price = t.energy["flat"]
            lines.append(Line(f"电度电费{suffix}", seg_total, price, fen(seg_total * price)))
        if t.tiers:
            scale = Decimal(days[i]) / Decimal(period_days)
            before = ytd if t.tiers.basis == "annual" else Decimal(0)
            for n, (kwh, inc) in enumerate(zip(tier_kwh(t.tiers, seg_total, before, scale), t.tiers.increments)):
                if kwh and inc:
                    lines.append(Line(f"阶梯加价（{TIER_LABELS[n]}）{suffix}", kwh, inc, fen(kwh * inc), "tier"))
        for s in billed_surcharges(t):
            lines.append(Line(f"{s.name}{suffix}", seg_total, s.price, fen(seg_total * s.price), "surcharge"))
        ytd += seg_total
    return BillResult(lines, start, end, sorted({t.code for t, _, _ in segs}), usage, total)


def normalise_usage(usage) -> dict[str, Decimal]:
    if not isinstance(usage, dict) or not usage:
        raise TariffError({"usage_kwh": "必填：total 或分时示数（sharp/peak/flat/valley）的电量"})
    errors: dict[str, str] = {}
    out = {}
    for reg, v in usage.items():
        if reg not in ("total", *TOU_REGISTERS):
            errors[f"usage_kwh.{reg}"] = f"未知的示数类型“{reg}”"
            continue
        d = _dec(v, f"usage_kwh.{reg}", errors)
        if d is not None:
            out[reg] = d
    if "total" in out and len(out) > 1:
        tou_sum = sum(v for k, v in out.items() if k != "total")
        if tou_sum != out["total"]:
            errors["usage_kwh"] = f"分时电量之和 {tou_sum} 与总电量 {out['total']} 不符"
        else:
            out.pop("total")
    if errors:
        raise TariffError(errors)
    return out


def late_days(due: dt.date, paid: dt.date) -> int:
    return max(0, (paid - due).days)


def late_charge(overdue: Decimal, due: dt.date, paid: dt.date, customer_class: str, rules: LateRules) -> Line | None:
    """违约金 for `overdue` yuan due on `due` and paid on `paid`; None when not late."""
    days = late_days(due, paid)
    if days == 0 or overdue <= 0:
        return None
    if customer_class == "residential":
        amount = overdue * rules.residential * days
        label = f"电费违约金（逾期{days}天×{_permille(rules.residential)}/天）"
        rate = rules.residential
    else:
        year_end = dt.date(due.year, 12, 31)
        current = max(0, min(paid, year_end).toordinal() - due.toordinal())
        previous = days - current
        amount = overdue * (rules.other_current_year * current + rules.other_previous_years * previous)
        parts = [f"{current}天×{_permille(rules.other_current_year)}"] if current else []
        if previous:
            parts.append(f"跨年度{previous}天×{_permille(rules.other_previous_years)}")
        label = f"电费违约金（{'，'.join(parts)}/天）"
        rate = rules.other_current_year if not previous else None
    amount = max(fen(amount), rules.minimum_total)
    return Line(label, None, rate, amount, "late_charge")


def _permille(rate: Decimal) -> str:
    return f"{_plain(rate * 1000)}‰"


def bill_calc(payload: dict, resolve, late_rules: LateRules) -> BillResult:
    """The bill-calc input (formats.md) → BillResult. `resolve(code)` returns the versions of a shipped
    tariff (or [] when unknown)."""
    if not isinstance(payload, dict):
        raise TariffError({"__all__": "输入应为 JSON 对象"})
    errors: dict[str, str] = {}
    for key in ("tariff", "period", "usage_kwh"):
        if key not in payload or payload[key] in (None, "", {}):
            errors[key] = "必填字段"
    period = payload.get("period")
    if "period" not in errors:
        if not isinstance(period, dict):
            errors["period"] = "应为对象 {start, end}"
        else:
            _date(period.get("start"), "period.start", errors)
            _date(period.get("end"), "period.end", errors)
    if errors:
        raise TariffError(errors)
    start = dt.date.fromisoformat(str(period["start"]))
    end = dt.date.fromisoformat(str(period["end"]))
    spec = payload["tariff"]
    if isinstance(spec, str):
        versions = resolve(spec)
        if not versions:
            raise TariffError({"tariff": f"未找到电价代码“{spec}”"})
    elif isinstance(spec, dict):
        versions = [parse_tariff(spec)]
    elif isinstance(spec, list):
        versions = [parse_tariff(s) for s in spec]
        if problems := overlaps(versions):
            raise TariffError({"tariff": problems[0]})
    else:
        raise TariffError({"tariff": "应为电价代码或完整的电价方案"})
    more: dict[str, str] = {}
    if payload.get("ytd_kwh_before") is None:
        # formats.md: the year's usage before this period is "needed for annual tiers" — never assumed 0
        annual = sorted({v.code for v in versions if v.tiers and v.tiers.basis == "annual"
                         and v.valid_from <= end and (v.valid_to is None or v.valid_to >= start)})
        if annual:
            more["ytd_kwh_before"] = (f"必填：电价 {'、'.join(annual)} 为年阶梯电价，须给出本年度此前的用电量"
                                      f"（千瓦时；本期为当年第一期时填 0）")
        ytd = Decimal(0)
    else:
        ytd = _dec(payload["ytd_kwh_before"], "ytd_kwh_before", more)
    due = _date(payload.get("due_date"), "due_date", more, required=False)
    paid = _date(payload.get("paid_on"), "paid_on", more, required=False)
    try:
        result = compute_bill(versions, start, end, payload["usage_kwh"], ytd or Decimal(0))
    except TariffError as exc:
        raise TariffError({**more, **exc.errors}) from None  # every bad field at once
    if more:
        raise TariffError(more)
    if due and paid:
        result.late = late_charge(result.total, due, paid, versions[0].customer_class, late_rules)
        result.overdue_days = late_days(due, paid) if result.late else 0
    return result


def format_bill(result: BillResult, title: str = "") -> str:
    """A readable bill in Chinese (bill-calc without --format json)."""
    out = [title or "电费计算单",
           f"计费期：{result.period_start} 至 {result.period_end}    电价：{'、'.join(result.tariff_codes)}",
           f"用电量：{_plain(result.total_kwh)} 千瓦时（" + "，".join(
               f"{REGISTER_LABELS.get(k, k)} {_plain(v)}" for k, v in result.usage.items()) + "）",
           "-" * 60,
           f"{'项目':<28}{'电量(千瓦时)':>10}{'单价(元)':>12}{'金额(元)':>10}"]
    for line in result.lines:
        out.append(f"{line.item:<28}{'' if line.kwh is None else _plain(line.kwh):>12}"
                   f"{'' if line.price is None else str(line.price):>14}{str(line.amount):>12}")  # prices as in JSON
    out.append("-" * 60)
    out.append(f"合计：{result.total} 元")
    if result.late is not None:
        out.append(f"{result.late.item}：{result.late.amount} 元（逾期 {result.overdue_days} 天）")
        out.append(f"应缴金额：{result.amount_due} 元")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------------
# Disconnection for arrears (欠费停电): time-limits.yaml arrears.disconnection, 《供电营业规则》


@dataclass(frozen=True)
class CutLimits:
    notice_min: dt.timedelta
    notice_max: dt.timedelta
    second_notice: dt.timedelta
    reconnect: dt.timedelta

    @classmethod
    def from_yaml(cls, arrears: dict) -> CutLimits:
        d = arrears["disconnection"]
        return cls(dt.timedelta(days=d["written_notice_before_cut"]["days_min"]),
                   dt.timedelta(days=d["written_notice_before_cut"]["days_max"]),
                   dt.timedelta(minutes=d["second_notice_before_cut"]["minutes"]),
                   dt.timedelta(hours=d["reconnection_after_payment"]["hours"]))


def gettext_noop(msgid: str) -> str:
    """Marks a message for the catalogue (these rules stay free of Django; pages translate, see Reason)."""
    return msgid


class Reason(str):
    """A rule's reason: the Chinese text itself — what the API and error messages carry — that also keeps its
    msgid and values, so a page can show it in the reader's language (billing/labels.py cut_condition)."""

    def __new__(cls, msgid: str, **params):
        text = super().__new__(cls, msgid % params if params else msgid)
        text.msgid, text.params = msgid, params
        return text


def cut_violations(cut_at: dt.datetime, *, owed: Decimal, notice_delivered_at: dt.datetime | None,
                   second_notice_at: dt.datetime | None, critical: bool, authority_reported_at: dt.datetime | None,
                   limits: CutLimits) -> list[str]:
    """Why a cut at `cut_at` would be unlawful (empty list: it may go ahead), as Reasons."""
    problems = []
    if owed <= 0:
        problems.append(Reason(gettext_noop("客户已无欠费，不得停电")))
    if notice_delivered_at is None:
        problems.append(Reason(gettext_noop("未送达书面停电通知")))
    else:
        ahead = cut_at - notice_delivered_at
        if ahead < limits.notice_min:
            problems.append(Reason(gettext_noop("书面停电通知送达不足%(days)s天（送达于 %(at)s）"),
                                   days=limits.notice_min.days, at=f"{to_local(notice_delivered_at):%Y-%m-%d %H:%M}"))
        elif ahead > limits.notice_max:
            problems.append(Reason(gettext_noop("书面停电通知送达已超过%(days)s天，须重新送达"), days=limits.notice_max.days))
    minutes = int(limits.second_notice.total_seconds() // 60)
    if second_notice_at is None:
        problems.append(Reason(gettext_noop("停电前%(minutes)s分钟未再次通知客户"), minutes=minutes))
    elif notice_delivered_at and second_notice_at < notice_delivered_at:
        problems.append(Reason(gettext_noop("再次通知早于书面通知")))
    elif cut_at - second_notice_at < limits.second_notice:
        problems.append(Reason(gettext_noop("再次通知距停电不足%(minutes)s分钟"), minutes=minutes))
    if critical and authority_reported_at is None:
        problems.append(Reason(gettext_noop("重要客户停电前须报告电力管理部门，未报告不得停电")))
    if cut_at.tzinfo is None:
        problems.append(Reason(gettext_noop("停电时间必须带时区")))
    return problems


def reconnect_state(paid_at: dt.datetime, now: dt.datetime, reconnected_at: dt.datetime | None,
                    limits: CutLimits) -> dict:
    """The reconnection clock the dispatch centre sees: due time, time left, late (complaint risk)."""
    due = paid_at + limits.reconnect
    end = reconnected_at or now
    left = due - now if reconnected_at is None else None
    return {"due_at": due, "left": left, "left_text": duration_text(left) if left is not None else "",
            "late": end > due, "same_day": to_local(end).date() == to_local(paid_at).date()}


def duration_text(span: dt.timedelta) -> str:
    """A time left as a clock reads it, hours:minutes (`23:05`, `0:45`; whole minutes, never negative) — the
    same in every language."""
    minutes = max(int(span.total_seconds() // 60), 0)
    return f"{minutes // 60}:{minutes % 60:02d}"


PLAIN_MONEY = re.compile(r"[+-]?\d+(\.\d+)?", re.ASCII)               # 1000, 1000.5, 1000.50 (at most fen: below)
EXPONENT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+", re.ASCII)  # 1e3, 1.5E+2
MAX_PAYMENT = Decimal("999999999999.99")  # billing.models.MONEY: 14 digits, 2 decimals


def check_payment_amount(amount, currency: str = "CNY") -> Decimal:
    """A payment is yuan with at most fen precision, written as a plain decimal (text or JSON number; "1e3" and
    other notations are refused rather than read as 1000); anything else is refused (field → message)."""
    if (currency or "").upper() not in ("CNY", "RMB", "人民币"):
        raise TariffError({"currency": f"只接受人民币（CNY）缴费，收到“{currency}”"})
    if isinstance(amount, bool) or amount is None:
        raise TariffError({"amount": "必填，应为金额（元，如 100 或 100.50）"})
    if isinstance(amount, float):
        amount = repr(amount)
    if not isinstance(amount, (int, Decimal)):
        text = str(amount).strip()
        if not PLAIN_MONEY.fullmatch(text):
            if EXPONENT.fullmatch(text):
                raise TariffError({"amount": f"金额“{amount}”须写成普通小数（如 1000 或 1000.50），不接受科学计数法"})
            raise TariffError({"amount": f"金额“{amount}”不是数字，应写成普通小数（如 1000 或 1000.50）"})
        amount = text
    try:
        d = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        raise TariffError({"amount": f"金额“{amount}”不是数字"}) from None
    if not d.is_finite() or d <= 0:
        raise TariffError({"amount": "金额应为正数"})
    if d > MAX_PAYMENT:
        raise TariffError({"amount": f"金额过大（最多 {MAX_PAYMENT} 元）"})
    if d != d.quantize(FEN):
        raise TariffError({"amount": "金额最多到分（两位小数）"})
    return d.quantize(FEN)
