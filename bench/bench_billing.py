"""Billing: a month's bill run for 1,000,000 customers on PostgreSQL, and interval validation over 100M AMI values.

Targets (issue 8): the bill run end to end (reads in, validation, bills written) < 60 s, reported beside the
database's raw COPY of the same bill rows; interval validation of ~100,000,000 values (1M meters × 96 points)
< 60 s on the 2-core machine (DuckDB over Parquet, the SQL of gridcare.metering.intervals).

Bill run phases, against a scratch PostgreSQL database migrated by Django:
  setup (not timed): org units, one 台区, N customers, meters, billing accounts and last month's reads by COPY;
  timed: this month's reads → VEE (Polars, gridcare.metering.rules.vee_frame: the same rules as a manual
  read) → COPY into metering_meterread and metering_readexception → `billing.services.execute_run`
  (one query for the usage, exact Decimal pricing memoised per distinct usage, COPY of the bills);
  raw: COPY of the same bill rows into a table shaped like billing_bill.
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
    return {"interval_values": {"value": values, "unit": "values"},
            "interval_validation_s": {"value": round(took, 2), "unit": "s", "target": "< 60"},
            "interval_values_per_s": {"value": round(values / took), "unit": "values/s"}}


def _bill_run_bench(ctx, n: int) -> dict:
    import datetime as dt
    import io

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
        from gridcare.billing.models import BillRun
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
        cur = prev + use
        t0 = time.monotonic()
        with connection.cursor() as c:
            raw = c.cursor
            with raw.copy("COPY customers_customer (id, account_no, name, customer_class, unit_id, transformer_area_id, "
                          "address, area_kind, phone, phone2, critical, critical_kind, sensitive, sensitive_reason, "
                          "notify_sms, notify_wechat, email) FROM STDIN") as cp:
                for i in range(n):
                    cp.write_row((i + 1, f"{3100000000 + i}", "客户", "residential", station.pk, ta.pk, "地址", "urban",
                                  "", "", False, "", False, "", True, False, ""))
            with raw.copy("COPY grid_meter (id, meter_no, customer_id, transformer_area_id, tou, multiplier) FROM STDIN") as cp:
                for i in range(n):
                    cp.write_row((i + 1, f"M{i:09d}", i + 1, ta.pk, False, 1))
            with raw.copy("COPY billing_billingaccount (customer_id, tariff_code, status, prepaid, balance, "
                          "low_balance_yuan) FROM STDIN") as cp:
                for i in range(n):
                    cp.write_row((i + 1, "ZJ-RES-TIERED", "active", False, "0.00", "20.00"))
            june = dt.datetime(2026, 7, 2, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))
            with raw.copy("COPY metering_meterread (customer_id, meter_id, unit_id, read_at, period, register, value_kwh, "
                          "consumption_kwh, source, status, rollover, exchange, created_at) FROM STDIN") as cp:
                now = timezone.now()
                for i in range(n):
                    cp.write_row((i + 1, i + 1, station.pk, june, dt.date(2026, 6, 1), "total", int(prev[i]), 200,
                                  "ami", "valid", False, False, now))
            c.execute("SELECT setval(pg_get_serial_sequence('customers_customer','id'), %s)", [n])
            c.execute("ANALYZE")
        ctx.log(f"setup: {n:,} customers, meters, accounts and June reads in {time.monotonic() - t0:.1f}s")

        # ---- timed: reads in, validation, bills written
        started = time.monotonic()
        july = dt.datetime(2026, 8, 3, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))
        with connection.cursor() as c:
            c.execute("SELECT meter_id, value_kwh FROM metering_meterread WHERE period = '2026-06-01' "
                      "AND register = 'total' ORDER BY meter_id")
            prev_rows = np.array(c.fetchall(), dtype=np.float64)
        frame = pl.DataFrame({"meter": np.arange(1, n + 1), "value": cur.astype(np.float64),
                              "previous": prev_rows[:, 1],
                              "status": ["active"] * n, "zero_explained": np.zeros(n, dtype=bool),
                              "days": np.full(n, 32), "source": ["ami"] * n, "estimates_before": np.zeros(n, dtype=np.int64)})
        checked = vee_frame(frame.with_columns(pl.lit(None, dtype=pl.Float64).alias("expected")))
        t_vee = time.monotonic() - started
        flagged = checked.filter(pl.col("rule").is_not_null())
        now = timezone.now()
        with transaction.atomic(), connection.cursor() as c:
            buf = io.StringIO()
            kwh = checked["kwh"].to_numpy()
            rule = checked["rule"].to_list()
            for i in range(n):
                buf.write(f"{i + 1}\t{i + 1}\t{station.pk}\t{july.isoformat()}\t2026-07-01\ttotal\t{int(cur[i])}\t"
                          f"{kwh[i]:.2f}\tami\t{'exception' if rule[i] else 'valid'}\tf\tf\t{now.isoformat()}\n")
            with c.cursor.copy("COPY metering_meterread (customer_id, meter_id, unit_id, read_at, period, register, "
                               "value_kwh, consumption_kwh, source, status, rollover, exchange, created_at) FROM STDIN") as cp:
                cp.write(buf.getvalue())
            with c.cursor.copy("COPY metering_readexception (customer_id, meter_id, unit_id, period, rule, message, "
                               "status, resolution, reason, created_at) FROM STDIN") as cp:
                for m, r in flagged.select("meter", "rule").iter_rows():
                    cp.write_row((m, m, station.pk, dt.date(2026, 7, 1), r, "批量校验", "open", "", "", now))
        t_reads = time.monotonic() - started
        run = BillRun.objects.create(unit=station, period=dt.date(2026, 7, 1), started_by=admin)
        with transaction.atomic():
            run = execute_run(run, batch=200_000)
        total = time.monotonic() - started
        ctx.log(f"bill run: reads+VEE {t_reads:.1f}s (VEE {t_vee:.1f}s), total {total:.1f}s: {run.bills:,} bills, "
                f"{run.held:,} held, {run.amount} yuan")

        # ---- raw COPY of the same bill rows
        with connection.cursor() as c:
            c.execute("CREATE TABLE bench_bill_copy (LIKE billing_bill INCLUDING DEFAULTS)")
            t0 = time.monotonic()
            data = io.BytesIO()
            with c.cursor.copy("COPY billing_bill TO STDOUT") as out:
                for chunk in out:
                    data.write(chunk)
            t_dump = time.monotonic() - t0
            t0 = time.monotonic()
            with c.cursor.copy("COPY bench_bill_copy FROM STDIN") as cp:
                cp.write(data.getvalue())
            raw_copy = time.monotonic() - t0
        ctx.detail("bill_run", {"where": where, "bills": run.bills, "held": run.held, "amount": str(run.amount),
                                "reads_and_vee_s": round(t_reads, 2), "vee_s": round(t_vee, 2), "dump_s": round(t_dump, 2)})
        return {"customers": {"value": n, "unit": "customers"},
                "bill_run_end_to_end_s": {"value": round(total, 2), "unit": "s", "target": "< 60"},
                "bills_per_s": {"value": round(run.bills / total), "unit": "bills/s"},
                "raw_copy_same_rows_s": {"value": round(raw_copy, 2), "unit": "s"},
                "raw_copy_rows_per_s": {"value": round(run.bills / raw_copy) if raw_copy else None, "unit": "rows/s"}}


def run(ctx) -> dict:
    quick = getattr(ctx, "quick", False)
    n = int(os.environ.get("BENCH_CUSTOMERS", 50_000 if quick else 1_000_000))
    meters = int(os.environ.get("BENCH_INTERVAL_METERS", 50_000 if quick else 1_050_000))
    figures = {}
    figures.update(_interval_bench(ctx, meters))
    figures.update(_bill_run_bench(ctx, n))
    return figures
