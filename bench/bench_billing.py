"""Billing: a month's bill run for 1,000,000 customers on PostgreSQL, and interval validation over 100M AMI values.

Targets (issue 8): the bill run end to end (reads in, validation, bills written) < 60 s, reported beside the
database's raw COPY of the same bill rows; interval validation of ~100,000,000 values (1M meters × 96 points)
< 60 s on the 2-core machine (DuckDB over Parquet, the SQL of gridcare.metering.intervals; the Polars path of
the same rules is timed beside it and must find the same).

Bill run phases, against a scratch PostgreSQL database migrated by Django:
  setup (not timed): org units, one 台区, N customers, meters, billing accounts and last month's reads by COPY;
  timed: this month's reads (totals, plus peak/valley for the quarter of meters on a TOU tariff) → VEE
  (Polars, gridcare.metering.rules.vee_frame: the same rules as a manual read) → COPY into
  metering_meterread and metering_readexception → `billing.services.execute_run` (set-based: five set
  queries via COPY TO STDOUT into Polars, exact integer pricing vectorised, COPY of the bills);
  raw: COPY of the same bill rows into a bare table and into one with billing_bill's indexes.
BENCH_CUSTOMERS / BENCH_INTERVAL_METERS override the sizes; --quick shrinks both.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from . import pg

TIMEOUT = 25 * 60


def _interval_bench(ctx, meters: int) -> dict:
    import duckdb

    from gridcare.metering.intervals import summary, validate_duckdb

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "intervals.parquet"
        con = duckdb.connect()
        con.execute("SET TimeZone = 'Asia/Shanghai'")
        t0 = time.monotonic()
        # ~0.1 % of meter-days with a spike, ~0.1 % with a missing point, some bad quality codes
        con.execute(f"""COPY (
            SELECT 'M' || lpad(CAST(m AS VARCHAR), 8, '0') AS meter_no,
                   TIMESTAMPTZ '2026-07-01 00:00:00+08' + to_minutes(CAST(15 * i AS BIGINT)) AS ts,
                   CASE WHEN m % 997 = 0 AND i = 70 THEN 9.0 ELSE 0.05 + (hash(m, i) % 100) / 400.0 END AS kwh,
                   CASE WHEN m % 1499 = 0 AND i = 3 THEN 'bad' ELSE 'ok' END AS quality
            FROM range({meters}) t1(m), range(96) t2(i)
            WHERE NOT (m % 1009 = 0 AND i = 50)
        ) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)""")
        con.close()
        gen = time.monotonic() - t0
        values = meters * 96
        ctx.log(f"intervals: wrote {values:,} values in {gen:.1f}s ({path.stat().st_size / 1e6:.0f} MB)")
        t0 = time.monotonic()
        table = validate_duckdb(str(path), threads=2)
        took = time.monotonic() - t0
        found = summary(table)
        ctx.log(f"intervals: validated in {took:.1f}s: {found}")
        ctx.detail("interval_findings", found)
        # the same rules with Polars (the path `--engine polars` takes), same findings expected
        from gridcare.metering.intervals import validate_polars

        t0 = time.monotonic()
        pol = validate_polars(str(path))
        took_pl = time.monotonic() - t0
        same = {"meter_days": pol.height, **{k: int(pol[k].sum()) for k in ("gap", "duplicate", "negative", "spike",
                                                                            "bad_quality")}} == found
        ctx.log(f"intervals: Polars validated in {took_pl:.1f}s, same findings: {same}")
        ctx.detail("interval_polars_same_findings", same)
    return {"interval_values": {"value": values, "unit": "values"},
            "interval_validation_s": {"value": round(took, 2), "unit": "s", "target": "< 60"},
            "interval_values_per_s": {"value": round(values / took), "unit": "values/s"},
            "interval_validation_polars_s": {"value": round(took_pl, 2), "unit": "s"}}


def _copy_frame(cur, table: str, columns: list[str], df) -> None:
    """COPY a Polars frame (columns in order) into a table as CSV."""
    import io

    buf = io.BytesIO()
    df.write_csv(buf, include_header=False)
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)") as cp:
        cp.write(buf.getvalue())


def _bill_run_bench(ctx, n: int) -> dict:
    import datetime as dt

    import numpy as np
    import polars as pl

    with pg.scratch_database(ctx.log) as (url, where):
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridcare.settings")
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, transaction
        from django.utils import timezone

        from gridcare.accounts.models import OrgUnit, User
        from gridcare.billing.models import Bill, BillRun
        from gridcare.billing.runs import query_frame
        from gridcare.billing.services import execute_run
        from gridcare.grid.models import Feeder, Substation, TransformerArea
        from gridcare.metering.rules import vee_frame

        call_command("migrate", verbosity=0)
        ctx.detail("postgres", pg.server_facts(url))
        prov = OrgUnit.objects.create(code="P01", name="省", kind="province")
        city = OrgUnit.objects.create(code="C01", name="市", kind="city", parent=prov)
        station = OrgUnit.objects.create(code="S01", name="所", kind="station", parent=city)
        admin = User.objects.create(username="bench", role="admin", unit=prov, is_superuser=True)
        sub = Substation.objects.create(code="B1", name="站", unit=city)
        feeder = Feeder.objects.create(code="F1", name="线", substation=sub, unit=city)
        ta = TransformerArea.objects.create(code="T1", name="台区", feeder=feeder, unit=station, area_kind="urban")
        rng = np.random.default_rng(2026)
        prev = rng.integers(0, 900_000, n)
        use = np.maximum(0, rng.normal(230, 120, n)).round().astype(np.int64)
        use[rng.random(n) < 0.01] = 0          # some zero reads (exceptions)
        cur_values = prev + use
        ids = np.arange(1, n + 1)
        # the tariff mix of a residential company: most on annual tiers, a quarter on peak/valley (2 registers)
        tou = rng.random(n) < 0.25
        t0 = time.monotonic()
        june = "2026-07-02 09:00:00+08"
        now = timezone.now().isoformat()
        with connection.cursor() as c:
            raw = c.cursor
            _copy_frame(raw, "customers_customer", ["id", "account_no", "name", "customer_class", "unit_id",
                                                    "transformer_area_id", "address", "area_kind", "phone", "phone2",
                                                    "critical", "critical_kind", "sensitive", "sensitive_reason",
                                                    "notify_sms", "notify_wechat", "email"],
                        pl.DataFrame({"id": ids, "account_no": (ids + 3_100_000_000).astype(str)}).with_columns(
                            pl.lit("客户").alias("name"), pl.lit("residential").alias("c"), pl.lit(station.pk).alias("u"),
                            pl.lit(ta.pk).alias("t"), pl.lit("地址").alias("a"), pl.lit("urban").alias("k"),
                            pl.lit("").alias("p"), pl.lit("").alias("p2"), pl.lit(False).alias("cr"),
                            pl.lit("").alias("ck"), pl.lit(False).alias("s"), pl.lit("").alias("sr"),
                            pl.lit(True).alias("ns"), pl.lit(False).alias("nw"), pl.lit("").alias("e")))
            _copy_frame(raw, "grid_meter", ["id", "meter_no", "customer_id", "transformer_area_id", "tou", "multiplier"],
                        pl.DataFrame({"id": ids, "no": pl.Series(ids).cast(pl.String).str.zfill(9), "c": ids,
                                      "t": np.full(n, ta.pk), "tou": tou, "m": np.ones(n, dtype=np.int64)}))
            _copy_frame(raw, "billing_billingaccount", ["customer_id", "tariff_code", "status", "prepaid", "balance",
                                                        "low_balance_yuan"],
                        pl.DataFrame({"c": ids, "t": np.where(tou, "ZJ-RES-TOU", "ZJ-RES-TIERED")}).with_columns(
                            pl.lit("active").alias("s"), pl.lit(False).alias("p"), pl.lit("0.00").alias("b"),
                            pl.lit("20.00").alias("l")))
            read_cols = ["customer_id", "meter_id", "unit_id", "read_at", "period", "register", "value_kwh",
                         "consumption_kwh", "source", "status", "rollover", "exchange", "created_at"]
            june_frame = pl.DataFrame({"c": ids, "m": ids, "u": np.full(n, station.pk), "at": [june] * n,
                                       "p": ["2026-06-01"] * n, "r": ["total"] * n, "v": prev,
                                       "k": np.full(n, 200)}).with_columns(
                pl.lit("ami").alias("s"), pl.lit("valid").alias("st"), pl.lit(False).alias("ro"),
                pl.lit(False).alias("ex"), pl.lit(now).alias("cr"))
            _copy_frame(raw, "metering_meterread", read_cols, june_frame)
            c.execute("SELECT setval(pg_get_serial_sequence('customers_customer','id'), %s)", [n])
            c.execute("SELECT setval(pg_get_serial_sequence('grid_meter','id'), %s)", [n])
            c.execute("ANALYZE")
        ctx.log(f"setup: {n:,} customers, meters, accounts and June reads in {time.monotonic() - t0:.1f}s")

        # ---- timed: reads in (the AMI file of the month: totals, plus peak/valley for TOU meters), VEE,
        # reads and exceptions written, the bill run
        started = time.monotonic()
        july = "2026-08-03 09:00:00+08"
        previous = query_frame("SELECT meter_id, value_kwh FROM metering_meterread WHERE period = '2026-06-01' "
                               "AND register = 'total'", {"meter": pl.Int64, "previous": pl.Float64})
        incoming = pl.DataFrame({"meter": ids, "value": cur_values.astype(np.float64), "tou": tou})
        frame = incoming.join(previous, on="meter", how="left").with_columns(
            pl.lit("active").alias("status"), pl.lit(False).alias("zero_explained"), pl.lit(32).alias("days"),
            pl.lit("ami").alias("source"), pl.lit(0).alias("estimates_before"),
            pl.lit(None, dtype=pl.Float64).alias("expected"))
        checked = vee_frame(frame)
        t_vee = time.monotonic() - started
        now = timezone.now().isoformat()
        base = checked.select(
            pl.col("meter").alias("c"), pl.col("meter").alias("m"), pl.lit(station.pk).alias("u"), pl.lit(july).alias("at"),
            pl.lit("2026-07-01").alias("p"), pl.lit("total").alias("r"), pl.col("value").alias("v"),
            pl.col("kwh").alias("k"), pl.lit("ami").alias("s"),
            pl.when(pl.col("rule").is_null()).then(pl.lit("valid")).otherwise(pl.lit("exception")).alias("st"),
            pl.col("rollover").alias("ro"), pl.lit(False).alias("ex"), pl.lit(now).alias("cr"))
        # TOU meters also send peak and valley registers (62 % / 38 % of the month's use)
        tou_rows = checked.filter(pl.col("tou")).with_columns((pl.col("kwh") * 0.62).round(0).alias("peak"))
        peak = base.join(tou_rows.select(pl.col("meter").alias("c"), "peak"), on="c").with_columns(
            pl.lit("peak").alias("r"), pl.col("peak").alias("k"), pl.col("peak").alias("v")).drop("peak")
        valley = base.join(tou_rows.select(pl.col("meter").alias("c"), "peak"), on="c").with_columns(
            pl.lit("valley").alias("r"), (pl.col("k") - pl.col("peak")).alias("k"),
            (pl.col("k") - pl.col("peak")).alias("v")).drop("peak")
        reads = pl.concat([base, peak, valley])
        flagged = checked.filter(pl.col("rule").is_not_null())
        with transaction.atomic(), connection.cursor() as c:
            _copy_frame(c.cursor, "metering_meterread", read_cols, reads)
            _copy_frame(c.cursor, "metering_readexception", ["customer_id", "meter_id", "unit_id", "period", "rule",
                                                             "message", "status", "resolution", "reason", "created_at"],
                        flagged.select(pl.col("meter").alias("c"), pl.col("meter").alias("m"),
                                       pl.lit(station.pk).alias("u"), pl.lit("2026-07-01").alias("p"), "rule",
                                       pl.lit("批量校验").alias("msg"), pl.lit("open").alias("s"), pl.lit("").alias("res"),
                                       pl.lit("").alias("rea"), pl.lit(now).alias("cr")))
        t_reads = time.monotonic() - started
        run = BillRun.objects.create(unit=station, period=dt.date(2026, 7, 1), started_by=admin)
        t_run0 = time.monotonic()
        phases = {}
        with transaction.atomic():
            run = execute_run(run, timings=phases)
            phases["write"] = round(phases["write"], 3)
        t_run = time.monotonic() - t_run0
        # deferred FK checks run at commit (q_* are the set queries inside `queries`)
        phases["commit"] = round(t_run - sum(v for k, v in phases.items() if not k.startswith("q_")), 3)
        ctx.log(f"bill run phases: {phases}")
        total = time.monotonic() - started
        ctx.log(f"bill run: reads+VEE {t_reads:.1f}s (VEE {t_vee:.1f}s), run {t_run:.1f}s, total {total:.1f}s: "
                f"{run.bills:,} bills, {run.held:,} held, {run.amount} yuan; {len(reads):,} reads")

        # ---- raw COPY of the same bill rows: into a bare table, and into one with billing_bill's indexes
        import io

        with connection.cursor() as c:
            data = io.BytesIO()
            with c.cursor.copy(f"COPY {Bill._meta.db_table} TO STDOUT") as out:
                for chunk in out:
                    data.write(chunk)
            raw_s = {}
            for name, like in (("bare", "INCLUDING DEFAULTS"), ("indexed", "INCLUDING ALL")):
                c.execute(f"CREATE TABLE bench_bill_{name} (LIKE billing_bill {like})")
                t0 = time.monotonic()
                with transaction.atomic():
                    with c.cursor.copy(f"COPY bench_bill_{name} FROM STDIN") as cp:
                        cp.write(data.getvalue())
                raw_s[name] = time.monotonic() - t0
        ctx.detail("bill_run", {"where": where, "bills": run.bills, "held": run.held, "amount": str(run.amount),
                                "reads_written": len(reads), "reads_and_vee_s": round(t_reads, 2),
                                "vee_s": round(t_vee, 2), "run_s": round(t_run, 2), "run_phases_s": phases,
                                "held_reasons": run.error})
        return {"customers": {"value": n, "unit": "customers"},
                "bill_run_end_to_end_s": {"value": round(total, 2), "unit": "s", "target": "< 60"},
                "bill_run_only_s": {"value": round(t_run, 2), "unit": "s"},
                "reads_in_and_vee_s": {"value": round(t_reads, 2), "unit": "s"},
                "bills_per_s": {"value": round(run.bills / total), "unit": "bills/s"},
                "raw_copy_same_rows_s": {"value": round(raw_s["bare"], 2), "unit": "s"},
                "raw_copy_same_rows_indexed_s": {"value": round(raw_s["indexed"], 2), "unit": "s"},
                "raw_copy_rows_per_s": {"value": round(run.bills / raw_s["bare"]) if raw_s["bare"] else None,
                                        "unit": "rows/s"}}


def run(ctx) -> dict:
    quick = getattr(ctx, "quick", False)
    n = int(os.environ.get("BENCH_CUSTOMERS", 50_000 if quick else 1_000_000))
    meters = int(os.environ.get("BENCH_INTERVAL_METERS", 50_000 if quick else 1_050_000))
    figures = {}
    figures.update(_interval_bench(ctx, meters))
    figures.update(_bill_run_bench(ctx, n))
    return figures
