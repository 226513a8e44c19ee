"""bill-calc through the real stack: `POST /api/billing/bill-calc` and `POST /api/billing/tariffs` take the
formats.md JSON document as the request body and answer what `gridcare bill-calc --format json` prints;
annual tiers need `ytd_kwh_before`; the text bill prints prices as the JSON does."""
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gridcare.testing import ApiClient

# formats.md "bill-calc input (JSON)", verbatim
EXAMPLE = {"tariff": "EX-RES-TIERED", "period": {"start": "2026-07-01", "end": "2026-07-31"},
           "usage_kwh": {"total": 520}, "ytd_kwh_before": 0, "due_date": "2026-08-15", "paid_on": "2026-09-04"}
JULY = {"start": "2026-07-01", "end": "2026-07-31"}
TARIFF = {"code": "T-API", "name": "接口导入的测试电价", "customer_class": "residential", "valid_from": "2026-01-01",
          "valid_to": None, "energy": {"flat": "0.50"},
          "tiers": {"basis": "monthly", "bounds_kwh": [200], "increments": ["0", "0.30"]}}


def cli(payload, tmp_path, *args) -> str:
    path = tmp_path / "in.json"
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    buf = io.StringIO()
    call_command("bill-calc", str(path), *args, stdout=buf)
    return buf.getvalue()


def raw_post(api: ApiClient, path: str, body: str):
    return api.client.post(path, data=body, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {api.token}")


def fields(r) -> dict:
    return {e["field"]: e["message"] for e in r.json()["errors"]}


@pytest.mark.django_db
def test_api_bill_calc_takes_the_json_body_and_answers_what_the_cli_prints(world, tmp_path):
    api = ApiClient(world.reader)
    r = api.post("/api/billing/bill-calc", EXAMPLE)
    assert r.status_code == 200, r.content
    printed = cli(EXAMPLE, tmp_path, "--format", "json")
    assert '"total": "297.92"' in printed
    assert r.json() == json.loads(printed)
    assert r.json()["total"] == "297.92" and r.json()["amount_due"] == "303.88"
    # a TOU bill and an inline schedule: the same figures and keys on both sides
    for payload in ({"tariff": "ZJ-RES-TOU", "period": JULY, "usage_kwh": {"peak": 200, "valley": 100},
                     "ytd_kwh_before": 4700},
                    {"tariff": TARIFF, "period": JULY, "usage_kwh": {"total": "250.5"}}):
        r = api.post("/api/billing/bill-calc", payload)
        assert r.status_code == 200, r.content
        assert r.json() == json.loads(cli(payload, tmp_path, "--format", "json"))


@pytest.mark.django_db
def test_openapi_declares_a_request_body_not_a_query_parameter(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in ("/api/billing/bill-calc", "/api/billing/tariffs"):
        post = paths[path]["post"]
        assert not [p for p in post.get("parameters", []) if p["name"] == "payload"], post["parameters"]
        body = post["requestBody"]
        assert body["required"] is True and body["content"]["application/json"]["schema"]["type"] == "object"
    schema = paths["/api/billing/bill-calc"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["required"]) == {"tariff", "period", "usage_kwh"} and schema["example"] == EXAMPLE


@pytest.mark.django_db
def test_api_bill_calc_bad_input_is_a_chinese_400_with_the_cli_messages(world, tmp_path):
    api = ApiClient(world.reader)
    bad = {"tariff": "EX-RES-TIERED", "period": {"start": "2026-07-01"}, "usage_kwh": {"total": -5}}
    r = api.post("/api/billing/bill-calc", bad)
    assert r.status_code == 400
    with pytest.raises(CommandError) as exc:
        cli(bad, tmp_path)
    assert exc.value.returncode == 2
    for field, message in fields(r).items():
        assert f"{field}：{message}" in str(exc.value)
    r = raw_post(api, "/api/billing/bill-calc", '{"tariff": "EX-RES-TIERED",')
    assert r.status_code == 400 and r.json()["detail"].startswith("JSON格式错误：第1行")
    r = raw_post(api, "/api/billing/bill-calc", "[1, 2]")
    assert r.status_code == 400 and r.json()["detail"] == "输入应为 JSON 对象"
    r = raw_post(api, "/api/billing/bill-calc", "")
    assert r.status_code == 400 and "请求体为空" in r.json()["detail"]
    r = api.post("/api/billing/bill-calc", {"tariff": "NOPE", "period": JULY, "usage_kwh": {"total": 1}})
    assert r.status_code == 400 and fields(r) == {"tariff": "未找到电价代码“NOPE”"}


@pytest.mark.django_db
def test_api_loads_a_tariff_from_the_json_body(world, tmp_path):
    r = ApiClient(world.reader).post("/api/billing/tariffs", TARIFF)
    assert r.status_code == 403
    api = ApiClient(world.admin)
    r = api.post("/api/billing/tariffs", TARIFF)
    assert r.status_code == 201, r.content
    assert r.json()["code"] == "T-API" and r.json()["energy"] == {"flat": "0.50"}
    # the loaded code is billed the same by the API and the CLI: 250 × 0.50 = 125.00; 50 × 0.30 = 15.00
    payload = {"tariff": "T-API", "period": JULY, "usage_kwh": {"total": 250}}
    r = api.post("/api/billing/bill-calc", payload)
    assert r.json() == json.loads(cli(payload, tmp_path, "--format", "json"))
    assert r.json()["total"] == "140.00"
    r = api.post("/api/billing/tariffs", {"code": "T-BAD", "customer_class": "martian", "energy": {"flat": "x"}})
    assert r.status_code == 400
    assert {"name", "customer_class", "valid_from", "energy.flat"} <= set(fields(r))
    r = raw_post(api, "/api/billing/tariffs", "code: T-YAML")
    assert r.status_code == 400 and r.json()["detail"].startswith("JSON格式错误")


# ------------------------------------------------------------------------------ annual tiers need ytd_kwh_before
ANNUAL = {"tariff": "ZJ-RES-TIERED", "period": JULY, "usage_kwh": {"total": 300}}


@pytest.mark.django_db
def test_annual_tiers_without_ytd_kwh_before_are_refused(world, tmp_path):
    with pytest.raises(CommandError) as exc:
        cli(ANNUAL, tmp_path, "--format", "json")
    assert exc.value.returncode == 2
    assert "ytd_kwh_before：必填：电价 ZJ-RES-TIERED 为年阶梯电价" in str(exc.value)
    r = ApiClient(world.reader).post("/api/billing/bill-calc", ANNUAL)
    assert r.status_code == 400 and "年阶梯电价" in fields(r)["ytd_kwh_before"]
    # null is no figure either; every bad field is named together
    with pytest.raises(CommandError) as exc:
        cli({**ANNUAL, "ytd_kwh_before": None, "usage_kwh": {"total": -1}}, tmp_path)
    assert "ytd_kwh_before" in str(exc.value) and "usage_kwh.total" in str(exc.value)
    # given (0 at the start of the year, or the year's usage so far), it bills:
    # 2600 before + 300: 160 kWh in tier 1, 140 kWh in tier 2 → 300 × 0.538 = 161.40; 140 × 0.05 = 7.00
    out = json.loads(cli({**ANNUAL, "ytd_kwh_before": 2600}, tmp_path, "--format", "json"))
    assert out["total"] == "168.40"
    assert json.loads(cli({**ANNUAL, "ytd_kwh_before": 0}, tmp_path, "--format", "json"))["total"] == "161.40"
    # monthly tiers (the formats.md example's tariff) do not need it
    example = {k: v for k, v in EXAMPLE.items() if k != "ytd_kwh_before"}
    assert '"total": "297.92"' in cli(example, tmp_path, "--format", "json")


def test_cli_annual_tiers_without_ytd_exit_status_2(tmp_path):
    env = {**os.environ, "GRIDCARE_VAR_DIR": str(tmp_path)}
    gridcare = Path(sys.executable).parent / "gridcare"
    proc = subprocess.run([str(gridcare), "bill-calc", "-", "--format", "json"], input=json.dumps(ANNUAL),
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("输入有误：ytd_kwh_before：必填：电价 ZJ-RES-TIERED 为年阶梯电价")
    assert "Traceback" not in proc.stderr
    proc = subprocess.run([str(gridcare), "bill-calc", "-", "--format", "json"], input=json.dumps(EXAMPLE),
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0 and '"total": "297.92"' in proc.stdout


# ------------------------------------------------------------------------------ the text bill
@pytest.mark.django_db
def test_text_bill_prints_prices_as_the_json_does(tmp_path):
    lines = json.loads(cli(EXAMPLE, tmp_path, "--format", "json"))["lines"]
    text = cli(EXAMPLE, tmp_path).splitlines()
    assert [x["price"] for x in lines] == ["0.4883", "0.05", "0.30"]
    for x in lines:
        row = next(t for t in text if t.startswith(x["item"]))
        assert row.split()[-3:] == [x["kwh"], x["price"], x["amount"]], row
    assert "合计：297.92 元" in text
