"""The Holds page in a real browser against a live server and a real Celery worker: hold a step,
see a saga wait on it (Holds page and the stuck page's held section), release it, watch it finish."""

import os
import time

import pytest

from sagaops.console.groups import REPAIR_GROUP
from sagaops.models import Hold, SagaStep
from sagaops.services import saga_start
from tests.console.test_browser import CHROMIUM, SCREENSHOTS, browser, log_in, operator  # noqa: F401
from tests.helpers import wait_for_status

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker"),
]


def wait_held(saga_id, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not SagaStep.objects.filter(saga_id=saga_id, status="held").exists():
        assert time.monotonic() < deadline, "the saga never got held"
        time.sleep(0.1)


def test_an_operator_holds_a_step_sees_the_saga_wait_and_releases_it(browser, live_server):  # noqa: F811
    from playwright.sync_api import expect

    operator("ops", REPAIR_GROUP)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = log_in(browser, live_server, "ops")

    # hold step b of test.flow from the Holds page (in the console's navigation)
    page.goto(f"{live_server.url}/admin/sagaops/saga/stuck/")
    page.click("nav.sagaops-nav >> text=Holds")
    expect(page.locator("h1")).to_have_text("Holds")
    page.select_option("#id_target", "test.flow:b")
    page.fill("#id_reason", "the b service is down")
    page.click("#place-hold")
    expect(page.locator("ul.messagelist li.success")).to_contain_text("placed on test.flow:b")
    hold = Hold.objects.get()

    # a saga reaching b waits, held, on the Holds page and on the stuck page
    saga, _ = saga_start(saga_type="test.flow", payload={})
    wait_held(saga.id)
    page.reload()
    expect(page.locator(f"tr[data-hold='{hold.pk}'] .held-count")).to_have_text("1")
    page.goto(f"{live_server.url}/admin/sagaops/saga/stuck/")
    expect(page.locator("#section-held")).to_contain_text("Held (1)")
    expect(page.locator(f"tr.held-row[data-saga='{saga.id}']")).to_contain_text("the b service is down")
    page.screenshot(path=SCREENSHOTS / "stuck-held.png", full_page=True)

    # release it at 5 per second; the saga completes and the hold is over
    page.goto(f"{live_server.url}/admin/sagaops/saga/holds/")
    row = page.locator(f"tr[data-hold='{hold.pk}']")
    row.locator("form.hold-release input[name=rate]").fill("5")
    row.locator("form.hold-release input[name=reason]").fill("b is back")
    row.locator("form.hold-release input[type=submit]").click()
    expect(page.locator("ul.messagelist li.success")).to_contain_text("release done")
    assert wait_for_status(saga.id, ("completed",)).status == "completed"
    deadline = time.monotonic() + 20
    while Hold.objects.get(pk=hold.pk).status != "released":
        assert time.monotonic() < deadline, "the hold never finished releasing"
        time.sleep(0.2)
    page.reload()
    expect(page.locator(f"tr[data-hold='{hold.pk}']")).to_have_attribute("data-status", "released")
    expect(page.locator(f"tr[data-hold='{hold.pk}']")).to_contain_text("1 let go at 5/s by ops")
    page.screenshot(path=SCREENSHOTS / "holds.png", full_page=True)
    page.context.close()
