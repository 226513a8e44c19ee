"""The metering pages in both languages through the real stack: Chinese by default (unchanged), English with
the `django_language=en` cookie, and then no Chinese left on the page but data (unit, user, customer and
route names, addresses, an exception's explanation as the VEE run wrote it). The reader's route page, the
exception queue (with its rule filter) and resolving an exception. Needs the compiled catalogue
(`gridcare compile_translations`, which `make test` runs first)."""
import datetime as dt

import pytest
from django.utils import timezone
from django.utils.translation import gettext, override

from gridcare.analytics.tests.english_text import HAN, check_both, client_for, leftover_han, people_and_places
from gridcare.grid.models import Meter
from gridcare.metering import labels, services
from gridcare.metering.models import ReadException, ReadingRoute, Resolution
from gridcare.metering.rules import RULE_LABELS
from gridcare.testing import user

pytestmark = pytest.mark.django_db


def data_values():
    """Names and texts that come from data and stay as they are in English."""
    values = people_and_places()
    values += [r.name for r in ReadingRoute.objects.all()]
    values += [e.message for e in ReadException.objects.all()]
    return values


def check(u, url, zh, en, extra_data=()):
    """The page in Chinese shows `zh`; in English it shows `en` and no Chinese but data."""
    return check_both(u, url, zh, en, [*data_values(), *extra_data])


@pytest.fixture
def billing_clerk(world):
    """A billing clerk (营业员 role) of the county, whose scope covers the reader's station."""
    return user("billing01", "clerk", world.county, "电费核算员")


@pytest.fixture
def routes(world):
    """The reader's route and an unassigned one; a read lower than the previous one and a missed read,
    both open exceptions of the reader's station."""
    mine = ReadingRoute.objects.create(code="R01", name="城关一段", unit=world.station_a, reader=world.reader,
                                       reading_day=5)
    mine.transformer_areas.set([world.taiqu_a, world.taiqu_a2])
    spare = ReadingRoute.objects.create(code="R02", name="城关二段", unit=world.station_a, cycle_months=2,
                                        reading_day=12)
    spare.transformer_areas.set([world.taiqu_a2])
    Meter.objects.create(meter_no="M0001", customer=world.cust_a, transformer_area=world.taiqu_a)
    now = timezone.now()
    services.do_record_read(world.admin, world.cust_a, "M0001", now - dt.timedelta(days=40), "1000", now=now)
    services.do_record_read(world.admin, world.cust_a, "M0001", now - dt.timedelta(days=5), "900", now=now)
    ReadException.objects.create(customer=world.cust_a2, unit=world.station_a, rule="missed_read",
                                 message="2026年07月账期内无示数", period=dt.date(2026, 7, 1))
    assert ReadException.objects.count() == 2
    return mine, spare


def test_readers_route_page(world, routes):
    html = check(world.reader, "/metering/", "抄表段与抄表任务", "Reading routes and tasks")
    assert "Meter reader" in html and "Meters (workload)" in html and "Day 5 of the month" in html
    assert "1 month(s)" in html and "Open read exceptions" in html
    assert "Reading below the previous one (no rollover, no meter change)" in html
    assert "Missed read (no reading in the period)" in html
    assert "Verified: bill the actual read" in html and 'placeholder="Reason"' in html and ">Resolve</button>" in html
    assert "城关二段" not in html                       # not the reader's route
    zh = client_for(world.reader).get("/metering/").content.decode()
    assert "每月5日" in zh and "1个月" in zh and "示数小于上次示数（非翻转、非换表）" in zh and ">处理</button>" in zh


def test_supervisors_route_page_shows_unassigned_routes(world, routes):
    html = check(world.supervisor_county, "/metering/", "未分配", "Unassigned")
    assert "Day 12 of the month" in html and "2 month(s)" in html


def test_empty_route_page(world):
    html = check(world.reader, "/metering/", "没有分配给您的抄表段", "No routes assigned to you")
    assert "No open read exceptions" in html


def gettext_en(text):
    with override("en"):
        return gettext(text)


def test_exception_queue(world, routes, billing_clerk):
    html = check(billing_clerk, "/metering/exceptions/", "抄表异常处理队列", "Read exception queue")
    assert "All exceptions" in html and "Account no." in html and "<th>Meter</th>" in html
    assert "<th>Period</th>" in html and "<th>Exception</th>" in html and "<th>Resolve</th>" in html
    for label in RULE_LABELS.values():                 # the rule filter lists every rule in English
        assert f">{gettext_en(label)}</option>" in html, label
    html = check(billing_clerk, "/metering/exceptions/?rule=missed_read", "漏抄（账期内无示数）",
                 "Missed read (no reading in the period)")
    assert 'value="missed_read" selected' in html and ">3100000001</a>" not in html


def test_resolving_says_so_in_english(world, routes, billing_clerk):
    c = client_for(billing_clerk, english=True)
    exc = ReadException.objects.get(rule="missed_read")
    r = c.post(f"/metering/exceptions/{exc.pk}/resolve/", {"resolution": "reread", "reason": "",
                                                            "next": "/metering/exceptions/"}, follow=True)
    html = r.content.decode()
    # the refusal is the service's reason (Chinese, as the API gives it); the rest of the page is English
    messages = [str(m) for m in r.context["messages"]]
    assert messages and HAN.search(messages[0])
    assert leftover_han(html, [*data_values(), *messages]) == []
    r = c.post(f"/metering/exceptions/{exc.pk}/resolve/", {"resolution": "reread", "reason": "已安排复抄",
                                                            "next": "/metering/exceptions/"}, follow=True)
    html = r.content.decode()
    assert "Exception resolved" in html and "Read exception queue" in html
    assert leftover_han(html, data_values()) == []
    exc.refresh_from_db()
    assert exc.status == "resolved"
    other = ReadException.objects.get(rule="lower_than_previous")
    r = client_for(billing_clerk).post(f"/metering/exceptions/{other.pk}/resolve/",
                                       {"resolution": "accept", "reason": "核实无误", "next": "/metering/exceptions/"},
                                       follow=True)
    assert "异常已处理" in r.content.decode()


def test_rules_and_resolutions_are_all_in_the_catalogue():
    """Every rule and resolution the pages show has an English text (keep labels.py in step)."""
    with override("en"):
        for text in [*RULE_LABELS.values(), *Resolution.labels]:
            assert text in labels.SHOWN_AS_DATA and not HAN.search(gettext(text)), text
