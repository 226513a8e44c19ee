"""The order page's forms through the real view (Django test client, session login, real database): 改派,
暂停/恢复计时 where the stage's clock may pause, link of a repeat call, and the lists of repeat calls and
merged orders; refusals come back as a message and change nothing."""
import pytest
from django.test import Client

from gridcare.testing import ApiClient
from gridcare.workorders.models import StageEvent, WorkOrder

REQUEST = {"order_type": "service_request", "account_no": "3100000001", "text": "申请增容至10千瓦"}
COMPLAINT = {"order_type": "complaint", "category_l2": "frequent_outage", "account_no": "3100000001",
             "text": "客户反映近两个月经常停电，要求解决"}


def browser(user):
    c = Client()
    c.force_login(user)
    return c


def act(client, no, **form):
    resp = client.post(f"/workorders/{no}/action/", form, follow=True)
    assert resp.status_code == 200
    return resp.content.decode()


@pytest.fixture
def received(world):
    no = ApiClient(world.agent).post("/api/workorders/", REQUEST).json()["order_no"]
    ApiClient(world.dispatcher).post(f"/api/workorders/{no}/advance", {"to": "dispatched", "assignee": "handler_a"})
    ApiClient(world.handler_a).post(f"/api/workorders/{no}/advance", {"to": "received"})
    return no


def test_handler_pauses_and_resumes_the_clock_from_the_page(world, received):
    h = browser(world.handler_a)
    page = h.get(f"/workorders/{received}/").content.decode()
    assert 'id="pause-form"' in page and 'value="suspend"' in page
    page = act(h, received, action="suspend", reason="")
    assert "暂停计时必须填写原因" in page and not WorkOrder.objects.get(order_no=received).suspended
    page = act(h, received, action="suspend", reason="客户要求延期到下周")
    o = WorkOrder.objects.get(order_no=received)
    assert o.suspended and o.stage_due_at is None and 'id="suspended"' in page and 'value="resume"' in page
    page = act(h, received, action="resume", note="客户资料已备齐")
    o.refresh_from_db()
    assert not o.suspended and o.stage_due_at is not None and 'value="suspend"' in page
    assert list(StageEvent.objects.filter(order=o, kind__in=["suspend", "resume"]).values_list("kind", "actor_name")) == [
        ("suspend", "城关处理员"), ("resume", "城关处理员")]
    # a complaint's clock never pauses: no form on its page
    no = ApiClient(world.agent).post("/api/workorders/", COMPLAINT).json()["order_no"]
    assert 'id="pause-form"' not in browser(world.admin).get(f"/workorders/{no}/").content.decode()


def test_dispatcher_reassigns_from_the_page(world, received):
    # a field worker may not reassign: no form, and a forged post changes nothing
    assert 'id="reassign-form"' not in browser(world.field).get(f"/workorders/{received}/").content.decode()
    page = act(browser(world.field), received, action="reassign", unit_code="S02")
    assert WorkOrder.objects.get(order_no=received).unit.code == "S01" and "alert-danger" in page
    d = browser(world.dispatcher)
    assert 'id="reassign-form"' in d.get(f"/workorders/{received}/").content.decode()
    act(d, received, action="reassign", unit_code="S02", assignee="handler_b", note="属河口供电所辖区")
    o = WorkOrder.objects.get(order_no=received)
    assert (o.unit.code, o.assignee.username) == ("S02", "handler_b")
    assert StageEvent.objects.filter(order=o, kind="reassign", actor_name="调度老李").exists()


def test_agent_links_a_repeat_call_and_both_pages_show_it(world):
    agent = ApiClient(world.agent)
    first = agent.post("/api/workorders/", COMPLAINT).json()["order_no"]
    second = agent.post("/api/workorders/", {**COMPLAINT, "text": "又停电了，第二次打电话"}).json()["order_no"]
    WorkOrder.objects.filter(order_no=second).update(repeat_of=None)   # as if not recognised at intake
    a = browser(world.agent)
    page = act(a, second, action="link", repeat_of=first)
    assert WorkOrder.objects.get(order_no=second).repeat_of.order_no == first
    assert 'id="link-form"' not in page
    assert second in browser(world.agent).get(f"/workorders/{first}/").content.decode().split('id="repeat-calls"')[1][:400]
    # a meter reader may not link orders: the post is refused and nothing changes
    resp = browser(world.reader).post(f"/workorders/{first}/action/", {"action": "link", "repeat_of": second})
    assert resp.status_code in (302, 403) and WorkOrder.objects.get(order_no=first).repeat_of is None


def test_the_new_forms_in_english(world, received):
    h = browser(world.handler_a)
    h.cookies["django_language"] = "en"
    page = h.get(f"/workorders/{received}/").content.decode()
    assert "Pause clock" in page and "Reassign" in page and "Earlier order no. (repeat call)" in page
    page = act(h, received, action="suspend", reason="客户要求延期")
    assert "Done" in page and "Resume clock" in page and "Clock paused" in page
