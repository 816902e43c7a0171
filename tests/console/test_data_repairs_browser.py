"""The "repair with data" page in a real browser against a live server and a real Celery worker:
preview the compensation, complete a stuck step by hand, watch the saga finish with that result."""

import os

import pytest

from sagaops.console.groups import REPAIR_GROUP
from sagaops.services import saga_start
from tests.console.test_browser import CHROMIUM, SCREENSHOTS, browser, log_in, operator  # noqa: F401
from tests.helpers import wait_for_status
from tests.sagas import seen

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker"),
]


def test_an_operator_completes_a_stuck_step_by_hand(browser, live_server):  # noqa: F811
    from playwright.sync_api import expect

    operator("ops", REPAIR_GROUP)
    saga, _ = saga_start(saga_type="test.repair", payload={"fail": {"charge": "always"}})
    assert wait_for_status(saga.id).status == "stuck"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = log_in(browser, live_server, "ops")

    page.goto(f"{live_server.url}/admin/sagaops/saga/{saga.id}/change/")
    page.click("#data-repairs")
    # past the pivot: the preview says why force compensation is refused
    expect(page.locator("#preview-refusal")).to_contain_text("past its pivot (pivot)")
    form = page.locator("form.data-repair[data-op='complete'][data-step='charge']")
    form.locator("textarea[name=result]").fill('{"charge_id": "ch_42"}')
    form.locator("input[name=reason]").fill("charged in the provider's dashboard")
    page.screenshot(path=SCREENSHOTS / "repair-with-data.png", full_page=True)
    form.locator("input[type=submit]").click()
    expect(page.locator("ul.messagelist li.success")).to_contain_text("Step charge completed by hand.")

    assert wait_for_status(saga.id, ("completed",)).status == "completed"
    assert seen(saga.id)[-1]["charge"] == {"charge_id": "ch_42"}
    page.reload()
    expect(page.locator("#timeline")).to_contain_text("charged in the provider's dashboard")
    page.context.close()
