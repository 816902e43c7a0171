"""Bulk by query from the saga list: the list's filters are the selection, a preview first, then
a run with its progress, pause, resume and cancel, each in the admin log."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.urls import reverse

from sagaops.models import BulkAction
from tests.console.factories import make_saga
from tests.helpers import run_bulk

pytestmark = pytest.mark.django_db

QUERY = reverse("admin:sagaops_saga_bulk_query")
LIST = reverse("admin:sagaops_saga_changelist")


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_list_links_its_selection_to_a_bulk_action(repair_client):
    make_saga("forward")
    page = repair_client.get(LIST, {"status__exact": "stuck", "q": "4242"}).content.decode()
    assert 'id="bulk-by-query"' in page and "bulk/query/?status__exact=stuck&amp;q=4242" in page


def test_viewers_get_no_bulk_link(view_client):
    assert 'id="bulk-by-query"' not in view_client.get(LIST).content.decode()


def test_the_preview_selects_what_the_list_shows(repair_client):
    # given
    stuck = [make_saga("forward") for _ in range(3)]
    refused = make_saga("compensation")
    make_saga("completed")
    params = {"status__exact": "stuck", "error_type": "tests.sagas.TransientError"}

    # when
    listed = repair_client.get(LIST, params).context["cl"].result_count
    response = repair_client.get(QUERY, {**params, "action": "retry", "rate": 20})

    # then
    preview = response.context["preview"]
    assert preview.count == listed == 4
    verdicts = {row.saga.pk: row.verdict for row in preview.rows}
    assert [verdicts[s.pk] for s in stuck] == ["apply"] * 3 and verdicts[refused.pk] == "refuse"
    assert "retry the compensation instead" in response.content.decode()
    assert not BulkAction.objects.exists()


def test_start_runs_over_the_selection_and_is_audited(repair_client, repairer):
    # given
    sagas = [make_saga("forward") for _ in range(2)]
    make_saga("completed")

    # when
    response = repair_client.post(
        QUERY, {"status__exact": "stuck", "action": "resolve", "rate": 20, "reason": "settled with finance"}
    )

    # then
    bulk = BulkAction.objects.get()
    assert response["Location"] == reverse("admin:sagaops_saga_bulk", args=[bulk.pk])
    assert bulk.filters == {"status": "stuck"} and bulk.total == 2 and bulk.source == "filter status=stuck"
    page = repair_client.get(response["Location"]).content.decode()
    assert 'id="bulk-pause"' in page and 'id="bulk-cancel"' in page and "0 of 2 processed" in page
    run_bulk(bulk.pk)
    page = repair_client.get(response["Location"]).content.decode()
    assert "2 of 2 processed" in page and 'id="bulk-pause"' not in page
    assert {s.status for s in (type(sagas[0]).objects.filter(pk__in=[s.pk for s in sagas]))} == {"resolved"}
    assert LogEntry.objects.filter(object_id=str(bulk.pk), change_message__startswith="start resolve").exists()


def test_pause_resume_and_cancel_from_the_console(repair_client):
    # given
    make_saga("forward")
    repair_client.post(QUERY, {"status__exact": "stuck", "action": "resolve", "rate": 1, "reason": "x"})
    bulk = BulkAction.objects.get()
    act = lambda verb, **data: repair_client.post(  # noqa: E731
        reverse("admin:sagaops_saga_bulk_act", args=[bulk.pk, verb]), data
    )

    # then
    assert act("pause", reason="").status_code == 302 and BulkAction.objects.get().status == "running"
    act("pause", reason="looking at one")
    assert BulkAction.objects.get().status == "paused"
    page = repair_client.get(reverse("admin:sagaops_saga_bulk", args=[bulk.pk])).content.decode()
    assert 'id="bulk-resume"' in page
    act("resume", reason="fine", rate=4)
    assert (BulkAction.objects.get().status, BulkAction.objects.get().rate) == ("running", 4.0)
    act("cancel", reason="wrong one")
    assert BulkAction.objects.get().status == "cancelled"
    refused = act("cancel", reason="again")
    assert "already cancelled" in messages_of(refused)[-1]
    kinds = list(
        LogEntry.objects.filter(object_id=str(bulk.pk)).order_by("id").values_list("change_message", flat=True)
    )
    assert [k.split(":")[0] for k in kinds[1:]] == ["pause", "resume at 4/s", "cancel"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"error": "yes"}, "error: this filter of the list cannot select a bulk action"),
        ({"status__exact": "sleeping"}, "status:"),
        ({"started_from": "last tuesday"}, "not a date"),
    ],
)
def test_a_filter_that_cannot_select_is_a_message(repair_client, params, message):
    response = repair_client.get(QUERY, {**params, "action": "retry", "rate": 5})
    assert response.status_code == 302 and message in messages_of(response)[0]


@pytest.mark.parametrize(
    ("data", "error"),
    [({"rate": 0}, "rate"), ({"rate": 5, "reason": ""}, "reason"), ({"rate": 5, "action": "explode"}, "action")],
)
def test_bad_input_on_the_start_is_shown_on_the_page(repair_client, data, error):
    make_saga("forward")
    response = repair_client.post(QUERY, {"action": "retry", "reason": "x", **data})
    assert response.status_code == 200 and error in response.context["form"].errors
    assert not BulkAction.objects.exists()


def test_a_selection_of_nothing_is_refused(repair_client):
    response = repair_client.post(QUERY, {"status__exact": "stuck", "action": "retry", "rate": 5, "reason": "x"})
    assert response.status_code == 302 and "nothing to run" in messages_of(response)[0]


def test_a_viewer_cannot_start_a_bulk_by_query(view_client):
    make_saga("forward")
    assert view_client.get(QUERY, {"action": "retry", "rate": 5}).status_code == 403
