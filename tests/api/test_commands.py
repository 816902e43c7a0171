"""manage.py sagaops_service / sagaops_token: tokens shown once, hashed at rest, limits kept."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone
from knox.models import AuthToken

from sagaops.models import ServiceAccount
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue().strip()


def token_of(*args) -> str:
    return run(*args)[0]


def test_sagaops_service_creates_an_account_and_prints_its_token_once():
    token = token_of("sagaops_service", "warehouse", "--types", "test.async", "--steps", "test.async:wait")

    account = ServiceAccount.objects.get(name="warehouse")
    assert (account.saga_types, account.steps) == (["test.async"], ["test.async:wait"])
    assert token_client(token).get("/api/sagas/").status_code == 200
    # At rest only a digest: the token itself is nowhere in the table.
    stored = AuthToken.objects.get(user=account.user)
    assert token not in (stored.digest, stored.token_key) and len(stored.digest) == 128


def test_sagaops_service_again_prints_no_token_and_keeps_the_old_one_working():
    first = token_of("sagaops_service", "shop")

    again, said = run("sagaops_service", "shop")

    assert again == ""
    assert "token is unchanged" in said
    assert token_client(first).get("/api/sagas/").status_code == 200


def test_rotate_replaces_the_token():
    first = token_of("sagaops_service", "shop")

    second = token_of("sagaops_service", "shop", "--rotate")

    assert second and second != first
    assert token_client(first).get("/api/sagas/").status_code == 401
    assert token_client(second).get("/api/sagas/").status_code == 200


def test_rotate_or_a_rerun_keeps_the_limits_and_says_what_they_are():
    run(
        "sagaops_service",
        "warehouse",
        "--types",
        "test.async",
        "--steps",
        "test.async:wait",
        "--participant",
        "inventory",
    )

    _, said = run("sagaops_service", "warehouse", "--rotate")
    run("sagaops_service", "warehouse")

    account = ServiceAccount.objects.get(name="warehouse")
    assert (account.saga_types, account.steps) == (["test.async"], ["test.async:wait"])
    assert account.user.has_perm("inventory.add_reservation")
    assert said == (
        "service warehouse: may start test.async; may call back its own sagas and test.async:wait; "
        "participant operations inventory"
    )


def test_only_an_explicit_flag_changes_a_limit():
    run("sagaops_service", "warehouse", "--types", "test.async", "--steps", "test.async:wait")

    run("sagaops_service", "warehouse", "--types")  # given without values: no type limit any more

    account = ServiceAccount.objects.get(name="warehouse")
    assert (account.saga_types, account.steps) == ([], ["test.async:wait"])


def test_a_token_with_an_expiry_stops_working_after_it():
    token = token_of("sagaops_service", "shop", "--expires-days", "1")
    client = token_client(token)
    assert client.get("/api/sagas/").status_code == 200

    AuthToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))

    assert client.get("/api/sagas/").status_code == 401


def test_sagaops_service_revoke_deletes_the_token():
    token = token_of("sagaops_service", "shop")

    run("sagaops_service", "shop", "--revoke")

    assert not AuthToken.objects.filter(user__username="service:shop").exists()
    assert token_client(token).get("/api/sagas/").status_code == 401


def test_sagaops_service_refuses_an_unknown_type():
    with pytest.raises(CommandError, match="unknown saga type"):
        run("sagaops_service", "shop", "--types", "no.such")


def test_sagaops_service_refuses_a_bad_expiry():
    with pytest.raises(CommandError, match="--expires-days"):
        run("sagaops_service", "shop", "--expires-days", "-1")


def test_sagaops_token_issues_a_users_token_and_revokes_it():
    user = User.objects.create_user("oper")

    token = token_of("sagaops_token", "oper")
    assert token.startswith("sgo_")
    assert AuthToken.objects.filter(user=user).count() == 1

    run("sagaops_token", "oper", "--revoke")
    assert not AuthToken.objects.filter(user=user).exists()


def test_sagaops_token_refuses_an_unknown_user():
    with pytest.raises(CommandError, match="no user"):
        run("sagaops_token", "ghost")


def test_the_upgrade_keeps_old_plaintext_tokens_working_and_stores_only_their_digest():
    from importlib import import_module

    from django.apps import apps
    from django.db import connection

    migration = import_module("sagaops.migrations.0006_ownership")
    user = User.objects.create_user("service:legacy")
    old_key = "0123456789abcdef0123456789abcdef01234567"  # a DRF authtoken key
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {migration.PLAINTEXT_TABLE} (key varchar(40) PRIMARY KEY, user_id integer)")
        cursor.execute(f"INSERT INTO {migration.PLAINTEXT_TABLE} VALUES (%s, %s)", [old_key, user.pk])

    with connection.schema_editor() as editor:
        migration.hash_plaintext_tokens(apps, editor)

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {migration.PLAINTEXT_TABLE}")
        assert cursor.fetchone() == (0,)
    assert old_key not in AuthToken.objects.get(user=user).digest
    assert token_client(old_key).get("/api/sagas/").status_code == 403  # authenticated: a user without permission
