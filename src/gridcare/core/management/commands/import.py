"""`gridcare import KIND FILE`: a thin wrapper over gridcare.core.imports.run_import."""
import time
from argparse import RawDescriptionHelpFormatter

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, DjangoHelpFormatter
from django.db import DatabaseError

from gridcare.core.command_support import ScriptCommand
from gridcare.core.audit import audit_context
from gridcare.core.imports import ImportFileError, get_importer, importer_kinds, run_import


class _HelpFormatter(DjangoHelpFormatter, RawDescriptionHelpFormatter):
    pass


class Command(ScriptCommand):
    help = """从CSV或Excel（.xlsx，第一个工作表）文件批量导入数据，列定义见 formats.md。

用法：gridcare import KIND FILE [--atomic] [--ignore-unknown] [--as USERNAME] [--default-password PASSWORD]
KIND 为导入类型（units、users、grid、customers，以及各业务模块登记的类型，见下方 KIND 的说明）。

文件：UTF-8编码（可带BOM）、逗号分隔、第1行为表头（列的顺序不限），第2行起为数据；空单元格表示无值；
不带时区的时间按北京时间（Asia/Shanghai）。同一文件中，后面的行可以引用前面行新建的记录（如下级单位引用
上面一行的上级单位）。建议导入顺序：units → users → grid → customers。

已有记录：导入只新增、不修改。编码/用户名/台区编码/户号已存在于系统中或在本文件中重复的行会被拒绝；修改已有
记录请在系统中操作（逐项校验并记录审计）。grid 中的变电站、线路按编码复用已有的，不存在时按本行新建。

校验与结果：逐行校验，错误写到标准输出，每条一行，如“第5行 phone: 电话号码格式不正确：…”，然后是汇总行
“导入完成：成功 N 行，失败 M 行”。默认保留通过校验的行；--atomic 时只要有一行出错，整个文件都不写入。
长文件每处理5000行在标准错误输出进度。写入的记录都有审计日志（来源 import，操作人为 --as 指定的用户）。

退出码：0 全部导入；1 有行未通过校验（默认模式下其余行已导入，--atomic 时未写入任何数据）；
2 文件不存在/无法读取/表头不正确、参数错误或数据库错误（未写入任何数据）。"""

    def create_parser(self, prog_name, subcommand, **kwargs):
        kwargs.setdefault("formatter_class", _HelpFormatter)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("kind", metavar="KIND", help="导入类型：" + "、".join(importer_kinds()))
        parser.add_argument("file", metavar="FILE", help="CSV 或 XLSX 文件")
        parser.add_argument("--atomic", action="store_true", help="有任何一行出错则整个文件都不导入")
        parser.add_argument("--ignore-unknown", action="store_true", help="忽略表头中的未知列（默认视为错误）")
        parser.add_argument("--as", dest="as_user", metavar="USERNAME", help="审计日志中记录的操作人（用户名）")
        parser.add_argument("--default-password", metavar="PASSWORD",
                            help="仅 users：新用户的初始密码（默认不设密码，需由管理员重置后才能登录）")

    def handle(self, *args, kind, file, atomic, ignore_unknown, as_user, default_password, **options):
        if get_importer(kind) is None:
            raise CommandError(f"未知的导入类型：{kind}（可选：{'、'.join(importer_kinds())}）", returncode=2)
        actor = None
        if as_user:
            actor = get_user_model().objects.filter(username=as_user).first()
            if actor is None:
                raise CommandError(f"--as 指定的用户不存在：{as_user}", returncode=2)
        if default_password is not None:
            if kind != "users":
                raise CommandError("--default-password 只能用于导入 users", returncode=2)
            try:
                validate_password(default_password)
            except ValidationError as exc:
                raise CommandError(f"--default-password 不符合密码要求：{' '.join(exc.messages)}", returncode=2)

        def progress(seen, created, rejected):
            self.stderr.write(f"已处理 {seen} 行（通过 {created} 行，失败 {rejected} 行）…")

        started = time.monotonic()
        try:
            with audit_context(actor, "import"):
                result = run_import(kind, file, atomic=atomic, ignore_unknown=ignore_unknown,
                                    options={"default_password": default_password}, progress=progress)
        except ImportFileError as exc:
            raise CommandError(f"导入失败：{exc}。未写入任何数据。", returncode=2)
        except DatabaseError as exc:
            raise CommandError(f"导入失败：数据库错误（{exc}）。未写入任何数据。", returncode=2)
        elapsed = time.monotonic() - started

        for error in result.errors:
            self.stdout.write(str(error))
        written = 0 if result.rolled_back else result.created
        self.stdout.write(f"导入完成：成功 {written} 行，失败 {result.rejected} 行（用时 {elapsed:.1f} 秒）")
        if result.rolled_back:
            self.stdout.write(f"因指定了 --atomic 且有 {result.rejected} 行未通过校验，整个文件已回滚，"
                              f"通过校验的 {result.created} 行也未写入。")
            raise CommandError("导入已回滚，未写入任何数据", returncode=1)
        if result.rejected:
            raise CommandError(f"有 {result.rejected} 行未导入，见上方错误列表", returncode=1)
