"""End to end over real HTTP: a client places orders against a live server and watches each
saga finish through the API, with a real Celery worker carrying the sagas; an operator retries
a stuck one."""

import time

import pytest
import requests
from django.contrib.auth.models import Permission, User

from orders.models import Order
from sagaops.api.services import service_account_create, token_issue
from tests.api.conftest import OPERATOR_PERMISSIONS

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_worker", "catalog")]

FINISHED = ("completed", "compensated", "stuck", "resolved")


def session(token: str) -> requests.Session:
    http = requests.Session()
    http.headers["Authorization"] = f"Token {token}"
    return http


def watch(http: requests.Session, url: str, until=FINISHED, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        saga = http.get(url, timeout=5).json()
        if saga["status"] in until:
            return saga
        time.sleep(0.1)
    raise AssertionError(f"saga {url} is {saga['status']} after {timeout}s")


def test_orders_placed_over_http_finish(live_server):
    _, token = service_account_create(name="shop", saga_types=["order.checkout"])
    http = session(token)
    requests_ = [
        ({"customer": "ann", "items": [{"sku": "KB", "quantity": 1}], "coupon": "TEN"}, "completed"),
        ({"customer": "ann", "items": [{"sku": "MS", "quantity": 2}]}, "completed"),
        ({"customer": "pat", "items": [{"sku": "KB", "quantity": 1}]}, "compensated"),
    ]

    placed = []
    for body, _ in requests_:
        response = http.post(f"{live_server.url}/api/orders/", json=body, timeout=5)
        assert response.status_code == 202, response.text
        placed.append(response.json())

    for answer, (_, expected) in zip(placed, requests_, strict=True):
        saga = watch(http, answer["saga"]["url"])
        assert saga["status"] == expected, saga
        order = http.get(f"{live_server.url}/api/orders/{answer['order']['id']}/", timeout=5).json()
        assert order["status"] == ("confirmed" if expected == "completed" else "cancelled")
        assert order["saga"]["status"] == expected
    assert Order.objects.filter(status="confirmed").count() == 2
    events = http.get(f"{placed[0]['saga']['url']}events/", timeout=5).json()["results"]
    assert events[-1]["kind"] == "saga_completed"


def test_an_operator_retries_a_stuck_saga_over_http(live_server):
    _, token = service_account_create(name="shop")
    operator = User.objects.create_user("oper", password="x")
    operator.user_permissions.add(*Permission.objects.filter(codename__in=OPERATOR_PERMISSIONS))
    service, ops = session(token), session(token_issue(user=operator))
    started = service.post(
        f"{live_server.url}/api/sagas/", json={"type": "test.flow", "payload": {"fail": {"e": "always"}}}, timeout=5
    ).json()
    url = f"{live_server.url}/api/sagas/{started['id']}/"
    stuck = watch(service, url)
    assert stuck["status"] == "stuck"
    assert [s["status"] for s in stuck["steps"]][-1] == "failed"

    listed = ops.get(f"{live_server.url}/api/sagas/?stuck=true", timeout=5).json()["results"]
    assert started["id"] in [s["id"] for s in listed]
    retried = ops.post(
        f"{url}retry/",
        json={"reason": "the mail server is back", "expected_version": stuck["version"], "context": {"payload": {}}},
        timeout=5,
    )

    assert retried.status_code == 202, retried.text
    assert watch(service, url)["status"] == "completed"
    kinds = [e["kind"] for e in ops.get(f"{url}events/", timeout=5).json()["results"]]
    assert "operator_retry" in kinds and kinds[-1] == "saga_completed"
