"""The complaint analysis report (投诉分析报告): SQL aggregations over the reporting store.

`complaint_report(unit, period)` returns a dict whose keys are the contract documented in
docs/reports.md (the CLI's JSON). Every section is a GROUP BY in the database; Python only touches
grouped rows (a few hundred), the sampled term lists, and — for percentiles on databases without
percentile_cont (SQLite) — the two rows around each quantile, picked by a window function.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from gridcare.accounts.models import OrgUnit
from gridcare.core.taxonomy import taxonomy
from gridcare.customers.models import Customer
from gridcare.grid.models import TransformerArea
from gridcare.workorders.choices import Channel, Satisfaction
from gridcare.workorders.clock import STAGE_LABELS as LIMIT_LABELS
from gridcare.workorders.workflow import WORKFLOWS

from . import rules
from .models import ComplaintFact, OrderDaily

WEEKDAYS = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]


class UnknownUnit(rules.PeriodError):
    pass


def get_unit(code: str) -> OrgUnit:
    unit = OrgUnit.objects.filter(code=(code or "").strip()).first()
    if unit is None:
        raise UnknownUnit("unit", f"单位编码不存在：“{code}”（请使用组织单位编码，如 {_example_unit()}）")
    return unit


def _example_unit() -> str:
    codes = list(OrgUnit.objects.order_by("path").values_list("code", flat=True)[:3])
    return "、".join(codes) or "P01"


def subtree_ids(unit: OrgUnit) -> list[int]:
    return list(OrgUnit.objects.filter(path__startswith=unit.path).values_list("pk", flat=True))


def report_scope(unit: OrgUnit) -> list[int] | None:
    """The unit ids to filter on, or None when the subtree is every unit (no filter needed)."""
    ids = subtree_ids(unit)
    return None if len(ids) == OrgUnit.objects.count() else ids


def in_units(qs, ids, field="unit_id"):
    return qs if ids is None else qs.filter(**{f"{field}__in": ids})


def complaint_facts(unit_ids, period: rules.Period):
    return in_units(ComplaintFact.objects.filter(accepted_at__gte=period.start_at, accepted_at__lt=period.end_at),
                    unit_ids)


def _where(ids, period, alias=""):
    """SQL condition (and params) of a period and unit scope, for the raw queries."""
    a = f"{alias}." if alias else ""
    sql, params = f"{a}accepted_at >= %s AND {a}accepted_at < %s", [period.start_at, period.end_at]
    if ids is not None:
        sql += f" AND {a}unit_id IN ({', '.join(['%s'] * len(ids))})" if ids else " AND 1 = 0"
        params += ids
    return sql, params


SIMPLE_DIMENSIONS = ("category_l2", "channel", "area_kind", "hour", "weekday", "satisfaction", "repeat")


def simple_counts(ids, period) -> dict:
    """{dimension: {value: count}} for the plain one-column splits. PostgreSQL: one scan with GROUPING
    SETS; elsewhere one GROUP BY per dimension."""
    out = {d: {} for d in SIMPLE_DIMENSIONS}
    if connection.vendor == "postgresql":
        where, params = _where(ids, period)
        cols = ", ".join(f'"{d}"' for d in SIMPLE_DIMENSIONS)
        grouping = ", ".join(f'GROUPING("{d}")' for d in SIMPLE_DIMENSIONS)
        sets = ", ".join(f'("{d}")' for d in SIMPLE_DIMENSIONS)
        with connection.cursor() as cur:
            cur.execute(f"SELECT {cols}, {grouping}, count(*) FROM {ComplaintFact._meta.db_table} WHERE {where} "
                        f"GROUP BY GROUPING SETS ({sets})", params)
            n = len(SIMPLE_DIMENSIONS)
            for row in cur.fetchall():
                values, flags, count = row[:n], row[n:2 * n], row[-1]
                for d, v, flag in zip(SIMPLE_DIMENSIONS, values, flags):
                    if flag == 0:
                        out[d][v] = count
    else:
        facts = complaint_facts(ids, period)
        for d in SIMPLE_DIMENSIONS:
            out[d] = _group(facts, d)
    out["satisfaction"].pop("", None)
    return out


def _counted(rows, keys, total, labels):
    out = {}
    for key in keys:
        n = rows.get(key, 0)
        out[key] = {"label": labels.get(key, key), "count": n, "share": rules.share(n, total),
                    "percent": rules.percent(n, total)}
    for key, n in rows.items():  # codes no longer in the taxonomy stay visible
        if key not in out:
            out[key] = {"label": labels.get(key, key), "count": n, "share": rules.share(n, total),
                        "percent": rules.percent(n, total)}
    return out


def _group(qs, field):
    return {r[field]: r["n"] for r in qs.values(field).annotate(n=Count("pk")).order_by()}


def summary_counts(unit_ids, period: rules.Period) -> dict:
    """Total and first-level counts (for the comparisons with other periods)."""
    rows = _group(complaint_facts(unit_ids, period), "category_l1")  # unit_ids: a list, or None for all
    return {"from": period.start.isoformat(), "to": period.end.isoformat(), "total": sum(rows.values()),
            "by_category_l1": rows}


def complaint_report(unit: OrgUnit, period: rules.Period, *, now: dt.datetime | None = None, progress=None) -> dict:
    """The whole analysis; `progress(fraction, step)` is called between sections (background runs).
    Read-only, in one transaction: one consistent snapshot of the store, and on PostgreSQL the session's
    work_mem raised for it (reports.yaml `postgres_work_mem`) so that sorts and hash aggregations of a
    large period stay in memory."""
    from django.db import transaction

    with transaction.atomic():
        if connection.vendor == "postgresql" and rules.settings().get("postgres_work_mem"):
            with connection.cursor() as cur:
                cur.execute("SELECT set_config('work_mem', %s, true)", [rules.settings()["postgres_work_mem"]])
        return _complaint_report(unit, period, now=now, progress=progress)


def _complaint_report(unit, period, *, now=None, progress=None) -> dict:
    now = now or timezone.now()
    cfg = rules.settings()
    tx = taxonomy()
    ids = report_scope(unit)
    facts = complaint_facts(ids, period)
    steps = 9

    def step(i, text):
        if progress:
            progress(i / steps, text)

    step(0, "分类统计")
    l1_labels = {code: node["label"] for code, node in tx["complaint_categories"].items()}
    l2_labels, l2_parent = {}, {}
    for code, node in tx["complaint_categories"].items():
        for child, label in node["children"].items():
            l2_labels[child], l2_parent[child] = label, code
    counts = simple_counts(ids, period)
    by_l2 = counts["category_l2"]
    total = sum(by_l2.values())
    by_l1 = defaultdict(int)
    for l2, n in by_l2.items():
        by_l1[l2_parent.get(l2, "")] += n
    by_l1 = {k: v for k, v in by_l1.items() if k}
    by_category_l2 = _counted(by_l2, list(l2_labels), total, l2_labels)
    for code, row in by_category_l2.items():
        row["category_l1"] = l2_parent.get(code, "")

    step(1, "渠道与区域")
    by_channel = _counted(counts["channel"], [c for c, _ in Channel.choices], total, dict(Channel.choices))
    by_area = _counted(counts["area_kind"], list(tx["area_kinds"]), total, tx["area_kinds"])
    urban = by_area.get("urban", {}).get("count", 0)
    type_rows = {}
    for r in (in_units(OrderDaily.objects.filter(day__gte=period.start, day__lte=period.end), ids)
              .values("order_type").annotate(n=_sum("orders")).order_by()):
        type_rows[r["order_type"]] = r["n"]
    all_orders = sum(type_rows.values())

    step(2, "时段分布")
    hours = counts["hour"]
    by_hour = [hours.get(h, 0) for h in range(24)]
    weekdays = counts["weekday"]
    by_weekday = [weekdays.get(d, 0) for d in range(1, 8)]
    peaks = sorted(cfg["load_peak_hours"])
    in_peak = sum(by_hour[h] for h in peaks)

    step(3, "台区热点")
    hot = _taiqu_hot_spots(ids, period, facts, cfg)

    step(4, "环节时长")
    stage = _stage_durations(ids, period, now)

    step(5, "重复来电与敏感客户")
    repeats = _repeat_callers(facts, cfg, counts["repeat"].get(True, 0))

    step(6, "满意度")
    sat = counts["satisfaction"]
    visited = sum(sat.values())

    step(7, "高频词")
    terms = _top_terms(facts, cfg, l1_labels)

    step(8, "同比环比")
    comparison = {"previous": summary_counts(ids, period.previous()),
                  "same_period_last_year": summary_counts(ids, period.last_year())}
    for row in comparison.values():
        row["change"] = total - row["total"]
        row["change_percent"] = rules.percent(total - row["total"], row["total"]) if row["total"] else None
    step(9, "完成")

    return {
        "report": "complaints",
        "title": "投诉分析报告",
        "unit": {"code": unit.code, "name": unit.name},
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "days": period.days,
        "timezone": "Asia/Shanghai",
        "generated_at": timezone.localtime(now).isoformat(timespec="seconds"),
        "total": total,
        "by_category_l1": _counted(by_l1, list(l1_labels), total, l1_labels),
        "by_category_l2": by_category_l2,
        "by_order_type": _counted(type_rows, list(tx["order_types"]), all_orders, tx["order_types"]),
        "orders_total": all_orders,
        "by_channel": by_channel,
        "by_area_kind": by_area,
        "urban_rural": {"urban": urban, "rural": total - urban,
                        "note": "特殊边远地区计入农村"},
        "by_hour": by_hour,
        "by_weekday": by_weekday,
        "load_peaks": {"hours": peaks, "complaints": in_peak, "share": rules.share(in_peak, total),
                       "hours_share": round(len(peaks) / 24, 4),
                       "top_hours": sorted(range(24), key=lambda h: (-by_hour[h], h))[:3]},
        **hot,
        **stage,
        **repeats,
        "satisfaction": {**_counted(sat, [c for c, _ in Satisfaction.choices], visited, dict(Satisfaction.choices)),
                         "visited": visited,
                         "satisfied_rate": rules.share(sat.get("satisfied", 0), visited)},
        "top_terms": terms,
        "comparison": comparison,
    }


def _sum(field):
    from django.db.models import Sum

    return Sum(field)


# -------------------------------------------------------------------------------------------- 台区


def _taiqu_hot_spots(ids, period, facts, cfg) -> dict:
    min_customers = cfg["taiqu_min_customers"]
    # distinct customers per 台区 as two hash aggregations (faster than COUNT(DISTINCT) on large periods)
    where, params = _where(ids, period)
    with connection.cursor() as cur:
        cur.execute(f"SELECT taiqu_id, COUNT(customer_id), SUM(n) FROM ("
                    f"  SELECT taiqu_id, customer_id, COUNT(*) AS n FROM {ComplaintFact._meta.db_table}"
                    f"  WHERE {where} AND taiqu_id IS NOT NULL GROUP BY taiqu_id, customer_id) t "
                    f"GROUP BY taiqu_id HAVING COUNT(customer_id) >= %s", [*params, min_customers])
        multi = [{"taiqu_id": t, "customers": c, "complaints": int(n)} for t, c, n in cur.fetchall()]
    multi.sort(key=lambda r: (-r["customers"], -r["complaints"], r["taiqu_id"]))
    # (taiqu, month) pairs with complaints, from 12 months before the period (same month last year)
    months = rules.months_in(period)
    lookback = rules.Period(rules.add_months(period.start.replace(day=1), -12), period.end)
    pairs = list(in_units(ComplaintFact.objects.filter(accepted_at__gte=lookback.start_at,
                                                       accepted_at__lt=period.end_at, taiqu_id__isnull=False), ids)
                 .values_list("taiqu_id", "month").distinct().order_by())
    consecutive = rules.consecutive_month_hits(pairs, months, 1)
    yearly = rules.consecutive_month_hits(pairs, months, 12)
    wanted = {r["taiqu_id"] for r in multi} | set(consecutive) | set(yearly)
    names = {t.pk: (t.code, t.name) for t in TransformerArea.objects.filter(pk__in=wanted).only("code", "name")}

    def listed(hits):
        rows = [{"code": names[t][0], "name": names[t][1], "months": [rules.month_text(m) for m in ms]}
                for t, ms in hits.items() if t in names]
        return sorted(rows, key=lambda r: (-len(r["months"]), r["code"]))

    return {
        "taiqu_multi_customer": [{"code": names[r["taiqu_id"]][0], "name": names[r["taiqu_id"]][1],
                                  "customers": r["customers"], "complaints": r["complaints"]}
                                 for r in multi if r["taiqu_id"] in names],
        "taiqu_consecutive_months": listed(consecutive),
        "taiqu_same_month_consecutive_years": listed(yearly),
    }


# -------------------------------------------------------------------------------------------- stages


def overdue_q(now):
    """Over the limit: ended after the deadline, or still running past it."""
    return Q(late=True) | Q(ended_at__isnull=True, due_at__lt=now)


def _limit_order(order_type="complaint"):
    keys = []
    for key, _ref in WORKFLOWS[order_type].clocks.values():
        if key not in keys:
            keys.append(key)
    return keys


def _stage_durations(ids, period, now) -> dict:
    """Per stage of the complaint workflow, from the complaint facts' stage columns: one grouped scan
    for the counts (per unit; the totals are their sums) and one query for the percentiles."""
    keys = _limit_order()
    aggregates = {}
    for k in keys:
        aggregates[f"{k}__finished"] = Count(f"{k}_minutes")
        aggregates[f"{k}__late"] = Count("pk", filter=Q(**{f"{k}_late": True}))
        aggregates[f"{k}__open"] = Count("pk", filter=Q(open_limit_key=k))
        aggregates[f"{k}__open_late"] = Count("pk", filter=Q(open_limit_key=k, open_due_at__lt=now))
    totals = {k: {"n": 0, "finished": 0, "overdue": 0} for k in keys}
    per_unit = defaultdict(dict)
    for r in complaint_facts(ids, period).values("unit_id").annotate(**aggregates).order_by():
        for k in keys:
            n = r[f"{k}__finished"] + r[f"{k}__open"]
            overdue = r[f"{k}__late"] + r[f"{k}__open_late"]
            t = totals[k]
            t["n"], t["finished"], t["overdue"] = t["n"] + n, t["finished"] + r[f"{k}__finished"], t["overdue"] + overdue
            if n:
                per_unit[r["unit_id"]][k] = {"count": n, "overdue": overdue, "overdue_share": rules.share(overdue, n)}
    pct = complaint_percentiles(ids, period, keys)
    out = {}
    for key in keys:
        r, p = totals[key], pct.get(key, {})
        out[key] = {"label": LIMIT_LABELS.get(key, key), "count": r["n"], "finished": r["finished"],
                    "median_minutes": _round(p.get(0.5)), "p90_minutes": _round(p.get(0.9)),
                    "overdue": r["overdue"], "overdue_share": rules.share(r["overdue"], r["n"])}
    units = {u.pk: u for u in OrgUnit.objects.filter(pk__in=list(per_unit)).only("code", "name")}
    by_unit = [{"code": units[u].code, "name": units[u].name, "stages": stages}
               for u, stages in per_unit.items() if u in units]
    by_unit.sort(key=lambda r: (-sum(s["overdue"] for s in r["stages"].values()), r["code"]))
    worst = max(out, key=lambda k: (out[k]["overdue_share"], out[k]["overdue"]), default=None)
    return {"stage_durations": out, "stage_overdue_by_unit": by_unit,
            "stage_most_overdue": worst if worst and out[worst]["overdue"] else None}


def complaint_percentiles(ids, period, keys, qs=(0.5, 0.9)) -> dict:
    """{stage key: {q: minutes}} over the complaints that left the stage (percentile_cont's definition).
    PostgreSQL: one query, one sort per stage column; elsewhere the rows around each quantile are
    picked with window functions and interpolated here."""
    table = ComplaintFact._meta.db_table
    where, params = _where(ids, period)
    out = {}
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            array = "ARRAY[" + ", ".join(str(q) for q in qs) + "]::float8[]"
            exprs = ", ".join(f"percentile_cont({array}) WITHIN GROUP (ORDER BY {k}_minutes)" for k in keys)
            cur.execute(f"SELECT {exprs} FROM {table} WHERE {where}", params)
            row = cur.fetchone()
            for k, values in zip(keys, row):
                if values is not None and values[0] is not None:
                    out[k] = {q: float(v) for q, v in zip(qs, values)}
            return out
        conditions = " OR ".join(
            f"rn = CAST((n - 1) * {q} AS INTEGER) + 1 OR rn = CAST((n - 1) * {q} AS INTEGER) + 2" for q in qs)
        for k in keys:
            cur.execute(f"SELECT n, rn, m FROM (SELECT {k}_minutes AS m, ROW_NUMBER() OVER (ORDER BY {k}_minutes) AS rn,"
                        f" COUNT(*) OVER () AS n FROM {table} WHERE {where} AND {k}_minutes IS NOT NULL) t "
                        f"WHERE {conditions}", params)
            rows = cur.fetchall()
            if not rows:
                continue
            n = rows[0][0]
            picked = {rn: m for _n, rn, m in rows}
            out[k] = {}
            for q in qs:
                lo, hi, w = rules.percentile_positions(n, q)
                out[k][q] = picked[lo] + (picked[hi] - picked[lo]) * w
    return out


def _round(v):
    return None if v is None else round(v, 1)


# -------------------------------------------------------------------------------------------- people


def _repeat_callers(facts, cfg, repeats) -> dict:
    multi = list(facts.filter(customer_id__isnull=False).values("customer_id").annotate(n=Count("pk"))
                 .filter(n__gte=2).order_by("-n", "customer_id"))
    listed = multi[: cfg["repeat_callers_listed"]]
    customers = {c.pk: c for c in Customer.objects.filter(pk__in=[r["customer_id"] for r in listed])
                 .only("account_no", "name", "sensitive")}
    sensitive = (facts.filter(customer_id__in=Customer.objects.filter(sensitive=True).values("pk"))
                 .aggregate(orders=Count("pk"), customers=Count("customer_id", distinct=True)))
    return {
        "repeat_calls": repeats,
        "repeat_customers": len(multi),
        "repeat_callers": [{"account_no": customers[r["customer_id"]].account_no,
                            "name": customers[r["customer_id"]].name, "complaints": r["n"],
                            "sensitive": customers[r["customer_id"]].sensitive}
                           for r in listed if r["customer_id"] in customers],
        "sensitive_customers": {"customers": sensitive["customers"], "complaints": sensitive["orders"]},
    }


def _top_terms(facts, cfg, l1_labels) -> dict:
    """Per first-level category, the terms in most complaint texts (the most recent
    `terms_sample_per_category` texts of each category are read)."""
    limit, n = cfg["terms_sample_per_category"], cfg["top_terms"]
    out = {}
    for code, label in l1_labels.items():
        docs = list(facts.filter(category_l1=code).exclude(terms="").order_by("-accepted_at")
                    .values_list("terms", flat=True)[:limit])
        if not docs:
            continue
        out[code] = {"label": label, "texts": len(docs), "sampled": len(docs) >= limit,
                     "terms": [{"term": t, "count": c} for t, c in rules.top_terms((d.split() for d in docs), n)]}
    return out
