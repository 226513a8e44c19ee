"""`gridcare classify [FILE|-]`: JSON Lines in (each object with a `text` field), the same objects out with
`order_type`, `category_l1`, `category_l2`, `fault_kind` and `confidence` added (null where not applicable).

Bad lines (not JSON, not an object, no string `text`) are reported on stderr with their line number and
left out; the rest is still processed and the exit status is 1. Empty or non-Chinese text gives nulls and
a warning; text longer than rules.MAX_CHARS is classified on its beginning, with a warning."""
import json
import sys

from django.core.management.base import CommandError

from gridcare.core.command_support import ScriptCommand
from gridcare.intelligence import classifier
from gridcare.intelligence.rules import check_text

FIELDS = ("order_type", "category_l1", "category_l2", "fault_kind", "confidence")
BATCH = 2000


class Command(ScriptCommand):
    help = "对JSON Lines中的受理内容（text字段）分类，输出业务类型、投诉分类、故障类型及置信度"

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default="-", help="JSON Lines 文件；- 或省略为标准输入")
        parser.add_argument("--model", help="模型文件（默认 var/models/classifier.gcm，缺失时自动训练）")
        parser.add_argument("--detail", action="store_true", help="另加 confidences 字段（各字段的置信度）")

    def handle(self, *args, **opts):
        try:
            model = classifier.get_classifier(opts.get("model"))
        except classifier.ModelError as exc:
            raise CommandError(str(exc), returncode=3) from None
        path = opts["file"]
        if path == "-":
            stream = sys.stdin.buffer
        else:
            try:
                stream = open(path, "rb")  # noqa: SIM115 - closed below
            except OSError as exc:
                raise CommandError(f"无法读取文件 {path}：{exc.strerror}") from None
        out = self.stdout._out if hasattr(self.stdout, "_out") else sys.stdout
        bad = 0
        pending: list[tuple[int, dict]] = []

        def flush():
            preds = model.predict([obj["text"] for _, obj in pending])
            for (_n, obj), p in zip(pending, preds):
                for f in FIELDS:
                    obj[f] = getattr(p, f)
                if opts["detail"]:
                    obj["confidences"] = p.confidences or None
                out.write(json.dumps(obj, ensure_ascii=False) + "\n")
            pending.clear()

        try:
            for n, raw in enumerate(stream, start=1):
                try:
                    line = raw.decode("utf-8-sig" if n == 1 else "utf-8").strip()
                except UnicodeDecodeError:
                    bad += 1
                    self._warn(n, "不是UTF-8编码，已跳过")
                    continue
                if not line:
                    continue
                try:
                    obj = json.loads(line)
                except ValueError as exc:
                    bad += 1
                    self._warn(n, f"JSON格式错误（{exc.msg}，第{exc.colno}列），已跳过")
                    continue
                if not isinstance(obj, dict):
                    bad += 1
                    self._warn(n, "应为JSON对象，已跳过")
                    continue
                if not isinstance(obj.get("text"), str):
                    bad += 1
                    self._warn(n, "缺少text字段或text不是字符串，已跳过")
                    continue
                check = check_text(obj["text"])
                if check.problem:
                    self._warn(n, check.message)
                pending.append((n, obj))
                if len(pending) >= BATCH:
                    flush()
            flush()
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()
            out.flush()
        if bad:
            raise CommandError(f"共有 {bad} 行格式错误（见上），其余各行已处理", returncode=1)

    def _warn(self, n, message):
        sys.stderr.write(f"第{n}行：{message}\n")
