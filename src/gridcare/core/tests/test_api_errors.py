"""The API answers in the user's language and writes times one way: a record that does not exist is named
in Chinese, a refused token is a 401 (not a browser's CSRF complaint), a body that is not JSON is a Chinese
400, and every time carries +08:00 whether it was just computed or read back from the database."""
import re
from datetime import datetime

import pytest
from django.test import Client

from gridcare.testing import ApiClient
from gridcare.workorders.models import WorkOrder

COMPLAINT = {"order_type": "complaint", "category_l2": "frequent_outage", "account_no": "3100000001",
             "text": "客户反映经常停电", "channel": "hotline"}


@pytest.mark.parametrize("method, path, body, words", [
    ("get", "/api/workorders/NOPE", None, "工单不存在"),
    ("post", "/api/workorders/NOPE/urge", {"note": "快点"}, "工单不存在"),
    ("get", "/api/workorders/dashboard?unit=NOPE", None, "组织单位不存在"),
    ("get", "/api/outages/NOPE", None, "停电事件不存在"),
])
def test_a_missing_record_is_named_in_chinese(world, method, path, body, words):
    agent = ApiClient(world.admin)
    resp = agent.get(path) if method == "get" else agent.post(path, body)
    assert resp.status_code == 404 and resp.json()["detail"] == words


def test_merge_into_a_missing_order_is_a_chinese_404_and_changes_nothing(world):
    agent = ApiClient(world.agent)
    no = agent.post("/api/workorders/", COMPLAINT).json()["order_no"]
    resp = ApiClient(world.admin).post(f"/api/workorders/{no}/merge", {"into": "NOPE"})
    assert resp.status_code == 404 and resp.json()["detail"] == "工单不存在"
    assert WorkOrder.objects.get(order_no=no).status == "open"


def test_a_refused_token_is_401_on_a_post_too(world):
    client = Client()
    for call in (client.get, client.post):
        resp = call("/api/workorders/", HTTP_AUTHORIZATION="Bearer not-a-token", content_type="application/json")
        assert resp.status_code == 401 and resp.json()["detail"] == "未登录或令牌无效"
    assert WorkOrder.objects.count() == 0


def test_a_body_that_is_not_json_is_a_chinese_400(world):
    agent = ApiClient(world.agent)
    resp = agent.client.post("/api/workorders/", "{not json", content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {agent.token}")
    assert resp.status_code == 400 and "请求体无法解析" in resp.json()["detail"]
    assert WorkOrder.objects.count() == 0


def test_a_time_reads_the_same_in_every_answer(world):
    agent = ApiClient(world.agent)
    created = agent.post("/api/workorders/", COMPLAINT, headers={"Idempotency-Key": "same-1"})
    again = agent.post("/api/workorders/", COMPLAINT, headers={"Idempotency-Key": "same-1"})
    stored = agent.get(f"/api/workorders/{created.json()['order_no']}")
    assert (created.status_code, again.status_code, stored.status_code) == (201, 200, 200)
    for key in ("accepted_at", "stage_due_at"):
        texts = {r.json()[key] for r in (created, again, stored)}
        assert len(texts) == 1, (key, texts)
        text = texts.pop()
        assert text.endswith("+08:00") and re.match(r"\d{4}-\d{2}-\d{2}T", text)
        assert datetime.fromisoformat(text).utcoffset().total_seconds() == 8 * 3600


def test_a_closed_order_says_so_once(world):
    agent = ApiClient(world.agent)
    no = agent.post("/api/workorders/", {"order_type": "inquiry", "account_no": "3100000001", "text": "咨询电价",
                                         "close_now": True, "reply": "已答复"}).json()["order_no"]
    resp = ApiClient(world.admin).post(f"/api/workorders/{no}/advance", {"to": "visited"})
    assert resp.status_code == 409 and resp.json()["errors"][0]["message"] == "工单已归档，不能流转"


def test_pages_refuse_in_the_users_language(world, client):
    client.force_login(world.agent)
    missing = client.get("/workorders/NOPE/")
    assert missing.status_code == 404
    text = missing.content.decode()
    assert "未找到" in text and "返回首页" in text and "Not Found" not in text
    denied = client.get("/analytics/complaints/")
    assert denied.status_code == 403 and "无权访问" in denied.content.decode()
    client.cookies["django_language"] = "en"
    missing = client.get("/workorders/NOPE/")
    assert missing.status_code == 404 and "Not found" in missing.content.decode()
    assert "未找到" not in missing.content.decode()


def test_a_server_error_page_needs_no_request_context():
    from django.template.loader import render_to_string

    page = render_to_string("500.html")
    assert "系统错误" in page and "Server error" in page


def test_the_api_docs_load_nothing_from_the_internet(client):
    """The intranet has no internet: Swagger UI comes from django-ninja's static files."""
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("swagger-ui-bundle.js" in a for a in assets), assets
    assert not [a for a in assets if a.startswith(("http://", "https://", "//"))], assets
    bundle = next(a for a in assets if "swagger-ui-bundle.js" in a)
    assert client.get(bundle).status_code == 200
