"""Confirmation pages say exactly what a repair will do; the payload diff tells null from absent."""

import json

import pytest
from django.urls import reverse

from sagaops.console.plan import payload_changes
from tests.console.factories import make_saga

pytestmark = pytest.mark.django_db


def confirm(client, saga, action, **params):
    response = client.get(reverse("admin:sagaops_saga_action", args=[saga.pk, action]), params)
    assert response.status_code == 200
    return response


def plan(response) -> list[tuple[str, str]]:
    return [(line.verb, line.step) for line in response.context["plan"]]


def test_retry_names_the_step_run_again_and_what_follows(repair_client):
    saga = make_saga("stalled")  # c running, d and e pending
    response = confirm(repair_client, saga, "retry")
    assert plan(response) == [("run again", "c"), ("then run", "d"), ("then run", "e")]
    assert 'id="plan"' in response.content.decode()


def test_force_compensation_lists_the_compensations_newest_first_with_amounts(repair_client):
    saga = make_saga("stalled")
    saga.steps.filter(name="b").update(result={"amount": "42.00"})
    response = confirm(repair_client, saga, "compensate")
    assert plan(response) == [("compensate", "c"), ("compensate", "b"), ("compensate", "a")]
    assert "amount 42.00" in response.content.decode()


def test_retry_compensation_starts_with_the_failed_one(repair_client):
    saga = make_saga("compensation")  # b's compensation failed; a succeeded before it
    assert plan(confirm(repair_client, saga, "retry_compensation")) == [("compensate", "b"), ("compensate", "a")]


def test_resolve_says_nothing_runs(repair_client):
    saga = make_saga("forward")
    response = confirm(repair_client, saga, "resolve")
    assert ("keep", "d") in plan(response) and "Nothing runs" in response.content.decode()


def test_an_edited_payload_past_the_pivot_warns(repair_client):
    saga = make_saga("forward")  # d (the pivot) succeeded
    data = {"reason": "fix", "expected_version": saga.version, "payload": json.dumps({"order_id": 9})}
    response = repair_client.post(reverse("admin:sagaops_saga_action", args=[saga.pk, "retry"]), data)
    body = response.content.decode()
    assert 'id="pivot-warning"' in body and "order_id" in response.context["pivot_warning"]


def test_the_diff_tells_null_from_an_absent_key():
    rows = {r.key: r for r in payload_changes({"a": None, "b": 1}, {"b": 1, "c": None})}
    assert set(rows) == {"a", "c"}
    assert not rows["a"].before_absent and rows["a"].after_absent
    assert rows["c"].before_absent and rows["c"].after is None and not rows["c"].after_absent
    assert payload_changes({"a": None}, {"a": None}) == []
