"""The console in a real browser (Debian's Chromium through Playwright) against a live server and a
real Celery worker: find a stuck saga, repair it, watch it finish; a view-only operator cannot repair.

Screenshots of the stuck page, a saga detail and the dashboard go to test-output/screenshots/.
"""

import os
import time
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User

from sagaops.console.groups import REPAIR_GROUP, VIEW_GROUP, ensure_operator_groups
from sagaops.services import saga_start
from tests.helpers import wait_for_status
from tests.sagas import fix

# Playwright's sync API runs an event loop in this thread; the ORM calls in between are safe here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker"),
]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


def operator(name: str, group: str) -> User:
    ensure_operator_groups()
    user = User.objects.create_user(name, password=f"{name}-secret", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def stuck(payload: dict):
    saga, _ = saga_start(saga_type="test.flow", payload=payload)
    saga = wait_for_status(saga.id)
    assert saga.status == "stuck"
    return saga


def waiting_for_a_callback():
    """A saga before any pivot whose async step waits for a service that never answers."""
    saga, _ = saga_start(saga_type="test.async", payload={})
    deadline = time.monotonic() + 20
    while saga.steps.get(name="wait").status != "waiting":
        assert time.monotonic() < deadline, "the async step never started waiting"
        time.sleep(0.1)
    return saga


def log_in(browser, live_server, name: str, *, width: int = 1400, height: int = 900):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", name)
    page.fill("#id_password", f"{name}-secret")
    page.click("input[type=submit]")
    page.wait_for_selector("#sagaops-landing")
    return page


def repair(page, live_server, saga, action: str, reason: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/admin/sagaops/saga/{saga.id}/change/")
    page.click(f"a.sagaops-action[data-action='{action}']")
    page.fill("textarea[name=reason]", reason)
    page.click("#confirm")
    # a resolve is final; every other repair is handed to a worker, and the message says so
    expect(page.locator("ul.messagelist li.success")).to_contain_text("done" if action == "resolve" else "queued")


def test_an_operator_finds_a_stuck_saga_and_repairs_it(browser, live_server):
    from playwright.sync_api import expect

    operator("ops", REPAIR_GROUP)
    to_retry = stuck({"order_id": 1, "fail": {"e": "always"}})
    to_compensate = waiting_for_a_callback()
    stuck({"order_id": 3, "fail": {"c": "business"}, "comp": {"b": "always"}})
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = log_in(browser, live_server, "ops")

    # the landing page leads to the stuck page, which says why
    page.click("#sagaops-landing a.button")
    expect(page.locator("h1")).to_have_text("Stuck sagas")
    expect(page.locator("#section-compensation")).to_contain_text("Failed compensations (1)")
    expect(page.locator(f"tr[data-saga='{to_retry.id}']")).to_contain_text("e failed on attempt 3")
    page.screenshot(path=SCREENSHOTS / "stuck.png", full_page=True)
    page.click("nav.sagaops-nav >> text=Failure groups")
    expect(page.locator("#groups")).to_contain_text("TransientError")
    page.screenshot(path=SCREENSHOTS / "failure-groups.png", full_page=True)
    page.goto(f"{live_server.url}/admin/sagaops/saga/stuck/")

    # open the saga, retry it forward once its cause is fixed, and watch it complete
    page.click(f"tr[data-saga='{to_retry.id}'] a")
    expect(page.locator("#steps")).to_contain_text("TransientError")
    page.screenshot(path=SCREENSHOTS / "saga-detail.png", full_page=True)
    fix(to_retry.id)
    page.click("a.sagaops-action[data-action='retry']")
    page.screenshot(path=SCREENSHOTS / "confirm-retry.png", full_page=True)
    repair(page, live_server, to_retry, "retry", "the mail server is back")
    assert wait_for_status(to_retry.id, ("completed",)).status == "completed"
    page.reload()
    expect(page.locator("h1 .sagaops-badge")).to_have_text("completed")
    expect(page.locator("#timeline")).to_contain_text("the mail server is back")

    # force another one to compensate
    repair(page, live_server, to_compensate, "compensate", "the customer cancelled")
    assert wait_for_status(to_compensate.id, ("compensated",)).status == "compensated"
    page.reload()
    expect(page.locator("h1 .sagaops-badge")).to_have_text("compensated")

    page.goto(f"{live_server.url}/admin/sagaops/saga/?stuck=yes")
    page.screenshot(path=SCREENSHOTS / "saga-list.png", full_page=True)
    page.goto(f"{live_server.url}/admin/sagaops/saga/dashboard/")
    expect(page.locator("#throughput svg")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "dashboard.png", full_page=True)
    page.context.close()


def test_a_view_only_operator_sees_no_repair_buttons(browser, live_server):
    from playwright.sync_api import expect

    operator("watcher", VIEW_GROUP)
    saga = stuck({"fail": {"e": "always"}})
    page = log_in(browser, live_server, "watcher")
    page.goto(f"{live_server.url}/admin/sagaops/saga/stuck/")
    page.click(f"tr[data-saga='{saga.id}'] a")
    expect(page.locator("#steps")).to_be_visible()
    expect(page.locator(".sagaops-action")).to_have_count(0)
    expect(page.locator(".sagaops")).to_contain_text("You can look but not repair")
    response = page.goto(f"{live_server.url}/admin/sagaops/saga/{saga.id}/act/retry/")
    assert response.status == 403
    page.context.close()
