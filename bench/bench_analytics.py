"""Analytics: the complaint analysis report for one year over 100,000 and 10,000,000 orders on PostgreSQL.

Targets (issue 6): one year's complaint analysis over 10,000,000 orders < 3 s, over 100,000 orders < 300 ms.

What is measured. The report (`gridcare.analytics.reports.complaint_report`, the function behind the page,
the API and `gridcare report complaints`) reads only the reporting store that the task queue keeps up to
date (`analytics.facts.refresh`): one narrow row per complaint (ComplaintFact), one row per order and
time-limited stage (StageFact) and daily counts per unit × type × channel (OrderDaily). So the benchmark
loads that store, as the refresh leaves it, for N orders of one year, with INSERT … SELECT over
generate_series (complaints 5 % of orders, first- and second-level categories, hours and areas drawn
with the demo's calibrated weights; six stage rows per complaint; `BENCH_OTHER_STAGES` stage rows per
other order, so that the complaint rows sit in a table of realistic size), runs VACUUM ANALYZE, and times
the whole report for the root unit over the year (one warm-up, then the median of several runs), section by
section. The wide work-order table itself is not loaded: no report query reads it (its facts are derived
once per change by the refresh, whose own cost is reported by the tests, not here).

Phases: migrate; `gridcare demo-data --only org,grid,customers` (units, 台区, customers the facts refer
to); the store for 100,000 orders → report; the store for N orders (default 10,000,000;
BENCH_ANALYTICS_ORDERS) → report. Sizes, load times, table sizes and the machine go in the result.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from . import pg
from .gridcare_env import run_gridcare as _gridcare, setup_django as _setup_django

TIMEOUT = 25 * 60
ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
YEAR_START = date(2025, 11, 1)
YEAR_END = date(2026, 10, 31)
COMPLAINT_SHARE = 0.05
TERMS = ["频繁 停电 影响 生活", "电压 空调 开不了", "停电 通知 没有 收到", "工作人员 态度 推诿", "电费 偏高 计算 错误",
         "抄表 估抄 电量", "电表 计量 不准", "营业厅 排队 时间 太长", "抢修 到达 太慢", "业扩 报装 超时",
         "线路 老化 安全隐患", "施工 噪音 恢复", "缴费 到账 发票", "频繁 停电 电压 不稳", "台区 变压器 过载"]
STAGE_KEYS = [("dispatch", 20, 0.04), ("receive", 120, 0.05), ("contact", 1440, 0.18), ("handle", 7200, 0.06),
              ("audit", 1440, 0.03), ("visit", 1440, 0.04)]


def _env_int(name, default):
    return int(os.environ.get(name, default))






def _weights_table(conn, name, rows):
    """A temp table (lo, hi, …) of cumulative weights, to pick a row with one random number."""
    total, acc = sum(r[0] for r in rows), 0.0
    conn.execute(f"DROP TABLE IF EXISTS {name}")
    cols = ", ".join(f"c{i} text" for i in range(len(rows[0]) - 1))
    conn.execute(f"CREATE TEMP TABLE {name} (lo float8, hi float8, {cols})")
    with conn.cursor() as cur:
        for w, *values in rows:
            lo, acc = acc, acc + w / total
            cur.execute(f"INSERT INTO {name} VALUES (%s, %s{', %s' * len(values)})",
                        (lo, 2.0 if acc > 0.999999 else acc, *[str(v) for v in values]))


LOAD_COMPLAINTS = """
INSERT INTO analytics_complaintfact (order_id, accepted_at, day, month, hour, weekday, unit_id, category_l1,
    category_l2, channel, area_kind, taiqu_id, customer_id, repeat, satisfaction, terms, {stage_columns},
    open_limit_key, open_due_at)
SELECT q.i, q.at, (q.at AT TIME ZONE 'Asia/Shanghai')::date,
       (extract(year FROM q.at AT TIME ZONE 'Asia/Shanghai') * 100 + extract(month FROM q.at AT TIME ZONE 'Asia/Shanghai'))::int,
       extract(hour FROM q.at AT TIME ZONE 'Asia/Shanghai')::int, extract(isodow FROM q.at AT TIME ZONE 'Asia/Shanghai')::int,
       q.unit_id, q.l1, q.l2,
       CASE WHEN q.rch < 0.88 THEN 'hotline' WHEN q.rch < 0.92 THEN 'app' WHEN q.rch < 0.95 THEN 'wechat'
            WHEN q.rch < 0.97 THEN 'hall' WHEN q.rch < 0.98 THEN 'web' ELSE '12398' END,
       q.area_kind, q.transformer_area_id, q.customer_id, q.rr < 0.12,
       CASE WHEN q.rs < 0.5 THEN 'satisfied' WHEN q.rs < 0.6 THEN 'neutral' WHEN q.rs < 0.67 THEN 'dissatisfied' ELSE '' END,
       (%(terms)s::text[])[1 + floor(q.rt * %(nterms)s)::int], {stage_values},
       CASE WHEN q.ro < 0.01 THEN 'visit' ELSE '' END,
       CASE WHEN q.ro < 0.01 THEN q.at + interval '6 days' END
FROM (
    SELECT r.*, c.unit_id, c.area_kind, c.transformer_area_id, c.id AS customer_id, k.c0 AS l1, k.c1 AS l2,
           ((%(start)s::date + floor(r.rd * %(days)s)::int)::timestamp
             + make_interval(hours => h.c0::int, mins => floor(r.rm * 60)::int)) AT TIME ZONE 'Asia/Shanghai' AS at
    FROM (SELECT g AS i, random() AS rc, random() AS rk, random() AS rh, random() AS rd, random() AS rm,
                 random() AS rch, random() AS rr, random() AS rs, random() AS rt, random() AS ro, {stage_randoms}
          FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g OFFSET 0) r
    JOIN bench_cust c ON c.rn = 1 + floor(r.rc * %(ncust)s)::int
    JOIN bench_l2 k ON r.rk >= k.lo AND r.rk < k.hi
    JOIN bench_hour h ON r.rh >= h.lo AND r.rh < h.hi
) q
"""

LOAD_COMPLAINT_STAGES = """
INSERT INTO analytics_stagefact (order_id, order_type, accepted_at, unit_id, area_kind, limit_key, started_at,
    ended_at, due_at, minutes, late, actor_id)
SELECT f.order_id, 'complaint', f.accepted_at, f.unit_id, f.area_kind, s.key, s.started,
       CASE WHEN s.open THEN NULL ELSE s.started + make_interval(secs => s.mins * 60) END,
       s.started + make_interval(mins => s.lim), CASE WHEN s.open THEN NULL ELSE s.mins END,
       NOT s.open AND s.mins > s.lim, NULL
FROM analytics_complaintfact f
CROSS JOIN LATERAL (
    SELECT k.key, k.lim, f.accepted_at + make_interval(mins => k.ord * 30) AS started, random() < 0.01 AS open,
           CASE WHEN random() < k.late THEN k.lim * (1 + random()) ELSE k.lim * (0.05 + 0.9 * random()) END AS mins
    FROM (VALUES {values}) AS k(ord, key, lim, late)
) s
WHERE f.order_id BETWEEN %(first)s AND %(last)s
"""

LOAD_OTHER_STAGES = """
INSERT INTO analytics_stagefact (order_id, order_type, accepted_at, unit_id, area_kind, limit_key, started_at,
    ended_at, due_at, minutes, late, actor_id)
SELECT q.i, q.order_type, q.at, q.unit_id, q.area_kind, k.key, q.at, q.at + make_interval(mins => k.lim / 2),
       q.at + make_interval(mins => k.lim), k.lim / 2.0, random() < 0.05, NULL
FROM (
    SELECT r.i, c.unit_id, c.area_kind,
           (ARRAY['fault_repair','inquiry','service_request','opinion','praise','report','suggestion'])[1 + floor(r.rt * 7)::int] AS order_type,
           %(start_ts)s::timestamptz + r.rd * %(span)s::interval AS at
    FROM (SELECT g AS i, random() AS rc, random() AS rt, random() AS rd
          FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g OFFSET 0) r
    JOIN bench_cust c ON c.rn = 1 + floor(r.rc * %(ncust)s)::int
) q
CROSS JOIN (SELECT * FROM (VALUES ('dispatch', 20), ('handle', 7200), ('visit', 1440)) AS v(key, lim)
            LIMIT %(per_order)s) k
"""

LOAD_DAILY = """
INSERT INTO analytics_orderdaily (day, unit_id, order_type, channel, orders)
SELECT d::date, u.unit_id, t.order_type, ch.channel,
       greatest(0, round(%(n)s * t.share * ch.share / %(days)s / %(nunits)s * (0.7 + 0.6 * random())))::int
FROM generate_series(%(start)s::date, %(end)s::date, interval '1 day') AS d
CROSS JOIN (SELECT DISTINCT unit_id FROM bench_cust) u
CROSS JOIN (VALUES ('fault_repair', 0.42), ('inquiry', 0.25), ('service_request', 0.17), ('complaint', 0.05),
                   ('opinion', 0.045), ('praise', 0.035), ('report', 0.015), ('suggestion', 0.015)) AS t(order_type, share)
CROSS JOIN (VALUES ('hotline', 0.75), ('app', 0.15), ('wechat', 0.1)) AS ch(channel, share)
"""

def _complaint_sql() -> str:
    """LOAD_COMPLAINTS with the stage columns: minutes drawn late with each stage's late rate (the demo's),
    1 % still open at the return visit."""
    columns = ", ".join(f"{k}_minutes, {k}_late" for k, _l, _r in STAGE_KEYS)
    values = ", ".join(
        f"CASE WHEN q.ro < 0.01 AND '{k}' = 'visit' THEN NULL ELSE q.m_{k} END, q.m_{k} > {lim} AND NOT (q.ro < 0.01 AND '{k}' = 'visit')"
        for k, lim, _r in STAGE_KEYS)
    randoms = ", ".join(f"{lim} * CASE WHEN random() < {late} THEN 1.0 + random() ELSE 0.05 + 0.9 * random() END AS m_{k}"
                        for k, lim, late in STAGE_KEYS)
    return (LOAD_COMPLAINTS.replace("{stage_columns}", columns).replace("{stage_values}", values)
            .replace("{stage_randoms}", randoms))


TABLES = ("analytics_complaintfact", "analytics_stagefact", "analytics_orderdaily")


def _drop_indexes(conn) -> list[str]:
    rows = conn.execute("""SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)
                           AND indexname NOT LIKE '%%_pkey' AND indexdef NOT LIKE 'CREATE UNIQUE%%'""",
                        (list(TABLES),)).fetchall()
    for name, _def in rows:
        conn.execute(f'DROP INDEX "{name}"')
    return [d for _n, d in rows]


def load_store(ctx, url, n_orders, other_stages) -> dict:
    """Empties the reporting store and fills it for n_orders orders of the year."""
    from gridcare.workorders import demo as wo_demo

    t0 = time.monotonic()
    with pg.connect(url) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute(f"TRUNCATE {', '.join(TABLES)}")
        conn.execute("""CREATE TEMP TABLE bench_cust AS
            SELECT row_number() OVER (ORDER BY c.id) AS rn, c.id, c.unit_id, c.transformer_area_id, c.area_kind
            FROM customers_customer c""")
        conn.execute("CREATE UNIQUE INDEX ON bench_cust (rn)")
        ncust = conn.execute("SELECT count(*) FROM bench_cust").fetchone()[0]
        nunits = conn.execute("SELECT count(DISTINCT unit_id) FROM bench_cust").fetchone()[0]
        _weights_table(conn, "bench_l2", [(w, l1, l2) for l1, children in wo_demo.COMPLAINT_SHARES.items()
                                          for l2, w in children.items()])
        _weights_table(conn, "bench_hour", [(w, h) for h, w in enumerate(wo_demo.HOURS["complaint"])])
        indexes = _drop_indexes(conn)
        days = (YEAR_END - YEAR_START).days + 1
        n_complaints = round(n_orders * COMPLAINT_SHARE)
        chunk = 500_000
        for first in range(1, n_complaints + 1, chunk):
            last = min(first + chunk - 1, n_complaints)
            conn.execute(_complaint_sql(), {"terms": TERMS, "nterms": len(TERMS), "start": YEAR_START, "days": days,
                                           "first": first, "last": last, "ncust": ncust})
            values = ", ".join(f"({i}, '{k}', {lim}, {late})" for i, (k, lim, late) in enumerate(STAGE_KEYS))
            conn.execute(LOAD_COMPLAINT_STAGES.format(values=values), {"first": first, "last": last})
        t_complaints = time.monotonic() - t0
        ctx.log(f"  {n_complaints:,} complaints and their stages in {t_complaints:.0f} s")
        others = n_orders - n_complaints
        start_ts = datetime.combine(YEAR_START, datetime.min.time(), timezone(timedelta(hours=8)))
        if other_stages:
            chunk = 1_000_000
            for first in range(n_complaints + 1, n_orders + 1, chunk):
                last = min(first + chunk - 1, n_orders)
                conn.execute(LOAD_OTHER_STAGES, {"first": first, "last": last, "ncust": ncust, "start_ts": start_ts,
                                                 "span": f"{days} days", "per_order": other_stages})
                ctx.log(f"  other orders' stages: {last - n_complaints:,} of {others:,} orders "
                        f"({time.monotonic() - t0:.0f} s)")
        conn.execute(LOAD_DAILY, {"n": n_orders, "days": days, "nunits": nunits, "start": YEAR_START,
                                  "end": YEAR_END})
        t_load = time.monotonic() - t0
        t1 = time.monotonic()
        for definition in indexes:
            conn.execute(definition)
        t_index = time.monotonic() - t1
        t2 = time.monotonic()
        for table in TABLES:
            conn.execute(f"VACUUM (ANALYZE) {table}")
        t_vacuum = time.monotonic() - t2
        sizes = {t: conn.execute(f"SELECT count(*), pg_size_pretty(pg_total_relation_size('{t}')) FROM {t}").fetchone()
                 for t in TABLES}
        orders = conn.execute("SELECT sum(orders) FROM analytics_orderdaily").fetchone()[0]
    return {"orders": n_orders, "orders_in_daily_counts": int(orders or 0), "complaints": n_complaints,
            "stage_rows": sizes["analytics_stagefact"][0], "other_stages_per_order": other_stages,
            "load_s": round(t_load, 1), "index_s": round(t_index, 1), "vacuum_analyze_s": round(t_vacuum, 1),
            "tables": {t: {"rows": s[0], "size": s[1]} for t, s in sizes.items()}}


def time_report(ctx, runs: int) -> dict:
    from django.db import connection

    from gridcare.accounts.models import OrgUnit
    from gridcare.analytics import reports, rules

    root = OrgUnit.objects.filter(parent__isnull=True).order_by("path").first()
    period = rules.Period(YEAR_START, YEAR_END)
    now = datetime(2026, 11, 1, tzinfo=timezone.utc)
    connection.close()
    reports.complaint_report(root, period, now=now)   # warm-up: caches, jieba not involved (terms pre-segmented)
    totals, sections = [], {}
    result = None
    for _ in range(runs):
        marks = []
        t0 = time.perf_counter()
        result = reports.complaint_report(root, period, now=now,
                                          progress=lambda f, step: marks.append((step, time.perf_counter())))
        totals.append(time.perf_counter() - t0)
        previous = t0
        names = ["(start)"] + [m[0] for m in marks]
        for (step, at), name in zip(marks, names):
            sections.setdefault(name, []).append(at - previous)
            previous = at
    return {"median_ms": round(1000 * statistics.median(totals), 1), "runs_ms": [round(1000 * t, 1) for t in totals],
            "sections_median_ms": {k: round(1000 * statistics.median(v), 1) for k, v in sections.items()
                                   if k != "(start)"},
            "unit": root.code, "period": period.label(), "total_complaints": result["total"],
            "orders_total": result["orders_total"], "taiqu_multi_customer": len(result["taiqu_multi_customer"])}


def run(ctx):
    big = _env_int("BENCH_ANALYTICS_ORDERS", 1_000_000 if ctx.quick else 10_000_000)
    small = _env_int("BENCH_ANALYTICS_SMALL", 100_000)
    other_stages = _env_int("BENCH_OTHER_STAGES", 2)
    runs = _env_int("BENCH_QUERY_RUNS", 3 if ctx.quick else 5)
    customers = _env_int("BENCH_CUSTOMERS", 20_000)
    ctx.detail("settings", {"orders": big, "small": small, "other_stages_per_order": other_stages, "runs": runs,
                            "customers": customers, "year": f"{YEAR_START} – {YEAR_END}"})
    figures = {}
    workdir = Path(tempfile.mkdtemp(prefix="gridcare-bench-analytics-"))
    with pg.scratch_database(ctx.log) as (url, source):
        facts = pg.server_facts(url)
        ctx.machine["postgresql"] = facts["version"]
        ctx.detail("postgresql", {"source": source, **{k: v for k, v in facts.items() if k != "postmaster_pid"}})
        env = dict(os.environ, DATABASE_URL=url, GRIDCARE_DEBUG="0", GRIDCARE_VAR_DIR=str(workdir / "var"))
        t0 = time.monotonic()
        _gridcare(["migrate", "--noinput", "-v", "0"], env, workdir / "setup.log", timeout=900)
        _gridcare(["demo-data", "--customers", str(customers), "--only", "org,grid,customers"], env,
                  workdir / "setup.log", timeout=900)
        ctx.log(f"migrated, org/grid/{customers:,} customers in {time.monotonic() - t0:.0f} s")
        os.environ["GRIDCARE_VAR_DIR"] = env["GRIDCARE_VAR_DIR"]
        _setup_django(url)
        for label, n, target in (("small", small, "< 300"), ("large", big, "< 3000")):
            ctx.log(f"loading the reporting store for {n:,} orders")
            load = load_store(ctx, url, n, other_stages)
            ctx.detail(f"load_{label}", load)
            ctx.log(f"  loaded in {load['load_s']} s, indexes {load['index_s']} s, analyze {load['vacuum_analyze_s']} s")
            timing = time_report(ctx, runs)
            ctx.detail(f"report_{label}", timing)
            ctx.log(f"  report: median {timing['median_ms']} ms {timing['sections_median_ms']}")
            figures[f"complaint_report_{n // 1000}k_orders"] = {
                "value": timing["median_ms"], "unit": "ms", "target": target,
                "note": f"one year, root unit, {load['complaints']:,} complaints, {load['stage_rows']:,} stage rows"}
            figures[f"store_load_{n // 1000}k_orders"] = {"value": load["load_s"] + load["index_s"], "unit": "s",
                                                          "note": "INSERT … SELECT generate_series + indexes"}
    return figures
