"""orders.participants in HTTP mode, called in-process against the live server."""

from decimal import Decimal

import pytest

from inventory.exceptions import OutOfStock
from orders import participants
from sagaops.api.services import service_account_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalog")]


@pytest.fixture
def remote(live_server, settings):
    _, token = service_account_create(name="checkout", participant=["inventory", "payments"])
    settings.SAGAOPS_PARTICIPANTS_URL = live_server.url
    settings.SAGAOPS_PARTICIPANTS_TOKEN = token
    return settings


def test_prices_and_a_reservation_over_http(remote):
    assert participants.product_prices(["KB", "NOPE"]) == {"KB": Decimal("89.00")}
    result = participants.reserve_stock("s:reserve_stock", [{"sku": "KB", "quantity": 1}], "order:1")
    assert result["items"] == [{"sku": "KB", "quantity": 1}]
    assert participants.release_stock("s:reserve_stock")["status"] == "released"


def test_a_refusal_is_raised_as_the_participants_own_exception(remote):
    with pytest.raises(OutOfStock) as refused:
        participants.reserve_stock("s:reserve_stock", [{"sku": "KB", "quantity": 99}])

    assert (refused.value.sku, refused.value.requested, refused.value.available) == ("KB", 99, 10)


def test_a_5xx_is_transient(remote):
    remote.SAGAOPS_FAULTS = "payments.charge=error:1"
    remote.SAGAOPS_FAULTS_FROM_REDIS = False

    with pytest.raises(participants.ParticipantUnavailable, match="503"):
        participants.charge("s:charge_payment", "ann", Decimal("10.00"), None)


def test_a_bad_token_is_transient_not_a_business_refusal(remote):
    remote.SAGAOPS_PARTICIPANTS_TOKEN = "wrong"

    with pytest.raises(participants.ParticipantUnavailable, match="401"):
        participants.refund("s:charge_payment")


def test_an_unreachable_participant_is_transient(settings):
    settings.SAGAOPS_PARTICIPANTS_URL = "http://127.0.0.1:9"

    with pytest.raises(participants.ParticipantUnavailable, match="failed"):
        participants.refund("s:charge_payment")
