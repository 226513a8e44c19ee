import json
import subprocess
import sys
import pytest

from gridcare.intelligence import classifier, corpus, evaluation, rules


def test_corpus_is_deterministic_and_heldout_phrases_are_not_training_phrases():
    a, b = corpus.training_corpus(per_label=5), corpus.training_corpus(per_label=5)
    assert a == b and corpus.corpus_hash(a) == corpus.corpus_hash(b)

    def phrases(t):
        out = set(t["places"]) | {c for v in t["cores"].values() for c in v}
        out |= {x for v in t["openers"].values() for x in v if x} | {x for v in t["demands"].values() for x in v if x}
        return out

    assert not phrases(corpus.TRAIN) & phrases(corpus.HELDOUT)
    assert set(corpus.TRAIN["cores"]) == set(corpus.HELDOUT["cores"])  # every label is evaluated
    train_texts = {s.text for s in corpus.training_corpus()}
    assert not train_texts & {s.text for s in corpus.heldout_corpus()}


def test_labels_cover_the_taxonomy():
    from gridcare.core.taxonomy import taxonomy

    tx = taxonomy()
    keys = corpus.label_keys(corpus.TRAIN)
    assert {k.split("/")[0] for k in keys} == set(tx["order_types"])
    l2 = {c for node in tx["complaint_categories"].values() for c in node["children"]}
    assert {k.split("/")[1] for k in keys if k.startswith("complaint/")} == l2
    assert {k.split("/")[1] for k in keys if k.startswith("fault_repair/")} == set(tx["fault_kinds"])


def test_training_is_deterministic_on_a_small_corpus(tmp_path):
    samples = corpus.training_corpus(per_label=12)
    m1, m2 = classifier.train(samples), classifier.train(samples)
    texts = [s.text for s in corpus.heldout_corpus(per_label=3)]
    assert [p.as_dict() for p in m1.predict(texts)] == [p.as_dict() for p in m2.predict(texts)]
    assert m1.meta["data_hash"] == m2.meta["data_hash"] == corpus.corpus_hash(samples)
    path = classifier.save(m1, tmp_path / "m.gcm")
    again = classifier.load(path)
    assert [p.as_dict() for p in again.predict(texts)] == [p.as_dict() for p in m1.predict(texts)]
    assert again.meta["labels"]["order_type"] == sorted(again.meta["labels"]["order_type"])


def test_predictions_are_consistent_with_the_taxonomy(small_model_path):
    from gridcare.core.taxonomy import category_parent

    model = classifier.load(small_model_path)
    for p in model.predict([s.text for s in corpus.heldout_corpus(per_label=4)]):
        assert 0 < p.confidence <= 1
        if p.order_type == "complaint":
            assert category_parent(p.category_l2) == p.category_l1 and p.fault_kind is None
        elif p.order_type == "fault_repair":
            assert p.fault_kind and p.category_l1 is None and p.category_l2 is None
        else:
            assert p.category_l1 is p.category_l2 is p.fault_kind is None


def test_small_model_learns_something_on_heldout(small_model_path):
    report = evaluation.evaluate(classifier.load(small_model_path), corpus.heldout_corpus(per_label=10))
    assert report["accuracy"]["order_type"] > 0.8
    assert report["accuracy"]["category_l2"] > 0.6


def test_model_file_from_another_version_is_refused_clearly(tmp_path, small_model_path):
    raw = small_model_path.read_bytes()
    header_end = raw.index(b"\n", len(classifier.MAGIC))
    meta = json.loads(raw[len(classifier.MAGIC):header_end])
    meta["sklearn"] = "0.0.1"
    other = tmp_path / "old.gcm"
    other.write_bytes(classifier.MAGIC + json.dumps(meta).encode() + raw[header_end:])
    with pytest.raises(classifier.ModelError, match="scikit-learn 0.0.1"):
        classifier.load(other)
    junk = tmp_path / "junk.gcm"
    junk.write_bytes(b"not a model")
    with pytest.raises(classifier.ModelError, match="不是GridCare分类模型文件"):
        classifier.load(junk)


def test_check_text_rules():
    assert rules.check_text("").problem == "empty"
    assert rules.check_text(None).problem == "empty"
    assert rules.check_text("   ").problem == "empty"
    assert rules.check_text("hello 123").problem == "no_chinese"
    long = rules.check_text("停电" * 5000)
    assert long.problem == "too_long" and len(long.text) == rules.MAX_CHARS and long.usable
    assert rules.normalise("【网上国网】ＡＢＣ停电") == "abc停电"


# ------------------------------------------------------------------------------ CLI contract
def test_classify_command_line_contract(small_model_path, tmp_path):
    lines = [json.dumps({"id": 1, "text": "我家突然没电了，邻居家都有电，请派人来修"}, ensure_ascii=False),
             "{broken json",
             json.dumps({"id": 3, "text": ""}),
             json.dumps({"id": 4, "text": "just english"}),
             json.dumps({"id": 5, "text": "这个月电费高得离谱，比平时多了好几倍，我要投诉！" * 300}, ensure_ascii=False),
             json.dumps({"id": 6}),
             json.dumps(["not", "an", "object"]),
             json.dumps({"id": 8, "text": "营业厅的人态度很差，还骂人，我要投诉"}, ensure_ascii=False)]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "gridcare.cli", "classify", str(src), "--model", str(small_model_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["id"] for o in out] == [1, 3, 4, 5, 8]
    for o in out:
        assert {"order_type", "category_l1", "category_l2", "fault_kind", "confidence"} <= set(o)
    by_id = {o["id"]: o for o in out}
    assert by_id[1]["order_type"] == "fault_repair" and by_id[1]["category_l2"] is None and by_id[1]["fault_kind"]
    assert by_id[8]["order_type"] == "complaint" and by_id[8]["category_l1"] and by_id[8]["fault_kind"] is None
    assert by_id[3]["order_type"] is None and by_id[3]["confidence"] is None
    assert by_id[4]["order_type"] is None
    assert by_id[5]["order_type"] == "complaint"
    assert "第2行" in proc.stderr and "JSON格式错误" in proc.stderr
    assert "第3行" in proc.stderr and "为空" in proc.stderr
    assert "第4行" in proc.stderr and "不含中文" in proc.stderr
    assert "第5行" in proc.stderr and "过长" in proc.stderr
    assert "第6行" in proc.stderr and "第7行" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_classify_good_input_exits_zero_and_stdin_works(small_model_path):
    proc = subprocess.run([sys.executable, "-m", "gridcare.cli", "classify", "-", "--model", str(small_model_path)],
                          input='{"text": "我家电表黑屏了，什么都不显示"}\n', capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout)
    assert row["order_type"] == "fault_repair" and row["fault_kind"] == "meter_fault"


def test_classify_with_a_model_from_another_version(tmp_path, small_model_path):
    bad = tmp_path / "bad.gcm"
    bad.write_bytes(classifier.MAGIC + b'{"format": 99, "kind": "order-classifier"}\n')
    proc = subprocess.run([sys.executable, "-m", "gridcare.cli", "classify", "-", "--model", str(bad)],
                          input='{"text": "停电了"}\n', capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "格式版本为 99" in proc.stderr and "train-classifier" in proc.stderr and "Traceback" not in proc.stderr
