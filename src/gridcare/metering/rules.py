"""VEE rules as pure functions over plain data (no ORM, no I/O); thresholds come from data/vee.yaml.

`check_read` is the reference for one read; `vee_frame` applies the same rules to a whole batch with
Polars (bulk imports, bill runs, the benchmark) and a test keeps the two in agreement. Interval-data rules
live in intervals.py (one SQL text run by DuckDB and by Spark)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import yaml

CONFIG_FILE = Path(__file__).resolve().parent / "data" / "vee.yaml"
TOU = ("sharp", "peak", "flat", "valley")

RULE_LABELS = {
    "lower_than_previous": "示数小于上次示数（非翻转、非换表）",
    "zero_consumption": "正常用电户零电量",
    "high_usage": "电量异常偏高（对比历史同期）",
    "low_usage": "电量异常偏低（对比历史同期）",
    "tou_mismatch": "分时示数之和与总示数不符",
    "consecutive_estimates": "连续估抄",
    "disconnected_consumption": "停电户有电量",
    "interval_spike": "曲线数据尖峰",
    "interval_gap": "曲线数据缺点",
    "interval_negative": "曲线数据为负",
    "interval_bad_quality": "曲线数据质量码异常",
    "interval_duplicate": "曲线数据重复点",
    "missed_read": "漏抄（账期内无示数）",
}


class ReadRejected(ValueError):
    """A read that cannot be stored at all (negative, in the future, wrong meter): field → message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("；".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass(frozen=True)
class VeeConfig:
    register_digits: int
    rollover_max_kwh: Decimal
    future_tolerance: dt.timedelta
    zero_min_days: int
    high_factor: Decimal
    low_factor: Decimal
    min_expected_kwh: Decimal
    min_delta_kwh: Decimal
    tou_tolerance_kwh: Decimal
    max_consecutive_estimates: int
    disconnected_tolerance_kwh: Decimal
    interval: dict
    missed_read_grace_days: int = 2
    tou_default_shares: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict) -> VeeConfig:
        u = d["usage"]
        return cls(int(d["register_digits"]), Decimal(str(d["rollover_max_kwh"])),
                   dt.timedelta(minutes=int(d["future_tolerance_minutes"])), int(d["zero_consumption_min_days"]),
                   Decimal(u["high_factor"]), Decimal(u["low_factor"]), Decimal(u["min_expected_kwh"]),
                   Decimal(u["min_delta_kwh"]), Decimal(d["tou_tolerance_kwh"]), int(d["max_consecutive_estimates"]),
                   Decimal(d["disconnected_tolerance_kwh"]), dict(d["interval"]),
                   int(d.get("missed_read_grace_days", 2)), dict(d.get("tou_default_shares") or {}))


@lru_cache(maxsize=1)
def config() -> VeeConfig:
    return VeeConfig.from_dict(yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Finding:
    rule: str
    message: str


@dataclass
class ReadContext:
    """What the rules need to know about the account around one read."""

    now: dt.datetime
    previous_value: Decimal | None = None      # the previous read of this register on this meter
    previous_at: dt.datetime | None = None
    exchange: tuple[Decimal, Decimal, Decimal] | None = None  # (old meter's previous, old final, new initial)
    account_status: str = "active"             # active | vacant | disconnected | closed
    zero_explained: str | None = None          # an outage/vacancy that explains zero usage
    expected_kwh: Decimal | None = None        # same month last year, else mean of recent months
    consecutive_estimates: int = 0             # estimated reads immediately before this one
    tou_values: dict = field(default_factory=dict)  # the other registers' consumption at the same read


def reject_bad(value: Decimal, read_at: dt.datetime, ctx: ReadContext, cfg: VeeConfig) -> None:
    errors = {}
    if value < 0:
        errors["value_kwh"] = "示数不能为负数"
    if value >= Decimal(10) ** cfg.register_digits:
        errors["value_kwh"] = f"示数超出表计位数（{cfg.register_digits}位整数）"
    if read_at.tzinfo is None:
        errors["read_at"] = "抄表时间必须带时区"
    elif read_at > ctx.now + cfg.future_tolerance:
        errors["read_at"] = "抄表时间晚于当前时间（未来的示数）"
    if ctx.previous_at and read_at.tzinfo and read_at <= ctx.previous_at and not ctx.exchange:
        errors["read_at"] = "抄表时间不晚于上次抄表时间"
    if errors:
        raise ReadRejected(errors)


def consumption(value: Decimal, ctx: ReadContext, cfg: VeeConfig) -> tuple[Decimal | None, bool, str | None]:
    """(kWh, rolled over?, finding rule) from the previous read; handles meter exchange and rollover."""
    if ctx.exchange:
        old_prev, old_final, new_initial = ctx.exchange
        kwh = (old_final - old_prev) + (value - new_initial)
        return kwh, False, ("lower_than_previous" if kwh < 0 else None)
    if ctx.previous_value is None:
        return None, False, None
    if value >= ctx.previous_value:
        return value - ctx.previous_value, False, None
    wrapped = Decimal(10) ** cfg.register_digits - ctx.previous_value + value
    if wrapped <= cfg.rollover_max_kwh:
        return wrapped, True, None
    return value - ctx.previous_value, False, "lower_than_previous"


def usage_findings(kwh: Decimal, expected: Decimal | None, cfg: VeeConfig) -> list[Finding]:
    if expected is None or expected < cfg.min_expected_kwh:
        return []
    if kwh > expected * cfg.high_factor and kwh - expected >= cfg.min_delta_kwh:
        return [Finding("high_usage", f"本期 {kwh} kWh，历史同期约 {expected.quantize(Decimal('1'))} kWh")]
    if kwh < expected * cfg.low_factor and expected - kwh >= cfg.min_delta_kwh:
        return [Finding("low_usage", f"本期 {kwh} kWh，历史同期约 {expected.quantize(Decimal('1'))} kWh")]
    return []


def check_read(value: Decimal, read_at: dt.datetime, register: str, source: str, ctx: ReadContext,
               cfg: VeeConfig | None = None) -> tuple[Decimal | None, bool, list[Finding]]:
    """Validate one read: raises ReadRejected for input that must not be stored; returns (consumption,
    rollover, findings) otherwise. A read with findings is held (no bill) until they are resolved."""
    cfg = cfg or config()
    reject_bad(value, read_at, ctx, cfg)
    kwh, rolled, rule = consumption(value, ctx, cfg)
    findings: list[Finding] = []
    if rule:
        findings.append(Finding(rule, f"本次示数 {value} 小于上次 {ctx.previous_value}"))
    if source == "estimate" and ctx.consecutive_estimates + 1 > cfg.max_consecutive_estimates:
        findings.append(Finding("consecutive_estimates", f"已连续 {ctx.consecutive_estimates + 1} 次估抄，需现场抄表"))
    if kwh is not None and kwh >= 0 and register == "total":
        days = (read_at - ctx.previous_at).days if ctx.previous_at else None
        if ctx.account_status == "disconnected":
            if kwh > cfg.disconnected_tolerance_kwh:
                findings.append(Finding("disconnected_consumption", f"欠费停电期间走字 {kwh} kWh"))
        elif ctx.account_status == "active" and kwh == 0:
            if not ctx.zero_explained and (days is None or days >= cfg.zero_min_days):
                findings.append(Finding("zero_consumption", "正常用电户本期零电量（无停电、空置记录）"))
        elif ctx.account_status == "active":
            findings.extend(usage_findings(kwh, ctx.expected_kwh, cfg))
        if ctx.tou_values:
            tou_sum = sum(ctx.tou_values.values(), Decimal(0))
            if abs(tou_sum - kwh) > cfg.tou_tolerance_kwh:
                findings.append(Finding("tou_mismatch", f"分时电量之和 {tou_sum} 与总电量 {kwh} 相差超过 {cfg.tou_tolerance_kwh}"))
    return kwh, rolled, findings


def expected_usage(same_month_last_year: Decimal | None, recent: list[Decimal]) -> Decimal | None:
    """The account's own history and season: the same month last year, else the mean of recent months."""
    if same_month_last_year is not None:
        return same_month_last_year
    recent = [r for r in recent if r is not None][-3:]
    return sum(recent, Decimal(0)) / len(recent) if recent else None


def estimate_kwh(days: int, expected_month_kwh: Decimal | None, recent_daily: Decimal | None,
                 next_actual: tuple[Decimal, int] | None = None) -> Decimal:
    """Estimated consumption for `days`: interpolation when the next actual read is known
    (kWh to it × days / days to it), else the account's history (seasonal month scaled to the days,
    else the recent daily mean), else 0."""
    if next_actual is not None and next_actual[1] > 0:
        kwh, span = next_actual
        return (kwh * days / span).quantize(Decimal("0.01"))
    if expected_month_kwh is not None:
        return (expected_month_kwh * days / 30).quantize(Decimal("0.01"))
    if recent_daily is not None:
        return (recent_daily * days).quantize(Decimal("0.01"))
    return Decimal("0.00")


def tou_shares(registers, history: dict | None, defaults: dict | None = None) -> dict[str, Decimal]:
    """Weights to split an estimate over `registers`: the account's own history (kWh per register) when it
    covers them with a positive sum, else `defaults` (vee.yaml tou_default_shares for the register set),
    else equal parts."""
    registers = tuple(registers)
    history = {r: Decimal(str(history[r])) for r in registers if history and history.get(r) is not None}
    if len(history) == len(registers) and all(v >= 0 for v in history.values()) and sum(history.values()) > 0:
        return history
    d = (defaults or {}).get(",".join(registers))
    if d:
        return {r: Decimal(str(d[r])) for r in registers}
    return {r: Decimal(1) for r in registers}


def split_tou(total: Decimal, shares: dict[str, Decimal]) -> dict[str, Decimal]:
    """Split a total (kWh, 0.01 precision as reads are stored) in proportion to `shares`: each part rounded
    down to 0.01 kWh, the hundredths left over given to the largest remainders (ties: register order), so
    the parts sum to the total exactly and none is negative."""
    cents = int((Decimal(total) * 100).to_integral_value())
    regs = list(shares)
    weights = [Decimal(shares[r]) for r in regs]
    if not regs:
        return {}
    wsum = sum(weights)
    if wsum <= 0:
        weights, wsum = [Decimal(1)] * len(regs), Decimal(len(regs))
    exact = [Decimal(cents) * w / wsum for w in weights]
    base = [int(e) for e in exact]  # non-negative: floor
    left = cents - sum(base)
    order = sorted(range(len(regs)), key=lambda i: (-(exact[i] - base[i]), i))
    for i in order[:left]:
        base[i] += 1
    return {r: (Decimal(b) / 100).quantize(Decimal("0.01")) for r, b in zip(regs, base)}


def vee_frame(df, cfg: VeeConfig | None = None):
    """The read rules over a Polars frame with columns value, previous, expected (nullable), status
    (account), zero_explained (bool), days, source, estimates_before: adds kwh, rollover and rule (the
    first finding, as check_read orders them; null when clean). Negative/future reads are refused before
    this (reject_bad) — a frame holds only storable reads."""
    import polars as pl

    cfg = cfg or config()
    top = float(10 ** cfg.register_digits)
    lower = pl.col("value") < pl.col("previous")
    wrapped = top - pl.col("previous") + pl.col("value")
    rolled = lower & (wrapped <= float(cfg.rollover_max_kwh))
    df = df.with_columns(
        pl.when(rolled).then(wrapped).otherwise(pl.col("value") - pl.col("previous")).round(2).alias("kwh"),
        rolled.alias("rollover"))
    exp = pl.col("expected")
    usable = exp.is_not_null() & (exp >= float(cfg.min_expected_kwh))
    high = usable & (pl.col("kwh") > exp * float(cfg.high_factor)) & (pl.col("kwh") - exp >= float(cfg.min_delta_kwh))
    low = usable & (pl.col("kwh") < exp * float(cfg.low_factor)) & (exp - pl.col("kwh") >= float(cfg.min_delta_kwh))
    active = pl.col("status") == "active"
    rule = (pl.when(lower & ~rolled).then(pl.lit("lower_than_previous"))
            .when((pl.col("source") == "estimate") & (pl.col("estimates_before") + 1 > cfg.max_consecutive_estimates))
            .then(pl.lit("consecutive_estimates"))
            .when((pl.col("status") == "disconnected") & (pl.col("kwh") > float(cfg.disconnected_tolerance_kwh)))
            .then(pl.lit("disconnected_consumption"))
            .when(active & (pl.col("kwh") == 0) & ~pl.col("zero_explained")
                  & (pl.col("days").is_null() | (pl.col("days") >= cfg.zero_min_days))).then(pl.lit("zero_consumption"))
            .when(active & (pl.col("kwh") != 0) & high).then(pl.lit("high_usage"))
            .when(active & (pl.col("kwh") != 0) & low).then(pl.lit("low_usage"))
            .otherwise(pl.lit(None, dtype=pl.String)))
    return df.with_columns(rule.alias("rule"))
