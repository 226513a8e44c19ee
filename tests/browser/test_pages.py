"""Pages in a real headless Chromium (Debian's package) driven by Playwright, against the live server."""
import re

import pytest

from gridcare.testing import PASSWORD, build_world

pytestmark = pytest.mark.browser


@pytest.fixture
def world_live(transactional_db):
    return build_world()


def login(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    assert "登录" in page.title()
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def test_login_page_renders_with_local_assets(page, live_server, world_live):
    failed = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.goto(f"{live_server.url}/login/")
    assert page.locator("h1").inner_text().startswith("登录")
    # Bootstrap came from the local static files, not a CDN: its styles apply.
    assert page.eval_on_selector("button[type=submit]", "b => getComputedStyle(b).backgroundColor") == "rgb(13, 110, 253)"
    assert not failed


def test_agent_takes_a_call_with_the_keyboard(page, live_server, world_live):
    login(page, live_server, "agent01")
    page.goto(f"{live_server.url}/workorders/new/")
    # the lookup field has focus, and htmx has bound its input trigger (on a loaded machine typing can
    # otherwise start before htmx has processed the page, and the keystrokes trigger nothing)
    page.wait_for_function("document.activeElement && document.activeElement.id === 'lookup-q' && window.htmx")
    page.keyboard.type("13900000001")
    card = page.locator("#lookup-results .card")
    card.wait_for()
    assert "张三" in card.inner_text()
    page.click("[data-pick-account]")
    assert page.input_value("#account_no") == "3100000001"
    page.select_option("#order_type", "complaint")
    page.select_option("#category_l2", "frequent_outage")
    page.fill("#text", "这个月已经停电三次了，要求供电公司解决")
    page.press("#text", "Control+Enter")
    page.wait_for_url(re.compile(r".*/workorders/\d{16}/$"))
    assert "已受理" in page.content()
    assert page.locator("#stage").inner_text() == "受理"
    assert "剩余" in page.locator(".countdown").first.inner_text()


def test_sensitive_flag_is_shown_at_lookup(page, live_server, world_live):
    world_live.cust_a.sensitive, world_live.cust_a.sensitive_reason = True, "近30天内拨打95598 3 次"
    world_live.cust_a.save()
    login(page, live_server, "agent01")
    page.goto(f"{live_server.url}/workorders/new/")
    page.wait_for_function("window.htmx")
    page.fill("#lookup-q", "3100000001")
    flag = page.locator(".sensitive-flag")
    flag.wait_for()
    assert "近30天内拨打95598" in flag.inner_text()


def test_english_is_available(page, live_server, world_live):
    login(page, live_server, "agent01")
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Workbench" in page.content()
