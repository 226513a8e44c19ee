"""Chinese full-text search over the knowledge base: BM25 (bm25s) over jieba-segmented text (the same
tokenizer and power-supply user dictionary as the classifier). The title counts three times and the
keywords twice, so an article *about* a subject outranks one that mentions it. The index lives in the
process and is rebuilt when the set of current articles changes (a cheap signature query per search)."""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from django.db.models import Count, Max, Q
from django.urls import reverse
from django.utils import timezone

from .models import Article, ArticleStatus

_STOP = set("，。！？、,.!?；;：:（）()“”\"' 【】[]的了是我你他她它在和就都也还吧呢啊呀嗯吗么要有个这那")


def tokens(text: str) -> list[str]:
    from gridcare.intelligence.classifier import tokenizer
    from gridcare.intelligence.rules import normalise

    return [w for w in tokenizer().lcut_for_search(normalise(text), HMM=False) if w.strip() and w not in _STOP]


@dataclass
class Hit:
    code: str
    version: int
    title: str
    kind: str
    score: float
    public: bool
    snippet: str

    @property
    def kind_label(self) -> str:
        from .models import ArticleKind

        return ArticleKind(self.kind).label if self.kind in ArticleKind.values else self.kind

    @property
    def url(self) -> str:
        return reverse("knowledge:article", args=[self.code])


class Index:
    def __init__(self, articles):
        import bm25s

        self.articles = list(articles)
        docs = [tokens(f"{a.title} {a.title} {a.title} {a.keywords} {a.keywords} {a.body}") or ["_"]
                for a in self.articles]
        self.bm25 = bm25s.BM25()
        if docs:
            self.bm25.index(docs, show_progress=False)

    def search(self, query: str, limit: int = 10, public_only: bool = False) -> list[Hit]:
        if not self.articles:
            return []
        vocab = self.bm25.vocab_dict
        q = [t for t in tokens(query) if t in vocab]
        if not q:
            return []
        scores = np.asarray(self.bm25.get_scores(q), dtype=float)
        order = np.argsort(-scores, kind="stable")
        out = []
        for i in order:
            if scores[i] <= 0 or len(out) >= limit:
                break
            a = self.articles[i]
            if public_only and not a.public:
                continue
            out.append(Hit(a.code, a.version, a.title, a.kind, float(scores[i]), a.public, a.body[:120]))
        return out


def current_articles(today=None):
    """The highest published version of each code that is valid today."""
    today = today or timezone.localdate()
    valid = Article.objects.filter(status=ArticleStatus.PUBLISHED, valid_from__lte=today).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=today))
    latest = {}
    for a in valid.order_by("code", "-version"):
        latest.setdefault(a.code, a)
    return list(latest.values())


_lock = threading.Lock()
_state = {"sig": None, "index": None}


def _signature(today):
    agg = Article.objects.aggregate(n=Count("id"), m=Max("updated_at"))
    return (agg["n"], agg["m"], today)


def index() -> Index:
    today = timezone.localdate()
    sig = _signature(today)
    with _lock:
        if _state["sig"] != sig:
            _state["index"] = Index(current_articles(today))
            _state["sig"] = sig
        return _state["index"]


def search(query: str, limit: int = 10, public_only: bool = False) -> list[Hit]:
    return index().search(query, limit=limit, public_only=public_only)
