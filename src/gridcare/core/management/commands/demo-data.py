from django.core.management.base import CommandError
from django.db import transaction

from gridcare.core.command_support import ScriptCommand
from gridcare.core import demo
from gridcare.core.audit import audit_context


class Command(ScriptCommand):
    help = "生成演示数据：组织、人员、电网、客户（以及后续模块的工单、停电、抄表等），按种子确定性生成"

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=50_000, help="客户数（默认50000）")
        parser.add_argument("--seed", type=int, default=2026, help="随机种子（相同种子生成相同数据）")
        parser.add_argument("--orders", type=int, default=None, help="工单数（默认按客户数校准）")
        parser.add_argument("--if-empty", action="store_true", help="数据库已有数据时跳过")
        parser.add_argument("--only", default="", help="只运行指定步骤（逗号分隔）")
        parser.add_argument("--as-of", default=None,
                            help="演示数据的“今天”（ISO日期或时间，默认当前整点）；相同种子与日期生成相同数据")

    def handle(self, *args, **opts):
        from gridcare.accounts.models import OrgUnit

        if opts["customers"] < 100:
            raise CommandError("--customers 至少为100", returncode=2)
        if OrgUnit.objects.exists():
            if opts["if_empty"]:
                self.stdout.write("数据库已有数据，跳过演示数据生成。")
                return
            if not opts["only"]:
                raise CommandError("数据库已有数据。请先清空数据库（make clean-db）或使用 --if-empty。", returncode=2)
        ctx = demo.DemoContext(seed=opts["seed"], customers=opts["customers"], orders=opts["orders"],
                               today=_as_of(opts["as_of"]), log=lambda m: self.stdout.write(m))
        only = {s for s in opts["only"].split(",") if s} or None
        with audit_context(None, "demo"), transaction.atomic():
            demo.run(ctx, only)
        self.stdout.write(self.style.SUCCESS("演示数据已生成。演示账号密码均为 " + demo.DEMO_PASSWORD))


def _as_of(value):
    """The demo's "today": a given date/time (Asia/Shanghai unless it has an offset), or this hour, so
    that the open demo orders are near breach or overdue as of the moment the demo is shown."""
    from datetime import datetime

    if not value:
        return datetime.now(demo.TZ).replace(minute=0, second=0, microsecond=0)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--as-of 格式不正确：{value}（应为 2026-11-01 或 2026-11-01T09:00）", returncode=2)
    return moment if moment.tzinfo else moment.replace(tzinfo=demo.TZ)
