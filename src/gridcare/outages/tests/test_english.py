"""The outage pages in both languages through the real stack: Chinese by default (unchanged), English with
the `django_language=en` cookie, and then no Chinese left but data (names, 台区, an outage's title, reason
and cause as recorded, the notices' texts as sent). The labels of choices (kind, state, scope, update
kinds, delivery status) come from labels.py. Needs the compiled catalogue (`gridcare compile_translations`)."""
import datetime as dt

import pytest
from django.utils import timezone
from django.utils.translation import override

from gridcare.analytics.tests.english_text import check_both, client_for, leftover_han
from gridcare.core.tests.test_english_home import caller, data_values  # noqa: F401  (fixture)
from gridcare.grid.models import Feeder
from gridcare.notifications.models import OutboundEvent
from gridcare.outages import labels, rules
from gridcare.outages.choices import ScopeKind, State, UpdateKind
from gridcare.outages.models import Outage, OutageUpdate

pytestmark = pytest.mark.django_db


def page_data():
    """data_values(), feeders and the texts recorded: the notices as sent, the notes of an outage's timeline, the
    reason given for a late notice."""
    return (data_values() + [f.name for f in Feeder.objects.all()] + [e.body for e in OutboundEvent.objects.all()]
            + [u.note for u in OutageUpdate.objects.all()] + [o.notice_late_reason for o in Outage.objects.all()])


def test_every_choice_has_a_label_unchanged_in_chinese():
    with override("zh-hans"):
        for table, choices in ((labels.UPDATES, UpdateKind), (labels.STATES, State), (labels.SCOPES, ScopeKind)):
            assert set(table) == set(choices.values)
            assert all(str(table[c]) == choices(c).label for c in choices.values)
    with override("en"):
        assert labels.state_label("open") == "Open" and labels.update_label("changed") == "Changed"
        assert labels.scope_label("feeder") == "Whole feeder" and labels.kind_label("fault") == "Fault outage"


@pytest.mark.parametrize("kind,start_in,has_critical", [
    ("planned", dt.timedelta(days=10), False), ("planned", dt.timedelta(days=2), False),
    ("temporary", dt.timedelta(hours=2), False), ("temporary", dt.timedelta(hours=30), True),
    ("temporary", dt.timedelta(hours=2), True), ("fault", dt.timedelta(0), False)])
def test_notice_message_matches_the_rule(kind, start_in, has_critical):
    now = timezone.now()
    check = rules.check_notice(kind, now + start_in, now, {"planned": {"days": 7}, "temporary": {"hours": 24},
                                                            "fault": {"immediate": True}}, has_critical)
    with override("zh-hans"):
        assert labels.notice_message(check) == check.message
    with override("en"):
        assert not leftover_han(f"<main>{labels.notice_message(check)}</main>")


def test_board(world, caller):
    html = check_both(world.dispatcher, "/outages/", "查明故障原因", "Cause found", page_data())
    assert "Planned outage" in html and "Fault outage" in html   # the kinds (the default titles end with one)


def test_detail(world, caller):
    fault = caller["fault"]
    url = f"/outages/{fault.outage_no}/"
    zh = client_for(world.dispatcher).get(url).content.decode()
    assert "未结束" in zh and "指定台区" in zh and "发布停电信息" in zh and "查明故障原因" in zh
    html = check_both(world.dispatcher, url, "指定台区", "Selected transformer areas", page_data())
    assert "Outage announced" in html
    assert "Open" in html and "Selected transformer areas" in html and "Cause found" in html


def test_plan_form_and_notice_check(world, caller):
    html = check_both(world.dispatcher, "/outages/new/", "整条线路", "Whole feeder", page_data())
    assert "Temporary maintenance outage" in html and "Selected customers" in html
    start = (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    end = (timezone.localtime() + dt.timedelta(days=2, hours=4)).strftime("%Y-%m-%dT%H:%M")
    post = {"kind": "planned", "scope_kind": "taiqu", "taiqu_codes": "TQ0001", "start_at": start, "end_at": end,
            "reason": "检修"}
    zh = client_for(world.dispatcher).post("/outages/new/check/", post).content.decode()
    assert "计划停电须提前7天通知，最迟" in zh
    en = client_for(world.dispatcher, english=True).post("/outages/new/check/", post).content.decode()
    assert "A planned outage must be announced 7 days ahead, by" in en
    assert leftover_han(en, whole=True) == []


def test_view_messages(world, caller):
    planned = caller["planned"]
    c = client_for(world.dispatcher, english=True)
    r = c.post(f"/outages/{planned.outage_no}/progress/", {"action": "cancel", "note": "天气"}, follow=True)
    assert "Cancelled; the cancellation notice has been sent" in r.content.decode()
    assert leftover_han(r.content.decode(), page_data() + ["天气"]) == []


def test_watchlist(world, caller):
    check_both(world.dispatcher, "/outages/watch/", "频繁停电预警", "Frequent-outage watch list", page_data())
