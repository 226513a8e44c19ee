"""Worked tariff examples, each computed by hand (the arithmetic is in the comment above each assertion),
with the source of its figures. Money rounds to the fen half up per line; the total is the sum of lines."""
import datetime as dt
from dataclasses import replace
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcare.billing import catalog
from gridcare.billing.rules import (LateRules, TariffError, bill_calc, compute_bill, late_charge, overlaps,
                                    parse_tariff, tariff_to_dict, tier_kwh)

RULES = catalog.late_rules()  # time-limits.yaml arrears.late_payment_charge
JULY = (dt.date(2026, 7, 1), dt.date(2026, 7, 31))


def versions(code):
    return [t for t in catalog.shipped() if t.code == code]


def amounts(result):
    return [(line.item, str(line.amount)) for line in result.lines]


def test_late_rules_come_from_time_limits_yaml():
    assert RULES == LateRules(D("0.001"), D("0.002"), D("0.003"), D("1.00"))


def test_formats_md_example():
    """formats.md: EX-RES-TIERED, 520 kWh in July, due 2026-08-15, paid 2026-09-04 → "total": "297.92".
    energy 520 × 0.4883 = 253.916 → 253.92; tier 2 (400−240) × 0.05 = 8.00; tier 3 (520−400) × 0.30 = 36.00;
    bill 297.92. The tariff names 国家重大水利工程建设基金, but a residential price already includes the
    government funds: no separate line (they are billed separately for non-residential customers, below).
    违约金 (residential 1‰/day, time-limits.yaml) 20 days (Sep 4 − Aug 15) × 0.001 × 297.92 = 5.9584 → 5.96,
    owed beside the bill: amount due 303.88."""
    payload = {"tariff": "EX-RES-TIERED", "period": {"start": "2026-07-01", "end": "2026-07-31"},
               "usage_kwh": {"total": 520}, "ytd_kwh_before": 0, "due_date": "2026-08-15", "paid_on": "2026-09-04"}
    out = bill_calc(payload, catalog.resolve, RULES).as_json()
    assert [(x["kwh"], x["price"], x["amount"]) for x in out["lines"]] == [
        ("520", "0.4883", "253.92"), ("160", "0.05", "8.00"), ("120", "0.30", "36.00")]
    assert out["total"] == "297.92"
    assert out["late_charge"] == {"item": "电费违约金（逾期20天×1‰/天）", "days": 20, "rate_per_day": "0.001",
                                  "amount": "5.96"}
    assert out["amount_due"] == "303.88"
    # without payment dates: the same bill, no late charge
    del payload["due_date"], payload["paid_on"]
    out = bill_calc(payload, catalog.resolve, RULES).as_json()
    assert out == {"lines": out["lines"], "total": "297.92"}


def test_the_water_fund_is_a_separate_line_for_a_non_residential_tariff():
    """The same tariff made non-residential: 520 × 0.00196875 = 1.02375 → 1.02 on its own line; 298.94."""
    from gridcare.billing.rules import tariff_to_dict

    spec = tariff_to_dict(catalog.resolve("EX-RES-TIERED")[0])
    spec.update(code="EX-NONRES", customer_class="non_residential")
    payload = {"tariff": spec, "period": {"start": "2026-07-01", "end": "2026-07-31"}, "usage_kwh": {"total": 520}}
    out = bill_calc(payload, catalog.resolve, RULES).as_json()
    assert out["lines"][-1] == {"item": "国家重大水利工程建设基金", "kwh": "520", "price": "0.00196875", "amount": "1.02"}
    assert out["total"] == "298.94"


def test_zhejiang_annual_tiers_cross_into_second_tier():
    """浙价资〔2012〕166号: 0.538 元, annual tiers 2760/4800 kWh, +0.05/+0.30. The year's usage before
    this month is 2600 kWh; 300 kWh this month: 160 kWh in tier 1, 140 kWh in tier 2.
    300 × 0.538 = 161.40; 140 × 0.05 = 7.00; total 168.40 (= 160 × 0.538 + 140 × 0.588 = 86.08 + 82.32)."""
    r = compute_bill(versions("ZJ-RES-TIERED"), *JULY, {"total": 300}, D(2600))
    assert amounts(r) == [("电度电费", "161.40"), ("阶梯加价（第二档）", "7.00")]
    assert r.total == D("168.40")


def test_zhejiang_tou_with_annual_tiers_decided_by_total():
    """浙江 峰谷: 峰 0.568, 谷 0.288. Peak 200 + valley 100 kWh; the year so far 4700 kWh, so 100 kWh land in
    tier 2 (to 4800) and 200 kWh in tier 3. 200 × 0.568 = 113.60; 100 × 0.288 = 28.80;
    100 × 0.05 = 5.00; 200 × 0.30 = 60.00; total 207.40."""
    r = compute_bill(versions("ZJ-RES-TOU"), *JULY, {"peak": 200, "valley": 100}, D(4700))
    assert [line.amount for line in r.lines] == [D("113.60"), D("28.80"), D("5.00"), D("60.00")]
    assert r.total == D("207.40")


def test_jiangsu_tiered_first_tier_only():
    """江苏 0.5283 元, annual tiers 2760/4800: 180 kWh at the start of the year: 180 × 0.5283 = 95.094 → 95.09."""
    r = compute_bill(versions("JS-RES-TIERED"), *JULY, {"total": 180}, D(0))
    assert amounts(r) == [("电度电费", "95.09")]


def test_non_residential_surcharges_are_separate_lines():
    """EX-NONRES-FLAT 0.6252 元 (illustrative), 1000 kWh: energy 625.20; 可再生能源电价附加 0.019 × 1000 =
    19.00 (财税〔2016〕4号); 国家重大水利工程建设基金 0.00196875 × 1000 = 1.96875 → 1.97;
    大中型水库移民后期扶持资金 0.0062 × 1000 = 6.20; total 652.37."""
    r = compute_bill(versions("EX-NONRES-FLAT"), *JULY, {"total": 1000})
    assert amounts(r) == [("电度电费", "625.20"), ("可再生能源电价附加", "19.00"),
                          ("国家重大水利工程建设基金", "1.97"), ("大中型水库移民后期扶持资金", "6.20")]
    assert r.total == D("652.37")


def _ex(valid_from, valid_to, price):
    return parse_tariff({"code": "P", "name": "测试", "customer_class": "residential", "valid_from": valid_from,
                         "valid_to": valid_to, "energy": {"flat": price},
                         "tiers": {"basis": "monthly", "bounds_kwh": [240, 400], "increments": ["0", "0.05", "0.30"]},
                         "surcharges": [{"code": "water_fund", "name": "水利基金", "price": "0.00196875"}]})


def test_proration_when_the_price_changes_on_the_16th():
    """0.4883 to 07-15, 0.5000 from 07-16; 310 kWh in July (31 days) split 15:16 → 150.00 + 160.00 kWh.
    Monthly bounds scaled by the days: first part 240×15/31 = 116.13, so 116.13 kWh in tier 1 and
    33.87 in tier 2; second part 240×16/31 = 123.87, 36.13 kWh in tier 2.
    150 × 0.4883 = 73.245 → 73.25; 33.87 × 0.05 = 1.6935 → 1.69;
    160 × 0.5 = 80.00; 36.13 × 0.05 = 1.8065 → 1.81; total 156.75 (residential: the water fund is in the price).
    The same split for a non-residential customer adds the fund per part: 150 × 0.00196875 = 0.2953 → 0.30 and
    160 × 0.00196875 = 0.315 → 0.32; total 157.37."""
    r = compute_bill([_ex("2026-01-01", "2026-07-15", "0.4883"), _ex("2026-07-16", None, "0.5000")],
                     *JULY, {"total": 310})
    assert [(str(line.kwh), str(line.amount)) for line in r.lines] == [
        ("150.00", "73.25"), ("33.87", "1.69"), ("160.00", "80.00"), ("36.13", "1.81")]
    assert "07-01～07-15" in r.lines[0].item and r.total == D("156.75")
    nonres = [replace(_ex("2026-01-01", "2026-07-15", "0.4883"), customer_class="non_residential"),
              replace(_ex("2026-07-16", None, "0.5000"), customer_class="non_residential")]
    r = compute_bill(nonres, *JULY, {"total": 310})
    assert [(str(line.kwh), str(line.amount)) for line in r.lines] == [
        ("150.00", "73.25"), ("33.87", "1.69"), ("150.00", "0.30"),
        ("160.00", "80.00"), ("36.13", "1.81"), ("160.00", "0.32")]
    assert r.total == D("157.37")


def test_late_charge_non_residential_across_the_year_end():
    """1000.00 due 2026-12-20, paid 2027-01-10: 21 days; 11 days in 2026 × 2‰ = 22.00, 10 days in 2027
    × 3‰ (跨年度) = 30.00; total 52.00 (《供电营业规则》, time-limits.yaml)."""
    line = late_charge(D("1000.00"), dt.date(2026, 12, 20), dt.date(2027, 1, 10), "non_residential", RULES)
    assert line.amount == D("52.00")
    assert late_charge(D("1000.00"), dt.date(2026, 3, 1), dt.date(2026, 3, 11), "non_residential",
                       RULES).amount == D("20.00")  # 10 days × 2‰ × 1000


def test_late_charge_minimum_and_on_time():
    """50.00 yuan 5 days late (residential): 5 × 0.001 × 50 = 0.25, charged as the 1.00 minimum."""
    assert late_charge(D("50.00"), dt.date(2026, 8, 15), dt.date(2026, 8, 20), "residential", RULES).amount == D("1.00")
    assert late_charge(D("50.00"), dt.date(2026, 8, 15), dt.date(2026, 8, 15), "residential", RULES) is None
    assert late_charge(D("50.00"), dt.date(2026, 8, 15), dt.date(2026, 8, 1), "residential", RULES) is None


def test_overlapping_validity_is_an_error():
    a, b = _ex("2026-01-01", "2026-07-31", "0.4883"), _ex("2026-07-01", None, "0.5")
    assert overlaps([a, b]) and "重叠" in overlaps([a, b])[0]
    assert overlaps([a, _ex("2026-08-01", None, "0.5")]) == []
    with pytest.raises(TariffError) as exc:
        bill_calc({"tariff": [tariff_to_dict(a), tariff_to_dict(b)], "period": {"start": "2026-07-01",
                   "end": "2026-07-31"}, "usage_kwh": {"total": 1}}, catalog.resolve, RULES)
    assert "重叠" in exc.value.errors["tariff"]


def test_shipped_tariffs_cite_their_source_and_do_not_overlap():
    shipped = catalog.shipped()
    assert {t.province for t in shipped} >= {"浙江", "江苏"}
    assert all(t.source for t in shipped)
    assert overlaps(shipped) == []


@pytest.mark.parametrize("payload,field", [
    ({"period": {"start": "2026-07-01", "end": "2026-07-31"}, "usage_kwh": {"total": 1}}, "tariff"),
    ({"tariff": "EX-RES-TIERED", "usage_kwh": {"total": 1}}, "period"),
    ({"tariff": "EX-RES-TIERED", "period": {"start": "2026-07-01"}, "usage_kwh": {"total": 1}}, "period.end"),
    ({"tariff": "EX-RES-TIERED", "period": {"start": "2026-07-01", "end": "2026-07-31"}}, "usage_kwh"),
    ({"tariff": "NOPE", "period": {"start": "2026-07-01", "end": "2026-07-31"}, "usage_kwh": {"total": 1}}, "tariff"),
    ({"tariff": "EX-RES-TIERED", "period": {"start": "2026-07-01", "end": "2026-07-31"},
      "usage_kwh": {"total": -5}}, "usage_kwh.total"),
    ({"tariff": "ZJ-RES-TOU", "period": {"start": "2026-07-01", "end": "2026-07-31"},
      "usage_kwh": {"total": 5}}, "usage_kwh"),
    ({"tariff": "EX-RES-TIERED", "period": {"start": "2026-07-01", "end": "2026-07-31"},
      "usage_kwh": {"total": 10, "peak": 4, "valley": 5}}, "usage_kwh"),
    ({"tariff": "EX-RES-TIERED", "period": {"start": "2025-07-01", "end": "2025-07-31"},
      "usage_kwh": {"total": 10}}, "tariff"),
])
def test_bad_bill_calc_input_names_the_field(payload, field):
    with pytest.raises(TariffError) as exc:
        bill_calc(payload, catalog.resolve, RULES)
    assert field in exc.value.errors


def test_bad_tariff_schedule_lists_every_problem():
    with pytest.raises(TariffError) as exc:
        parse_tariff({"code": "X", "customer_class": "martian", "valid_from": "2026-13-01",
                      "energy": {"flat": "abc"}, "tiers": {"basis": "weekly", "bounds_kwh": [400, 240],
                                                           "increments": ["0"]}})
    assert {"name", "customer_class", "valid_from", "energy.flat", "tiers.basis", "tiers.increments",
            "tiers.bounds_kwh"} <= set(exc.value.errors)


@settings(max_examples=200, deadline=None)
@given(usage=st.decimals(min_value=0, max_value=20000, places=2),
       before=st.decimals(min_value=0, max_value=9000, places=2),
       basis=st.sampled_from(["monthly", "annual"]),
       days=st.integers(min_value=1, max_value=30))
def test_tiers_partition_the_usage_and_total_is_sum_of_lines(usage, before, basis, days):
    t = parse_tariff({"code": "H", "name": "h", "customer_class": "residential", "valid_from": "2026-01-01",
                      "energy": {"flat": "0.5283"}, "tiers": {"basis": basis, "bounds_kwh": [240, 400],
                                                              "increments": ["0", "0.05", "0.30"]}})
    parts = tier_kwh(t.tiers, usage, before if basis == "annual" else D(0), D(days) / D(31))
    assert sum(parts) == usage and all(p >= 0 for p in parts)
    r = compute_bill([t], *JULY, {"total": usage}, before)
    assert r.total == sum(line.amount for line in r.lines)
    assert all(line.amount == line.amount.quantize(D("0.01")) for line in r.lines)


def test_tariff_round_trip():
    for t in catalog.shipped():
        assert parse_tariff(tariff_to_dict(t)) == t


@pytest.mark.parametrize("written", ["1e3", "4.883E-1", " 5e-1 "])
def test_a_price_written_in_exponent_notation_is_refused(written):
    """As for payments: "1e3" in a tariff file is a slip, not 1000 yuan/kWh."""
    with pytest.raises(TariffError) as exc:
        parse_tariff({"code": "E", "name": "科学计数", "customer_class": "residential", "valid_from": "2026-01-01",
                      "energy": {"flat": "0.4883"}, "surcharges": [{"code": "f", "name": "基金", "price": written}]})
    assert "不接受科学计数法" in exc.value.errors["surcharges[0].price"]


def test_a_number_already_read_is_taken_at_its_value():
    # unquoted YAML 0.00001 arrives as the float 1e-05: its notation is not known, its value is
    t = parse_tariff({"code": "E", "name": "小数", "customer_class": "residential", "valid_from": "2026-01-01",
                      "energy": {"flat": 0.4883}, "surcharges": [{"code": "f", "name": "基金", "price": 0.00001}]})
    assert t.surcharges[0].price == D("0.00001") and t.energy["flat"] == D("0.4883")
