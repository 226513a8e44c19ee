"""`gridcare report complaints --unit CODE --from DATE --to DATE --format json|xlsx|html --out FILE`

Also: `gridcare report refresh [--full]` (bring the reporting store up to date) and
`gridcare report fetch RUN_ID --format … --out FILE` (the result of a background run).
Errors: one Chinese line on stderr, exit status 2 (bad input) or 3 (period too large: queued instead)."""
from django.core.management.base import CommandError

from gridcare.analytics import exports, facts, rules, services
from gridcare.analytics.models import ReportRun
from gridcare.core.command_support import ScriptCommand, ScriptParser

TOO_LARGE = 3


class Command(ScriptCommand):
    help = "统计报表：投诉分析报告（JSON/XLSX/HTML）、更新统计数据、取回后台报表"

    def add_arguments(self, parser):
        # sub-parsers created here are ScriptParsers too: their usage errors are one Chinese line
        sub = parser.add_subparsers(dest="action", required=True, parser_class=ScriptParser)
        c = sub.add_parser("complaints", help="投诉分析报告")
        c.add_argument("--unit", required=True, help="单位编码（含下级单位）")
        c.add_argument("--from", dest="date_from", help="开始日期 YYYY-MM-DD（含）")
        c.add_argument("--to", dest="date_to", help="结束日期 YYYY-MM-DD（含）")
        c.add_argument("--preset", choices=list(rules.PRESETS), help="按月/季/年（代替 --from/--to）")
        c.add_argument("--format", choices=exports.FORMATS, default="json")
        c.add_argument("--out", required=True, help="输出文件")
        c.add_argument("--background", action="store_true", help="作为后台任务计算（用 fetch 取回）")
        r = sub.add_parser("refresh", help="更新统计数据（增量；--full 全部重建）")
        r.add_argument("--full", action="store_true")
        f = sub.add_parser("fetch", help="取回后台报表的结果")
        f.add_argument("run_id", type=int)
        f.add_argument("--format", choices=exports.FORMATS, default="json")
        f.add_argument("--out", required=True)

    def handle(self, *args, **o):
        return getattr(self, f"_{o['action']}")(o)

    def _complaints(self, o):
        try:
            unit, period = services.check_request(o["unit"], o["date_from"], o["date_to"], o["preset"])
        except rules.PeriodError as exc:
            raise CommandError(exc.message, returncode=2) from None
        if o["background"] or not rules.check_interactive(period):
            run = services.do_start_run(None, unit, period)
            message = (services.too_large_message(period) if not o["background"] else "报表已转为后台任务计算")
            message += (f"（任务号 {run.pk}，由 gridcare db_worker 执行；完成后用 "
                        f"gridcare report fetch {run.pk} --format {o['format']} --out {o['out']} 取回）")
            if o["background"]:
                self.stdout.write(message)
                return
            raise CommandError(message, returncode=TOO_LARGE)
        report = services.complaint_report(None, unit, period)
        self._write(report, o)
        self.stdout.write(f"投诉分析报告：{unit.name}（{unit.code}）{period.label()}，投诉 {report['total']} 件 → {o['out']}")

    def _write(self, report, o):
        try:
            exports.write_file(report, o["format"], o["out"])
        except (FileNotFoundError, PermissionError) as exc:
            raise CommandError(f"无法写入输出文件 {o['out']}：{exc}", returncode=2) from None

    def _refresh(self, o):
        result = facts.rebuild_all() if o["full"] else facts.refresh()
        self.stdout.write(f"统计数据已更新：{result['orders']} 张工单（流转记录至 #{result['events']}）")

    def _fetch(self, o):
        run = ReportRun.objects.filter(pk=o["run_id"]).first()
        if run is None:
            raise CommandError(f"后台报表任务不存在：{o['run_id']}", returncode=2)
        if run.status != ReportRun.Status.DONE:
            detail = f"：{run.error}" if run.error else f"（进度 {run.progress}%）"
            raise CommandError(f"后台报表任务 {run.pk} {run.get_status_display()}{detail}", returncode=4)
        self._write(run.result, o)
        self.stdout.write(f"后台报表 {run.pk} → {o['out']}")
