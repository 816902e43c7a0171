"""POST /api/bulk-actions/: the preview, the permission of the action, bad input named by field."""

from __future__ import annotations

import pytest

from sagaops.models import BulkAction
from tests.console.factories import make_saga

pytestmark = pytest.mark.django_db

URL = "/api/bulk-actions/"


def body(**overrides) -> dict:
    return {"filter": {"status": "stuck"}, "action": "retry", "rate": 10, "reason": "payments is back", **overrides}


def test_a_preview_counts_and_says_what_the_action_does_to_each(operator):
    # given
    forward = [make_saga("forward") for _ in range(3)]
    compensation = make_saga("compensation")
    make_saga("completed")

    # when
    response = operator.post(URL, body(preview=True, limit=10), format="json")

    # then
    assert response.status_code == 200
    preview = response.json()
    assert preview["count"] == 4
    verdicts = {row["id"]: (row["verdict"], row["reason"]) for row in preview["sagas"]}
    assert all(verdicts[str(s.pk)] == ("apply", "") for s in forward)
    assert verdicts[str(compensation.pk)] == ("refuse", "the saga was compensating: retry the compensation instead")
    assert not BulkAction.objects.exists()


def test_the_preview_lists_only_the_first_n(operator):
    for _ in range(5):
        make_saga("forward")
    preview = operator.post(URL, body(preview=True, limit=2), format="json").json()
    assert preview["count"] == 5 and len(preview["sagas"]) == 2


def test_a_start_snapshots_the_selection(operator):
    # given
    selected = {make_saga("forward").pk for _ in range(2)}
    make_saga("completed")

    # when
    response = operator.post(URL, body(filter={"status": "stuck", "type": "test.flow"}), format="json")

    # then
    assert response.status_code == 201
    bulk = BulkAction.objects.get()
    assert set(bulk.items.values_list("saga_id", flat=True)) == selected
    assert response.json()["total"] == 2 and response.json()["filter"] == {"status": "stuck", "type": "test.flow"}
    assert operator.get(f"{URL}{bulk.pk}/").json()["outcomes"]["pending"] == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"filter": {"status": "sleeping"}}, "status"),
        ({"filter": {"colour": "red"}}, "colour"),
        ({"filter": {"created_after": "yesterday"}}, "created_after"),
        ({"filter": {"created_after": "2026-02-01T00:00Z", "created_before": "2026-01-01T00:00Z"}}, "created_before"),
        ({"filter": {"q": "a\u0000b"}}, "q"),
        ({"filter": ["status", "stuck"]}, "filter"),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_field(operator, overrides, field):
    response = operator.post(URL, body(**overrides), format="json")
    errors = response.json()
    assert response.status_code == 400
    assert field in errors.get("filter", {}) or f"filter.{field}" in errors, errors  # NUL: the body's own check
    assert not BulkAction.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"rate": 0}, "rate"),
        ({"rate": 5000}, "rate"),
        ({"rate": "fast"}, "rate"),
        ({"reason": " "}, "reason"),
        ({"action": "explode"}, "action"),
        ({"action": "skip_step"}, "step"),
        ({"limit": 0, "preview": True}, "limit"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(operator, overrides, field):
    response = operator.post(URL, body(**overrides), format="json")
    assert response.status_code == 400 and field in response.json()
    assert not BulkAction.objects.exists()


def test_a_filter_that_selects_nothing_is_refused(operator):
    make_saga("completed")
    response = operator.post(URL, body(), format="json")
    assert response.status_code == 400 and "no saga" in response.json()["filter"][0]
    assert not BulkAction.objects.exists()


def test_it_needs_the_permission_of_the_action(viewer):
    make_saga("forward")
    response = viewer.post(URL, body(preview=True), format="json")
    assert response.status_code == 403 and "sagaops.retry_saga" in response.json()["error"]


def test_pause_resume_and_cancel_follow_the_rules(operator, viewer):
    # given
    make_saga("forward")
    bulk_id = operator.post(URL, body(), format="json").json()["id"]

    # then
    assert viewer.post(f"{URL}{bulk_id}/pause/", {}, format="json").status_code == 403
    assert operator.post(f"{URL}{bulk_id}/resume/", {}, format="json").status_code == 409
    assert operator.post(f"{URL}{bulk_id}/pause/", {"rate": 5}, format="json").status_code == 400
    assert operator.post(f"{URL}{bulk_id}/pause/", {"reason": "x"}, format="json").json()["status"] == "paused"
    resumed = operator.post(f"{URL}{bulk_id}/resume/", {"rate": 3}, format="json").json()
    assert (resumed["status"], resumed["rate"]) == ("running", 3.0)
    assert operator.post(f"{URL}{bulk_id}/cancel/", {}, format="json").json()["status"] == "cancelled"
    refused = operator.post(f"{URL}{bulk_id}/cancel/", {}, format="json")
    assert refused.status_code == 409 and "already cancelled" in refused.json()["error"]
    assert viewer.get(f"{URL}{bulk_id}/").status_code == 200
    assert operator.get(f"{URL}00000000-0000-0000-0000-000000000000/").status_code == 404
