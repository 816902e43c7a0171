"""Bulk by query in a real browser against a live server and a real Celery worker: from the saga
list's filter to a preview, a run with its progress bar, pause, resume and cancel."""

import os
import time

import pytest

from sagaops.console.groups import REPAIR_GROUP
from sagaops.models import BulkAction
from tests.console.factories import make_saga, seed_stuck
from tests.console.test_browser import CHROMIUM, SCREENSHOTS, browser, log_in, operator  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker"),
]


def wait_processed(bulk_id, at_least: int, timeout: float = 20.0) -> int:
    deadline = time.monotonic() + timeout
    while (n := BulkAction.objects.get(pk=bulk_id).processed) < at_least:
        assert time.monotonic() < deadline, f"only {n} processed"
        time.sleep(0.2)
    return n


def test_an_operator_runs_a_bulk_retry_by_query_pauses_resumes_and_cancels_it(browser, live_server):  # noqa: F811
    from playwright.sync_api import expect

    # given 60 stuck sagas, one of which retry forward refuses, and a finished one
    refused = make_saga("compensation")
    seed_stuck(59, payload={"order_id": 7})
    make_saga("completed")
    operator("ops", REPAIR_GROUP)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = log_in(browser, live_server, "ops")

    # from the saga list's filter to the preview
    page.goto(f"{live_server.url}/admin/sagaops/saga/?status__exact=stuck")
    page.click("#bulk-by-query")
    expect(page.locator("#bulk-filter")).to_have_text("status=stuck")
    page.select_option("#id_action", "retry")
    page.fill("#id_rate", "4")
    page.click("#bulk-preview-button")
    expect(page.locator("#bulk-count")).to_contain_text("60 sagas selected")
    row = page.locator(f"#bulk-preview tr[data-saga='{refused.pk}']")
    expect(row).to_have_attribute("data-verdict", "refuse")
    expect(row.locator(".why")).to_contain_text("retry the compensation instead")
    page.screenshot(path=SCREENSHOTS / "bulk-preview.png", full_page=True)

    # start it: the run's page with its progress bar and buttons
    page.fill("#id_reason", "the e service is back")
    page.click("#bulk-start")
    expect(page.locator("ul.messagelist li.success")).to_contain_text("started on 60 saga(s) at 4/s")
    bulk = BulkAction.objects.get()
    expect(page.locator("#bulk-progress")).to_be_visible()
    wait_processed(bulk.pk, 8)

    # pause: nothing moves while paused
    page.reload()
    page.fill("form.bulk-pause input[name=reason]", "checking the first ones")
    page.click("#bulk-pause")
    expect(page.locator("#bulk-status")).to_have_attribute("data-status", "paused")
    time.sleep(1.5)
    held_at = BulkAction.objects.get(pk=bulk.pk).processed
    time.sleep(1.5)
    assert BulkAction.objects.get(pk=bulk.pk).processed == held_at < 60
    expect(page.locator("#count-refused")).to_have_text("1")
    page.screenshot(path=SCREENSHOTS / "bulk-paused.png", full_page=True)

    # resume, then cancel: the rest is not reached
    page.fill("form.bulk-resume input[name=reason]", "looks right")
    page.click("#bulk-resume")
    expect(page.locator("#bulk-status")).to_have_attribute("data-status", "running")
    wait_processed(bulk.pk, held_at + 4)
    page.fill("form.bulk-cancel input[name=reason]", "enough for today")
    page.click("#bulk-cancel")
    expect(page.locator("#bulk-status")).to_have_attribute("data-status", "cancelled")
    bulk.refresh_from_db()
    assert held_at + 4 <= bulk.processed < 60
    expect(page.locator("#bulk-summary")).to_contain_text(f"({60 - bulk.processed} not reached)")
    expect(page.locator("#bulk-results tr[data-outcome='refused']")).to_contain_text("retry the compensation instead")
    page.screenshot(path=SCREENSHOTS / "bulk-cancelled.png", full_page=True)
    page.context.close()
