"""`gridcare sla due --type T --stage S [--area A] --start ISO [--format text|json]`

A contract for scripts: on success stdout carries only the due time, ISO 8601 in Asia/Shanghai with its
offset and seconds (e.g. `2026-10-09T17:00:00+08:00`), and the exit status is 0. Any error (unknown
type/stage/area, missing --area where the limit depends on it, bad --start, a working-day limit in a year
whose holiday schedule is not loaded) prints one Chinese message on stderr and exits with status 2.
--start without an offset is Asia/Shanghai time.
"""
import datetime as dt
import json

from django.core.management.base import CommandError
from django.db import DatabaseError

from gridcare.core.api_support import DomainError
from gridcare.core.command_support import ScriptCommand
from gridcare.core.workcalendar import TZ


def parse_start(text: str) -> dt.datetime:
    """ISO 8601 date-time (or date, meaning 00:00); without an offset it is Asia/Shanghai time."""
    value = (text or "").strip()
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"--start 的时间“{text}”无法识别，应为 ISO 8601 格式，如 2026-10-09T17:00:00+08:00", returncode=2
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=TZ)
    return moment


def format_due(moment: dt.datetime) -> str:
    return moment.astimezone(TZ).isoformat(timespec="seconds")


def _limits_in_force():
    """The limits the orders get: the national ones with this utility's stricter ones (an installation
    not migrated yet has none of its own)."""
    from gridcare.workorders import clock, limits

    try:
        return limits.current_table()
    except DatabaseError:
        return clock.default_table()


class Command(ScriptCommand):
    help = "时限计算：sla due --type 工单类型 --stage 环节 [--area 地区类型] --start 开始时间，输出到期时间"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", metavar="{due}")
        due = sub.add_parser("due", help="输出某环节从开始时间起的到期时间（ISO 8601，北京时间）")
        # Validated in handle() so that every error reads in Chinese.
        due.add_argument("--type", dest="order_type", help="工单类型代码，如 complaint、fault_repair")
        due.add_argument("--stage", help="环节代码（time-limits.yaml），如 contact、arrival")
        due.add_argument("--area", help="地区类型：urban 城区、rural 农村、remote 特殊边远地区（到达现场、恢复供电环节必填）")
        due.add_argument("--start", help="开始时间，ISO 8601；不带时区时按北京时间")
        due.add_argument("--format", dest="output_format", default="text", help="text（默认，仅输出到期时间）或 json")

    def handle(self, *args, action=None, **opts):
        if action != "due":
            raise CommandError("请指定操作：due（如 gridcare sla due --type complaint --stage contact "
                               "--start 2026-10-09T17:00:00+08:00）", returncode=2)
        return self.do_due(**opts)

    def do_due(self, order_type=None, stage=None, area=None, start=None, output_format="text", **opts):
        from gridcare.workorders.clock import due_at, limit_for

        missing = [flag for flag, value in (("--type", order_type), ("--stage", stage), ("--start", start))
                   if not value]
        if missing:
            raise CommandError(f"缺少参数：{'、'.join(missing)}", returncode=2)
        if output_format not in ("text", "json"):
            raise CommandError(f"--format 只能是 text 或 json，得到“{output_format}”", returncode=2)
        moment = parse_start(start)
        try:
            limit = limit_for(order_type.strip(), stage.strip(), (area or "").strip() or None, table=_limits_in_force())
            calendar = None
            if not limit.natural:
                from gridcare.core.workcalendar import get_calendar

                calendar = get_calendar()
            due = due_at(moment, limit, calendar)
        except DomainError as exc:
            raise CommandError("；".join(str(m) for m in exc.errors.values()), returncode=2) from None
        except DatabaseError as exc:
            raise CommandError(f"无法读取节假日日历（请先运行 gridcare migrate）：{exc}", returncode=2) from None
        except OverflowError:
            raise CommandError(f"--start 的时间“{start}”超出可计算范围", returncode=2) from None
        if output_format == "json":
            self.stdout.write(json.dumps({
                "due": format_due(due), "limit": limit.amount, "unit": limit.unit, "label": limit.label,
                "start": format_due(moment), "order_type": limit.order_type, "stage": limit.stage,
                "area_kind": limit.area_kind, "source": limit.source,
            }, ensure_ascii=False))
        else:
            self.stdout.write(format_due(due))
