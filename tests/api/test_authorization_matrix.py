"""Every API operation against every kind of caller: who is let through, and who is refused
without anything being written.

The saga under test is a `test.async` saga waiting at its `wait` step, started by the `owner`
service; its order belongs to the owner too. A refused cell asserts the exact status and that
no row changed; an allowed cell asserts that authorization let it through (it may still be
refused by the saga's state, 409, which is not an authorization answer).
"""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from rest_framework.test import APIClient

from inventory.models import Reservation
from orders.models import Order
from payments.models import Payment
from sagaops.api import health
from sagaops.api.services import service_account_create, token_issue
from sagaops.console.groups import REPAIR_PERMISSIONS, VIEW_PERMISSIONS
from sagaops.models import BulkAction, FailureReport, Hold, Saga, SagaEvent, SagaStep
from tests.api.conftest import make_saga, token_client
from tests.sagas import async_flow

pytestmark = pytest.mark.django_db

PRINCIPALS = [
    "anonymous",
    "owner",  # the service that started the saga (and placed the order)
    "other_service",  # a service without limits that did not start it
    "same_type_service",  # may start test.async sagas, did not start this one, no step grant
    "granted_service",  # explicitly granted test.async:wait
    "no_permission_user",
    "view_operator",
    "repair_operator",
    "superuser",
]
SERVICES = {
    "owner": {},
    "other_service": {},
    "same_type_service": {"saga_types": ["test.async"]},
    "granted_service": {"saga_types": ["test.async"], "steps": ["test.async:wait"]},
}
OK = "ok"  # let through by authorization


def _user_with(username: str, codenames) -> User:
    user = User.objects.create_user(username, password="x", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="sagaops", codename__in=codenames))
    return user


def principal(name: str, owner_client: APIClient) -> APIClient:
    if name == "anonymous":
        return APIClient()
    if name == "owner":
        return owner_client
    if name in SERVICES:
        account, token = service_account_create(name=name, **SERVICES[name])
        return token_client(token, account.user)
    users = {
        "no_permission_user": lambda: User.objects.create_user(name, password="x"),
        "view_operator": lambda: _user_with(name, VIEW_PERMISSIONS),
        "repair_operator": lambda: _user_with(name, REPAIR_PERMISSIONS),
        "superuser": lambda: User.objects.create_superuser(name, password="x"),
    }
    user = users[name]()
    return token_client(token_issue(user=user), user)


@pytest.fixture
def world(catalog, monkeypatch):
    monkeypatch.setitem(health.CHECKS, "workers", lambda: {"ok": True, "workers": ["w@h"]})
    account, token = service_account_create(name="owner")
    owner = token_client(token, account.user)
    saga = make_saga(
        status="running",
        steps={"a": "succeeded", "wait": "waiting"},
        definition=async_flow,
        started_by=account.user,
        correlation_id="corr-1",
    )
    order = Order.objects.create(customer="ann", total=Decimal("89.00"), saga_id=saga.id)
    hold = Hold.objects.create(saga_type="test.async", step="a", reason="matrix")
    starter = User.objects.create_user("bulk-starter")
    bulk = BulkAction.objects.create(user=starter, action="resolve", reason="matrix", rate=1, total=0)
    return {"saga": saga, "order": order, "owner": owner, "hold": hold, "bulk": bulk}


def snapshot(saga: Saga) -> tuple:
    saga.refresh_from_db()
    steps = tuple(SagaStep.objects.filter(saga=saga).order_by("index").values_list("status", "attempts"))
    counts = tuple(m.objects.count() for m in (Saga, SagaEvent, FailureReport, Order, Payment, Reservation))
    return saga.status, saga.version, steps, counts


def _report_body(name: str, world) -> dict:
    service = name if name in SERVICES else "payments"
    return {"service": service, "code": "declined", "correlation_id": "corr-1", "detail": {}}


# (operation, method, path, body) — path and body get the world; body also the caller's name.
OPERATIONS = {
    "start saga": ("post", lambda w: "/api/sagas/", lambda n, w: {"type": "test.async", "payload": {}}),
    "list sagas": ("get", lambda w: "/api/sagas/", None),
    "read saga": ("get", lambda w: f"/api/sagas/{w['saga'].id}/", None),
    "read events": ("get", lambda w: f"/api/sagas/{w['saga'].id}/events/", None),
    "retry": ("post", lambda w: f"/api/sagas/{w['saga'].id}/retry/", lambda n, w: {"reason": "matrix"}),
    "compensate": ("post", lambda w: f"/api/sagas/{w['saga'].id}/compensate/", lambda n, w: {"reason": "matrix"}),
    "retry compensation": (
        "post",
        lambda w: f"/api/sagas/{w['saga'].id}/retry-compensation/",
        lambda n, w: {"reason": "matrix"},
    ),
    "resolve": ("post", lambda w: f"/api/sagas/{w['saga'].id}/resolve/", lambda n, w: {"reason": "matrix"}),
    "skip step": ("post", lambda w: f"/api/sagas/{w['saga'].id}/steps/a/skip/", lambda n, w: {"reason": "matrix"}),
    "retry branch": (
        "post",
        lambda w: f"/api/sagas/{w['saga'].id}/steps/a/retry-branch/",
        lambda n, w: {"reason": "matrix"},
    ),
    "compensation done": (
        "post",
        lambda w: f"/api/sagas/{w['saga'].id}/steps/a/compensation-done/",
        lambda n, w: {"reason": "matrix"},
    ),
    "complete step": (
        "post",
        lambda w: f"/api/sagas/{w['saga'].id}/steps/wait/complete/",
        lambda n, w: {"result": {"ok": True}},
    ),
    "fail step": ("post", lambda w: f"/api/sagas/{w['saga'].id}/steps/wait/fail/", lambda n, w: {"error": "no"}),
    "report failure": ("post", lambda w: "/api/reports/", _report_body),
    "place order": (
        "post",
        lambda w: "/api/orders/",
        lambda n, w: {"customer": "ann", "items": [{"sku": "KB", "quantity": 1}], "mode": "orchestrated"},
    ),
    "read order": ("get", lambda w: f"/api/orders/{w['order'].id}/", None),
    "product prices": ("get", lambda w: "/api/inventory/products/?sku=KB", None),
    "reserve stock": (
        "post",
        lambda w: "/api/inventory/reservations/",
        lambda n, w: {"reference": "m:1", "items": [{"sku": "KB", "quantity": 1}]},
    ),
    "release stock": ("post", lambda w: "/api/inventory/reservations/m:1/release/", lambda n, w: {}),
    "charge": (
        "post",
        lambda w: "/api/payments/charges/",
        lambda n, w: {"reference": "m:1", "customer": "ann", "amount": "1.00"},
    ),
    "refund": ("post", lambda w: "/api/payments/charges/m:1/refund/", lambda n, w: {}),
    "health": ("get", lambda w: "/api/health/", None),
    "complete by hand": (
        "post",
        lambda w: f"/api/sagas/{w['saga'].id}/steps/wait/complete-by-hand/",
        lambda n, w: {"result": {"by": "hand"}, "reason": "matrix"},
    ),
    "edit result": (
        "post",
        lambda w: f"/api/sagas/{w['saga'].id}/steps/a/result/",
        lambda n, w: {"result": {"fixed": True}, "reason": "matrix"},
    ),
    "compensation preview": ("get", lambda w: f"/api/sagas/{w['saga'].id}/compensation-preview/", None),
    "list saga types": ("get", lambda w: "/api/saga-types/", None),
    "list holds": ("get", lambda w: "/api/holds/", None),
    "place hold": (
        "post",
        lambda w: "/api/holds/",
        lambda n, w: {"saga_type": "test.async", "step": "wait", "reason": "matrix"},
    ),
    "read hold": ("get", lambda w: f"/api/holds/{w['hold'].pk}/", None),
    "release hold": (
        "post",
        lambda w: f"/api/holds/{w['hold'].pk}/release/",
        lambda n, w: {"rate": 5, "reason": "matrix"},
    ),
    "pause hold release": ("post", lambda w: f"/api/holds/{w['hold'].pk}/pause-release/", lambda n, w: {"reason": "m"}),
    "cancel hold release": (
        "post",
        lambda w: f"/api/holds/{w['hold'].pk}/cancel-release/",
        lambda n, w: {"reason": "matrix"},
    ),
    "preview bulk action": (
        "post",
        lambda w: "/api/bulk-actions/",
        lambda n, w: {"filter": {"status": "running"}, "action": "resolve", "rate": 1, "preview": True},
    ),
    "read bulk action": ("get", lambda w: f"/api/bulk-actions/{w['bulk'].pk}/", None),
    "pause bulk action": ("post", lambda w: f"/api/bulk-actions/{w['bulk'].pk}/pause/", lambda n, w: {}),
    "resume bulk action": ("post", lambda w: f"/api/bulk-actions/{w['bulk'].pk}/resume/", lambda n, w: {}),
    "cancel bulk action": ("post", lambda w: f"/api/bulk-actions/{w['bulk'].pk}/cancel/", lambda n, w: {}),
}


# Expected answers: one row per operation, columns in PRINCIPALS order.
#         anonymous owner other same  granted noperm view  repair super
MATRIX = {
    "start saga": [401, OK, OK, OK, OK, 403, 403, 403, OK],
    "list sagas": [401, OK, OK, OK, OK, 403, OK, OK, OK],
    "read saga": [401, OK, 404, 404, 404, 403, OK, OK, OK],
    "read events": [401, OK, 404, 404, 404, 403, OK, OK, OK],
    "retry": [401, 403, 403, 403, 403, 403, 403, OK, OK],
    "compensate": [401, 403, 403, 403, 403, 403, 403, OK, OK],
    "retry compensation": [401, 403, 403, 403, 403, 403, 403, OK, OK],
    "resolve": [401, 403, 403, 403, 403, 403, 403, OK, OK],
    "skip step": [401, 403, 403, 403, 403, 403, 403, OK, OK],
    "retry branch": [401, 403, 403, 403, 403, 403, 403, OK, OK],
    "compensation done": [401, 403, 403, 403, 403, 403, 403, OK, OK],
    "complete step": [401, OK, 404, 404, OK, 403, 403, 403, OK],
    "fail step": [401, OK, 404, 404, OK, 403, 403, 403, OK],
    "report failure": [401, OK, 403, 403, OK, 403, 403, 403, OK],
    "place order": [401, OK, OK, 403, 403, 403, 403, 403, OK],
    "read order": [401, OK, 404, 404, 404, 403, OK, OK, OK],
    "product prices": [401, OK, OK, OK, OK, OK, OK, OK, OK],
    "reserve stock": [401, 403, 403, 403, 403, 403, 403, 403, OK],
    "release stock": [401, 403, 403, 403, 403, 403, 403, 403, OK],
    "charge": [401, 403, 403, 403, 403, 403, 403, 403, OK],
    "refund": [401, 403, 403, 403, 403, 403, 403, 403, OK],
    "health": [OK, OK, OK, OK, OK, OK, OK, OK, OK],
    "complete by hand": [401, 403, 403, 403, 403, 403, 403, OK, OK],
    "edit result": [401, 403, 403, 403, 403, 403, 403, OK, OK],
    "compensation preview": [401, 403, 403, 403, 403, 403, OK, OK, OK],
    "list saga types": [401, 403, 403, 403, 403, 403, OK, OK, OK],
    "list holds": [401, 403, 403, 403, 403, 403, OK, OK, OK],
    "place hold": [401, 403, 403, 403, 403, 403, 403, OK, OK],
    "read hold": [401, 403, 403, 403, 403, 403, OK, OK, OK],
    "release hold": [401, 403, 403, 403, 403, 403, 403, OK, OK],
    "pause hold release": [401, 403, 403, 403, 403, 403, 403, OK, OK],
    "cancel hold release": [401, 403, 403, 403, 403, 403, 403, OK, OK],
    "preview bulk action": [401, 403, 403, 403, 403, 403, 403, OK, OK],
    "read bulk action": [401, 403, 403, 403, 403, 403, OK, OK, OK],
    "pause bulk action": [401, 403, 403, 403, 403, 403, 403, OK, OK],
    "resume bulk action": [401, 403, 403, 403, 403, 403, 403, OK, OK],
    "cancel bulk action": [401, 403, 403, 403, 403, 403, 403, OK, OK],
}
CELLS = [(op, who, MATRIX[op][i]) for op in OPERATIONS for i, who in enumerate(PRINCIPALS)]


def test_the_matrix_covers_every_api_operation():
    from inventory.urls import urlpatterns as inventory
    from orders.urls import urlpatterns as orders
    from payments.urls import urlpatterns as payments
    from sagaops.api.urls import urlpatterns as engine

    urlpatterns = [*engine, *orders, *inventory, *payments]
    named = {p.name for p in urlpatterns if p.name and p.name not in ("schema", "docs")}
    # "list sagas" and "start saga" share saga-list, "list holds" and "place hold" hold-list
    assert len(OPERATIONS) == len(named) + 2
    assert all(len(row) == len(PRINCIPALS) for row in MATRIX.values())


@pytest.mark.parametrize(("operation", "who", "expected"), CELLS, ids=[f"{op}-{who}" for op, who, _ in CELLS])
def test_authorization(world, operation, who, expected):
    method, path, body = OPERATIONS[operation]
    client = principal(who, world["owner"])
    before = snapshot(world["saga"])

    kwargs = {"format": "json", "data": body(who, world)} if body else {}
    response = getattr(client, method)(path(world), **kwargs)

    if expected == OK:
        assert response.status_code not in (401, 403, 404), response.content
        assert response.status_code < 500
        if operation == "list sagas":
            listed = [s["id"] for s in response.json()["results"]]
            sees_all = who in ("owner", "view_operator", "repair_operator", "superuser")
            assert (str(world["saga"].id) in listed) is sees_all
    else:
        assert response.status_code == expected, response.content
        assert response["Content-Type"] == "application/json"
        assert snapshot(world["saga"]) == before
