import pytest
from django.contrib.auth.models import Permission, User
from rest_framework.test import APIClient

from sagaops.api.services import service_account_create, token_issue
from sagaops.models import Saga, SagaStep
from sagaops.states import SagaStatus, StepStatus
from tests.sagas import flow

OPERATOR_PERMISSIONS = [
    "view_saga",
    "retry_saga",
    "compensate_saga",
    "retry_compensation_saga",
    "skip_step_saga",
    "resolve_saga",
    "add_failurereport",
]


def token_client(token: str, user=None) -> APIClient:
    """A client calling with the token; `client.user` is its principal (to own sagas in tests)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    client.user = user
    return client


@pytest.fixture
def anonymous():
    return APIClient()


@pytest.fixture
def service(db):
    """A service with no limits."""
    account, token = service_account_create(name="shop")
    return token_client(token, account.user)


@pytest.fixture
def participant(db):
    """The service the checkout's remote steps call inventory and payments with."""
    account, token = service_account_create(name="checkout", participant=["inventory", "payments"])
    return token_client(token, account.user)


@pytest.fixture
def limited_service(db):
    """May start test.async sagas and call back only its `wait` step."""
    account, token = service_account_create(name="warehouse", saga_types=["test.async"], steps=["test.async:wait"])
    return token_client(token, account.user)


@pytest.fixture
def operator_user(db):
    user = User.objects.create_user("oper", password="x", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=OPERATOR_PERMISSIONS))
    return user


@pytest.fixture
def operator(operator_user):
    return token_client(token_issue(user=operator_user), operator_user)


@pytest.fixture
def viewer(db):
    """An operator who may look at every saga, without the repair permissions."""
    user = User.objects.create_user("viewer", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_saga"))
    return token_client(token_issue(user=user), user)


def make_saga(status: str = SagaStatus.STUCK, steps: dict[str, str] | None = None, definition=flow, **fields) -> Saga:
    """A saga written straight to the database in a given state (no worker needed)."""
    steps = steps or {}
    saga = Saga.objects.create(type=definition.name, status=status, context={"payload": {"n": 1}}, version=5, **fields)
    SagaStep.objects.bulk_create(
        SagaStep(saga=saga, index=i, name=s.name, status=steps.get(s.name, StepStatus.PENDING))
        for i, s in enumerate(definition.steps)
    )
    return saga


DONE_BEFORE_E = {"a": "succeeded", "b": "succeeded", "c": "succeeded", "d": "succeeded"}
