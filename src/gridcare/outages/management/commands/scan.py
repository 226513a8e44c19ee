"""`gridcare scan frequent-outages --as-of DATE --format json [--update-watchlist]`."""
import json
from datetime import date

from django.core.management.base import CommandError

from gridcare.core.command_support import ScriptCommand


class Command(ScriptCommand):
    help = "扫描：frequent-outages 频繁停电（60天内3次及以上持续停电的台区和客户，阈值见 time-limits.yaml）"

    def add_arguments(self, parser):
        parser.add_argument("what", choices=["frequent-outages"], help="扫描内容")
        parser.add_argument("--as-of", dest="as_of", help="截止日期 YYYY-MM-DD（含当天，默认今天）")
        parser.add_argument("--format", choices=["json", "text"], default="text")
        parser.add_argument("--update-watchlist", action="store_true", help="同时更新预警名单并通知台区经理和调度")

    def handle(self, *args, what, as_of, format, update_watchlist, **options):
        from django.utils import timezone

        from gridcare.core.audit import audit_context
        from gridcare.outages.services import scan_frequent, update_watch_list

        try:
            day = date.fromisoformat(as_of) if as_of else timezone.localdate()
        except ValueError:
            raise CommandError(f"--as-of 日期格式不正确，应为 YYYY-MM-DD（当前为“{as_of}”）", returncode=2) from None
        result = scan_frequent(day)
        if update_watchlist:
            with audit_context(None, "cli"):
                result["watchlist"] = update_watch_list(result)
        if format == "json":
            self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"{result['from'][:10]} 至 {day}：{result['taiqu_count']} 个台区、{result['customer_count']} "
                          f"户客户在{result['window_days']}天内持续停电 {result['threshold']} 次及以上")
        for t in result["taiqu"]:
            self.stdout.write(f"  {t['taiqu_code']} {t['taiqu_name']} {t['outages']}次 {t['customers']}户 "
                              f"{'、'.join(t['outage_nos'])}")
