"""Every page a user can reach by following links answers without a server error, and no page shows a
link its reader may not follow, for every role, in both languages: a crawl from the home page through the
real URL configuration, views and templates."""
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from gridcare.billing.models import Bill

from gridcare.testing import ApiClient

SKIP_PREFIXES = ("/static/", "/admin/", "/api/", "/accounts/logout", "/logout", "/i18n/")
MAX_PAGES = 400
QUERIES_PER_PATH = 3


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)


def _crawl(client, start="/"):
    """Breadth-first from `start`; returns (pages fetched, problems). A path is fetched with at most
    QUERIES_PER_PATH different query strings (filters and pages of one list are one page to check)."""
    seen, queue, problems, fetched, per_path = {start}, deque([start]), [], [], {}
    while queue and len(fetched) < MAX_PAGES:
        path = queue.popleft()
        resp = client.get(path)
        fetched.append(path)
        if resp.status_code >= 500 or resp.status_code == 403:  # 403: a link shown to one who may not follow it
            problems.append((path, resp.status_code))
            continue
        if resp.status_code != 200 or "text/html" not in resp.get("Content-Type", ""):
            continue
        parser = _Links()
        parser.feed(resp.content.decode("utf-8", "replace"))
        for href in parser.links:
            url = urlsplit(urljoin(path, href))
            if url.scheme not in ("", "http") or (url.netloc and url.netloc != "testserver"):
                continue
            target = url.path + (f"?{url.query}" if url.query else "")
            if not url.path.startswith("/") or url.path.startswith(SKIP_PREFIXES) or target in seen:
                continue
            if url.query:
                per_path[url.path] = per_path.get(url.path, 0) + 1
                if per_path[url.path] > QUERIES_PER_PATH:
                    continue
            seen.add(target)
            queue.append(target)
    return fetched, problems


@pytest.fixture
def busy_world(world):
    """The small utility with some history: orders of several kinds in several stages."""
    agent = ApiClient(world.agent)
    for body in ({"order_type": "complaint", "category_l2": "frequent_outage", "account_no": "3100000001",
                  "text": "客户反映经常停电"},
                 {"order_type": "fault_repair", "fault_kind": "single_no_power", "account_no": "3100000002",
                  "text": "家里没电了"},
                 {"order_type": "inquiry", "account_no": "3100000001", "text": "咨询电价", "close_now": True,
                  "reply": "已答复"}):
        assert agent.post("/api/workorders/", body).status_code == 201
    # a bill on the customer's timeline: its link is for those who may read bills
    today = timezone.localdate()
    Bill.objects.create(bill_no="202611-1", customer=world.cust_a, unit=world.cust_a.unit, period=today.replace(day=1),
                        period_start=today.replace(day=1), period_end=today, tariff_code="X", kwh=Decimal(100),
                        amount=Decimal("52.80"), due_date=today, issued_at=timezone.now())
    return world


@pytest.mark.parametrize("role", ["admin", "agent", "dispatcher", "handler_a", "field", "clerk", "reader",
                                  "supervisor_city", "supervisor_county"])
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_linked_page_answers_and_may_be_opened(busy_world, role, language):
    client = Client(raise_request_exception=False)
    client.force_login(getattr(busy_world, role))
    if language == "en":
        client.cookies["django_language"] = "en"
    fetched, problems = _crawl(client)
    assert len(fetched) >= 4, fetched
    assert problems == [], problems
