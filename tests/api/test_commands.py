"""manage.py sagaops_service / sagaops_token."""

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from sagaops.models import ServiceAccount

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def test_sagaops_service_creates_an_account_and_prints_its_token():
    token = run("sagaops_service", "warehouse", "--types", "test.async", "--steps", "test.async:wait")

    account = ServiceAccount.objects.get(name="warehouse")
    assert (account.saga_types, account.steps) == (["test.async"], ["test.async:wait"])
    assert Token.objects.get(user=account.user).key == token


def test_sagaops_service_again_keeps_the_token_and_rotate_replaces_it():
    first = run("sagaops_service", "shop")

    assert run("sagaops_service", "shop") == first
    assert run("sagaops_service", "shop", "--rotate") != first


def test_sagaops_service_revoke_deletes_the_token():
    run("sagaops_service", "shop")

    run("sagaops_service", "shop", "--revoke")

    assert not Token.objects.filter(user__username="service:shop").exists()


def test_sagaops_service_refuses_an_unknown_type():
    with pytest.raises(CommandError, match="unknown saga type"):
        run("sagaops_service", "shop", "--types", "no.such")


def test_sagaops_token_prints_a_users_token_and_revokes_it():
    user = User.objects.create_user("oper")

    token = run("sagaops_token", "oper")
    assert Token.objects.get(user=user).key == token

    run("sagaops_token", "oper", "--revoke")
    assert not Token.objects.filter(user=user).exists()


def test_sagaops_token_refuses_an_unknown_user():
    with pytest.raises(CommandError, match="no user"):
        run("sagaops_token", "ghost")
