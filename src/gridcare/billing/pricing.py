"""Set-based pricing: the rules of `rules.compute_bill` applied to a whole bill run at once with Polars.

Exact, not approximate: kWh are integers in 0.01 kWh and prices integers in 1e-8 yuan, so a line's
kWh × price is an exact integer in 1e-10 yuan and rounding to the fen half up is `(x + 5e7) // 1e8` —
the same figure `fen(kWh × price)` gives with Decimal. The bill's `lines` JSON is built as text by the
same expressions, in the shape `Line.as_json` writes. A tariff whose versions change inside the period
(proration) or whose prices need more than 8 decimals is priced row by row with `compute_bill` (rare: a
few accounts around a price change); a test compares this module with `compute_bill` on samples.

Input frame: `customer_id`, `tariff_code`, usage per register in 0.01 kWh (`total`, `sharp`, `peak`,
`flat`, `valley`, Int64, null when not read) and `ytd` (the year's billed usage before this period, 0.01
kWh). Output adds `kwh_c` (billed kWh, 0.01 kWh), `amount_fen` (Int64), `lines` (JSON text) and
`error` (a Chinese reason when the account cannot be billed, e.g. a TOU tariff without TOU reads;
those rows have null amounts and are held by the run).
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from .rules import (REGISTER_LABELS, TIER_LABELS, TOU_REGISTERS, TariffError, billed_surcharges, compute_bill,
                    segments)

REGISTERS = ("total", *TOU_REGISTERS)
PRICE_SCALE = 10 ** 8     # prices in 1e-8 yuan
HALF = 5 * 10 ** 7        # half a fen in 1e-10 yuan


def _price_int(p: Decimal) -> int | None:
    v = p * PRICE_SCALE
    return int(v) if v == v.to_integral_value() else None


def _json_text(s: str) -> str:
    """A string as it appears inside json.dumps(..., ensure_ascii=False) output (without the quotes)."""
    return json.dumps(s, ensure_ascii=False)[1:-1]


def kwh_text(c):
    """`rules._plain` of a kWh in 0.01 kWh, as a Polars expression."""
    import polars as pl

    whole = (c // 100).cast(pl.String)
    frac = c % 100
    return (pl.when(frac == 0).then(whole)
            .when(frac % 10 == 0).then(pl.concat_str([whole, pl.lit("."), (frac // 10).cast(pl.String)]))
            .otherwise(pl.concat_str([whole, pl.lit("."), frac.cast(pl.String).str.zfill(2)])))


def yuan_text(f):
    """Fen as a yuan string with two decimals (`str(Decimal('12.30'))`)."""
    import polars as pl

    return pl.concat_str([(f // 100).cast(pl.String), pl.lit("."), (f % 100).cast(pl.String).str.zfill(2)])


def _line(item: str, kwh, price: Decimal, amount):
    import polars as pl

    return pl.concat_str([pl.lit('{"item": "' + _json_text(item) + '", "kwh": "'), kwh_text(kwh),
                          pl.lit('", "price": "' + str(price) + '", "amount": "'), yuan_text(amount), pl.lit('"}')])


def _fen(kwh, price_i: int):
    return (kwh * price_i + HALF) // (PRICE_SCALE)


def _vector_plan(t) -> bool:
    prices = list(t.energy.values()) + [s.price for s in billed_surcharges(t)]
    if t.tiers:
        prices += list(t.tiers.increments)
        if any((b * 100) != (b * 100).to_integral_value() for b in t.tiers.bounds_kwh):
            return False
    return all(_price_int(p) is not None and p >= 0 for p in prices)


def _price_group(df, t):
    """Price the rows of one tariff version covering the whole period (no proration)."""
    import polars as pl

    tou_cols = [pl.col(r) for r in TOU_REGISTERS]
    has_tou = pl.any_horizontal([c.is_not_null() for c in tou_cols])
    tou_sum = pl.sum_horizontal([c.fill_null(0) for c in tou_cols])
    if t.tou:
        # compute_bill refuses a TOU tariff with only a total (and registers the tariff has no price for)
        unknown = [r for r in TOU_REGISTERS if r not in t.energy]
        bad = ~has_tou
        if unknown:
            bad = bad | pl.any_horizontal([pl.col(r).is_not_null() for r in unknown])
        df = df.with_columns(tou_sum.alias("kwh_c"), pl.when(bad).then(
            pl.lit(f"电价 {t.code} 为分时电价，需要分时示数（{'/'.join(t.energy)}）")).otherwise(None).alias("error"))
    else:
        df = df.with_columns(pl.when(pl.col("total").is_not_null()).then(pl.col("total")).otherwise(tou_sum)
                             .alias("kwh_c"), pl.lit(None, dtype=pl.String).alias("error"))
    total = pl.col("kwh_c")
    lines, amounts = [], []
    if t.tou:
        for reg in TOU_REGISTERS:
            if reg in t.energy:
                p = t.energy[reg]
                amt = _fen(pl.col(reg), _price_int(p))
                lines.append(pl.when(pl.col(reg).is_not_null()).then(
                    _line(f"电度电费（{REGISTER_LABELS[reg]}）", pl.col(reg), p, amt)))
                amounts.append(amt.fill_null(0))
    else:
        p = t.energy["flat"]
        amt = _fen(total, _price_int(p))
        lines.append(_line("电度电费", total, p, amt))
        amounts.append(amt)
    if t.tiers:
        bounds = [int(b * 100) for b in t.tiers.bounds_kwh]
        start = pl.col("ytd").fill_null(0) if t.tiers.basis == "annual" else pl.lit(0, dtype=pl.Int64)
        stop = start + total
        for n, (lo, hi, inc) in enumerate(zip([0] + bounds, bounds + [None], t.tiers.increments)):
            top = stop if hi is None else pl.min_horizontal(stop, pl.lit(hi, dtype=pl.Int64))
            kwh = pl.max_horizontal(pl.lit(0, dtype=pl.Int64), top - pl.max_horizontal(start, pl.lit(lo, dtype=pl.Int64)))
            if inc == 0:
                continue
            amt = _fen(kwh, _price_int(inc))
            lines.append(pl.when(kwh != 0).then(_line(f"阶梯加价（{TIER_LABELS[n]}）", kwh, inc, amt)))
            amounts.append(amt)
    for s in billed_surcharges(t):
        amt = _fen(total, _price_int(s.price))
        lines.append(_line(s.name, total, s.price, amt))
        amounts.append(amt)
    ok = pl.col("error").is_null()
    return df.with_columns(
        pl.when(ok).then(pl.sum_horizontal(amounts)).otherwise(None).cast(pl.Int64).alias("amount_fen"),
        pl.when(ok).then(pl.concat_str([pl.lit("["), pl.concat_str(lines, separator=", ", ignore_nulls=True),
                                        pl.lit("]")])).otherwise(None).alias("lines"))


def _price_rows(df, versions, start, end):
    """Row by row with compute_bill (proration, unusual prices): the reference rules themselves."""
    import polars as pl

    kwh, amount, lines, errors = [], [], [], []
    t_last = versions[-1]
    for row in df.iter_rows(named=True):
        tou = {r: Decimal(row[r]) / 100 for r in TOU_REGISTERS if row[r] is not None}
        if tou and t_last.tou:
            use = tou
        else:
            use = {"total": Decimal(row["total"]) / 100 if row["total"] is not None else sum(tou.values(), Decimal(0))}
        try:
            res = compute_bill(versions, start, end, use, Decimal(row["ytd"] or 0) / 100)
        except TariffError as exc:
            kwh.append(None), amount.append(None), lines.append(None)
            errors.append("；".join(exc.errors.values()))
            continue
        kwh.append(int(res.total_kwh * 100)), amount.append(int(res.total * 100))
        lines.append(json.dumps([line.as_json() for line in res.lines], ensure_ascii=False)), errors.append(None)
    return df.with_columns(pl.Series("kwh_c", kwh, dtype=pl.Int64), pl.Series("error", errors, dtype=pl.String),
                           pl.Series("amount_fen", amount, dtype=pl.Int64), pl.Series("lines", lines, dtype=pl.String))


def price_frame(df, resolve, start: dt.date, end: dt.date):
    """Price every row of `df` (see the module docstring) for the period [start, end]. `resolve(code)`
    returns a tariff code's versions (catalog.resolve)."""
    import polars as pl

    for reg in REGISTERS:
        if reg not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=pl.Int64).alias(reg))
    if "ytd" not in df.columns:
        df = df.with_columns(pl.lit(0, dtype=pl.Int64).alias("ytd"))
    df = df.with_columns([pl.col(c).cast(pl.Int64) for c in (*REGISTERS, "ytd")])
    parts = []
    for (code,), group in df.group_by(["tariff_code"], maintain_order=True):
        versions = resolve(code)
        if not versions:
            parts.append(group.with_columns(pl.lit(None, dtype=pl.Int64).alias("kwh_c"),
                                            pl.lit(f"未找到电价代码“{code}”").alias("error"),
                                            pl.lit(None, dtype=pl.Int64).alias("amount_fen"),
                                            pl.lit(None, dtype=pl.String).alias("lines")))
            continue
        try:
            segs = segments(versions, start, end)
        except TariffError as exc:
            parts.append(group.with_columns(pl.lit(None, dtype=pl.Int64).alias("kwh_c"),
                                            pl.lit("；".join(exc.errors.values())).alias("error"),
                                            pl.lit(None, dtype=pl.Int64).alias("amount_fen"),
                                            pl.lit(None, dtype=pl.String).alias("lines")))
            continue
        if len(segs) == 1 and _vector_plan(segs[0][0]):
            out = _price_group(group, segs[0][0])
        else:
            out = _price_rows(group, versions, start, end)
        parts.append(out.select(*group.columns, "kwh_c", "error", "amount_fen", "lines"))
    if not parts:
        return df.with_columns(pl.lit(None, dtype=pl.Int64).alias("kwh_c"), pl.lit(None, dtype=pl.String).alias("error"),
                               pl.lit(None, dtype=pl.Int64).alias("amount_fen"), pl.lit(None, dtype=pl.String).alias("lines"))
    return pl.concat(parts)
