"""Each repair through the console: success, refusal, missing reason, no permission, stale version."""

import json

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from sagaops.models import Saga
from tests.console.factories import make_saga

pytestmark = pytest.mark.django_db

# action -> (kind of stuck saga it applies to, step, status afterwards)
CASES = {
    "retry": ("forward", "", "running"),
    "compensate": ("stalled", "", "compensating"),
    "retry_compensation": ("compensation", "", "compensating"),
    "skip_step": ("forward", "e", "running"),
    "compensation_done": ("compensation", "b", "compensating"),
    "resolve": ("forward", "", "resolved"),
}


def url(saga, action):
    return reverse("admin:sagaops_saga_action", args=[saga.pk, action])


def post(client, saga, action, *, reason="the cause is fixed", version=None, step=""):
    data = {"reason": reason, "expected_version": saga.version if version is None else version, "step": step}
    return client.post(url(saga, action), data)


def messages_of(response):
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)][::-1]


@pytest.mark.parametrize("action", CASES)
def test_the_confirmation_page_asks_for_a_reason(repair_client, action):
    kind, step, _ = CASES[action]
    saga = make_saga(kind)
    response = repair_client.get(url(saga, action), {"v": saga.version, "step": step})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="reason"' in body and 'name="csrfmiddlewaretoken"' in body
    assert f'name="expected_version" value="{saga.version}"' in body


@pytest.mark.parametrize("action", CASES)
def test_success_moves_the_saga_and_records_who_and_why(repair_client, repairer, action):
    kind, step, after = CASES[action]
    saga = make_saga(kind)
    response = post(repair_client, saga, action, step=step)
    assert response.status_code == 302 and response["Location"].endswith(f"/{saga.pk}/change/")
    assert messages_of(response)[0][0] == "success"
    saga.refresh_from_db()
    assert saga.status == after
    event = saga.events.filter(actor_type="operator").get()
    assert (event.actor, event.reason) == ("repairer", "the cause is fixed")
    assert LogEntry.objects.filter(object_id=str(saga.pk), user=repairer).exists()


@pytest.mark.parametrize("action", CASES)
def test_refused_where_the_state_forbids_it(repair_client, action):
    saga = make_saga("completed")
    response = post(repair_client, saga, action, step=CASES[action][1])
    level, text = messages_of(response)[0]
    assert level == "error" and "refused" in text and "completed" in text
    saga.refresh_from_db()
    assert saga.status == "completed" and not saga.events.filter(actor_type="operator").exists()


@pytest.mark.parametrize("action", CASES)
def test_a_reason_is_required(repair_client, action):
    kind, step, _ = CASES[action]
    saga = make_saga(kind)
    response = post(repair_client, saga, action, reason="   ", step=step)
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert Saga.objects.get(pk=saga.pk).version == saga.version  # nothing changed


@pytest.mark.parametrize("action", CASES)
def test_a_view_only_operator_is_forbidden(view_client, action):
    kind, step, _ = CASES[action]
    saga = make_saga(kind)
    assert view_client.get(url(saga, action)).status_code == 403
    assert post(view_client, saga, action, step=step).status_code == 403
    assert Saga.objects.get(pk=saga.pk).version == saga.version  # nothing changed


@pytest.mark.parametrize("action", CASES)
def test_a_stale_form_is_refused(repair_client, action):
    kind, step, _ = CASES[action]
    saga = make_saga(kind)
    Saga.objects.filter(pk=saga.pk).update(version=saga.version + 1)  # someone else acted meanwhile
    response = post(repair_client, saga, action, version=saga.version, step=step)
    level, text = messages_of(response)[0]
    assert level == "error" and "changed since you looked" in text
    assert not saga.events.filter(actor_type="operator").exists()


def test_a_double_click_acts_once(repair_client):
    saga = make_saga("forward")
    post(repair_client, saga, "resolve")
    second = post(repair_client, saga, "resolve")
    assert messages_of(second)[0][0] == "error"
    assert saga.events.filter(actor_type="operator").count() == 1


def test_the_confirmation_page_warns_when_the_saga_moved(repair_client):
    saga = make_saga("forward")
    body = repair_client.get(url(saga, "resolve"), {"v": saga.version - 1}).content.decode()
    assert "changed since you opened it" in body


def test_retry_with_an_edited_payload_shows_the_diff_first(repair_client):
    saga = make_saga("forward", payload={"order_id": 1, "fail": {"e": "always"}})
    edited = json.dumps({"order_id": 1, "note": "fixed"})
    data = {"reason": "drop the failure", "expected_version": saga.version, "payload": edited}
    preview = repair_client.post(url(saga, "retry"), data)
    assert preview.status_code == 200 and 'id="payload-diff"' in preview.content.decode()
    diff = {row.key: (row.before_absent, row.before, row.after_absent, row.after) for row in preview.context["diff"]}
    assert diff["fail"][:2] == (False, {"e": "always"}) and diff["fail"][2] is True
    assert diff["note"][0] is True and diff["note"][2:] == (False, "fixed")
    saga.refresh_from_db()
    assert saga.status == "stuck"  # nothing happened yet

    repair_client.post(url(saga, "retry"), {**data, "diff_confirmed": "True"})
    saga.refresh_from_db()
    assert saga.status == "running" and saga.payload == {"order_id": 1, "note": "fixed"}
    assert "payload_diff" in saga.events.get(kind="operator_retry").detail


def test_retry_refuses_a_payload_that_is_not_json(repair_client):
    saga = make_saga("forward")
    data = {"reason": "x", "expected_version": saga.version, "payload": "{oops"}
    response = repair_client.post(url(saga, "retry"), data)
    assert response.status_code == 200 and "not valid JSON" in response.content.decode()


def test_csrf_is_enforced(repairer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(repairer)
    saga = make_saga("forward")
    assert post(client, saga, "resolve").status_code == 403
    saga.refresh_from_db()
    assert saga.status == "stuck"
