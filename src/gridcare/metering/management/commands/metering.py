"""`gridcare metering validate-intervals FILE.parquet [--engine duckdb|polars|spark] [--threads N]
[--dry-run] [--format json]`: the interval rules (intervals.py: gap, duplicate, negative, spike, bad
quality per meter and day) over an intervals.parquet file (formats.md), findings stored as exceptions for
the meters GridCare knows (once: validating the same file again stores nothing new)."""
import json
import time
from pathlib import Path

from django.core.management.base import CommandError

from gridcare.core.audit import audit_context
from gridcare.core.command_support import ScriptCommand, ScriptParser
from gridcare.metering import intervals


class Command(ScriptCommand):
    help = "抄表计量：曲线数据校验"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, parser_class=ScriptParser)
        v = sub.add_parser("validate-intervals", help="校验 intervals.parquet 曲线数据并登记异常")
        v.add_argument("file", help="Parquet 文件（或 DuckDB/Spark 可读的通配路径）")
        v.add_argument("--engine", choices=["duckdb", "polars", "spark"], default="duckdb", help="计算引擎")
        v.add_argument("--threads", type=int, default=None, help="线程数（缺省为全部核）")
        v.add_argument("--dry-run", action="store_true", help="只校验，不登记异常")
        v.add_argument("--format", choices=["text", "json"], default="text", help="输出格式")

    def handle(self, *args, **opts):
        path = opts["file"]
        if not any(ch in path for ch in "*?[") and not Path(path).exists():
            raise CommandError(f"文件不存在：{path}", returncode=2)
        started = time.monotonic()
        try:
            rows = intervals.validate(path, opts["engine"], threads=opts["threads"])
        except ImportError as exc:
            raise CommandError(f"计算引擎 {opts['engine']} 不可用：{exc}", returncode=2) from None
        except Exception as exc:  # noqa: BLE001 - an unreadable file or missing columns: say so
            raise CommandError(f"无法校验 {path}：{str(exc).splitlines()[0][:300]}（应为 formats.md 的 "
                               "intervals.parquet：meter_no, ts, kwh, quality）", returncode=2) from None
        took = time.monotonic() - started
        summary = {"file": path, "engine": opts["engine"], "meter_days": len(rows),
                   **{k: sum(1 for r in rows if r[k]) for k in intervals.COLUMNS[4:]}, "seconds": round(took, 2)}
        if not opts["dry_run"]:
            from gridcare.metering.services import do_store_interval_findings

            with audit_context(None, "cli"):
                summary.update(do_store_interval_findings(rows, Path(path).name))
        if opts["format"] == "json":
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
            return
        self.stdout.write(f"曲线校验（{opts['engine']}，{took:.1f} 秒）：{len(rows)} 个表日有异常："
                          f"缺点 {summary['gap']}，重复 {summary['duplicate']}，负值 {summary['negative']}，"
                          f"尖峰 {summary['spike']}，质量码异常 {summary['bad_quality']}")
        if not opts["dry_run"]:
            self.stdout.write(f"已登记异常 {summary['stored']} 条；未登记的电能表 {summary['unknown_meters']} 只")
