import pytest
from django.contrib.auth.models import Group, User

from sagaops.console.groups import REPAIR_GROUP, VIEW_GROUP, ensure_operator_groups


def _member(username: str, group: str | None) -> User:
    ensure_operator_groups()
    user = User.objects.create_user(username, password="pw-" + username, is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def repairer(db):
    return _member("repairer", REPAIR_GROUP)


@pytest.fixture
def viewer(db):
    return _member("viewer", VIEW_GROUP)


@pytest.fixture
def outsider(db):
    """Staff, but in neither operator group."""
    return _member("outsider", None)


@pytest.fixture
def repair_client(client, repairer):
    client.force_login(repairer)
    return client


@pytest.fixture
def view_client(client, viewer):
    client.force_login(viewer)
    return client
