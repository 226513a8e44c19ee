"""`gridcare train-classifier`: train the order-text classifier and write a versioned model file.

Default: from the project's own corpus (intelligence/corpus.py, TRAIN tables only). `--from-orders`:
from the utility's historic orders in the database (after `gridcare import workorders FILE`), optionally
together with the corpus (`--with-corpus`). Prints the model's version and, with `--evaluate`, its
accuracy on the held-out sets."""
import datetime as dt
import json
import re

from django.core.management.base import CommandError

from gridcare.core.command_support import ScriptCommand
from gridcare.intelligence import classifier, corpus, evaluation, services


def parse_since(value):
    """`--since` as a date (YYYY-MM-DD); a wrong one is a usage error (exit status 2), not a traceback."""
    if value is None:
        return None
    text = value.strip()
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--since 须为日期 YYYY-MM-DD，收到：{value}", returncode=2) from None


class Command(ScriptCommand):
    help = "训练工单文本分类模型（默认使用项目自带语料；--from-orders 使用历史工单）"

    def add_arguments(self, parser):
        parser.add_argument("--from-orders", action="store_true", help="使用数据库中的历史工单训练")
        parser.add_argument("--with-corpus", action="store_true", help="与 --from-orders 同用：再加上项目自带语料")
        parser.add_argument("--since", help="只用此日期（YYYY-MM-DD）之后受理的工单")
        parser.add_argument("--output", "-o", help="模型文件路径（默认 var/models/classifier.gcm）")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--evaluate", action="store_true", help="训练后在留出集上评估并输出准确率")

    def handle(self, *args, **opts):
        if opts["with_corpus"] and not opts["from_orders"]:
            raise CommandError("--with-corpus 只能与 --from-orders 同用", returncode=2)
        since = parse_since(opts.get("since"))
        if since is not None and not opts["from_orders"]:
            raise CommandError("--since 只能与 --from-orders 同用（项目自带语料没有受理日期）", returncode=2)
        if opts["from_orders"]:
            samples = services.order_samples(since=since)
            if not samples:
                raise CommandError("数据库中没有可用于训练的历史工单（请先 gridcare import workorders FILE）")
            source = "orders"
            if opts["with_corpus"]:
                samples += corpus.training_corpus()
                source = "orders+corpus"
        else:
            samples = corpus.training_corpus()
            source = "corpus"
        try:
            model = classifier.train(samples, seed=opts["seed"], source=source)
        except classifier.ModelError as exc:
            raise CommandError(str(exc)) from None
        path = classifier.save(model, opts.get("output") or classifier.default_path())
        classifier.clear_cache()
        meta = model.meta
        self.stdout.write(f"模型已保存：{path}")
        self.stdout.write(f"版本 {meta['version']}（{meta['source']}，{meta['samples']} 条样本，数据指纹 {meta['data_hash']}，"
                          f"scikit-learn {meta['sklearn']}）")
        if meta["dropped_labels"]:
            self.stdout.write("样本不足3条未参与训练的标签：" + "、".join(f"{k}({v})" for k, v in meta["dropped_labels"].items()))
        if opts["evaluate"]:
            report = evaluation.heldout_report(model)
            self.stdout.write(json.dumps({k: v["accuracy"] for k, v in report.items()}, ensure_ascii=False))
