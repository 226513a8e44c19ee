"""The set-based pricer (Polars, integer arithmetic) gives exactly what the per-bill rules give."""
import datetime as dt
import json
import random
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcare.billing import catalog
from gridcare.billing.pricing import price_frame
from gridcare.billing.rules import TariffError, compute_bill, parse_tariff

JULY = (dt.date(2026, 7, 1), dt.date(2026, 7, 31))

# a tariff whose price changes on 2026-07-16: proration goes through the row-by-row path
CHANGED = [parse_tariff({"code": "T-CHG", "name": "调价", "customer_class": "residential", "valid_from": "2026-01-01",
                         "valid_to": "2026-07-15", "energy": {"flat": "0.5"},
                         "tiers": {"basis": "monthly", "bounds_kwh": [200], "increments": ["0", "0.1"]}}),
           parse_tariff({"code": "T-CHG", "name": "调价", "customer_class": "residential", "valid_from": "2026-07-16",
                         "energy": {"flat": "0.6"},
                         "tiers": {"basis": "monthly", "bounds_kwh": [200], "increments": ["0", "0.1"]}})]


def resolve(code):
    return CHANGED if code == "T-CHG" else catalog.resolve(code)


def reference(code, regs: dict, ytd_c: int):
    """What execute_run asks of compute_bill for one account (the per-bill rules)."""
    versions = resolve(code)
    tou = {r: Decimal(v) / 100 for r, v in regs.items() if r != "total"}
    if tou and versions[-1].tou:
        use = tou
    else:
        use = {"total": Decimal(regs["total"]) / 100 if "total" in regs else sum(tou.values(), Decimal(0))}
    try:
        res = compute_bill(versions, *JULY, use, Decimal(ytd_c) / 100)
    except TariffError:
        return None
    return int(res.total_kwh * 100), int(res.total * 100), [line.as_json() for line in res.lines]


def check(rows):
    df = pl.DataFrame(rows, schema={"customer_id": pl.Int64, "tariff_code": pl.String, "total": pl.Int64,
                                    "sharp": pl.Int64, "peak": pl.Int64, "flat": pl.Int64, "valley": pl.Int64,
                                    "ytd": pl.Int64})
    out = {r["customer_id"]: r for r in price_frame(df, resolve, *JULY).iter_rows(named=True)}
    assert len(out) == len(rows)
    for row in rows:
        regs = {k: row[k] for k in ("total", "sharp", "peak", "flat", "valley") if row[k] is not None}
        got = out[row["customer_id"]]
        want = reference(row["tariff_code"], regs, row["ytd"])
        if want is None:
            assert got["error"] and got["amount_fen"] is None
            continue
        assert got["error"] is None
        assert (got["kwh_c"], got["amount_fen"], json.loads(got["lines"])) == want, row


CODES = ["ZJ-RES-TIERED", "ZJ-RES-TOU", "JS-RES-TIERED", "EX-RES-TIERED", "EX-NONRES-FLAT", "EX-NONRES-TOU",
         "EX-AGRI", "T-CHG"]


def test_sample_of_every_shipped_tariff_matches_compute_bill():
    codes = [c for c in CODES if resolve(c)]
    assert len(codes) >= 6
    rng = random.Random(8)
    rows = []
    for i in range(3000):
        code = codes[i % len(codes)]
        tou = resolve(code)[-1].tou
        row = {"customer_id": i, "tariff_code": code, "total": None, "sharp": None, "peak": None, "flat": None,
               "valley": None, "ytd": rng.choice([0, rng.randint(0, 600_000)])}
        if tou and rng.random() < 0.95:
            for reg in resolve(code)[-1].energy:
                row[reg] = rng.randint(0, 80_000)
        else:
            row["total"] = rng.choice([0, 100, 24_000, 40_000, rng.randint(0, 200_000), rng.randint(0, 5_000_000)])
        rows.append(row)
    check(rows)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(CODES), st.integers(0, 3_000_000), st.integers(0, 800_000),
                          st.lists(st.integers(0, 400_000), min_size=4, max_size=4), st.booleans()),
                min_size=1, max_size=30))
def test_random_usage_matches_compute_bill(cases):
    rows = []
    for i, (code, total, ytd, tou_values, use_tou) in enumerate(cases):
        row = {"customer_id": i, "tariff_code": code, "total": total, "sharp": None, "peak": None, "flat": None,
               "valley": None, "ytd": ytd}
        versions = resolve(code)
        if use_tou and versions and versions[-1].tou:
            for reg, v in zip(("sharp", "peak", "flat", "valley"), tou_values):
                if reg in versions[-1].energy:
                    row[reg] = v
        rows.append(row)
    check(rows)


def test_tou_tariff_without_tou_reads_is_an_error_not_a_bill():
    df = pl.DataFrame({"customer_id": [1], "tariff_code": ["EX-NONRES-TOU"], "total": [10_000], "ytd": [0]})
    row = price_frame(df, resolve, *JULY).row(0, named=True)
    assert row["amount_fen"] is None and "分时" in row["error"]


@pytest.mark.parametrize("code", ["NO-SUCH"])
def test_unknown_tariff_is_an_error(code):
    df = pl.DataFrame({"customer_id": [1], "tariff_code": [code], "total": [10_000]})
    row = price_frame(df, resolve, *JULY).row(0, named=True)
    assert row["amount_fen"] is None and "NO-SUCH" in row["error"]
