"""The console at 3 a.m., in a real Chromium against a live server and a real Celery worker with beat:
a staged incident (stuck forward, failed compensations, no progress, many sagas of many customers),
one test per part of the console an operator leans on. Screenshots go to test-output/screenshots/.
"""

import json
import os
import time

import pytest

from sagaops.console.groups import REPAIR_GROUP, VIEW_GROUP
from sagaops.services import saga_start
from tests.console.factories import make_saga
from tests.console.test_browser import ARGS, CHROMIUM, SCREENSHOTS, log_in, operator, stuck, waiting_for_a_callback
from tests.helpers import wait_for_status

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker"),
]

CUSTOMERS = ["ann", "bob", "cy"]


@pytest.fixture(scope="module")
def chromium():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def incident():
    """Thirty sagas in the states of an incident, written straight to the database."""
    from datetime import timedelta

    kinds = ["forward", "compensation", "stalled", "completed"]
    made = []
    for i in range(30):
        kind = kinds[i % 4]
        payload = {"order_id": 5000 + i, "customer": CUSTOMERS[i % 3]}
        ago = timedelta(hours=1) if kind == "stalled" else None
        made.append(make_saga(kind, payload=payload, ago=ago, correlation_id=f"incident:{i}"))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return made


def open_console(chromium, live_server, name: str, group: str = REPAIR_GROUP, width: int = 1440, height: int = 900):
    operator(name, group)
    return log_in(chromium, live_server, name, width=width, height=height)


def shot(page, name: str) -> None:
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def test_system_health_shows_the_live_worker_its_definitions_and_the_tick(chromium, live_server, incident):
    from playwright.sync_api import expect

    page = open_console(chromium, live_server, "ops1")
    deadline = time.monotonic() + 20  # the per-test Redis flush wiped the heartbeat: it is back within 1 s
    while page.locator("#system-health [data-check=workers][data-ok=yes]").count() == 0:
        assert time.monotonic() < deadline, page.locator("#system-health").inner_text()
        time.sleep(0.5)
        page.reload()
    expect(page.locator("#system-health .card[data-check=tick]")).to_have_attribute("data-ok", "yes")
    expect(page.locator("#sagaops-landing")).to_contain_text("need attention")
    shot(page, "index")
    page.click("nav.sagaops-nav >> text=Dashboard")
    expect(page.locator("table.health-rows[data-check=workers]")).to_contain_text("test.flow v1")
    expect(page.locator("#system-health .card[data-check=queues]")).to_contain_text("celery")
    shot(page, "dashboard-health")
    page.context.close()


def test_a_repair_says_queued_and_the_page_follows_it_to_its_outcome(chromium, live_server, incident):
    from playwright.sync_api import expect

    saga = stuck({"order_id": 1, "fail": {"e": "always"}})
    page = open_console(chromium, live_server, "ops2")
    page.goto(f"{live_server.url}/admin/sagaops/saga/{saga.id}/change/")
    page.click("a.sagaops-action[data-action='retry']")
    # the edit makes the step take 3 s, so the saga is still running when the page comes back
    page.fill("textarea[name=payload]", json.dumps({"order_id": 1, "fail": {"e": "hang:3"}}))
    page.fill("textarea[name=reason]", "mail server back, slow though")
    page.click("#confirm")
    expect(page.locator("#payload-diff")).to_contain_text("hang:3")
    expect(page.locator("#pivot-warning")).to_contain_text("past its pivot")
    shot(page, "confirm-payload-diff")
    page.click("#confirm")
    expect(page.locator("ul.messagelist li.success")).to_contain_text("queued")
    expect(page.locator("ul.messagelist")).not_to_contain_text("done")
    expect(page.locator("#saga-live")).to_be_visible()
    shot(page, "saga-live-running")
    # no reload by the test: the page's script sees the version move and shows the outcome
    expect(page.locator("h1 .sagaops-badge")).to_have_text("completed", timeout=30_000)
    expect(page.locator("#saga-live")).to_be_hidden()
    shot(page, "saga-live-completed")
    page.context.close()


def test_search_by_short_id_customer_and_filters_with_saved_views(chromium, live_server, incident):
    from playwright.sync_api import expect

    page = open_console(chromium, live_server, "ops3")
    target = incident[5]
    page.goto(f"{live_server.url}/admin/sagaops/saga/")
    page.fill("#searchbar", str(target.pk)[:8])
    page.press("#searchbar", "Enter")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text(str(target.pk)[:8])
    page.fill("#searchbar", "bob")
    page.press("#searchbar", "Enter")
    expect(page.locator("#result_list tbody tr")).to_have_count(10)
    page.goto(f"{live_server.url}/admin/sagaops/saga/?q=ann&status__exact=stuck&error_type=tests.sagas.TransientError")
    rows = page.locator("#result_list tbody tr")
    expect(rows.first).to_be_visible()
    page.fill("#saved-views input[name=name]", "ann stuck transient")
    page.click("#saved-views button[type=submit]:has-text('Save view')")
    expect(page.locator("#saved-views a[data-view='ann stuck transient']")).to_be_visible()
    shot(page, "saga-list-search-saved-view")
    page.goto(f"{live_server.url}/admin/sagaops/saga/?q=nobody-at-all&step=e")
    expect(page.locator("#empty-result")).to_contain_text("nobody-at-all")
    expect(page.locator("#empty-result")).to_contain_text("step = e")
    shot(page, "saga-list-empty")
    page.click("#saved-views a[data-view='ann stuck transient']")
    expect(page.locator("#result_list tbody tr").first).to_be_visible()

    # the stuck page and the failure groups narrow the same way
    page.goto(f"{live_server.url}/admin/sagaops/saga/stuck/")
    page.fill("#narrow input[name=q]", "bob")
    page.click("#narrow input[type=submit]")
    expect(page.locator("p.narrowed")).to_contain_text("bob")
    bobs = {str(s.pk) for s in incident if s.payload["customer"] == "bob" and s.status != "completed"}
    shown = set(page.locator("tr.stuck-row").evaluate_all("rows => rows.map(r => r.dataset.saga)"))
    assert shown and shown <= bobs
    shot(page, "stuck-narrowed")
    page.goto(f"{live_server.url}/admin/sagaops/saga/groups/")
    page.select_option("#narrow select[name=error_type]", "tests.sagas.BusinessError")
    page.click("#narrow input[type=submit]")
    expect(page.locator("#groups tr.group")).to_have_count(0)
    page.select_option("#narrow select[name=error_type]", "tests.sagas.TransientError")
    page.click("#narrow input[type=submit]")
    expect(page.locator("#groups")).to_contain_text("TransientError")
    shot(page, "failure-groups-narrowed")
    page.context.close()


def test_the_saga_page_charts_steps_filters_the_timeline_and_explains_the_failure(chromium, live_server, incident):
    from playwright.sync_api import expect

    failed = stuck({"order_id": 3, "customer": "ann", "fail": {"c": "business"}, "comp": {"b": "always"}})
    done, _ = saga_start(saga_type="test.flow", payload={"order_id": 4})
    wait_for_status(done.id, ("completed",))
    page = open_console(chromium, live_server, "ops4")
    page.goto(f"{live_server.url}/admin/sagaops/saga/{failed.id}/change/")
    expect(page.locator("#forward-cause")).to_contain_text("c")
    expect(page.locator("#forward-cause")).to_contain_text("BusinessError")
    expect(page.locator("#gantt svg rect.span").first).to_be_visible()
    expect(page.locator("#gantt svg")).to_contain_text("(compensation)")
    expect(page.locator(".facts")).to_contain_text("UTC")
    expect(page.locator("#links a[data-link=customer-sagas]")).to_be_visible()
    expect(page.locator("#errors pre.traceback").first).to_be_visible()
    assert page.locator("#timeline tbody tr").first.get_attribute("data-kind") in ("saga_stuck", "compensation_failed")
    shot(page, "saga-detail-compensation-failed")
    page.select_option("#timeline-filter select[name=kind]", "step_failed")
    page.click("#timeline-filter input[type=submit]")
    kinds = page.locator("#timeline tbody tr").evaluate_all("rows => rows.map(r => r.dataset.kind)")
    assert kinds and set(kinds) == {"step_failed"}
    page.goto(f"{live_server.url}/admin/sagaops/saga/{done.id}/change/")
    expect(page.locator("h1 .sagaops-badge")).to_have_text("completed")
    expect(page.locator("#last-error.sagaops-error")).to_have_count(0)
    expect(page.locator("#context-box button.copy")).to_be_visible()
    shot(page, "saga-detail-completed")
    page.context.close()


def test_confirm_pages_say_which_compensations_run_in_which_order(chromium, live_server, incident):
    from playwright.sync_api import expect

    failed = stuck({"order_id": 3, "fail": {"c": "business"}, "comp": {"b": "always"}})
    waiting = waiting_for_a_callback()
    page = open_console(chromium, live_server, "ops5")
    page.goto(f"{live_server.url}/admin/sagaops/saga/{failed.id}/change/")
    page.click("a.sagaops-action[data-action='retry_compensation']")
    steps = page.locator("#plan li").evaluate_all("items => items.map(i => [i.dataset.verb, i.dataset.step])")
    assert steps == [["compensate", "b"], ["compensate", "a"]]
    shot(page, "confirm-retry-compensation")
    page.goto(f"{live_server.url}/admin/sagaops/saga/{waiting.id}/change/")
    page.click("a.sagaops-action[data-action='compensate']")
    steps = page.locator("#plan li").evaluate_all("items => items.map(i => i.dataset.step)")
    assert steps == ["wait", "a"]
    expect(page.locator("#plan")).to_contain_text("Compensate")
    shot(page, "confirm-force-compensation")
    page.context.close()


def test_the_audit_trail_shows_who_did_what_why_and_the_outcome(chromium, live_server, incident):
    from playwright.sync_api import expect

    saga = stuck({"order_id": 7, "fail": {"e": "always"}})
    page = open_console(chromium, live_server, "ops6")
    page.goto(f"{live_server.url}/admin/sagaops/saga/{saga.id}/change/")
    page.click("a.sagaops-action[data-action='resolve']")
    page.fill("textarea[name=reason]", "refunded by phone, ticket 4711")
    page.click("#confirm")
    expect(page.locator("ul.messagelist li.success")).to_contain_text("done")
    page.click("nav.sagaops-nav >> text=Audit trail")
    row = page.locator(f"#audit tr[data-saga='{saga.id}']")
    expect(row).to_contain_text("ops6")
    expect(row).to_contain_text("refunded by phone, ticket 4711")
    expect(row.locator("td.outcome")).to_contain_text("resolved")
    page.select_option("#audit-filter select[name=operator]", "ops6")
    page.select_option("#audit-filter select[name=kind]", "operator_retry")
    page.click("#audit-filter input[type=submit]")
    expect(page.locator("#audit")).to_contain_text("No operator action by ops6 of kind operator_retry")
    page.goto(f"{live_server.url}/admin/sagaops/saga/audit/")
    shot(page, "audit-trail")
    page.context.close()


def test_layout_at_1440_and_390_and_a_styled_403(chromium, live_server, incident):
    from playwright.sync_api import expect

    def overflow(page) -> int:
        return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")

    page = open_console(chromium, live_server, "ops7")
    assert overflow(page) <= 0
    assert page.locator("a:has-text('View site')").count() == 0
    expect(page.locator("nav.sagaops-nav")).to_be_visible()
    expect(page.locator("#landing-count")).to_contain_text("of")
    for url in ("/admin/sagaops/saga/", "/admin/sagaops/saga/stuck/", "/admin/sagaops/saga/dashboard/"):
        page.goto(live_server.url + url)
        assert overflow(page) <= 0, url
    page.goto(f"{live_server.url}/admin/sagaops/saga/")
    shot(page, "saga-list-1440")
    page.context.close()

    phone = open_console(chromium, live_server, "ops8", width=390, height=844)
    expect(phone.locator("nav.sagaops-nav")).to_be_visible()
    for url in ("/admin/", "/admin/sagaops/saga/stuck/", f"/admin/sagaops/saga/{incident[1].pk}/change/"):
        phone.goto(live_server.url + url)
        assert overflow(phone) <= 0, url
    shot(phone, "saga-detail-390")
    phone.context.close()

    viewer = open_console(chromium, live_server, "watcher2", group=VIEW_GROUP)
    response = viewer.goto(f"{live_server.url}/admin/sagaops/saga/{incident[0].pk}/act/retry/")
    assert response.status == 403
    expect(viewer.locator("#forbidden")).to_contain_text("operator (repair)")
    expect(viewer.locator("nav.sagaops-nav")).to_be_visible()
    shot(viewer, "forbidden")
    viewer.context.close()
