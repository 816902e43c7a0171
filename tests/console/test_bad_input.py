"""Console inputs that once answered 500: each is now a page with a message, and nothing changes."""

import json

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from sagaops.models import BulkAction, Saga
from tests.console.factories import make_saga

pytestmark = pytest.mark.django_db

DEEP = "[" * 100_000 + "]" * 100_000


def retry_url(saga):
    return reverse("admin:sagaops_saga_action", args=[saga.pk, "retry"])


@pytest.mark.parametrize("term", ["²", "١٢", "\x00", "a\x00b", "9" * 40])
def test_a_search_term_that_cannot_be_a_number_or_is_unstorable_lists_nothing(repair_client, term):
    make_saga("forward")

    response = repair_client.get(reverse("admin:sagaops_saga_changelist"), {"q": term})

    assert response.status_code == 200


def test_a_failure_group_link_with_nul_is_refused_with_a_message(repair_client):
    make_saga("forward")

    response = repair_client.get(
        reverse("admin:sagaops_saga_group_preview"), {"type": "test.flow\x00", "step": "e", "action": "retry"}
    )

    assert response.status_code == 302
    assert "does not exist" in str(next(iter(get_messages(response.wsgi_request))))


@pytest.mark.parametrize("items", [DEEP, '[{"saga": "\\ud800", "version": 1}]', "NaN", '[{"saga": 1}]'])
def test_a_damaged_bulk_confirmation_is_refused_on_its_page(repair_client, items):
    response = repair_client.post(
        reverse("admin:sagaops_saga_bulk_new"), {"reason": "x", "action": "retry", "items": items, "rate": 10}
    )

    assert response.status_code == 200
    assert "damaged" in response.content.decode()
    assert not BulkAction.objects.exists()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ('{"order_id": NaN}', "NaN is not a JSON number"),
        ('{"order_id": Infinity}', "Infinity is not a JSON number"),
        ('{"note": "\\ud800"}', "lone surrogates"),
        ('{"note": "\\u0000"}', "NUL"),
        ('{"note": ' + DEEP + "}", "nested deeper"),
        ('{"a": ' * 40 + "1" + "}" * 40, "nested deeper"),
    ],
)
@pytest.mark.parametrize("confirmed", [False, True])
def test_a_retry_payload_the_database_cannot_store_is_refused_on_the_form(repair_client, payload, message, confirmed):
    saga = make_saga("forward", payload={"order_id": 1})
    data = {"reason": "x", "expected_version": saga.version, "payload": payload}
    if confirmed:  # the diff page's confirmation posts the payload again
        data["diff_confirmed"] = "on"

    response = repair_client.post(retry_url(saga), data)

    assert response.status_code == 200
    assert message in response.content.decode()
    saga.refresh_from_db()
    assert (saga.status, saga.payload) == ("stuck", {"order_id": 1})
    assert Saga.objects.count() == 1
    json.dumps(saga.payload)  # still the original, storable payload
