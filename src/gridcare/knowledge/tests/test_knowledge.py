from datetime import date

import pytest
from django.test import Client

from gridcare.knowledge import search, services
from gridcare.knowledge.models import Article

pytestmark = pytest.mark.django_db


def _art(code, title, body, keywords="", public=True, **kw):
    return Article(code=code, version=1, title=title, kind=kw.get("kind", "faq"), body=body, keywords=keywords,
                   public=public, valid_from=date(2024, 1, 1))


def test_bm25_ranks_the_article_about_the_subject_first():
    arts = [
        _art("a", "交清欠费后多久复电", "客户交清欠费后，供电公司应在24小时内恢复供电。", "复电 欠费"),
        _art("b", "电费缴费渠道", "可以通过App、银行代扣、营业厅交电费。交清欠费后会恢复供电。", "缴费 渠道"),
        _art("c", "阶梯电价", "居民阶梯电价分三档，每档加价不同。", "阶梯电价"),
        _art("d", "抢修时限", "城区45分钟到达现场。", "抢修"),
    ]
    idx = search.Index(arts)
    assert [h.code for h in idx.search("交了电费多久能复电")][:1] == ["a"]
    assert idx.search("阶梯电价怎么算")[0].code == "c"
    assert idx.search("哪里可以缴费")[0].code == "b"
    assert idx.search("抢修多久到")[0].code == "d"
    assert idx.search("量子计算机") == []
    assert idx.search("") == []


def test_seeded_articles_answer_common_questions():
    assert Article.objects.count() >= 15
    assert all(a.sources for a in Article.objects.all())
    assert search.search("交了电费多久来电")[0].code == "reconnection"
    assert search.search("阶梯电价怎么算")[0].code == "tiered-tariff"
    assert search.search("停电前要提前几天通知")[0].code == "outage-notice"
    assert search.search("新装电表要多久")[0].code == "new-connection-time-limits"
    assert "reply-frequent-outage" not in [h.code for h in search.search("频繁停电", public_only=True)]


def test_versions_and_validity(world):
    a1 = services.do_publish(world.supervisor_city, "test-rule", {"title": "旧规定", "kind": "policy",
                                                                  "body": "旧的时限为三天", "valid_from": date(2024, 1, 1)})
    a2 = services.do_publish(world.supervisor_city, "test-rule", {"title": "新规定", "kind": "policy",
                                                                  "body": "新的时限为一天", "valid_from": date(2025, 1, 1)})
    a1.refresh_from_db()
    assert (a1.version, a2.version) == (1, 2) and a1.valid_to == date(2025, 1, 1)
    assert services.current("test-rule", date(2024, 6, 1)).pk == a1.pk
    assert services.current("test-rule", date(2025, 6, 1)).pk == a2.pk
    from gridcare.core.api_support import DomainError

    with pytest.raises(DomainError):
        services.do_publish(world.supervisor_city, "test-rule", {"title": "x", "kind": "policy", "body": "y",
                                                                 "valid_from": date(2024, 6, 1)})
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.do_publish(world.agent, "other", {"title": "x", "kind": "policy", "body": "y"})
    assert a2.audit_entries().exists()
    hits = search.search("新的时限")
    assert hits and hits[0].code == "test-rule" and hits[0].version == 2


def test_api_search_and_publish(world, api_client):
    r = api_client(world.agent).get("/api/knowledge/search?q=违约金怎么算")
    assert r.status_code == 200 and r.json_body[0]["code"] == "late-payment-charge"
    r = api_client(world.agent).get("/api/knowledge/articles/late-payment-charge")
    assert r.status_code == 200 and "千分之一" in r.json_body["body"]
    r = api_client(world.agent).post("/api/knowledge/articles/x1", {"title": "t", "kind": "faq", "body": "b"})
    assert r.status_code == 403
    r = api_client(world.supervisor_city).post("/api/knowledge/articles/x1", {"title": "", "kind": "bad", "body": "b"})
    assert r.status_code == 400 and {e["field"] for e in r.json_body["errors"]} == {"title", "kind"}
    r = api_client(world.supervisor_city).post("/api/knowledge/articles/x1", {"title": "测试", "kind": "faq", "body": "正文"})
    assert r.status_code == 201 and r.json_body["version"] == 1


def test_pages(world):
    anon = Client()
    r = anon.get("/knowledge/faq/?q=交了电费多久来电")
    assert r.status_code == 200 and "交清欠费后多久恢复供电" in r.content.decode()
    assert "标准答复" not in anon.get("/knowledge/faq/").content.decode()
    assert anon.get("/knowledge/").status_code == 302  # the agents' search needs a login
    c = Client()
    c.force_login(world.agent)
    r = c.get("/knowledge/?q=阶梯电价")
    assert r.status_code == 200 and "居民阶梯电价怎么计算" in r.content.decode()
    r = c.get("/knowledge/a/tiered-tariff/")
    assert r.status_code == 200 and "依据与来源" in r.content.decode()
