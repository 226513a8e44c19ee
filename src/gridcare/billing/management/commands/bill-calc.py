"""`gridcare bill-calc FILE.json [--format json]`: one bill computed from the bill-calc input of
formats.md, for checking tariffs outside the application."""
import json
import sys

from django.core.management.base import CommandError

from gridcare.billing import catalog
from gridcare.billing.rules import TariffError, bill_calc, format_bill, load_json
from gridcare.core.command_support import ScriptCommand


class Command(ScriptCommand):
    help = "按 formats.md 的 bill-calc 输入计算一张电费单并打印明细与合计"

    def add_arguments(self, parser):
        parser.add_argument("file", help="bill-calc 输入 JSON 文件（- 表示标准输入）")
        parser.add_argument("--format", choices=["text", "json"], default="text", help="输出格式")

    def handle(self, *args, **opts):
        try:
            text = sys.stdin.read() if opts["file"] == "-" else open(opts["file"], encoding="utf-8-sig").read()
        except OSError as exc:
            raise CommandError(f"无法读取文件：{opts['file']}（{exc.strerror or exc}）", returncode=2) from None
        try:
            payload = load_json(text)
        except TariffError as exc:
            raise CommandError(exc.errors["__all__"], returncode=2) from None
        try:
            result = bill_calc(payload, catalog.resolve, catalog.late_rules())
        except TariffError as exc:
            raise CommandError("输入有误：" + "；".join(f"{k}：{v}" for k, v in exc.errors.items()),
                               returncode=2) from None
        if opts["format"] == "json":
            self.stdout.write(json.dumps(result.as_json(), ensure_ascii=False))
        else:
            self.stdout.write(format_bill(result))
