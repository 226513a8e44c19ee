"""Supervisor and public pages render through the real stack (status and key content)."""
import pytest
from django.test import Client

from gridcare.testing import PASSWORD

pytestmark = pytest.mark.django_db


def test_pages_render(world, hall):
    from gridcare.hall import services

    for _ in range(3):
        services.do_issue_ticket(world.clerk, "H01", "payment")
    services.do_call_next(world.clerk, "H01", 1)
    services.do_finish(world.clerk, "H01", 1)
    sup = Client()
    assert sup.login(username="sup_county", password=PASSWORD)
    for url, text in (("/hall/H01/plan/", "窗口排班计划"), ("/hall/H01/traffic/", "客流分析"),
                      ("/hall/H01/quality/", "营业员小赵"), ("/hall/clerks/clerk01/", "涉及本人的95598投诉")):
        r = sup.get(url)
        assert r.status_code == 200 and text in r.content.decode(), url
    anon = Client()
    for url, text in (("/hall/H01/book/", "网上预约"), ("/hall/apply/", "业务申请"), ("/hall/H01/display/", "A001"),
                      ("/hall/self/", "客户自助服务")):
        r = anon.get(url)
        assert r.status_code == 200 and text in r.content.decode(), url
    assert anon.get("/hall/H01/plan/").status_code == 302          # supervisors' pages need a login
    clerk = Client()
    assert clerk.login(username="clerk01", password=PASSWORD)
    assert clerk.get("/hall/H01/quality/").status_code == 403


def test_an_unknown_hall_code_is_a_404_not_a_server_error(world, hall):
    anon = Client()
    for url in ("/hall/H99/display/", "/hall/H99/display/board/", "/hall/H99/kiosk/", "/hall/H99/book/"):
        r = anon.get(url)
        assert r.status_code in (404, 302), url      # the kiosk needs a login first
    clerk = Client()
    assert clerk.login(username="clerk01", password=PASSWORD)
    assert clerk.get("/hall/H99/kiosk/").status_code == 404


def test_self_service_shows_an_outage_by_its_title(world, hall):
    import datetime as dt

    from django.utils import timezone

    from gridcare.outages import services as outage_services

    now = timezone.now()
    planned = outage_services.do_create_outage(world.dispatcher, {
        "kind": "planned", "scope_kind": "taiqu", "taiqu_codes": ["TQ0001"], "reason": "配合市政道路改造",
        "start_at": now + dt.timedelta(days=2), "end_at": now + dt.timedelta(days=2, hours=8),
        "late_reason": "市政工期提前"})
    r = Client().post("/hall/self/", {"account_no": "3100000001", "phone": "13900000001"}, follow=True)
    html = r.content.decode()
    shown = r.context["data"]["outages"]
    assert shown and planned.outage_no in shown[0]["title"]
    assert shown[0]["title"] in html and "{&#x27;title&#x27;" not in html and "outage_no" not in html
