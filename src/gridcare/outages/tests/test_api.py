"""The outage API through the real HTTP stack: planning and the advance-notice check, bad input,
affected customers, progress and partial restoration, messages and their delivery log, permissions."""
from datetime import timedelta

from django.utils import timezone

from gridcare.notifications.models import Delivery, OutboundEvent
from gridcare.outages.models import Outage, OutageUpdate
from gridcare.testing import ApiClient


def iso(dt):
    return dt.isoformat()


def plan(api, **kw):
    now = timezone.now()
    body = {"kind": "planned", "scope_kind": "feeder", "feeder_code": "F001", "start_at": iso(now + timedelta(days=8)),
            "end_at": iso(now + timedelta(days=8, hours=6)), "reason": "10kV线路检修"}
    body.update(kw)
    return api.post("/api/outages/", body)


def test_planned_outage_on_time_notifies_every_affected_customer(grid):
    resp = plan(ApiClient(grid.dispatcher))
    assert resp.status_code == 201, resp.content
    o = resp.json()
    assert o["phase"] == "upcoming" and not o["notice_late"]
    # F001 = TQ0001 + TQ0002: 张三, 医院 (critical), 微信用户, 邮件用户, 不接收短信
    assert o["customers_affected"] == 5 and o["critical_affected"] == 1
    deliveries = {d.customer.account_no: d for d in Delivery.objects.select_related("customer")}
    assert {k: (d.channel, d.status) for k, d in deliveries.items()} == {
        "3100000001": ("sms", "pending"), "3100000003": ("wechat", "pending"), "3100000004": ("email", "pending"),
        "3100000002": ("none", "unreachable"), "3100000005": ("none", "unreachable")}
    ev = OutboundEvent.objects.get()
    assert "10kV线路检修" in ev.body and "城关I线" in ev.body
    # critical customers first
    customers = ApiClient(grid.dispatcher).get(f"/api/outages/{o['outage_no']}/customers").json()
    assert customers["total"] == 5 and customers["customers"][0]["account_no"] == "3100000002"
    detail = ApiClient(grid.agent).get(f"/api/outages/{o['outage_no']}").json()
    assert detail["messages"][0]["unreachable"] == 2 and detail["messages"][0]["total"] == 5


def test_late_plan_is_blocked_then_flagged_with_a_reason(grid):
    api = ApiClient(grid.dispatcher)
    now = timezone.now()
    late = plan(api, start_at=iso(now + timedelta(days=3)), end_at=iso(now + timedelta(days=3, hours=4)))
    assert late.status_code == 400
    err = late.json()["errors"][0]
    assert err["field"] == "start_at" and "提前7天" in err["message"]
    assert Outage.objects.count() == 0 and Delivery.objects.count() == 0 and OutboundEvent.objects.count() == 0
    check = api.post("/api/outages/check-notice", {"kind": "planned", "scope_kind": "feeder", "feeder_code": "F001",
                                                   "start_at": iso(now + timedelta(days=3)),
                                                   "end_at": iso(now + timedelta(days=3, hours=4)), "reason": "检修"})
    assert check.status_code == 200 and check.json()["late"] is True and check.json()["has_critical"] is True
    ok = plan(api, start_at=iso(now + timedelta(days=3)), end_at=iso(now + timedelta(days=3, hours=4)),
              late_reason="配合市政道路施工，工期提前")
    assert ok.status_code == 201 and ok.json()["notice_late"] is True
    assert "工期提前" in ok.json()["notice_late_reason"]
    # the planning form's count is the count the outage gets: every customer of the feeder's 台区
    assert check.json()["customer_count"] == ok.json()["customers_affected"] > 0
    assert check.json()["taiqu_count"] == Outage.objects.get().areas.count()


def test_temporary_outage_binds_24_hours_only_with_critical_customers(grid):
    api = ApiClient(grid.dispatcher)
    soon = timezone.now() + timedelta(hours=10)
    body = {"kind": "temporary", "start_at": iso(soon), "end_at": iso(soon + timedelta(hours=2)), "reason": "消缺"}
    hospital = api.post("/api/outages/", {**body, "scope_kind": "taiqu", "taiqu_codes": ["TQ0002"]})
    assert hospital.status_code == 400 and "24小时" in hospital.json()["errors"][0]["message"]
    plain = api.post("/api/outages/", {**body, "scope_kind": "taiqu", "taiqu_codes": ["TQ0001"]})
    assert plain.status_code == 201 and plain.json()["notice_late"] is False


def test_bad_input_gives_field_errors_and_writes_nothing(grid):
    api = ApiClient(grid.dispatcher)
    now = timezone.now()
    r = plan(api, feeder_code="F999")
    assert r.status_code == 400 and r.json()["errors"] == [{"field": "feeder_code", "message": "线路不存在：F999"}]
    r = plan(api, end_at=iso(now + timedelta(days=7)))
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "end_at"
    r = plan(api, kind="blackout")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "kind"
    r = api.post("/api/outages/", {"kind": "fault", "scope_kind": "taiqu", "taiqu_codes": ["TQ0001", "TQX"],
                                   "start_at": iso(now)})
    assert r.status_code == 400 and "TQX" in r.json()["errors"][0]["message"]
    assert Outage.objects.count() == 0 and Delivery.objects.count() == 0


def test_template_with_unknown_field_is_refused(grid):
    api = ApiClient(grid.dispatcher)
    r = api.put("/api/outages/templates/outage_planned", {"body": "尊敬的{customer_name}：{start}停电"}) \
        if hasattr(api, "put") else api._call("put", "/api/outages/templates/outage_planned",
                                              {"body": "尊敬的{customer_name}：{start}停电"})
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "body" and "{customer_name}" in r.json()["errors"][0]["message"]
    ok = api._call("put", "/api/outages/templates/outage_planned", {"body": "【测试】{scope}于{start}停电，原因{reason}"})
    assert ok.status_code == 200
    plan(api)
    assert OutboundEvent.objects.get().body.startswith("【测试】")


def test_permissions(grid):
    assert plan(ApiClient(grid.agent)).status_code == 403
    assert plan(ApiClient(grid.handler_other)).status_code == 403
    o = plan(ApiClient(grid.dispatcher)).json()
    assert ApiClient(grid.handler_other).get(f"/api/outages/{o['outage_no']}").status_code == 403
    # field crews update progress but do not plan or cancel
    assert ApiClient(grid.field).post(f"/api/outages/{o['outage_no']}/cancel", {}).status_code == 403
    assert ApiClient(grid.reader).post(f"/api/outages/{o['outage_no']}/updates", {"kind": "arrived"}).status_code == 403


def test_fault_progress_partial_restoration_and_closing_message(grid):
    api, crew = ApiClient(grid.dispatcher), ApiClient(grid.field)
    start = timezone.now() - timedelta(minutes=40)
    o = api.post("/api/outages/", {"kind": "fault", "scope_kind": "feeder", "feeder_code": "F001",
                                   "start_at": iso(start), "reason": "线路跳闸"}).json()
    no = o["outage_no"]
    assert o["phase"] == "active" and o["notice_late"] is False
    api.post(f"/api/outages/{no}/subscribe", {"account_no": "3100000001"})
    r = crew.post(f"/api/outages/{no}/updates", {"kind": "arrived", "note": "抢修人员已到达现场"})
    assert r.status_code == 201
    # progress goes to subscribers and critical customers only: 张三 (subscribed) and the hospital (critical)
    assert r.json()["notified"] == 2
    r = crew.post(f"/api/outages/{no}/updates", {"kind": "expected", "expected_at": iso(start - timedelta(hours=1))})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "expected_at"
    eta = timezone.now() + timedelta(hours=2)
    r = crew.post(f"/api/outages/{no}/updates", {"kind": "cause_found", "cause": "跌落式熔断器烧毁",
                                                 "expected_at": iso(eta)})
    assert r.json()["outage"]["cause"] == "跌落式熔断器烧毁"
    r = crew.post(f"/api/outages/{no}/updates", {"kind": "partial", "taiqu_codes": ["TQ0002"]})
    assert r.status_code == 201 and r.json()["notified"] == 3  # TQ0002's three customers get the restoration message
    still = api.get(f"/api/outages/{no}/customers?still_out=true").json()
    assert {c["account_no"] for c in still["customers"]} == {"3100000001", "3100000003"}
    r = crew.post(f"/api/outages/{no}/updates", {"kind": "partial", "taiqu_codes": ["TQ0101"]})
    assert r.status_code == 400
    r = crew.post(f"/api/outages/{no}/updates", {"kind": "restored"})
    assert r.json()["kind"] == "restored" and r.json()["notified"] == 2 and r.json()["outage"]["state"] == "restored"
    kinds = list(OutageUpdate.objects.filter(outage__outage_no=no).values_list("kind", flat=True))
    assert kinds == ["created", "arrived", "cause_found", "partial", "restored"]
    assert crew.post(f"/api/outages/{no}/updates", {"kind": "note"}).status_code == 409
    # every customer got exactly one restoration message
    restored_msgs = Delivery.objects.filter(event__kind="outage_restored")
    assert restored_msgs.count() == 5 and restored_msgs.values("customer").distinct().count() == 5


def test_change_and_cancel_send_follow_ups(grid):
    api = ApiClient(grid.dispatcher)
    o = plan(api).json()
    later = timezone.now() + timedelta(days=9)
    r = api.post(f"/api/outages/{o['outage_no']}/change", {"start_at": iso(later), "end_at": iso(later + timedelta(hours=3)),
                                                           "note": "因天气原因顺延"})
    assert r.status_code == 200
    earlier = api.post(f"/api/outages/{o['outage_no']}/change", {"start_at": iso(timezone.now() + timedelta(days=2))})
    assert earlier.status_code == 400 and earlier.json()["errors"][0]["field"] == "start_at"
    r = api.post(f"/api/outages/{o['outage_no']}/cancel", {"reason": "检修计划调整"})
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    kinds = sorted(OutboundEvent.objects.values_list("kind", flat=True))
    assert kinds == ["outage_cancelled", "outage_changed", "outage_planned"]
    assert Delivery.objects.filter(event__kind="outage_cancelled").count() == 5
    assert api.post(f"/api/outages/{o['outage_no']}/cancel", {}).status_code == 409


def test_board_and_pages(grid, client):
    api = ApiClient(grid.dispatcher)
    plan(api)
    api.post("/api/outages/", {"kind": "fault", "scope_kind": "taiqu", "taiqu_codes": ["TQ0001"],
                               "start_at": iso(timezone.now() - timedelta(minutes=10)), "reason": "配变故障"})
    b = api.get("/api/outages/board").json()
    assert len(b["active"]) == 1 and len(b["upcoming"]) == 1
    assert b["tree"] == [{"feeder_code": "F001", "feeder_name": "城关I线",
                          "taiqu": [{"code": "TQ0001", "name": "城关一号台区", "outage_no": b["active"][0]["outage_no"],
                                     "customers": 2}]}]
    client.force_login(grid.dispatcher)
    page = client.get("/outages/")
    assert page.status_code == 200 and "城关一号台区" in page.content.decode()
    detail = client.get(f"/outages/{b['active'][0]['outage_no']}/")
    assert detail.status_code == 200 and "配变故障" in detail.content.decode()
    form = client.get("/outages/new/")
    assert form.status_code == 200
    now = timezone.localtime()
    check = client.post("/outages/new/check/", {"kind": "planned", "scope_kind": "feeder", "feeder_code": "F001",
                                                "start_at": (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
                                                "end_at": (now + timedelta(days=2, hours=3)).strftime("%Y-%m-%dT%H:%M"),
                                                "reason": "检修"})
    assert "须提前7天" in check.content.decode() and "alert-danger" in check.content.decode()
    posted = client.post("/outages/new/", {"kind": "planned", "scope_kind": "taiqu", "taiqu_codes": "TQ0101",
                                           "start_at": (now + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M"),
                                           "end_at": (now + timedelta(days=10, hours=3)).strftime("%Y-%m-%dT%H:%M"),
                                           "reason": "台区改造"})
    assert posted.status_code == 302
    assert Outage.objects.filter(title__contains="河口村台区").exists()
    client.force_login(grid.agent)
    assert client.get("/outages/new/").status_code == 403
