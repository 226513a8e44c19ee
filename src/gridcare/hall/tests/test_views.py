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
