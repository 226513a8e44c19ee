"""Demo metering (step 60): reading routes per reader and a year of monthly reads for every demo customer,
with the share of wrong, estimated and missed reads the meter-reading study complains about, each
finding an exception found by the real rules (`rules.vee_frame`, thresholds from vee.yaml).

Shape of the data (a choice, documented because someone will ask):
* Routes (抄表段): each station's 台区 in routes of ~10, shared among the station's readers; a route's
  reading day is one of the 1st–9th (calibration.md). A period's read is taken on the reading day of the
  next month; the read of the period still to come (reading day after "today") is simply not there yet.
* Usage by class (lognormal: residential median 180 kWh a month, shops 1,200, factories 40,000, farms 600)
  with a seasonal curve (summer and winter peaks, irrigation for farms) and ±15 % monthly noise; 2.5 % of
  homes vacant (zero use, explained); integer kWh registers of 6 digits, a few close to rollover.
* AMI (采集) reads for 85 % of urban and 65 % of rural meters, manual reads for the rest. Per read:
  estimated 1 % (AMI) / 3.5 % (manual), missed 0.3 % / 1.2 %, misread 0.15 % / 0.6 % (a digit too many or
  a lower figure), TOU registers not adding up 0.15 % of TOU reads, some unexplained zero use; a few
  customers with three estimates in a row. What VEE flags in earlier months was resolved by a reader or
  clerk (re-read → corrected read, or accepted with a reason; a missed read → estimated from history);
  the last read month's findings are still open and hold those accounts from billing.
* Customers cut off for arrears (chosen here, given their cases by the billing step): no use while cut,
  except a few whose meter still turns (disconnected_consumption).

Written with executemany in large batches (explicit ids, so exceptions can point to their reads);
MeterRead is not an audited model (reads are append-only, their batch says who brought them in), and the
bulk exceptions carry resolved_by/resolved_at themselves: no per-row AuditLog (docs/billing.md).
"""
from __future__ import annotations

import datetime as dt
import warnings

import numpy as np

from gridcare.core.demo import TZ, register_step

from . import rules

SEASON = {  # month → factor: summer air-conditioning and winter heating peaks (华东)
    1: 1.25, 2: 1.15, 3: 0.9, 4: 0.8, 5: 0.85, 6: 1.05, 7: 1.5, 8: 1.55, 9: 1.1, 10: 0.85, 11: 0.9, 12: 1.15}
FARM_SEASON = {1: 0.4, 2: 0.4, 3: 0.7, 4: 1.2, 5: 1.5, 6: 1.7, 7: 1.9, 8: 1.8, 9: 1.2, 10: 0.7, 11: 0.4, 12: 0.4}
MEDIAN = {"residential": 180, "non_residential": 1200, "large_industrial": 40000, "agricultural": 600}
SIGMA = {"residential": 0.6, "non_residential": 1.0, "large_industrial": 0.6, "agricultural": 0.8}
TOU_SHARES = {2: [0.62, 0.38], 4: [0.1, 0.35, 0.3, 0.25]}  # registers: peak/valley; sharp/peak/flat/valley
TOP = 10 ** 6


def add_months(d: dt.date, n: int) -> dt.date:
    m = d.month - 1 + n
    return dt.date(d.year + m // 12, m % 12 + 1, 1)


def _utc_text(ts: np.ndarray) -> np.ndarray:
    """Epoch seconds → Django's storage text for aware datetimes on SQLite (naive UTC), also valid on PG."""
    return np.datetime_as_string(ts.astype("datetime64[s]"), unit="s").astype(object)


def build_routes(ctx, customers):
    from gridcare.accounts.models import User
    from gridcare.grid.models import TransformerArea

    from .models import ReadingRoute

    readers: dict[int, list] = {}
    for u in User.objects.filter(role="reader").order_by("username"):
        readers.setdefault(u.unit_id, []).append(u)
    taiqus = list(TransformerArea.objects.select_related("unit").order_by("unit__code", "code"))
    day_of_taiqu, routes, seq = {}, [], 0
    by_station: dict[int, list] = {}
    for t in taiqus:
        by_station.setdefault(t.unit_id, []).append(t)
    through = ReadingRoute.transformer_areas.through
    links = []
    for unit_id, tqs in by_station.items():
        crew = readers.get(unit_id) or [None]
        for i in range(0, len(tqs), 10):
            seq += 1
            chunk = tqs[i:i + 10]
            reader = crew[(i // 10) % len(crew)]
            route = ReadingRoute.objects.create(
                code=f"CB{seq:04d}", name=f"{chunk[0].unit.name}第{i // 10 + 1}抄表段", unit=chunk[0].unit,
                reader=reader, cycle_months=1, reading_day=1 + (seq - 1) % 9)
            routes.append(route)
            for t in chunk:
                day_of_taiqu[t.pk] = route.reading_day
                links.append(through(readingroute_id=route.pk, transformerarea_id=t.pk))
    through.objects.bulk_create(links, batch_size=2000)
    return routes, day_of_taiqu, readers


@register_step(60, "metering")
def build_metering(ctx):
    import polars as pl
    from django.db import connection

    from gridcare.grid.models import Meter

    from .models import MeterRead, ReadBatch, ReadException

    customers = ctx.out.get("customers")
    if customers is None:  # `demo-data --only metering` on a database that has its customers
        from gridcare.customers.models import Customer

        customers = list(Customer.objects.only("id", "unit_id", "customer_class", "area_kind", "transformer_area_id")
                         .order_by("id"))
    if not customers:
        return "no customers"
    cfg = rules.config()
    seed = ctx.seed
    rng = np.random.default_rng(seed + 60)
    n = len(customers)
    cid = np.array([c.pk for c in customers], dtype=np.int64)
    unit = np.array([c.unit_id for c in customers], dtype=np.int64)
    cls = np.array([c.customer_class for c in customers], dtype=object)
    urban = np.array([c.area_kind == "urban" for c in customers])
    meters = dict(((m_c, (m_id, tou)) for m_c, m_id, tou in
                   Meter.objects.filter(removed_on__isnull=True).values_list("customer_id", "id", "tou")))
    mid = np.array([meters[c][0] for c in cid], dtype=np.int64)
    tou_meter = np.array([meters[c][1] for c in cid])
    # registers: residential TOU meters bill peak/valley (峰谷), shops and factories four registers
    n_tou = np.where((cls == "residential") & tou_meter, 2,
                     np.where(np.isin(cls, ["non_residential", "large_industrial"]) & tou_meter, 4, 0))
    routes, day_of_taiqu, readers = build_routes(ctx, customers)
    reading_day = np.array([day_of_taiqu.get(c.transformer_area_id, 5) for c in customers], dtype=np.int64)
    ami = rng.random(n) < np.where(urban, 0.85, 0.65)
    vacant = (cls == "residential") & (rng.random(n) < 0.025)
    base = np.exp(np.log([MEDIAN[k] for k in cls]) + rng.normal(0, 1, n) * np.array([SIGMA[k] for k in cls]))
    base = np.clip(base, 5, 70000)
    farm = cls == "agricultural"

    today = ctx.today
    first = dt.date(today.year, today.month, 1)
    periods = [add_months(first, -k) for k in range(13, 0, -1)]  # periods[0]: closed by the baseline read
    months = len(periods) - 1
    # cut off for arrears (the billing step opens their cases): still cut since mid-month two months ago
    cut_now = (~vacant) & (rng.random(n) < 0.003) & (cls != "large_industrial")
    cut_at = dt.datetime.combine(add_months(first, -2).replace(day=15), dt.time(10), TZ)
    theft = cut_now & (rng.random(n) < 0.15)
    chronic_est = (~ami) & (rng.random(n) < 0.004)      # gate locked for months: estimates in a row
    chronic_start = rng.integers(2, months - 3, n)

    # meter registers: the true (physical) reading of the total register, and the stored previous read
    start_value = rng.integers(0, 600_000, n).astype(np.float64)
    near_top = (rng.random(n) < 0.003) & (base < 800)
    start_value[near_top] = TOP - rng.integers(200, 1500, near_top.sum())
    true_total = start_value.copy()
    tou_true = np.zeros((n, 4))
    stored = start_value.copy()                 # last non-rejected stored total (VEE's previous)
    stored_tou = np.zeros((n, 4))
    stored_at = np.zeros(n)                     # epoch seconds of the previous read
    est_run = np.zeros(n, dtype=np.int64)
    hist = np.full((n, months + 1), np.nan)     # consumption per period (the account's history)

    # reader/clerk who resolves: the route's reader
    station_reader = {u_id: crew[0].pk for u_id, crew in readers.items() if crew}
    resolver = np.array([station_reader.get(u, 0) for u in unit], dtype=np.int64)

    read_cols = {k: [] for k in ("id", "customer_id", "meter_id", "unit_id", "read_at", "period", "register",
                                 "value_kwh", "consumption_kwh", "source", "status", "rollover", "batch_id")}
    exc_rows = []
    next_id = (MeterRead.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    now_s = today.timestamp()
    batches = {}
    counts = {"reads": 0, "estimated": 0, "missed": 0, "misread": 0, "open": 0, "resolved": 0}

    def add_reads(idx, at_s, period, reg, value, kwh, source, status, rolled, batch_id):
        nonlocal next_id
        k = len(idx)
        if not k:
            return np.zeros(0, dtype=np.int64)
        ids = np.arange(next_id, next_id + k, dtype=np.int64)
        next_id += k
        read_cols["id"].append(ids)
        read_cols["customer_id"].append(cid[idx])
        read_cols["meter_id"].append(mid[idx])
        read_cols["unit_id"].append(unit[idx])
        read_cols["read_at"].append(at_s)
        read_cols["period"].append(np.full(k, period.isoformat(), dtype=object))
        read_cols["register"].append(np.full(k, reg, dtype=object))
        read_cols["value_kwh"].append(np.mod(value, TOP))
        read_cols["consumption_kwh"].append(kwh)
        read_cols["source"].append(source if isinstance(source, np.ndarray) else np.full(k, source, dtype=object))
        read_cols["status"].append(status if isinstance(status, np.ndarray) else np.full(k, status, dtype=object))
        read_cols["rollover"].append(rolled if isinstance(rolled, np.ndarray) else np.full(k, rolled))
        read_cols["batch_id"].append(np.full(k, batch_id or -1, dtype=np.int64))
        return ids

    for k, period in enumerate(periods):
        read_month = add_months(period, 1)
        hours = rng.integers(8 * 3600, 17 * 3600, n)
        day_s = np.array([dt.datetime.combine(read_month.replace(day=d), dt.time(0), TZ).timestamp()
                          for d in range(1, 10)])
        at = day_s[reading_day - 1] + hours
        present = at < now_s                     # reads still to come are not missing
        season = np.where(farm, FARM_SEASON[period.month], SEASON[period.month])
        use = np.round(base * season * np.exp(rng.normal(0, 0.15, n)))
        use[vacant] = 0
        use[rng.random(n) < 0.001] = 0          # away for the month without telling anyone: zero use
        was_cut = cut_now & (stored_at > cut_at.timestamp())   # cut for the whole period
        use[was_cut] = 0
        use[was_cut & theft] = np.round(base[was_cut & theft] * 0.6)
        if k == 0:  # baseline: the read that closes the month before the demo year
            true_total += use
            shares = np.zeros((n, 4))
            for r, sh in TOU_SHARES.items():
                shares[n_tou == r, :r] = sh
            tou_true = np.round(true_total[:, None] * shares)
            stored, stored_tou, stored_at = true_total.copy(), tou_true.copy(), at.astype(np.float64)
            idx = np.flatnonzero(present)
            src = np.where(ami[idx], "ami", "manual").astype(object)
            add_reads(idx, at[idx], period, "total", true_total[idx], np.full(len(idx), np.nan), src, "valid", False, None)
            for r in range(4):
                sel = idx[n_tou[idx] > r]
                add_reads(sel, at[sel], period, _reg(n_tou[sel], r), tou_true[sel, r], np.full(len(sel), np.nan),
                          np.where(ami[sel], "ami", "manual").astype(object), "valid", False, None)
            continue
        last = k == months
        true_total += use
        # TOU registers move by the period's use split in the meter's shares (remainder to the last)
        tou_use = np.zeros((n, 4))
        for r, sh in TOU_SHARES.items():
            sel = n_tou == r
            parts = np.round(use[sel, None] * np.array(sh)[None, :-1])
            tou_use[sel, :r - 1] = parts
            tou_use[sel, r - 1] = use[sel] - parts.sum(axis=1)
        tou_true += tou_use

        u = rng.random(n)
        p_est, p_miss, p_wrong = np.where(ami, 0.01, 0.035), np.where(ami, 0.003, 0.012), np.where(ami, 0.0015, 0.006)
        est = present & (u < p_est)
        est |= present & chronic_est & (k >= chronic_start) & (k < chronic_start + 3)
        miss = present & ~est & (u >= p_est) & (u < p_est + p_miss)
        wrong = present & ~est & ~miss & (u >= p_est + p_miss) & (u < p_est + p_miss + p_wrong)
        tou_bad = present & ~est & ~miss & ~wrong & (n_tou > 0) & (rng.random(n) < 0.0015)
        actual = present & ~est & ~miss

        with warnings.catch_warnings():  # accounts without history: mean of nothing is NaN (no expectation)
            warnings.simplefilter("ignore", RuntimeWarning)
            expected = np.nanmean(hist[:, max(1, k - 3):k], axis=1) if k > 1 else np.full(n, np.nan)
        est_use = np.round(np.where(np.isfinite(expected), expected, base * season))
        # a demo estimate stays under what the meter really shows, so the next actual read never runs
        # backwards (the rebill after an estimate is covered by the metering tests, not the demo)
        est_use = np.clip(np.minimum(est_use, true_total - stored), 0, None)

        value = np.where(actual, true_total, stored + est_use)
        high = rng.random(n) < 0.5
        value = np.where(wrong & high, stored + use * 10 + 300, value)
        value = np.where(wrong & ~high, stored - np.maximum(30, np.round(use * 0.5)), value)
        source = np.where(est, "estimate", np.where(ami, "ami", "manual")).astype(object)
        status_acc = np.where(vacant, "vacant", np.where(cut_now & (stored_at > cut_at.timestamp()),
                                                         "disconnected", "active")).astype(object)
        idx = np.flatnonzero(present & ~miss)
        frame = pl.DataFrame({
            "value": np.mod(value[idx], TOP), "previous": np.mod(stored[idx], TOP),
            "expected": expected[idx], "status": status_acc[idx].astype(str), "zero_explained": vacant[idx],
            "days": ((at[idx] - stored_at[idx]) // 86400).astype(np.int64), "source": source[idx].astype(str),
            "estimates_before": est_run[idx]}).with_columns(pl.col("expected").fill_nan(None))
        checked = rules.vee_frame(frame, cfg)
        rule = np.array(checked["rule"].to_list(), dtype=object)
        kwh = checked["kwh"].to_numpy().copy()
        rolled = checked["rollover"].to_numpy()
        # a misread the rules do not catch is, for the demo, a good read (no cascade into next month)
        w = wrong[idx] & (rule == None)  # noqa: E711 - numpy element-wise
        if w.any():
            value[idx[w]] = true_total[idx[w]]
            kwh[w] = np.round(true_total[idx[w]] - stored[idx[w]], 2)
        rule = np.where(tou_bad[idx] & (rule == None), "tou_mismatch", rule)  # noqa: E711
        flagged = rule != None  # noqa: E711
        open_ = flagged & last
        # batch of the month (AMI file + manual entries) for attribution
        if period not in batches:
            batches[period] = ReadBatch.objects.create(source="ami", file_name=f"采集系统日冻结_{read_month:%Y%m}.csv",
                                                       rows=len(idx))
        batch_id = batches[period].pk
        status = np.where(open_, "exception", np.where(flagged, "rejected", np.where(est[idx], "estimated", "valid")))
        # re-read rules are fixed by a corrected read; usage rules by a check (accepted)
        accept = np.isin(rule, ["high_usage", "low_usage", "zero_consumption"]) & ~wrong[idx]
        status = np.where(flagged & ~open_ & accept, np.where(est[idx], "estimated", "valid"), status).astype(object)
        ids = add_reads(idx, at[idx], period, "total", value[idx], kwh, source[idx], status, rolled, batch_id)
        tou_value = np.where(actual[:, None], tou_true, np.minimum(tou_true, stored_tou + np.round(est_use[:, None] * _shares(n_tou))))
        tou_value[tou_bad, 0] += 80
        for r in range(4):
            m = n_tou[idx] > r
            sel = idx[m]
            add_reads(sel, at[sel], period, _reg(n_tou[sel], r), tou_value[sel, r],
                      np.round(tou_value[sel, r] - stored_tou[sel, r], 2), source[sel], status[m], False, batch_id)
        # exceptions: open in the last read month, resolved before
        f_idx = np.flatnonzero(flagged)
        for j in f_idx:
            i = idx[j]
            r = rule[j]
            msg = _message(r, value[i], stored[i], kwh[j], expected[i], est_run[i] + 1)
            if open_[j]:
                exc_rows.append((cid[i], mid[i], unit[i], ids[j], period, r, msg, "open", "", "", None, None, at[i]))
            elif accept[j]:
                exc_rows.append((cid[i], mid[i], unit[i], ids[j], period, r, msg, "resolved", "accept",
                                 "现场核实用电属实" if r != "zero_consumption" else "核实客户外出，本期无用电",
                                 resolver[i], at[i] + 2 * 86400, at[i]))
            else:
                exc_rows.append((cid[i], mid[i], unit[i], ids[j], period, r, msg, "resolved", "reread",
                                 "现场复抄，以复抄示数为准", resolver[i], at[i] + 2 * 86400, at[i]))
        counts["open"] += int(open_.sum())
        counts["resolved"] += int((flagged & ~open_).sum())
        # corrected reads two days later for re-read exceptions
        fix = idx[flagged & ~open_ & ~accept]
        if len(fix):
            fat = at[fix] + 2 * 86400
            add_reads(fix, fat, period, "total", true_total[fix], np.round(true_total[fix] - stored[fix], 2),
                      "manual", "valid", False, None)
            for r in range(4):
                sel = fix[n_tou[fix] > r]
                add_reads(sel, fat[n_tou[fix] > r], period, _reg(n_tou[sel], r), tou_true[sel, r],
                          np.round(tou_true[sel, r] - stored_tou[sel, r], 2), "manual", "valid", False, None)
        # missed reads: open in the last month; earlier estimated from the account's history on resolution
        m_idx = np.flatnonzero(miss)
        if last:
            for i in m_idx:
                exc_rows.append((cid[i], mid[i], unit[i], None, period, "missed_read",
                                 f"抄表例日{reading_day[i]}日未抄见示数", "open", "", "", None, None, at[i] + 86400))
            counts["open"] += len(m_idx)
        elif len(m_idx):
            eat = at[m_idx] + 3 * 86400
            e_val = stored[m_idx] + est_use[m_idx]
            e_ids = add_reads(m_idx, eat, period, "total", e_val, est_use[m_idx], "estimate", "estimated", False, None)
            e_tou = np.minimum(tou_true[m_idx], stored_tou[m_idx] + np.round(est_use[m_idx, None] * _shares(n_tou[m_idx])))
            for r in range(4):
                mm = n_tou[m_idx] > r
                add_reads(m_idx[mm], eat[mm], period, _reg(n_tou[m_idx[mm]], r), e_tou[mm, r],
                          e_tou[mm, r] - stored_tou[m_idx[mm], r], "estimate", "estimated", False, None)
            for j, i in enumerate(m_idx):
                exc_rows.append((cid[i], mid[i], unit[i], e_ids[j], period, "missed_read",
                                 f"抄表例日{reading_day[i]}日未抄见示数", "resolved", "estimate",
                                 "按历史用电估算，下次实抄后自动更正", resolver[i], eat[j], at[i] + 86400))
            counts["resolved"] += len(m_idx)
            stored[m_idx], stored_tou[m_idx], stored_at[m_idx] = e_val, e_tou, eat
            est_run[m_idx] += 1
            hist[m_idx, k] = est_use[m_idx]
        # the state the next month's VEE sees
        good = idx[~open_]
        fixed = np.isin(good, fix)
        ok_val = np.where(fixed, true_total[good], value[good])
        hist[good, k] = np.where(fixed, true_total[good] - stored[good], kwh[~open_])
        stored_tou[good] = np.where(fixed[:, None] | actual[good][:, None], tou_true[good], tou_value[good])
        stored[good] = ok_val
        stored_at[good] = at[good]
        est_run[good] = np.where(est[good] & ~fixed, est_run[good] + 1, 0)
        counts["estimated"] += int(est.sum())
        counts["missed"] += int(miss.sum())
        counts["misread"] += int(wrong.sum())

    cols = {k: np.concatenate(v) for k, v in read_cols.items()}
    counts["reads"] = len(cols["id"])
    created = _utc_text(np.full(len(cols["id"]), now_s))
    read_at = _utc_text(cols["read_at"])
    cons = cols["consumption_kwh"]
    rows = zip(cols["id"].tolist(), cols["customer_id"].tolist(), cols["meter_id"].tolist(), cols["unit_id"].tolist(),
               read_at.tolist(), cols["period"].tolist(), cols["register"].tolist(),
               np.round(cols["value_kwh"], 2).tolist(),  # whole or 0.01 kWh: exact as floats
               [None if v != v else v for v in np.round(cons, 2).tolist()], cols["source"].tolist(),
               cols["status"].tolist(), [bool(x) for x in cols["rollover"].tolist()],
               [None if b < 0 else b for b in cols["batch_id"].tolist()], created.tolist())
    table = MeterRead._meta.db_table
    sql = (f"INSERT INTO {table} (id, customer_id, meter_id, unit_id, read_at, period, register, value_kwh, "
           f"consumption_kwh, source, status, rollover, batch_id, created_at, exchange) VALUES "
           f"(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, FALSE)")
    from .bulk import deferred_indexes

    with deferred_indexes(table):
        _executemany(connection, sql, rows)
    e_table = ReadException._meta.db_table
    e_sql = (f"INSERT INTO {e_table} (customer_id, meter_id, unit_id, read_id, period, rule, message, status, "
             f"resolution, reason, resolved_by_id, resolved_at, created_at) VALUES "
             f"(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)")
    _executemany(connection, e_sql, (
        (int(c), int(m), int(u), None if r is None else int(r), p.isoformat(), rule_, msg[:300], st, res, reason,
         (int(by) or None) if by is not None else None, None if rat is None else _utc_text(np.array([rat]))[0],
         _utc_text(np.array([cat]))[0]) for c, m, u, r, p, rule_, msg, st, res, reason, by, rat, cat in exc_rows))
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
    for period, b in batches.items():
        ReadBatch.objects.filter(pk=b.pk).update(exceptions=sum(1 for e in exc_rows if e[4] == period))
    ctx.out["metering"] = {"periods": periods[1:], "cut_now": cid[cut_now], "cut_at": cut_at,
                           "tou_registers": dict(zip(cid.tolist(), n_tou.tolist())), "vacant": cid[vacant]}
    return (f"{len(routes)} routes, {counts['reads']} reads ({counts['estimated']} estimated, {counts['missed']} "
            f"missed, {counts['misread']} misread), {len(exc_rows)} exceptions ({counts['open']} open)")


def _reg(n_tou: np.ndarray, r: int):
    """Register name of the r-th TOU register of meters with 2 (peak/valley) or 4 registers."""
    names2, names4 = ("peak", "valley"), ("sharp", "peak", "flat", "valley")
    return np.where(n_tou == 2, names2[r] if r < 2 else "", names4[r]).astype(object)


def _shares(n_tou: np.ndarray) -> np.ndarray:
    out = np.zeros((len(n_tou), 4))
    for r, sh in TOU_SHARES.items():
        out[n_tou == r, :r] = sh
    return out


def _message(rule: str, value, previous, kwh, expected, estimates) -> str:
    value, previous = value % TOP, previous % TOP
    if rule == "lower_than_previous":
        return f"本次示数 {value:.2f} 小于上次 {previous:.2f}"
    if rule in ("high_usage", "low_usage"):
        return f"本期 {kwh:.2f} kWh，历史同期约 {expected:.0f} kWh"
    if rule == "consecutive_estimates":
        return f"已连续 {estimates} 次估抄，需现场抄表"
    if rule == "disconnected_consumption":
        return f"欠费停电期间走字 {kwh:.2f} kWh"
    if rule == "zero_consumption":
        return "正常用电户本期零电量（无停电、空置记录）"
    if rule == "tou_mismatch":
        return "分时电量之和与总电量相差超过 1 kWh"
    return rules.RULE_LABELS.get(rule, rule)


def _executemany(connection, sql, rows, batch: int = 50_000):
    import itertools

    rows = iter(rows)
    with connection.cursor() as cur:
        while chunk := list(itertools.islice(rows, batch)):
            cur.executemany(sql, chunk)
