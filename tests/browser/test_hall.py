"""The business hall in a real headless Chromium: ticket machine → counter (call, transfer, finish) →
the hall screen updates live without a reload → the customer rates on the ticket page."""
import re
import time

import pytest

from gridcare.testing import PASSWORD, build_world

pytestmark = pytest.mark.browser

ALWAYS = {str(d): [["00:00", "24:00"]] for d in range(7)}


@pytest.fixture
def hall_live(transactional_db):
    from gridcare.hall import services

    world = build_world()
    services.do_setup_hall(world.admin, "H01", [
        {"number": 1, "service_types": ["payment", "invoice"], "clerk": "clerk01"},
        {"number": 2, "service_types": ["application", "inquiry"]},
    ], opening_hours=ALWAYS)
    return world


def login(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def test_queue_flow_and_live_display(contexts, live_server, hall_live):
    ctx = contexts()
    clerk = ctx.new_page()
    clerk.set_default_timeout(15000)
    screen = contexts().new_page()
    screen.set_default_timeout(15000)

    # the hall screen is public; mark the page so that a reload would be detected
    screen.goto(f"{live_server.url}/hall/H01/display/")
    screen.evaluate("window.__noReload = 'still-here'")
    assert screen.locator(".current-number[data-window='1']").inner_text() == "—"

    # the ticket machine
    login(clerk, live_server, "clerk01")
    clerk.goto(f"{live_server.url}/hall/H01/kiosk/")
    clerk.fill("input[name=phone]", "13900000001")
    clerk.click("button[name=service_type][value=payment]")
    assert clerk.locator("#ticket-number").inner_text() == "A001"
    assert "前面还有 0 人" in clerk.locator("#ticket-slip").inner_text()
    status_url = clerk.locator("#ticket-slip a").get_attribute("href")
    # the QR code: wait for the image to finish loading (a broken or missing image never gets a width)
    clerk.wait_for_function(
        "() => { const i = document.querySelector('#ticket-slip img'); return i && i.complete && i.naturalWidth > 0; }",
        timeout=10000)
    clerk.select_option("select[name=priority_reason]", "elderly")
    clerk.click("button[name=service_type][value=payment]")
    assert clerk.locator("#ticket-number").inner_text() == "A002"

    # the counter calls: the priority ticket first; the screen shows it within a second, no reload
    clerk.goto(f"{live_server.url}/hall/?hall=H01&w=1")
    clerk.click("#btn-call")
    assert clerk.locator("#current").inner_text() == "A002"
    called = time.monotonic()
    screen.wait_for_function(
        "document.querySelector(\".current-number[data-window='1']\").innerText.trim() === 'A002'", timeout=3000)
    assert time.monotonic() - called < 1.0
    assert screen.evaluate("window.__noReload") == "still-here"

    # transfer A002 to the business window; window 2 calls it; the screen follows
    clerk.select_option("select[name=service_type]", "application")
    clerk.click("#btn-transfer")
    assert clerk.locator("#current").inner_text() == "—"
    clerk.goto(f"{live_server.url}/hall/?hall=H01&w=2")
    clerk.click("#btn-call")
    assert clerk.locator("#current").inner_text() == "A002"
    screen.wait_for_function(
        "document.querySelector(\".current-number[data-window='2']\").innerText.trim() === 'A002'", timeout=3000)
    screen.wait_for_function(
        "document.querySelector(\".current-number[data-window='1']\").innerText.trim() === '—'", timeout=3000)
    clerk.click("#btn-finish")

    # window 1 calls A001, identifies the customer, finishes
    clerk.goto(f"{live_server.url}/hall/?hall=H01&w=1")
    clerk.click("#btn-call")
    assert clerk.locator("#current").inner_text() == "A001"
    clerk.fill("#identify-q", "3100000001")
    clerk.click("#btn-identify")
    assert "张三" in clerk.locator("#customer-panel").inner_text()
    clerk.click("#btn-finish")
    screen.wait_for_function(
        "document.querySelector(\".current-number[data-window='1']\").innerText.trim() === '—'", timeout=3000)
    assert screen.evaluate("window.__noReload") == "still-here"
    assert "A001" in screen.locator("#recent-calls").inner_text()

    # the customer rates on the ticket page (QR / SMS link)
    customer = contexts().new_page()
    customer.goto(f"{live_server.url}{status_url}")
    customer.click("#rate-form button[value='5']")
    assert "感谢您的评价" in customer.content()
    from gridcare.hall.models import Ticket

    assert Ticket.objects.get(number="A001").rating == 5
