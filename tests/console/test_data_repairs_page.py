"""The "repair with data" page (Django's test client, no worker)."""

import pytest

from sagaops.models import SagaEvent, SagaStep
from tests.api.conftest import DONE_BEFORE_E, make_saga

pytestmark = pytest.mark.django_db


def url(saga):
    return f"/admin/sagaops/saga/{saga.id}/data/"


def stuck_on_e():
    saga = make_saga(steps={**DONE_BEFORE_E, "e": "failed"})
    SagaStep.objects.filter(saga=saga, name="c").update(result={"to": "old"})
    return saga


def test_the_page_offers_what_the_rules_allow_and_previews_the_compensation(repair_client):
    saga = make_saga(status="running", steps={"a": "succeeded", "b": "succeeded", "c": "running"})
    page = repair_client.get(url(saga)).content.decode()
    assert 'data-op="complete"' not in page  # c is running: nothing to complete by hand
    preview = page[page.index('id="compensation-preview"') :]
    assert (
        preview.index(f"{saga.id}:c:compensate")
        < preview.index(f"{saga.id}:b:compensate")
        < preview.index(f"{saga.id}:a:compensate")
    )


def test_complete_by_hand_from_the_page(repair_client):
    saga = stuck_on_e()
    page = repair_client.get(url(saga)).content.decode()
    assert 'data-op="complete" data-step="e"' in page
    body = {"op": "complete", "step": "e", "expected_version": 5, "result": '{"mail": "sent"}', "reason": "by hand"}

    response = repair_client.post(url(saga), body, follow=True)

    assert "Step e completed by hand." in response.content.decode()
    assert SagaStep.objects.get(saga=saga, name="e").result == {"mail": "sent"}


def test_a_result_that_is_not_json_is_a_console_message(repair_client):
    saga = stuck_on_e()
    body = {"op": "complete", "step": "e", "expected_version": 5, "result": "{oops", "reason": "by hand"}
    page = repair_client.post(url(saga), body).content.decode()
    assert "Refused: result: not valid JSON" in page
    assert SagaStep.objects.get(saga=saga, name="e").status == "failed"


def test_an_edit_shows_the_diff_first_and_applies_on_confirmation(repair_client):
    saga = stuck_on_e()
    body = {"op": "edit", "step": "c", "expected_version": 5, "result": '{"to": "new"}', "reason": "typo"}

    page = repair_client.post(url(saga), body).content.decode()

    assert 'id="result-diff"' in page and "old" in page and "new" in page
    assert SagaStep.objects.get(saga=saga, name="c").result == {"to": "old"}  # not yet
    repair_client.post(url(saga), {**body, "diff_confirmed": "True"})
    assert SagaStep.objects.get(saga=saga, name="c").result == {"to": "new"}
    assert SagaEvent.objects.get(saga=saga, kind="operator_edit_result").reason == "typo"


def test_a_view_only_operator_sees_the_preview_but_no_forms(view_client):
    saga = stuck_on_e()
    page = view_client.get(url(saga)).content.decode()
    assert 'class="data-repair"' not in page and 'id="compensation-preview"' in page
    body = {"op": "complete", "step": "e", "expected_version": 5, "result": "{}", "reason": "x"}
    assert view_client.post(url(saga), body).status_code == 403
