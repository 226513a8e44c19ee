"""`gridcare tariffs load FILE|DIR [--replace]`, `gridcare tariffs export CODE [--out FILE]`, `gridcare tariffs list`.

The tariff format of formats.md (one schedule per YAML document, or JSON: an object or a list), the same
code as the shipped files (catalog.load_file) and bill-calc. Loading checks every schedule and overlapping
validity (within the files and against what is stored) before writing anything; each stored version is
audited (source "cli"). Export writes every version of a code — the database's, else the shipped files' —
as YAML documents, or JSON when the output file ends in .json; an export loads back unchanged.
"""
import json
from pathlib import Path

import yaml
from django.core.management.base import CommandError

from gridcare.billing import catalog
from gridcare.billing.rules import TariffError, tariff_to_dict
from gridcare.core.api_support import DomainError
from gridcare.core.audit import audit_context
from gridcare.core.command_support import ScriptCommand, ScriptParser


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".yaml", ".yml", ".json"))
        if not files:
            raise CommandError(f"目录 {path} 中没有电价文件（*.yaml / *.yml / *.json）", returncode=2)
        return files
    if not path.exists():
        raise CommandError(f"文件不存在：{path}", returncode=2)
    return [path]


def dump(tariffs, as_json: bool) -> str:
    docs = [tariff_to_dict(t) for t in sorted(tariffs, key=lambda t: t.valid_from)]
    if as_json:
        return json.dumps(docs[0] if len(docs) == 1 else docs, ensure_ascii=False, indent=2) + "\n"
    return yaml.safe_dump_all(docs, allow_unicode=True, sort_keys=False, explicit_start=True)


class Command(ScriptCommand):
    help = "电价方案的导入与导出（formats.md 电价格式）"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, parser_class=ScriptParser)
        load = sub.add_parser("load", help="从文件或目录导入电价（YAML/JSON）")
        load.add_argument("path", help="电价文件或目录")
        load.add_argument("--replace", action="store_true", help="同一代码、同一生效日期的版本已存在时覆盖")
        export = sub.add_parser("export", help="导出一个电价代码的全部版本")
        export.add_argument("code", help="电价代码")
        export.add_argument("--out", help="输出文件（.json 为 JSON，否则 YAML）；缺省输出到标准输出")
        sub.add_parser("list", help="列出已导入的电价")

    def handle(self, *args, **opts):
        return getattr(self, "do_" + opts["action"])(opts)

    def do_load(self, opts):
        from gridcare.billing.services import do_load_tariffs

        tariffs, errors = [], {}
        for path in _files(Path(opts["path"])):
            try:
                tariffs.extend(catalog.load_file(path))
            except TariffError as exc:
                errors.update(exc.errors)
        if errors:
            raise CommandError("电价文件有误：" + "；".join(f"{k}：{v}" for k, v in errors.items()), returncode=2)
        if not tariffs:
            raise CommandError("文件中没有电价方案", returncode=2)
        try:
            with audit_context(None, "cli"):
                n = do_load_tariffs(tariffs, replace=opts["replace"])
        except DomainError as exc:
            raise CommandError("无法导入：" + "；".join(str(v) for v in exc.errors.values()), returncode=2) from None
        codes = sorted({t.code for t in tariffs})
        self.stdout.write(f"已导入 {n} 个电价版本：{'、'.join(codes)}")

    def do_export(self, opts):
        versions = catalog.resolve(opts["code"])
        if not versions:
            raise CommandError(f"未找到电价代码“{opts['code']}”", returncode=2)
        out = opts.get("out")
        text = dump(versions, as_json=bool(out and out.lower().endswith(".json")))
        if out:
            try:
                Path(out).write_text(text, encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"无法写入文件：{out}（{exc.strerror or exc}）", returncode=2) from None
            self.stdout.write(f"已导出 {len(versions)} 个版本到 {out}")
        else:
            self.stdout.write(text, ending="")

    def do_list(self, opts):
        from gridcare.billing.models import Tariff

        for t in Tariff.objects.order_by("code", "valid_from"):
            self.stdout.write(f"{t.code}\t{t.valid_from}\t{t.valid_to or '长期'}\t{t.name}")
