"""Management commands that scripts call: errors are one Chinese line on stderr and a non-zero exit status.

Django prints a CommandError as "CommandError: <message>" and argparse prints English usage errors;
`ScriptCommand` prints only the message (argparse's usual complaints translated) and exits with the
error's return code (2 unless the command says otherwise). Called through `call_command` (tests, other
code) the CommandError is raised as usual.
"""
import re
import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser

_ARGPARSE = [
    (re.compile(r"the following arguments are required: (.+)"), r"缺少参数：\1"),
    (re.compile(r"unrecognized arguments: (.+)"), r"无法识别的参数：\1"),
    (re.compile(r"argument (\S+): expected one argument"), r"参数 \1 需要一个值"),
    (re.compile(r"argument (\S+): invalid choice: '?([^' ]+)'? \(choose from (.+)\)"), r"参数 \1 的取值“\2”无效，可选：\3"),
    (re.compile(r"argument (\S+): invalid (\w+) value: (.+)"), r"参数 \1 的取值 \3 无效"),
]


def translate_argparse(message: str) -> str:
    for pattern, replacement in _ARGPARSE:
        if pattern.search(message):
            return pattern.sub(replacement, message)
    return message


class ScriptParser(CommandParser):
    def error(self, message):
        raise CommandError(f"参数错误：{translate_argparse(message)}（用法见 {self.prog} --help）", returncode=2)


class ScriptCommand(BaseCommand):
    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.__class__ = ScriptParser  # sub-parsers inherit it through CommandParser.add_subparsers
        return parser

    def run_from_argv(self, argv):
        self._called_from_command_line = True
        try:
            return super().run_from_argv(argv)
        except CommandError as exc:  # raised while parsing the arguments
            self._exit_with(exc)

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except CommandError as exc:
            if not getattr(self, "_called_from_command_line", False) or options.get("traceback"):
                raise
            self._exit_with(exc)

    def _exit_with(self, exc: CommandError):
        sys.stdout.flush()
        sys.stderr.write(f"{exc}\n")
        sys.stderr.flush()
        sys.exit(exc.returncode or 1)
