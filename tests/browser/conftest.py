import os
import shutil

import pytest

CHROMIUM = os.environ.get("GRIDCARE_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium package")
    # Playwright's sync API runs an event loop in this thread; the Django ORM calls the tests make
    # around it are synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


@pytest.fixture
def contexts(browser):
    """More browser contexts for one test (a clerk, the hall screen, a customer's phone), all closed when the
    test ends, pass or fail: a page left open keeps polling the live server during later tests."""
    made = []

    def make(**kw):
        context = browser.new_context(**{"locale": "zh-CN", "timezone_id": "Asia/Shanghai", **kw})
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()

