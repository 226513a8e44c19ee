"""`gridcare export KIND FILE`: a thin wrapper over gridcare.core.exports.export_to_file."""
import time

from django.core.management.base import CommandError

from gridcare.core.command_support import ScriptCommand
from gridcare.core.exports import ExportError, export_to_file, exporter_kinds


class Command(ScriptCommand):
    help = ("导出数据为Excel（.xlsx）或CSV（文件名以 .csv 结尾时，UTF-8带BOM），列与 gridcare import 相同，"
            "导出的文件可原样再导入。用法：gridcare export KIND FILE（KIND 见下方说明）。"
            "退出码：0 成功；2 类型未知或文件无法写入。")

    def add_arguments(self, parser):
        parser.add_argument("kind", metavar="KIND", help="导出类型：" + "、".join(exporter_kinds()))
        parser.add_argument("file", metavar="FILE", help="目标文件（.xlsx 或 .csv），已存在时覆盖")

    def handle(self, *args, kind, file, **options):
        started = time.monotonic()
        try:
            count = export_to_file(kind, file)
        except ExportError as exc:
            raise CommandError(f"导出失败：{exc}", returncode=2)
        except OSError as exc:
            raise CommandError(f"导出失败：无法写入 {file}（{exc.strerror or exc}）", returncode=2)
        self.stdout.write(f"导出完成：{count} 行 → {file}（用时 {time.monotonic() - started:.1f} 秒）")
