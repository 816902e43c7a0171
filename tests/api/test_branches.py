"""Branches and child sagas in GET /api/sagas/{id}/, on sagas run by a real worker."""

import pytest

from sagaops.models import Saga
from sagaops.services import saga_start
from tests.helpers import wait_for_status

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_worker")]


def test_parent_and_child_are_linked_both_ways(operator):
    parent, _ = saga_start(saga_type="test.parent", payload={})
    parent = wait_for_status(parent.id)
    child = Saga.objects.get(parent=parent)
    parent_doc = operator.get(f"/api/sagas/{parent.pk}/").json()
    child_doc = operator.get(f"/api/sagas/{child.pk}/").json()
    assert parent_doc["children"] == [{"id": str(child.pk), "type": "test.child", "step": "kid"}]
    assert (child_doc["parent"], child_doc["parent_step"]) == (str(parent.pk), "kid")
    assert parent_doc["parent"] is None


def test_each_step_names_its_group_and_branch(operator):
    saga, _ = saga_start(saga_type="test.parallel", payload={})
    saga = wait_for_status(saga.id)
    steps = {s["name"]: (s["group"], s["branch"]) for s in operator.get(f"/api/sagas/{saga.pk}/").json()["steps"]}
    assert steps == {
        "first": ("", ""),
        "p1": ("fan", "p1"),
        "p2": ("fan", "p2"),
        "p3a": ("fan", "p3a"),
        "p3b": ("fan", "p3a"),
        "last": ("", ""),
    }


def test_a_failed_branch_is_retried_through_the_api(operator):
    from tests.sagas import fix

    saga, _ = saga_start(saga_type="test.late_group", payload={"fail": {"q2": "always"}})
    saga = wait_for_status(saga.id)
    assert saga.status == "stuck"
    refused = operator.post(f"/api/sagas/{saga.pk}/steps/q1/retry-branch/", {"reason": "again"}, format="json")
    assert refused.status_code == 409, refused.content
    assert "only a failed branch can be retried" in refused.content.decode()
    fix(saga.id)
    response = operator.post(f"/api/sagas/{saga.pk}/steps/q2/retry-branch/", {"reason": "mailer back"}, format="json")
    assert response.status_code == 202, response.content  # accepted: the worker runs it
    assert wait_for_status(saga.id, ("completed",)).status == "completed"
