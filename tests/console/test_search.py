"""The saga list's search, filters, saved views and empty state."""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sagaops.console.search import id_prefix_q
from sagaops.models import Saga, SavedView
from tests.console.factories import make_saga

pytestmark = pytest.mark.django_db

LIST = reverse("admin:sagaops_saga_changelist")


def listed(client, **params) -> set:
    response = client.get(LIST, params)
    assert response.status_code == 200
    return {s.pk for s in response.context["cl"].result_list}


def test_the_short_id_finds_its_saga(view_client):
    saga = make_saga("forward")
    make_saga("forward")
    assert listed(view_client, q=str(saga.pk)[:8]) == {saga.pk}
    assert listed(view_client, q=str(saga.pk)[:8].upper()) == {saga.pk}


def test_an_id_prefix_is_a_range_on_the_primary_key():
    q = id_prefix_q("abcd1234")
    low, high = dict(q.children)["pk__gte"], dict(q.children)["pk__lte"]
    assert low == uuid.UUID("abcd1234-0000-0000-0000-000000000000")
    assert high == uuid.UUID("abcd1234-ffff-ffff-ffff-ffffffffffff")
    assert id_prefix_q("abc") is None and id_prefix_q("not-hex!") is None


def test_a_declared_business_key_finds_its_sagas(view_client):
    anns = {make_saga("forward", payload={"order_id": 1, "customer": "ann"}).pk for _ in range(2)}
    make_saga("forward", payload={"order_id": 2, "customer": "pat"})
    assert listed(view_client, q="ann") == anns


def test_filter_by_current_step(view_client):
    at_e = make_saga("forward")  # current step 4 = e
    make_saga("stalled")  # current step 2 = c
    assert listed(view_client, step="e") == {at_e.pk}


def test_filter_by_error_type(view_client):
    transient = make_saga("forward")  # e failed with TransientError
    make_saga("completed")
    assert listed(view_client, error_type="tests.sagas.TransientError") == {transient.pk}
    choices = view_client.get(LIST).content.decode()
    assert "error_type=tests.sagas.TransientError" in choices


def test_filter_by_a_time_range(view_client):
    old = make_saga("completed", ago=timedelta(days=3))
    new = make_saga("completed")
    day = (timezone.now() - timedelta(days=3)).date().isoformat()
    assert listed(view_client, started_from=day, started_to=day) == {old.pk}
    assert listed(view_client, started_from=timezone.now().date().isoformat()) == {new.pk}


def test_a_bad_date_is_a_message_not_a_traceback(view_client):
    response = view_client.get(LIST, {"started_from": "yesterday-ish"})
    assert response.status_code == 302 and "e=1" in response["Location"]


def test_the_empty_state_says_what_was_searched(view_client):
    make_saga("forward")
    body = view_client.get(LIST, {"q": "nobody-like-this", "status__exact": "stuck"}).content.decode()
    assert 'id="empty-result"' in body
    assert "nobody-like-this" in body and "status__exact = stuck" in body


def test_an_operator_saves_a_view_and_only_sees_their_own(view_client, viewer, repairer):
    save = reverse("admin:sagaops_saga_saved_views")
    response = view_client.post(save, {"name": "stuck checkout", "query": "status__exact=stuck&type=test.flow"})
    assert response.status_code == 302
    assert SavedView.objects.get(user=viewer).query == "status__exact=stuck&type=test.flow"
    SavedView.objects.create(user=repairer, name="theirs", query="q=x")
    body = view_client.get(LIST).content.decode()
    assert "stuck checkout" in body and "theirs" not in body
    mine = SavedView.objects.get(user=viewer)
    view_client.post(reverse("admin:sagaops_saga_saved_view_delete", args=[mine.pk]))
    assert not SavedView.objects.filter(user=viewer).exists()
    assert Saga.objects.count() == 0


def test_with_an_error_type_the_step_filter_is_the_step_that_failed(view_client):
    failed_at_e = make_saga("forward")  # e failed with TransientError
    failed_at_b = make_saga("compensation")  # b's compensation failed with TransientError
    both = {"error_type": "tests.sagas.TransientError"}
    assert listed(view_client, **both) == {failed_at_e.pk, failed_at_b.pk}
    assert listed(view_client, step="e", **both) == {failed_at_e.pk}
    assert listed(view_client, step="b", **both) == {failed_at_b.pk}


def test_the_stuck_page_narrows_by_type_error_type_and_search(view_client):
    from tests.console.factories import make_saga as saga

    forward = saga("forward", payload={"order_id": 1, "customer": "ann"})
    compensation = saga("compensation", payload={"order_id": 2, "customer": "bob"})
    stuck = reverse("admin:sagaops_saga_stuck")

    def shown(**params):
        response = view_client.get(stuck, params)
        return {row.saga.pk for section in response.context["sections"] for row in section.rows}, response

    assert shown()[0] == {forward.pk, compensation.pk}
    assert shown(q="ann")[0] == {forward.pk}
    assert shown(q=str(compensation.pk)[:8])[0] == {compensation.pk}
    assert shown(error_type="tests.sagas.TransientError")[0] == {forward.pk, compensation.pk}
    ids, response = shown(type="test.async")
    assert ids == set() and sum(s.total for s in response.context["sections"]) == 0
    assert "matching type test.async" in response.content.decode()


def test_failure_groups_narrow_by_type_and_error_type(view_client):
    make_saga("forward")
    make_saga("compensation")
    groups = reverse("admin:sagaops_saga_groups")
    assert len(view_client.get(groups).context["groups"]) == 2
    assert view_client.get(groups, {"type": "test.async"}).context["groups"] == []
    only = view_client.get(groups, {"error_type": "tests.sagas.TransientError", "type": "test.flow"}).context["groups"]
    assert {g.signature.step for g in only} == {"e", "b"}
