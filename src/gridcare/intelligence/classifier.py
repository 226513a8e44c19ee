"""The order-text classifier: features, hierarchical models, versioned model files.

Features: TF-IDF of character 1–3-grams (robust to typos and unseen words) plus TF-IDF of jieba words
segmented with the power-supply user dictionary (data/userdict.txt). Models: a calibrated linear SVM
(``CalibratedClassifierCV(LinearSVC, method="sigmoid")``) per level — order type first, then the
complaint's second-level category (the first level is the parent with the largest summed probability)
or the fault kind. The confidence of a field is the calibrated probability of the type times that of the
sub-level; ``confidence`` of a whole prediction is that of its finest field.

A model file is ``GRIDCARE-MODEL\\n`` + one JSON header line + a pickle. The header (format, model
version, scikit-learn version, label sets, training-data hash, source) is checked before the pickle is
read, so a file from another version is refused with a clear message instead of a stack trace.
"""
from __future__ import annotations

import io
import json
import logging
import os
import pickle
import tempfile
import threading
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import sklearn
from django.conf import settings
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from gridcare.core.taxonomy import category_parent

from . import corpus as corpus_mod
from .rules import check_text

log = logging.getLogger(__name__)

MAGIC = b"GRIDCARE-MODEL\n"
FORMAT = 1
KIND = "order-classifier"
DATA_DIR = Path(__file__).resolve().parent / "data"


class ModelError(Exception):
    """A model file that cannot be used (missing, not a model, other version)."""


# ------------------------------------------------------------------------------ segmentation
_jieba_lock = threading.Lock()
_tokenizer = None


def tokenizer():
    """One jieba tokenizer with the power-supply user dictionary (loaded once per process)."""
    global _tokenizer
    if _tokenizer is None:
        with _jieba_lock:
            if _tokenizer is None:
                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    import jieba
                jieba.setLogLevel(logging.WARNING)
                tok = jieba.Tokenizer()
                tok.load_userdict(str(DATA_DIR / "userdict.txt"))
                tok.initialize()
                _tokenizer = tok
    return _tokenizer


_STOP = set("，。！？、,.!?；;：:（）()“”\"' 【】[]的了是我你他她它在和就都也还吧呢啊呀嗯")


def words(text: str) -> list[str]:
    return [w for w in tokenizer().lcut(text, HMM=False) if w not in _STOP and not w.isspace()]


# ------------------------------------------------------------------------------ model
@dataclass
class Prediction:
    order_type: str | None
    category_l1: str | None
    category_l2: str | None
    fault_kind: str | None
    confidence: float | None
    confidences: dict

    def as_dict(self) -> dict:
        return asdict(self)


EMPTY = Prediction(None, None, None, None, None, {})


class TextFeatures:
    def __init__(self):
        self.chars = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True,
                                     max_features=60000, dtype=np.float32)
        self.words = TfidfVectorizer(analyzer=words, min_df=2, sublinear_tf=True, dtype=np.float32)

    def fit_transform(self, texts):
        return sp.hstack([self.chars.fit_transform(texts), self.words.fit_transform(texts)], format="csr")

    def transform(self, texts):
        return sp.hstack([self.chars.transform(texts), self.words.transform(texts)], format="csr")

    def __getstate__(self):
        state = dict(self.__dict__)
        state["words"] = _picklable_words(self.words)
        return state


def _picklable_words(vec):
    # the analyzer is a module-level function: pickles by reference, nothing to do
    return vec


def _logistic(seed):
    # multinomial logistic regression: probabilities calibrated by construction (log loss)
    return LogisticRegression(C=30, max_iter=3000, random_state=seed)


def _svc(seed):
    return CalibratedClassifierCV(LinearSVC(C=0.5, random_state=seed), method="sigmoid", cv=3)


class OrderClassifier:
    def __init__(self, features, type_model, cat_model, fault_model, meta):
        self.features, self.type_model, self.cat_model, self.fault_model = features, type_model, cat_model, fault_model
        self.meta = meta

    # -- prediction
    def predict(self, texts: list[str]) -> list[Prediction]:
        """Predictions for raw texts (unusable texts — empty, no Chinese — give EMPTY)."""
        checks = [check_text(t) for t in texts]
        idx = [i for i, c in enumerate(checks) if c.usable]
        out = [EMPTY] * len(texts)
        if not idx:
            return out
        X = self.features.transform([checks[i].text for i in idx])
        p_type = self.type_model.predict_proba(X)
        types = self.type_model.classes_
        best = p_type.argmax(axis=1)
        comp_rows = [k for k, b in enumerate(best) if types[b] == "complaint"]
        fault_rows = [k for k, b in enumerate(best) if types[b] == "fault_repair"]
        cat = {}
        if comp_rows and self.cat_model is not None:
            p = self.cat_model.predict_proba(X[comp_rows])
            classes = self.cat_model.classes_
            parents = np.array([category_parent(c) for c in classes])
            for k, row in zip(comp_rows, p):
                l1s = {}
                for parent, prob in zip(parents, row):
                    l1s[parent] = l1s.get(parent, 0.0) + prob
                l1 = max(l1s, key=l1s.get)
                mask = parents == l1
                j = int(np.argmax(np.where(mask, row, -1)))
                cat[k] = (l1, float(l1s[l1]), classes[j], float(row[j]))
        fault = {}
        if fault_rows and self.fault_model is not None:
            p = self.fault_model.predict_proba(X[fault_rows])
            for k, row in zip(fault_rows, p):
                j = int(row.argmax())
                fault[k] = (self.fault_model.classes_[j], float(row[j]))
        for k, i in enumerate(idx):
            t, pt = types[best[k]], float(p_type[k, best[k]])
            conf = {"order_type": round(pt, 4)}
            l1 = l2 = fk = None
            final = pt
            if k in cat:
                l1, p1, l2, p2 = cat[k]
                conf["category_l1"] = round(pt * p1, 4)
                conf["category_l2"] = final = round(pt * p2, 4)
            if k in fault:
                fk, pf = fault[k]
                conf["fault_kind"] = final = round(pt * pf, 4)
            out[i] = Prediction(str(t), l1, None if l2 is None else str(l2), None if fk is None else str(fk),
                                round(float(final), 4), conf)
        return out

    def predict_one(self, text: str) -> Prediction:
        return self.predict([text])[0]


def train(samples, seed: int = 2026, source: str = "corpus") -> OrderClassifier:
    """Fit the three levels on `samples` (corpus.Sample-like). Deterministic for the same samples."""
    samples = list(samples)
    if not samples:
        raise ModelError("没有可用于训练的样本")
    texts = [check_text(s.text).text for s in samples]
    keep = [i for i, t in enumerate(texts) if t]
    texts = [texts[i] for i in keep]
    samples = [samples[i] for i in keep]
    dropped = {}

    def fit(rows, labels, make):
        counts = {}
        for lab in labels:
            counts[lab] = counts.get(lab, 0) + 1
        ok = {lab for lab, n in counts.items() if n >= 3}  # calibration needs 3 folds per class
        for lab, n in counts.items():
            if lab not in ok:
                dropped[lab] = n
        rows = [r for r, lab in zip(rows, labels) if lab in ok]
        labels = [lab for lab in labels if lab in ok]
        if len(set(labels)) < 2:
            return None
        model = make(seed)
        model.fit(X[rows], labels)
        return model

    features = TextFeatures()
    X = features.fit_transform(texts)
    all_rows = list(range(len(samples)))
    type_model = fit(all_rows, [s.order_type for s in samples], _logistic)
    if type_model is None:
        raise ModelError("训练样本至少需要两种业务类型（每种不少于3条）")
    comp = [i for i, s in enumerate(samples) if s.order_type == "complaint" and s.category_l2]
    cat_model = fit(comp, [samples[i].category_l2 for i in comp], _logistic)
    flt = [i for i, s in enumerate(samples) if s.order_type == "fault_repair" and s.fault_kind]
    fault_model = fit(flt, [samples[i].fault_kind for i in flt], _svc)
    data_hash = corpus_mod.corpus_hash(samples)
    meta = {
        "format": FORMAT, "kind": KIND, "version": f"{FORMAT}.{data_hash[:8]}",
        "sklearn": sklearn.__version__, "source": source, "samples": len(samples), "data_hash": data_hash,
        "seed": seed, "trained_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "labels": {
            "order_type": [str(c) for c in type_model.classes_],
            "category_l2": [str(c) for c in cat_model.classes_] if cat_model is not None else [],
            "fault_kind": [str(c) for c in fault_model.classes_] if fault_model is not None else [],
        },
        "dropped_labels": dropped,
    }
    return OrderClassifier(features, type_model, cat_model, fault_model, meta)


# ------------------------------------------------------------------------------ files
def default_path() -> Path:
    explicit = getattr(settings, "GRIDCARE_CLASSIFIER_PATH", None) or os.environ.get("GRIDCARE_CLASSIFIER_PATH")
    return Path(explicit) if explicit else Path(settings.VAR_DIR) / "models" / "classifier.gcm"


def save(model: OrderClassifier, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = json.dumps(model.meta, ensure_ascii=False).encode("utf-8") + b"\n"
    payload = pickle.dumps({"features": model.features, "type": model.type_model, "cat": model.cat_model,
                            "fault": model.fault_model}, protocol=pickle.HIGHEST_PROTOCOL)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".classifier-", suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(MAGIC + header + payload)
    os.replace(tmp, path)  # atomic: a concurrent reader sees the old file or the new one
    return path


def read_header(path: Path) -> dict:
    path = Path(path)
    if not path.exists():
        raise ModelError(f"模型文件不存在：{path}（请运行 gridcare train-classifier）")
    with open(path, "rb") as fh:
        if fh.read(len(MAGIC)) != MAGIC:
            raise ModelError(f"{path} 不是GridCare分类模型文件")
        try:
            meta = json.loads(fh.readline().decode("utf-8"))
        except ValueError:
            raise ModelError(f"{path} 的模型头信息已损坏，请重新训练（gridcare train-classifier）") from None
    return meta


def check_compatible(meta: dict, path) -> None:
    if meta.get("kind") != KIND or meta.get("format") != FORMAT:
        raise ModelError(f"模型文件 {path} 的格式版本为 {meta.get('format')}，当前程序需要 {FORMAT}，"
                         "请运行 gridcare train-classifier 重新训练")
    if meta.get("sklearn") != sklearn.__version__:
        raise ModelError(f"模型文件 {path} 由 scikit-learn {meta.get('sklearn')} 训练，当前为 {sklearn.__version__}，"
                         "请运行 gridcare train-classifier 重新训练")


def load(path: Path) -> OrderClassifier:
    meta = read_header(path)
    check_compatible(meta, path)
    with open(path, "rb") as fh:
        fh.read(len(MAGIC))
        fh.readline()
        try:
            parts = pickle.load(io.BufferedReader(fh))
        except Exception as exc:  # noqa: BLE001 - any unpickling failure means an unusable file
            raise ModelError(f"模型文件 {path} 无法读取（{type(exc).__name__}），请重新训练") from None
    return OrderClassifier(parts["features"], parts["type"], parts["cat"], parts["fault"], meta)


def train_default(path: Path | None = None) -> OrderClassifier:
    model = train(corpus_mod.training_corpus(), source="corpus")
    save(model, path or default_path())
    return model


_cache: dict = {}
_cache_lock = threading.Lock()


def get_classifier(path: Path | None = None, build_if_missing: bool = True) -> OrderClassifier:
    """The model in use, cached per process and reloaded when the file changes. The default model is
    built from the project's corpus on first use when missing or from another version (a few
    seconds); an explicit path is only read."""
    explicit = path is not None
    path = Path(path) if explicit else default_path()
    with _cache_lock:
        try:
            stamp = path.stat().st_mtime_ns
        except FileNotFoundError:
            stamp = None
        hit = _cache.get(str(path))
        if hit and hit[0] == stamp and stamp is not None:
            return hit[1]
        try:
            model = load(path)
        except ModelError as exc:
            if explicit or not build_if_missing:
                raise
            import sys

            sys.stderr.write(f"{exc}；正在用项目自带语料训练默认模型（数秒）…\n")
            model = train_default(path)
        _cache[str(path)] = (path.stat().st_mtime_ns, model)
        return model


def clear_cache():
    with _cache_lock:
        _cache.clear()
