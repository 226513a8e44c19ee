"""`gridcare calendar seed|import|show`: the working-day calendar's data.

  gridcare calendar seed [--refresh]     load every year the chinese-calendar package covers (idempotent)
  gridcare calendar import FILE [--replace] [--published-on DATE] [--source TEXT] [--note TEXT]
                                         add a year the State Council has published (CSV date,is_workday,name)
  gridcare calendar show [YEAR]          covered years, or one year's holidays and swapped working days
"""
import datetime as dt
from pathlib import Path

from django.core.management.base import CommandError
from django.db import DatabaseError

from gridcare.core.audit import audit_context
from gridcare.core.command_support import ScriptCommand


class Command(ScriptCommand):
    help = "节假日日历：seed 从 chinese-calendar 载入；import 导入国务院公布的新年度安排（CSV：date,is_workday,name）；show 查看"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", metavar="{seed,import,show}")
        seed = sub.add_parser("seed", help="载入 chinese-calendar 覆盖的全部年份（已有年份不动）")
        seed.add_argument("--refresh", action="store_true",
                          help="用软件包当前数据覆盖来源为 chinese-calendar 的年份（管理员录入的年份不动）")
        imp = sub.add_parser("import", help="从 CSV 导入整年的放假与调休上班日（date,is_workday,name）")
        imp.add_argument("file")
        imp.add_argument("--replace", action="store_true", help="覆盖已有且内容不同的年份")
        imp.add_argument("--published-on", help="国务院办公厅通知的发布日期 YYYY-MM-DD")
        imp.add_argument("--source", default="管理员录入", help="来源说明（默认：管理员录入）")
        imp.add_argument("--note", default="", help="说明，如通知文号")
        show = sub.add_parser("show", help="列出已录入年份，或某一年的放假与调休上班日")
        show.add_argument("year", nargs="?", type=int)

    def handle(self, *args, action=None, **opts):
        if action is None:
            raise CommandError("请指定操作：seed、import 或 show（见 gridcare calendar --help）", returncode=2)
        try:
            with audit_context(None, "cli"):
                return getattr(self, f"do_{action}")(**opts)
        except DatabaseError as exc:
            raise CommandError(f"数据库不可用或尚未初始化（请先运行 gridcare migrate）：{exc}", returncode=2) from exc

    def do_seed(self, refresh=False, **opts):
        from gridcare.core.calendar_services import _years_text, seed_calendar
        from gridcare.core.workcalendar import package_source

        result = seed_calendar(refresh=refresh)
        if result.added:
            self.stdout.write(f"已载入 {package_source()} 的 {_years_text(result.added)} 年安排")
        if result.refreshed:
            self.stdout.write(f"已按 {package_source()} 更新 {_years_text(result.refreshed)} 年安排")
        if not result.added and not result.refreshed:
            self.stdout.write(f"无需更新：{_years_text(result.kept)} 年均已录入")

    def do_import(self, file, replace=False, published_on=None, source="管理员录入", note="", **opts):
        from gridcare.core.calendar_services import ScheduleFileError, _years_text, import_schedule, parse_schedule_csv

        path = Path(file)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise CommandError(f"找不到文件：{file}", returncode=2) from None
        except UnicodeDecodeError:
            raise CommandError(f"文件不是 UTF-8 编码：{file}", returncode=2) from None
        except OSError as exc:
            raise CommandError(f"无法读取文件 {file}：{exc.strerror}", returncode=2) from None
        published = None
        if published_on:
            try:
                published = dt.date.fromisoformat(published_on)
            except ValueError:
                raise CommandError(f"发布日期“{published_on}”格式不正确，应为 YYYY-MM-DD", returncode=2) from None
        try:
            schedule = parse_schedule_csv(text)
            result = import_schedule(schedule, source=source.strip() or "管理员录入", published_on=published,
                                     note=note, replace=replace)
        except ScheduleFileError as exc:
            raise CommandError("未导入任何数据：\n" + "\n".join(exc.lines), returncode=2) from None
        for years, verb in ((result.added, "已新增"), (result.replaced, "已覆盖"), (result.unchanged, "未变化")):
            if years:
                count = sum(len(schedule[y]) for y in years)
                self.stdout.write(f"{verb} {_years_text(years)} 年安排（{count} 天）")

    def do_show(self, year=None, **opts):
        from gridcare.core.models import CalendarDay, CalendarYear

        if year is None:
            rows = CalendarYear.objects.order_by("year")
            if not rows:
                self.stdout.write("尚未录入任何年份（运行 gridcare calendar seed）")
            for row in rows:
                published = f"，发布于 {row.published_on}" if row.published_on else ""
                self.stdout.write(f"{row.year}\t{row.source}{published}")
            return
        if not CalendarYear.objects.filter(year=year).exists():
            raise CommandError(f"{year}年的节假日安排尚未录入", returncode=2)
        for day in CalendarDay.objects.filter(date__year=year).order_by("date"):
            self.stdout.write(f"{day.date:%Y-%m-%d}\t{'上班' if day.is_workday else '放假'}\t{day.name}")
