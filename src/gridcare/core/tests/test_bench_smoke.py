"""The benchmark framework (bench/, `make bench`) leaves its results behind. A trivial in-process
figure only: no database, no server, and no timing asserted — benchmarks are not tests."""
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]


@pytest.fixture
def framework(monkeypatch):
    if not (ROOT / "bench" / "framework.py").exists():
        pytest.skip("bench/ is not part of this installation")
    monkeypatch.syspath_prepend(str(ROOT))
    from bench import framework

    return framework


def test_a_benchmark_writes_its_json_and_the_summary(framework, tmp_path):
    def trivial(ctx):
        ctx.machine["postgresql"] = "17.0"
        ctx.detail("plan", "Index Scan using wo_unit_warn")
        ctx.note("one line for the summary")
        return {"fast": {"value": 3.0, "unit": "ms", "target": "< 50"},
                "slow": framework.Figure(value=9.5, unit="s", target="< 5"),
                "rate": {"value": 1200, "unit": "orders/s", "target": ">= 500"},
                "context": {"value": 7, "unit": "statements"}}

    result = framework.run_benchmark("smoke", trivial, title="Smoke", results_dir=tmp_path)

    stored = json.loads((tmp_path / "smoke.json").read_text(encoding="utf-8"))
    assert stored == json.loads(json.dumps(result, default=str))
    assert {k: f["status"] for k, f in stored["figures"].items()} == {
        "fast": "pass", "slow": "fail", "rate": "pass", "context": "info"}
    assert (stored["passed"], stored["failed"], stored["error"]) == (2, 1, None)
    machine = stored["machine"]
    assert machine["cores"] >= 1 and machine["python"] and machine["cpu_model"] and machine["postgresql"] == "17.0"
    assert "commit" in machine["git"] and "dirty" in machine["git"]
    assert stored["details"]["plan"].startswith("Index Scan")

    summary = framework.write_summary(tmp_path).read_text(encoding="utf-8")
    assert "## smoke — Smoke" in summary and "PostgreSQL 17.0" in summary
    assert "| fast | 3.00 | ms | < 50 | PASS |" in summary
    assert "| slow | 9.50 | s | < 5 | FAIL |" in summary
    assert "- one line for the summary" in summary


def test_a_broken_benchmark_is_recorded_not_raised(framework, tmp_path):
    def broken(ctx):
        raise RuntimeError("database went away")

    result = framework.run_benchmark("broken", broken, results_dir=tmp_path)

    assert "database went away" in result["error"]
    assert json.loads((tmp_path / "broken.json").read_text(encoding="utf-8"))["figures"] == {}
    assert "stopped with an error" in framework.write_summary(tmp_path).read_text(encoding="utf-8")


def test_targets_must_be_comparisons(framework):
    with pytest.raises(ValueError):
        framework.Figure(value=1, unit="ms", target="fast")


def test_the_runner_finds_the_work_order_benchmark(framework):
    from bench import run

    assert "workorders" in run.discover()


@pytest.mark.django_db
def test_the_benchmark_floor_writes_the_rows_a_real_intake_writes(framework, world, settings):
    """bench/floor_urls.py (the workorders benchmark's floor) must keep writing what a real intake writes,
    or its rate stops bounding the real one: the same four rows, through the same token check."""
    from django.db import connection
    from django.urls import clear_url_caches

    if connection.vendor != "postgresql":
        pytest.skip("the floor sends several statements in one round trip, as on PostgreSQL in the benchmark")
    from gridcare.core.models import AuditLog
    from gridcare.intelligence.models import PendingIntake
    from gridcare.testing import ApiClient
    from gridcare.workorders.models import StageEvent, WorkOrder

    def counts():
        return (WorkOrder.objects.count(), StageEvent.objects.count(),
                AuditLog.objects.filter(content_type__model="workorder").count(), PendingIntake.objects.count())

    body = {"order_type": "service_request", "account_no": "3100000001", "text": "申请电能表校验"}
    agent = ApiClient(world.agent)
    before = counts()
    assert agent.post("/api/workorders/", body).status_code == 201
    real = [a - b for a, b in zip(counts(), before)]
    settings.ROOT_URLCONF = "bench.floor_urls"
    clear_url_caches()
    try:
        resp = agent.post("/api/workorders/", body)
        assert resp.status_code == 201 and resp.json()["order_no"].startswith("F")
        floor = [a - b - r for a, b, r in zip(counts(), before, real)]
        assert floor == real == [1, 1, 1, 1]
        order = WorkOrder.objects.get(order_no=resp.json()["order_no"])
        assert (order.customer.account_no, order.unit_id, order.created_by_id) == (
            "3100000001", order.customer.unit_id, world.agent.pk)
        # without a token it answers 401, as the real endpoint does
        from django.test import Client
        assert Client().post("/api/workorders/", body, content_type="application/json").status_code == 401
    finally:
        settings.ROOT_URLCONF = "gridcare.urls"
        clear_url_caches()
