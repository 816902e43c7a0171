"""Branches and child sagas in the console, on sagas run by a real worker."""

import pytest
from django.urls import reverse

from sagaops.models import Saga
from sagaops.services import saga_start
from tests.helpers import event_kinds, wait_for_status
from tests.sagas import fix

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_worker")]


def detail(saga):
    return reverse("admin:sagaops_saga_change", args=[saga.pk])


def test_a_failed_branch_past_the_pivot_is_retried_alone_from_the_console(repair_client):
    # given a branch that failed past the pivot: the saga is stuck on that branch
    saga, _ = saga_start(saga_type="test.late_group", payload={"fail": {"q2": "always"}})
    saga = wait_for_status(saga.id)
    assert (saga.status, saga.attention_code) == ("stuck", "branch_failed")
    page = repair_client.get(detail(saga))
    body = page.content.decode()
    # then the page shows the branches side by side and offers to retry the failed one
    assert "∥ notify · q1" in body and "∥ notify · q2" in body  # the chart's lanes
    assert 'data-group="notify"' in body
    assert ("retry_branch", "q2") in {(a.name, step) for a, step in page.context["actions"]}
    assert ("retry_branch", "q1") not in {(a.name, step) for a, step in page.context["actions"]}
    # when the cause is fixed and the operator retries that branch
    fix(saga.id)
    url = reverse("admin:sagaops_saga_action", args=[saga.pk, "retry_branch"])
    response = repair_client.post(url, {"reason": "the mailer is back", "expected_version": saga.version, "step": "q2"})
    assert response.status_code == 302
    # then only that branch runs again and the saga completes
    saga = wait_for_status(saga.id, ("completed",))
    assert saga.steps.get(name="q1").attempts == 1
    assert "operator_retry_branch" in event_kinds(saga)


def test_parent_and_child_pages_link_to_each_other(repair_client):
    parent, _ = saga_start(saga_type="test.parent", payload={})
    parent = wait_for_status(parent.id)
    child = Saga.objects.get(parent=parent)
    assert f'href="{detail(child)}"' in repair_client.get(detail(parent)).content.decode()
    assert f'href="{detail(parent)}"' in repair_client.get(detail(child)).content.decode()
