"""`gridcare reliability --unit CODE --from DATE --to DATE [--exclude-planned] [--feeder CODE] --format json`."""
import json
from datetime import date

from django.core.management.base import CommandError

from gridcare.accounts.models import OrgUnit
from gridcare.core.command_support import ScriptCommand
from gridcare.grid.models import Feeder


def _date(value, name):
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{name} 日期格式不正确，应为 YYYY-MM-DD（当前为“{value}”）", returncode=2) from None


class Command(ScriptCommand):
    help = ("供电可靠性指标（IEEE 1366：SAIFI、SAIDI、CAIDI、ASAI、CEMI-n，以及供电可靠率RS-1）。"
            "只计持续时间超过5分钟的停电；日期含首尾两天，按北京时间。")

    def add_arguments(self, parser):
        parser.add_argument("--unit", required=True, help="单位编码（统计其下全部客户）")
        parser.add_argument("--from", dest="date_from", required=True, help="开始日期 YYYY-MM-DD（含）")
        parser.add_argument("--to", dest="date_to", required=True, help="结束日期 YYYY-MM-DD（含）")
        parser.add_argument("--exclude-planned", action="store_true", help="不计计划停电")
        parser.add_argument("--feeder", help="只统计一条线路的客户")
        parser.add_argument("--format", choices=["json", "text"], default="text")

    def handle(self, *args, unit, date_from, date_to, exclude_planned, feeder, format, **options):
        from gridcare.outages.services import reliability_for

        u = OrgUnit.objects.filter(code=unit).first()
        if u is None:
            raise CommandError(f"单位不存在：{unit}", returncode=2)
        f = None
        if feeder:
            f = Feeder.objects.filter(code=feeder).first()
            if f is None:
                raise CommandError(f"线路不存在：{feeder}", returncode=2)
        d1, d2 = _date(date_from, "--from"), _date(date_to, "--to")
        if d2 < d1:
            raise CommandError("--to 不能早于 --from", returncode=2)
        result = reliability_for(u, d1, d2, exclude_planned, f)
        if format == "json":
            self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
            return
        self.stdout.write(
            f"{result['unit_name']}（{unit}）{d1} 至 {d2}{'，不含计划停电' if exclude_planned else ''}\n"
            f"  服务客户数 {result['customers_served']}，停电户次 {result['customer_interruptions']}，"
            f"停电时户数 {result['customer_minutes'] / 60:.2f} 时·户\n"
            f"  SAIFI {result['saifi']:.4f} 次/户  SAIDI {result['saidi']:.2f} 分钟/户  CAIDI {result['caidi']:.2f} 分钟\n"
            f"  ASAI {result['asai']:.6%}  RS-1 {result['rs1']:.6%}  CEMI-{result['cemi_n']} {result['cemi']:.4%}")
