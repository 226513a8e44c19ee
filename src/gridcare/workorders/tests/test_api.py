"""The work-order engine through the real HTTP API (Django test client, token auth, real database)."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from gridcare.notifications.models import Notification
from gridcare.testing import ApiClient
from gridcare.workorders.models import StageEvent, WorkOrder

TZ = ZoneInfo("Asia/Shanghai")
COMPLAINT = {"order_type": "complaint", "category_l2": "frequent_outage", "account_no": "3100000001",
             "text": "客户反映近两个月经常停电，已经停了四次，要求解决", "channel": "hotline"}


def local(s):
    return datetime.fromisoformat(s).replace(tzinfo=TZ)


def due(resp):
    return datetime.fromisoformat(resp.json()["stage_due_at"]).astimezone(TZ)


@pytest.fixture
def agent(world):
    return ApiClient(world.agent)


@pytest.fixture
def dispatcher(world):
    return ApiClient(world.dispatcher)


@pytest.fixture
def handler(world):
    return ApiClient(world.handler_a)


def take(agent, **extra):
    resp = agent.post("/api/workorders/", {**COMPLAINT, **extra})
    assert resp.status_code == 201, resp.content
    return resp.json()["order_no"]


def test_intake_sets_dispatch_clock_and_category(world, agent):
    before = timezone.now()
    resp = agent.post("/api/workorders/", COMPLAINT)
    body = resp.json()
    assert resp.status_code == 201
    assert body["category_l1"] == "power_quality" and body["stage"] == "accepted"
    assert body["unit_code"] == "S01" and body["taiqu_code"] == "TQ0001" and body["stage_limit"] == "dispatch"
    assert timedelta(minutes=19) < due(resp) - before < timedelta(minutes=21)   # 20 natural minutes
    assert len(body["order_no"]) == 16


def test_idempotent_retry_returns_the_same_order(world, agent, pg_mode):
    first = agent.post("/api/workorders/", COMPLAINT, headers={"Idempotency-Key": "call-123"})
    again = agent.post("/api/workorders/", COMPLAINT, headers={"Idempotency-Key": "call-123"})
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["order_no"] == again.json()["order_no"]
    assert WorkOrder.objects.count() == 1
    other = agent.post("/api/workorders/", COMPLAINT, headers={"Idempotency-Key": "call-124"})
    assert other.status_code == 201 and WorkOrder.objects.count() == 2


@pytest.mark.parametrize("patch,field,words", [
    ({"order_type": "nonsense"}, "order_type", "未知的业务类型"),
    ({"category_l2": "made_up"}, "category_l2", "未知的投诉分类"),
    ({"category_l1": "service"}, "category_l2", "不属于一级分类"),
    ({"account_no": "0000000000"}, "account_no", "户号不存在"),
    ({"channel": "fax"}, "channel", "未知的受理渠道"),
    ({"text": "  "}, "text", "不能为空"),
])
def test_bad_intake_is_rejected_in_chinese_and_writes_nothing(world, agent, patch, field, words):
    resp = agent.post("/api/workorders/", {**COMPLAINT, **patch})
    assert resp.status_code == 400
    errors = {e["field"]: e["message"] for e in resp.json()["errors"]}
    assert words in errors[field]
    assert WorkOrder.objects.count() == 0 and StageEvent.objects.count() == 0


def test_complaint_full_lifecycle_with_roles(world, agent, dispatcher, handler):
    no = take(agent)
    # a handler cannot dispatch, an agent cannot skip stages
    assert handler.post(f"/api/workorders/{no}/advance", {"to": "dispatched"}).status_code == 403
    resp = agent.post(f"/api/workorders/{no}/advance", {"to": "contacted"})
    assert resp.status_code == 409 and "不允许" in resp.json()["detail"]
    resp = dispatcher.post(f"/api/workorders/{no}/advance", {"to": "dispatched", "assignee": "handler_a"})
    assert resp.status_code == 200 and resp.json()["assignee"] == "handler_a"
    assert resp.json()["stage_limit"] == "receive"
    assert Notification.objects.filter(user=world.handler_a, kind="dispatch").exists()
    # the other station's handler can neither see nor move it
    assert ApiClient(world.handler_b).get(f"/api/workorders/{no}").status_code == 403
    assert ApiClient(world.handler_b).post(f"/api/workorders/{no}/advance", {"to": "received"}).status_code == 403
    for stage in ("received", "contacted", "handled"):
        assert handler.post(f"/api/workorders/{no}/advance", {"to": stage}).status_code == 200
    resp = handler.post(f"/api/workorders/{no}/advance", {"to": "replied"})
    assert resp.status_code == 400 and "回单必须填写" in resp.json()["detail"]
    resp = handler.post(f"/api/workorders/{no}/advance",
                        {"to": "replied", "reply": "已查明线路老化导致停电，已安排线路改造，预计月底完成"})
    assert resp.status_code == 200 and resp.json()["stage_limit"] == "audit"
    assert handler.post(f"/api/workorders/{no}/advance", {"to": "audited"}).status_code == 403
    resp = dispatcher.post(f"/api/workorders/{no}/advance", {"to": "audited"})
    assert resp.status_code == 200 and resp.json()["quality_flags"] == []
    resp = agent.post(f"/api/workorders/{no}/visit", {"satisfaction": "satisfied", "note": "客户表示满意"})
    assert resp.json()["stage"] == "visited" and resp.json()["satisfaction"] == "satisfied"
    resp = agent.post(f"/api/workorders/{no}/advance", {"to": "closed"})
    assert resp.json()["status"] == "closed" and resp.json()["stage_due_at"] is None
    events = agent.get(f"/api/workorders/{no}/events").json()
    assert [e["to_stage"] for e in events if e["kind"] == "advance"] == [
        "dispatched", "received", "contacted", "handled", "replied", "audited", "visited", "closed"]
    assert all(e["actor"] for e in events)
    # nothing more happens to a closed order
    resp = agent.post(f"/api/workorders/{no}/urge", {"note": "再催"})
    assert resp.status_code == 409 and "不能催办" in resp.json()["detail"]


def test_reject_with_reason_counts_returned_replies(world, agent, dispatcher, handler):
    no = take(agent)
    dispatcher.post(f"/api/workorders/{no}/advance", {"to": "dispatched", "assignee": "handler_a"})
    for stage in ("received", "contacted", "handled"):
        handler.post(f"/api/workorders/{no}/advance", {"to": stage})
    for _ in range(2):
        handler.post(f"/api/workorders/{no}/advance", {"to": "replied", "reply": "已处理"})
        assert dispatcher.post(f"/api/workorders/{no}/reject", {"to": "handled", "reason": ""}).status_code == 400
        resp = dispatcher.post(f"/api/workorders/{no}/reject", {"to": "handled", "reason": "回复过于简单"})
        assert resp.status_code == 200 and resp.json()["stage"] == "handled"
    handler.post(f"/api/workorders/{no}/advance", {"to": "replied", "reply": "已处理"})
    body = dispatcher.post(f"/api/workorders/{no}/advance", {"to": "audited"}).json()
    codes = {f["code"] for f in body["quality_flags"]}
    assert body["reject_count"] == 2 and {"returned_repeatedly", "reply_off_category"} <= codes


def test_urge_is_recorded_with_who_and_notifies(world, agent, dispatcher):
    no = take(agent)
    dispatcher.post(f"/api/workorders/{no}/advance", {"to": "dispatched", "assignee": "handler_a"})
    resp = agent.post(f"/api/workorders/{no}/urge", {"note": "客户第二次来电催促"})
    assert resp.json()["urge_count"] == 1
    ev = StageEvent.objects.get(order__order_no=no, kind="urge")
    assert ev.actor == world.agent and ev.note == "客户第二次来电催促"
    assert Notification.objects.filter(user=world.handler_a, kind="urge").exists()


def test_merge_duplicates_only_for_the_same_customer(world, agent, dispatcher):
    a, b = take(agent), take(agent, text="同一问题再次反映停电")
    c = take(agent, account_no="3100000002", category_l2="voltage", text="电压低")
    resp = dispatcher.post(f"/api/workorders/{a}/merge", {"into": c})
    assert resp.status_code == 400 and "同一客户" in resp.json()["detail"]
    assert WorkOrder.objects.get(order_no=a).status == "open"
    resp = dispatcher.post(f"/api/workorders/{b}/merge", {"into": a})
    assert resp.status_code == 200 and resp.json()["status"] == "merged" and resp.json()["merged_into"] == a
    assert agent.get(f"/api/workorders/{b}/events").json()[0]["kind"] == "create"  # history kept


def test_12398_and_repeat_complaints_go_to_the_unit_head(world, agent):
    world.station_a.head = world.handler_a  # any user can be named head; here the station's
    world.station_a.save()
    resp = agent.post("/api/workorders/", {**COMPLAINT, "channel": "12398"})
    assert resp.json()["escalation"] == 2 and "12398" in resp.json()["escalation_reason"]
    assert Notification.objects.filter(user=world.handler_a, kind="escalation").count() == 1
    # a second 95598 complaint by the same customer within the window
    resp = agent.post("/api/workorders/", {**COMPLAINT, "category_l2": "voltage", "text": "电压低"})
    assert resp.json()["escalation"] == 2 and "重复投诉" in resp.json()["escalation_reason"]


def test_repeat_complaint_by_a_caller_known_only_by_phone_goes_to_the_unit_head(world, agent):
    anonymous = {"order_type": "complaint", "category_l2": "attitude", "unit_code": "S01", "area_kind": "urban",
                 "caller_phone": "13700000077", "caller_name": "王女士", "text": "营业员态度差"}
    first = agent.post("/api/workorders/", anonymous)
    assert first.status_code == 201, first.content
    assert first.json()["escalation"] == 0
    again = agent.post("/api/workorders/", {**anonymous, "text": "上次投诉没人处理"}).json()
    assert again["escalation"] == 2 and "重复投诉" in again["escalation_reason"]
    other = agent.post("/api/workorders/", {**anonymous, "caller_phone": "13700000078"}).json()
    assert other["escalation"] == 0


def test_repeat_complaint_counts_only_earlier_complaints_within_the_window(world, agent):
    """The rule's window (60 days in the seed): a complaint 61 days earlier, an earlier order of another
    type or a later complaint does not make a complaint a repeat one; a complaint 2 days earlier does."""
    now = timezone.now()
    old = agent.post("/api/workorders/", {**COMPLAINT, "accepted_at": (now - timedelta(days=61)).isoformat()})
    assert old.status_code == 201, old.content
    assert old.json()["escalation"] == 0
    inquiry = agent.post("/api/workorders/", {"order_type": "inquiry", "account_no": COMPLAINT["account_no"],
                                             "text": "咨询电价"})
    assert inquiry.status_code == 201, inquiry.content
    today = agent.post("/api/workorders/", {**COMPLAINT, "text": "电压低", "category_l2": "voltage"}).json()
    assert today["escalation"] == 0
    # taken after the fact (补录) at 59 days ago: the 61-day-old complaint is 2 days before it
    back = agent.post("/api/workorders/", {**COMPLAINT, "text": "补录的投诉",
                                          "accepted_at": (now - timedelta(days=59)).isoformat()}).json()
    assert back["escalation"] == 2 and "重复投诉" in back["escalation_reason"]


def test_second_call_on_a_complaint_raises_it_to_leadership(world, agent):
    first = take(agent)
    resp = agent.post("/api/workorders/", {"order_type": "inquiry", "account_no": "3100000001",
                                            "text": "催问投诉处理进度", "repeat_of": first})
    assert resp.status_code == 201 and resp.json()["repeat_of"] == first
    earlier = agent.get(f"/api/workorders/{first}").json()
    assert earlier["escalation"] == 1 and "二次来电" in earlier["escalation_reason"]


def test_dissatisfied_first_visit_reopens_and_escalates(world, agent, dispatcher, handler):
    no = take(agent)
    dispatcher.post(f"/api/workorders/{no}/advance", {"to": "dispatched", "assignee": "handler_a"})
    for stage in ("received", "contacted", "handled"):
        handler.post(f"/api/workorders/{no}/advance", {"to": stage})
    handler.post(f"/api/workorders/{no}/advance", {"to": "replied", "reply": "已安排线路改造"})
    dispatcher.post(f"/api/workorders/{no}/advance", {"to": "audited"})
    resp = agent.post(f"/api/workorders/{no}/visit", {"satisfaction": "dissatisfied", "note": "仍然经常停电"})
    body = resp.json()
    assert body["stage"] == "contacted" and body["status"] == "open" and body["escalation"] == 1
    assert body["stage_limit"] == "handle"
    assert Notification.objects.filter(user=world.handler_a, kind="reopen").exists()


def test_second_dissatisfied_visit_goes_to_the_unit_head_for_closing_after_review(world, agent, dispatcher, handler):
    world.station_a.head = world.supervisor_county   # any user can be named head
    world.station_a.save()
    no = take(agent)
    dispatcher.post(f"/api/workorders/{no}/advance", {"to": "dispatched", "assignee": "handler_a"})

    def handle_again(start):
        for stage in start:
            handler.post(f"/api/workorders/{no}/advance", {"to": stage})
        handler.post(f"/api/workorders/{no}/advance", {"to": "replied", "reply": "已安排线路改造"})
        assert dispatcher.post(f"/api/workorders/{no}/advance", {"to": "audited"}).status_code == 200

    handle_again(("received", "contacted", "handled"))
    first = agent.post(f"/api/workorders/{no}/visit", {"satisfaction": "dissatisfied", "note": "仍然经常停电"}).json()
    assert first["stage"] == "contacted" and first["escalation"] == 1
    handle_again(("handled",))
    second = agent.post(f"/api/workorders/{no}/visit", {"satisfaction": "dissatisfied", "note": "要求赔偿"}).json()
    # not sent back a second time: on record as dissatisfied, raised to the unit head to close after review
    assert second["stage"] == "visited" and second["satisfaction"] == "dissatisfied" and second["escalation"] == 2
    assert "审核办结" in second["escalation_reason"]
    assert Notification.objects.filter(user=world.supervisor_county, kind="escalation").exists()
    events = agent.get(f"/api/workorders/{no}/events").json()
    assert [e["kind"] for e in events].count("reopen") == 1
    closed = dispatcher.post(f"/api/workorders/{no}/advance", {"to": "closed", "note": "诉求超出政策范围，经审核办结"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"


def test_praise_and_answered_inquiry_close_on_the_call(world, agent):
    resp = agent.post("/api/workorders/", {"order_type": "praise", "account_no": "3100000001",
                                            "text": "表扬抢修班张师傅", "close_now": True})
    assert resp.json()["status"] == "closed" and resp.json()["stage"] == "closed"
    no = resp.json()["order_no"]
    # its history: taken, then closed on the call; one audit row, written with the closed state
    events = agent.get(f"/api/workorders/{no}/events").json()
    assert [(e["kind"], e["from_stage"], e["to_stage"]) for e in events] == [
        ("create", "", "accepted"), ("advance", "accepted", "closed")]
    order = WorkOrder.objects.get(order_no=no)
    assert order.closed_at == order.accepted_at and order.stage_due_at is None and order.reply
    from gridcare.core.models import AuditLog

    logs = list(AuditLog.objects.filter(content_type__model="workorder", object_pk=str(order.pk)))
    assert [log.action for log in logs] == ["create"] and logs[0].changes["status"] == [None, "closed"]
    resp = agent.post("/api/workorders/", {**COMPLAINT, "close_now": True})
    assert resp.status_code == 400 and "close_now" in {e["field"] for e in resp.json()["errors"]}


@pytest.mark.parametrize("area,minutes", [("urban", 45), ("rural", 90), ("remote", 120)])
def test_repair_arrival_clock_depends_on_area(world, dispatcher, area, minutes):
    agent = ApiClient(world.agent)
    resp = agent.post("/api/workorders/", {"order_type": "fault_repair", "fault_kind": "single_no_power",
                                            "taiqu_code": "TQ0101", "area_kind": area, "text": "家里没电了"})
    no = resp.json()["order_no"]
    before = timezone.now()
    resp = dispatcher.post(f"/api/workorders/{no}/advance", {"to": "dispatched"})
    assert resp.json()["stage_limit"] == "arrival"
    assert abs((due(resp) - before) - timedelta(minutes=minutes)) < timedelta(minutes=1)


def test_handle_clock_over_national_day_2026(world, agent, dispatcher, handler):
    """Accepted Wed 2026-09-30 10:00; 国庆 Oct 1–7 off, Sat Oct 10 worked: 5 working days → Tue Oct 13 10:00."""
    resp = agent.post("/api/workorders/", {**COMPLAINT, "accepted_at": "2026-09-30T10:00:00+08:00"})
    assert resp.status_code == 201
    no = resp.json()["order_no"]
    dispatcher.post(f"/api/workorders/{no}/advance", {"to": "dispatched", "assignee": "handler_a"})
    handler.post(f"/api/workorders/{no}/advance", {"to": "received"})
    resp = handler.post(f"/api/workorders/{no}/advance", {"to": "contacted"})
    assert resp.json()["stage_limit"] == "handle"
    assert due(resp) == local("2026-10-13T10:00:00")


def test_inquiry_clock_over_spring_festival_2026(world, agent):
    """Sat 2026-02-14 is a swapped working day; 春节 Feb 15–23 off. 1 working day from Fri Feb 13 15:00
    ends Sat Feb 14 15:00; from Sat Feb 14 15:00 it ends Tue Feb 24 15:00."""
    body = {"order_type": "inquiry", "account_no": "3100000001", "text": "咨询阶梯电价"}
    resp = agent.post("/api/workorders/", {**body, "accepted_at": "2026-02-13T15:00:00+08:00"})
    assert due(resp) == local("2026-02-14T15:00:00")
    resp = agent.post("/api/workorders/", {**body, "accepted_at": "2026-02-14T15:00:00+08:00"})
    assert due(resp) == local("2026-02-24T15:00:00")


def test_year_without_schedule_is_a_clear_error(world, agent):
    resp = agent.post("/api/workorders/", {"order_type": "inquiry", "account_no": "3100000001",
                                            "text": "咨询", "accepted_at": "2003-06-02T10:00:00+08:00"})
    assert resp.status_code == 400 and "2003年的节假日安排尚未录入" in resp.json()["detail"]
    assert WorkOrder.objects.count() == 0


def test_future_acceptance_time_is_refused(world, agent):
    future = (timezone.now() + timedelta(days=1)).isoformat()
    resp = agent.post("/api/workorders/", {**COMPLAINT, "accepted_at": future})
    assert resp.status_code == 400 and "accepted_at" in {e["field"] for e in resp.json()["errors"]}


def test_an_idempotency_key_reused_for_another_call_or_by_another_user_is_refused(world, agent):
    first = agent.post("/api/workorders/", COMPLAINT, headers={"Idempotency-Key": "call-9"})
    assert first.status_code == 201
    other = agent.post("/api/workorders/", {**COMPLAINT, "text": "另一件事：电费异常"}, headers={"Idempotency-Key": "call-9"})
    assert other.status_code == 409 and "idempotency_key" in {e["field"] for e in other.json()["errors"]}
    stranger = ApiClient(world.dispatcher).post("/api/workorders/", COMPLAINT, headers={"Idempotency-Key": "call-9"})
    assert stranger.status_code == 409
    assert WorkOrder.objects.count() == 1
    again = agent.post("/api/workorders/", COMPLAINT, headers={"Idempotency-Key": "call-9"})
    assert again.status_code == 200 and again.json()["order_no"] == first.json()["order_no"]


def test_suspend_pauses_only_where_rules_allow(world, agent, dispatcher):
    no = take(agent)
    resp = ApiClient(world.handler_a).post(f"/api/workorders/{no}/suspend", {"reason": "客户要求延期"})
    assert resp.status_code == 409  # a complaint's clock never pauses
    resp = agent.post("/api/workorders/", {"order_type": "service_request", "account_no": "3100000001",
                                            "text": "申请增容"})
    sr = resp.json()["order_no"]
    dispatcher.post(f"/api/workorders/{sr}/advance", {"to": "dispatched", "assignee": "handler_a"})
    h = ApiClient(world.handler_a)
    h.post(f"/api/workorders/{sr}/advance", {"to": "received"})
    due_before = due(h.get(f"/api/workorders/{sr}"))
    resp = h.post(f"/api/workorders/{sr}/suspend", {"reason": "客户要求延期到下周"})
    assert resp.json()["suspended"] is True and resp.json()["stage_warn_at"] is None
    resp = h.post(f"/api/workorders/{sr}/resume", {"note": "客户已备齐资料"})
    assert resp.json()["suspended"] is False and due(resp) >= due_before


def test_lookup_shows_open_and_recent_orders_and_sensitive_flag(world, agent):
    take(agent)
    world.cust_a.sensitive, world.cust_a.sensitive_reason = True, "多次投诉"
    world.cust_a.save()
    rows = agent.get("/api/workorders/lookup?q=13900000001").json()
    assert len(rows) == 1 and rows[0]["sensitive"] and rows[0]["sensitive_reason"] == "多次投诉"
    assert len(rows[0]["open_orders"]) == 1 and len(rows[0]["recent_orders"]) == 1


def test_queue_and_dashboard(world, agent, dispatcher):
    no = take(agent, accepted_at=(timezone.now() - timedelta(minutes=17)).isoformat())
    late = take(agent, accepted_at=(timezone.now() - timedelta(minutes=30)).isoformat())
    queue = dispatcher.get("/api/workorders/?queue=true").json()
    assert [o["order_no"] for o in queue][:2] == [late, no]   # most urgent first
    dash = ApiClient(world.supervisor_county).get("/api/workorders/dashboard?unit=X01").json()
    assert dash["near_breach"] == 1 and dash["overdue"] == 1
    assert {u["unit_code"]: u["overdue"] for u in dash["by_unit"]}["S01"] == 1
    assert ApiClient(world.handler_other).get("/api/workorders/dashboard?unit=X01").status_code == 403
