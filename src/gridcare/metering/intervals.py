"""Interval-data (AMI, 96 points a day) validation at scale: ONE SQL text, run by DuckDB over Parquet on one
machine and by Spark SQL when one machine is not enough (a test runs both on the same file and compares).

Per meter and day (Asia/Shanghai): points, total, and the findings
  gap         fewer points than points_per_day (missing intervals)
  duplicate   more points than points_per_day (repeated timestamps)
  negative    a negative value
  spike       a point above spike_factor × the mean of the meter's other points that day and above
              spike_min_kwh, or above max_kwh_per_point (physically impossible)
  bad_quality points whose quality code is one of bad_quality (not measured)
Thresholds come from data/vee.yaml (`interval`). Only GROUP BY aggregates: one pass, no window sort, so
100M points fit a 2-core machine in well under a minute.
"""
from __future__ import annotations

from .rules import config

COLUMNS = ["meter_no", "day", "points", "total_kwh", "gap", "duplicate", "negative", "spike", "bad_quality"]


def rules_sql(table: str, cfg=None) -> str:
    cfg = (cfg or config()).interval
    n = int(cfg["points_per_day"])
    factor, floor, ceiling = float(cfg["spike_factor"]), float(cfg["spike_min_kwh"]), float(cfg["max_kwh_per_point"])
    bad = ", ".join("'" + str(q).replace("'", "''") + "'" for q in cfg["bad_quality"])
    return f"""
WITH daily AS (
  SELECT meter_no, CAST(ts AS DATE) AS day, COUNT(*) AS points, SUM(kwh) AS total_kwh,
         MAX(kwh) AS peak_kwh, MIN(kwh) AS low_kwh,
         SUM(CASE WHEN quality IN ({bad}) THEN 1 ELSE 0 END) AS bad_points
  FROM {table}
  GROUP BY meter_no, CAST(ts AS DATE)
)
SELECT meter_no, day, points, total_kwh,
       points < {n} AS gap,
       points > {n} AS duplicate,
       low_kwh < 0 AS negative,
       (peak_kwh > {ceiling}) OR (points > 1 AND peak_kwh > {floor}
            AND peak_kwh > {factor} * (total_kwh - peak_kwh) / (points - 1)) AS spike,
       bad_points > 0 AS bad_quality
FROM daily
WHERE points <> {n} OR low_kwh < 0 OR bad_points > 0 OR peak_kwh > {ceiling}
   OR (points > 1 AND peak_kwh > {floor} AND peak_kwh > {factor} * (total_kwh - peak_kwh) / (points - 1))
"""


def validate_duckdb(path: str, threads: int | None = None, con=None):
    """Findings (a pyarrow Table, COLUMNS) for the Parquet file(s) at `path`, with DuckDB."""
    import duckdb

    own = con is None
    con = con or duckdb.connect()
    try:
        con.execute("SET TimeZone = 'Asia/Shanghai'")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        escaped = str(path).replace("'", "''")
        con.execute(f"CREATE OR REPLACE TEMP VIEW intervals AS SELECT * FROM read_parquet('{escaped}')")
        return con.sql(rules_sql("intervals") + " ORDER BY meter_no, day").to_arrow_table()
    finally:
        if own:
            con.close()


def validate_spark(spark, path: str):
    """The same findings with Spark SQL (session time zone Asia/Shanghai); returns a list of dicts."""
    spark.conf.set("spark.sql.session.timeZone", "Asia/Shanghai")
    spark.read.parquet(str(path)).createOrReplaceTempView("intervals")
    rows = spark.sql(rules_sql("intervals") + " ORDER BY meter_no, day").collect()
    return [r.asDict() for r in rows]


def summary(table) -> dict:
    """Counts per finding of a DuckDB result."""
    d = table.to_pydict()
    return {"meter_days": len(d["meter_no"]), **{k: sum(1 for v in d[k] if v) for k in COLUMNS[4:]}}


def validate_polars(path: str):
    """The same findings with Polars (lazy scan, one group-by), as a Polars frame with COLUMNS. A naive
    `ts` is Asia/Shanghai (formats.md); an aware one is converted to it before taking the day."""
    import polars as pl

    cfg = config().interval
    n = int(cfg["points_per_day"])
    factor, floor, ceiling = float(cfg["spike_factor"]), float(cfg["spike_min_kwh"]), float(cfg["max_kwh_per_point"])
    lf = pl.scan_parquet(str(path))
    ts_type = lf.collect_schema()["ts"]
    ts = pl.col("ts")
    ts = ts.dt.replace_time_zone("Asia/Shanghai") if getattr(ts_type, "time_zone", None) is None else \
        ts.dt.convert_time_zone("Asia/Shanghai")
    daily = lf.group_by("meter_no", ts.dt.date().alias("day")).agg(
        pl.len().cast(pl.Int64).alias("points"), pl.col("kwh").sum().alias("total_kwh"),
        pl.col("kwh").max().alias("peak_kwh"), pl.col("kwh").min().alias("low_kwh"),
        pl.col("quality").is_in([str(q) for q in cfg["bad_quality"]]).sum().alias("bad_points"))
    p, peak, total = pl.col("points"), pl.col("peak_kwh"), pl.col("total_kwh")
    spike = (peak > ceiling) | ((p > 1) & (peak > floor) & (peak > factor * (total - peak) / (p - 1)))
    found = daily.with_columns((p < n).alias("gap"), (p > n).alias("duplicate"), (pl.col("low_kwh") < 0).alias("negative"),
                               spike.fill_null(False).alias("spike"), (pl.col("bad_points") > 0).alias("bad_quality"))
    found = found.filter(pl.col("gap") | pl.col("duplicate") | pl.col("negative") | pl.col("spike")
                         | pl.col("bad_quality"))
    return found.select(COLUMNS).sort("meter_no", "day").collect()


def findings_rows(result) -> list[dict]:
    """Rows (dicts with COLUMNS) of a DuckDB (pyarrow), Polars or Spark (list of dicts) result."""
    if isinstance(result, list):
        return result
    if hasattr(result, "to_dicts"):
        return result.to_dicts()
    return result.to_pylist()


def validate(path: str, engine: str = "duckdb", threads: int | None = None) -> list[dict]:
    """Findings of a Parquet file with the chosen engine (duckdb | polars | spark)."""
    if engine == "duckdb":
        return findings_rows(validate_duckdb(path, threads=threads))
    if engine == "polars":
        return findings_rows(validate_polars(path))
    if engine == "spark":
        import os
        import sys

        from pyspark.sql import SparkSession

        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        spark = (SparkSession.builder.master(f"local[{threads or '*'}]").appName("gridcare-vee")
                 .config("spark.ui.enabled", "false").config("spark.sql.session.timeZone", "Asia/Shanghai")
                 .getOrCreate())
        try:
            return validate_spark(spark, path)
        finally:
            spark.stop()
    raise ValueError(f"未知的计算引擎“{engine}”，应为 duckdb、polars 或 spark")
