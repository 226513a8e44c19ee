"""本单位时限: a utility's own stricter limits, entered in the admin, used for new stage clocks of orders
taken through the real API; looser ones and limits for stages the national table lacks are refused."""
import json
import time
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from gridcare.core.models import AuditLog
from gridcare.testing import ApiClient
from gridcare.workorders import clock, limits
from gridcare.workorders.models import TimeLimitOverride

TZ = ZoneInfo("Asia/Shanghai")
COMPLAINT = {"order_type": "complaint", "category_l2": "frequent_outage", "account_no": "3100000001",
             "text": "客户反映近两个月经常停电，要求解决", "channel": "hotline"}
ADD = "/admin/workorders/timelimitoverride/add/"


def form(**fields):
    return {"order_type": "complaint", "stage": "dispatch", "area_kind": "", "unit": "minutes", "amount": "10",
            "reason": "省公司服务质量考核办法", "enabled": "on", **fields}


def due_minutes(resp):
    body = resp.json()
    return (datetime.fromisoformat(body["stage_due_at"]) - timezone.now()).total_seconds() / 60


@pytest.mark.parametrize("limit, base, why", [
    (("minutes", 10), ("minutes", 20), None),
    (("hours", 1), ("minutes", 20), "不能宽于国家规定的20分钟"),
    (("working_days", 1), ("working_days", 5), None),
    (("working_days", 2), ("working_days", 1), "不能宽于国家规定的1个工作日"),
    (("hours", 24), ("working_days", 1), None),          # 1 working day spans at least 24 h
    (("hours", 25), ("working_days", 1), "不能宽于"),
    (("working_days", 1), ("hours", 48), "须按自然时间"),   # a holiday would make it longer
])
def test_a_utility_limit_may_be_stricter_never_looser(limit, base, why):
    mine = clock.TimeLimit("complaint", "contact", None, *limit)
    national = clock.TimeLimit("complaint", "contact", None, *base)
    result = clock.looser_than(mine, national)
    assert (result is None) if why is None else (why in result)


def test_an_override_from_the_admin_sets_the_clock_of_the_next_intake(world, client):
    agent = ApiClient(world.agent)
    assert 19 < due_minutes(agent.post("/api/workorders/", COMPLAINT)) <= 20       # national: 20 minutes
    client.force_login(world.admin)
    resp = client.post(ADD, form())
    assert resp.status_code == 302, resp.content.decode()
    override = TimeLimitOverride.objects.get()
    created = AuditLog.objects.get(content_type__model="timelimitoverride", action="create")
    assert created.actor_username == world.admin.username and created.object_pk == str(override.pk)
    taken = agent.post("/api/workorders/", COMPLAINT)
    assert taken.status_code == 201 and 9 < due_minutes(taken) <= 10
    # the list shows both figures
    page = client.get("/admin/workorders/timelimitoverride/").content.decode()
    assert "10分钟" in page and "20分钟" in page
    # switched off: the national limit again
    client.post(f"/admin/workorders/timelimitoverride/{override.pk}/change/", form(enabled=""))
    assert 19 < due_minutes(agent.post("/api/workorders/", COMPLAINT)) <= 20


@pytest.mark.parametrize("fields, field, words", [
    ({"amount": "30"}, "amount", "不能宽于国家规定的20分钟"),
    ({"stage": "arrival_soon"}, "stage", "没有“arrival_soon”环节的时限"),
    ({"order_type": "fault_repair", "stage": "arrival", "amount": "30"}, "area_kind", "请指定地区类型"),
    ({"stage": "contact", "area_kind": "rural", "unit": "hours", "amount": "12"}, "area_kind", "不分地区类型"),
    ({"order_type": "fault_repair", "stage": "arrival", "area_kind": "urban", "unit": "working_days", "amount": "1"},
     "unit", "须按自然时间"),
    ({"amount": "0"}, "amount", "须大于 0"),
])
def test_a_wrong_override_is_refused_with_the_field_at_fault(world, client, fields, field, words):
    client.force_login(world.admin)
    resp = client.post(ADD, form(**fields))
    assert resp.status_code == 200
    errors = resp.context["adminform"].form.errors
    assert words in " ".join(errors.get(field, [])), errors
    assert not TimeLimitOverride.objects.exists()


def test_area_limits_and_the_sla_cli_use_the_limits_in_force(world):
    TimeLimitOverride.objects.create(order_type="fault_repair", stage="arrival", area_kind="rural", unit="minutes",
                                     amount=60, reason="农村到达现场内部要求60分钟")
    start = "2026-10-01T10:00:00+08:00"
    out = StringIO()
    call_command("sla", "due", "--type", "fault_repair", "--stage", "arrival", "--area", "rural", "--start", start,
                 "--format", "json", stdout=out)
    body = json.loads(out.getvalue())
    assert body["due"] == "2026-10-01T11:00:00+08:00" and body["source"] == "本单位时限：农村到达现场内部要求60分钟"
    out = StringIO()
    call_command("sla", "due", "--type", "fault_repair", "--stage", "arrival", "--area", "urban", "--start", start,
                 stdout=out)
    assert out.getvalue().strip() == "2026-10-01T10:45:00+08:00"                  # other areas: national


@pytest.fixture
def fresh_limits():
    yield
    limits.changed()  # the copy this test planted must not outlive it


def test_a_change_made_elsewhere_is_used_within_max_age(world, fresh_limits):
    row = TimeLimitOverride.objects.create(order_type="complaint", stage="dispatch", unit="minutes", amount=10,
                                           reason="考核")
    assert limits.limit_for("complaint", "dispatch").amount == 10
    # another process changes the row (no signal here): this process keeps its copy for MAX_AGE seconds
    TimeLimitOverride.objects.filter(pk=row.pk).update(amount=5)
    limits._table.written_at = float("-inf")
    limits._table.loaded_at = time.monotonic()
    assert limits.limit_for("complaint", "dispatch").amount == 10
    limits._table.loaded_at = time.monotonic() - limits.MAX_AGE - 1
    assert limits.limit_for("complaint", "dispatch").amount == 5
