"""Held-out evaluation of the classifier: accuracy per field and confusion matrices.

Two held-out sets, neither used for training:
1. ``heldout`` — texts generated from ``corpus.HELDOUT`` (phrase tables written apart from ``TRAIN``);
2. ``demo`` — texts composed from the work-order demo data's own phrase tables
   (``gridcare.workorders.demo_texts``, written by another engineer for the demo utility).

Accuracy of ``category_l1``/``category_l2`` is end to end over the complaint texts (a complaint the
type model calls something else counts as wrong), and so is ``fault_kind`` over fault texts.
"""
from __future__ import annotations

import random
from collections import Counter

from .corpus import Sample, heldout_corpus, labels_of


def demo_samples(per_label: int = 30, seed: int = 11) -> list[Sample]:
    """Texts from the work-order demo phrase tables (empty list when that module is absent)."""
    try:
        from gridcare.workorders import demo_texts as T
    except ImportError:
        return []
    rng = random.Random(seed)
    out = []

    def slots():
        return {"place": rng.choice(["城东村", "花园小区", "河口镇", "人民路"]), "days": rng.randint(3, 12),
                "times": rng.randint(3, 6), "hours": rng.randint(3, 12), "appliance": rng.choice(T.APPLIANCES),
                "person": rng.choice(T.PEOPLE), "account": "3100000001"}

    for code, cores in sorted(T.COMPLAINT_CORES.items()):
        for _ in range(per_label):
            text = rng.choice(T.OPENERS) + rng.choice(cores).format(**slots()) + rng.choice(T.COMPLAINT_DEMANDS)
            out.append(Sample(text, *labels_of(f"complaint/{code}")))
    for code, cores in sorted(T.FAULT_CORES.items()):
        for _ in range(per_label):
            out.append(Sample(rng.choice(T.OPENERS) + rng.choice(cores).format(**slots()),
                              *labels_of(f"fault_repair/{code}")))
    for order_type, topics in sorted(T.TOPICS.items()):
        phrases = [p for _w, ps in topics.values() for p in ps]
        for _ in range(per_label * 2):
            out.append(Sample(rng.choice(T.OPENERS) + rng.choice(phrases).format(**slots()),
                              *labels_of(order_type)))
    return out


def confusion(pairs) -> dict:
    """{"labels": [...], "matrix": [[...]]} with rows = true label, columns = predicted (None → "—")."""
    pairs = [(t, p if p is not None else "—") for t, p in pairs]
    labels = sorted({t for t, _ in pairs} | {p for _, p in pairs}, key=lambda x: (x == "—", x))
    index = {lab: i for i, lab in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for t, p in pairs:
        matrix[index[t]][index[p]] += 1
    return {"labels": labels, "matrix": matrix}


def evaluate(model, samples: list[Sample]) -> dict:
    preds = model.predict([s.text for s in samples])
    fields = {
        "order_type": [(s.order_type, p.order_type) for s, p in zip(samples, preds)],
        "category_l1": [(s.category_l1, p.category_l1) for s, p in zip(samples, preds) if s.order_type == "complaint"],
        "category_l2": [(s.category_l2, p.category_l2) for s, p in zip(samples, preds) if s.order_type == "complaint"],
        "fault_kind": [(s.fault_kind, p.fault_kind) for s, p in zip(samples, preds) if s.order_type == "fault_repair"],
    }
    result = {"n": len(samples), "accuracy": {}, "confusion": {}, "support": {}}
    for name, pairs in fields.items():
        result["support"][name] = len(pairs)
        result["accuracy"][name] = round(sum(t == p for t, p in pairs) / len(pairs), 4) if pairs else None
        result["confusion"][name] = confusion(pairs)
    # calibration: expected calibration error of the whole-prediction confidence (10 bins)
    bins = Counter()
    hits = Counter()
    conf_sum = Counter()
    for s, p in zip(samples, preds):
        if p.confidence is None:
            continue
        finest_ok = p.order_type == s.order_type and (p.category_l2 or "") == s.category_l2 \
            and (p.fault_kind or "") == s.fault_kind
        b = min(int(p.confidence * 10), 9)
        bins[b] += 1
        hits[b] += finest_ok
        conf_sum[b] += p.confidence
    total = sum(bins.values()) or 1
    result["ece"] = round(sum(abs(hits[b] - conf_sum[b]) for b in bins) / total, 4)
    return result


def heldout_report(model) -> dict:
    out = {"heldout": evaluate(model, heldout_corpus())}
    demo = demo_samples()
    if demo:
        out["demo"] = evaluate(model, demo)
    return out


def confusion_markdown(conf: dict, title: str) -> str:
    labels = conf["labels"]
    lines = [f"### {title}", "", "| true \\ predicted | " + " | ".join(labels) + " |",
             "|---" * (len(labels) + 1) + "|"]
    for lab, row in zip(labels, conf["matrix"]):
        lines.append(f"| **{lab}** | " + " | ".join(str(v) if v else "·" for v in row) + " |")
    return "\n".join(lines) + "\n"
