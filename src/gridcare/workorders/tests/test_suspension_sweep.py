"""A paused clock (暂停计时 at the customer's request) has no deadline: it is neither overdue nor near breach nor
swept while paused, and after the resume the marks follow the later deadline; a clock paused after its
deadline stays overdue. The sweep's notice reaches the nearest ancestor's head when the unit has none."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gridcare.accounts.models import User
from gridcare.notifications.models import Notification
from gridcare.workorders import services
from gridcare.workorders.choices import EventKind, SlaState
from gridcare.workorders.models import StageEvent, WorkOrder
from gridcare.workorders.tasks import sweep_sla

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=TZ)   # a Monday, no holiday near


def received_request(world, at=T0):
    o, _ = services.do_create_order(world.agent, {"order_type": "service_request", "account_no": "3100000001",
                                               "text": "申请增容至10千瓦", "channel": "hotline"}, at=at)
    services.do_advance(world.dispatcher, o.order_no, "dispatched", assignee="handler_a", at=at + timedelta(minutes=5))
    services.do_advance(world.handler_a, o.order_no, "received", at=at + timedelta(minutes=10))
    return WorkOrder.objects.get(pk=o.pk)


def sla_events(order):
    return list(StageEvent.objects.filter(order=order, kind=EventKind.SLA).values_list("data", flat=True))


@pytest.mark.django_db
def test_a_paused_clock_is_not_swept_and_is_warned_again_against_the_later_deadline(world):
    o = received_request(world)
    due0, warn0 = o.stage_due_at, o.stage_warn_at
    assert warn0 < due0
    sweep_sla(now=warn0 + timedelta(minutes=1))
    o.refresh_from_db()
    assert o.sla_state == SlaState.WARNING and sla_events(o) == [{"state": 1}]
    # the customer asks for a delay before the deadline: the clock stops, the warning with it
    services.do_suspend(world.handler_a, o.order_no, "客户要求延期至资料备齐", at=warn0 + timedelta(minutes=2))
    o.refresh_from_db()
    assert (o.stage_due_at, o.stage_warn_at, o.sla_state) == (None, None, SlaState.OK)
    later = due0 + timedelta(days=10)
    assert sweep_sla(now=later) == {"已超时": 0, "即将超时": 0}
    assert not services.overdue(world.station_a, now=later).exists()
    assert not services.near_breach(world.station_a, now=later).exists()
    # resumed ten days after the old deadline: the time left is what was left at the pause (a little under
    # a quarter of the limit), so the new deadline is later, not overdue, and the next sweep warns again
    services.do_resume(world.handler_a, o.order_no, "资料已备齐", at=later)
    o.refresh_from_db()
    assert o.stage_due_at > later + timedelta(days=1) and o.stage_warn_at <= later and o.sla_state == SlaState.OK
    assert sweep_sla(now=later + timedelta(minutes=1)) == {"已超时": 0, "即将超时": 1}
    o.refresh_from_db()
    assert o.sla_state == SlaState.WARNING and sla_events(o) == [{"state": 1}, {"state": 1}]
    sweep_sla(now=o.stage_due_at + timedelta(minutes=1))
    o.refresh_from_db()
    assert o.sla_state == SlaState.OVERDUE and sla_events(o)[-1] == {"state": 2}


@pytest.mark.django_db
def test_a_clock_paused_after_its_deadline_stays_overdue(world):
    o = received_request(world)
    due0 = o.stage_due_at
    sweep_sla(now=due0 + timedelta(hours=1))
    services.do_suspend(world.handler_a, o.order_no, "客户要求延期", at=due0 + timedelta(hours=2))
    o.refresh_from_db()
    assert o.stage_due_at == due0 and o.sla_state == SlaState.OVERDUE
    assert list(services.overdue(world.station_a, now=due0 + timedelta(days=3))) == [o]
    assert sweep_sla(now=due0 + timedelta(days=3)) == {"已超时": 0, "即将超时": 0}   # marked once only


@pytest.mark.django_db
def test_the_sweep_notifies_the_nearest_ancestors_head(world):
    head = User.objects.create(username="county_head", role="supervisor", unit=world.county, name="县公司经理")
    world.county.head = head
    world.county.save()
    o = received_request(world)
    sweep_sla(now=o.stage_due_at + timedelta(minutes=1))
    got = set(Notification.objects.filter(kind="sla_overdue", title__contains=o.order_no).values_list("user__username", flat=True))
    assert got == {"handler_a", "county_head"}   # the assignee, and the head over the station (which has none)
