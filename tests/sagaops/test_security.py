"""Production settings, secrets, console login and CSRF."""

import os
import secrets
import subprocess
import sys

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import ROOT

WRONG_LOGIN = "Please enter the correct username and password"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # The browser tests allow sync ORM calls from Playwright's event loop in this process only.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {**inherited, "DJANGO_SETTINGS_MODULE": "sagaops.settings", **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )


def test_check_deploy_is_clean_under_production_settings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="sagaops.example.com",
        SAGAOPS_METRICS_TOKEN=secrets.token_urlsafe(20),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_warns_when_metrics_have_no_token():
    result = manage(
        "check",
        "--deploy",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="sagaops.example.com",
        SAGAOPS_METRICS_TOKEN="",
    )
    assert "sagaops.W001" in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_from_the_environment():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**env, "DJANGO_SETTINGS_MODULE": "sagaops.settings", "DJANGO_DEBUG": "0"},
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "sagaops: DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off"


@pytest.fixture
def operator(db):
    return User.objects.create_user("oper", password="right-password", is_staff=True)


def login(client, username, password):
    return client.post("/admin/login/", {"username": username, "password": password, "next": "/admin/"})


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(operator):
    wrong_password = login(Client(), "oper", "nope")
    unknown_user = login(Client(), "nobody", "nope")
    assert wrong_password.status_code == unknown_user.status_code == 200
    assert WRONG_LOGIN in wrong_password.text and WRONG_LOGIN in unknown_user.text
    assert "oper" not in wrong_password.text.replace('value="oper"', "")  # echoes the form, no more


@pytest.fixture
def limit_3(settings):
    settings.AXES_FAILURE_LIMIT = 3


@pytest.mark.usefixtures("limit_3")
def test_repeated_failures_are_throttled_even_with_the_right_password(operator):
    client = Client()
    for _ in range(2):
        assert login(client, "oper", "nope").status_code == 200
    assert login(client, "oper", "nope").status_code == 429  # the limit-th failure locks
    refused = login(client, "oper", "right-password")
    assert refused.status_code == 429
    assert "Too many failed logins" in refused.text


@pytest.mark.usefixtures("limit_3")
def test_padding_or_case_does_not_start_a_fresh_count(operator):
    client = Client()
    for variant in (" oper", "oper "):
        assert login(client, variant, "nope").status_code == 200
    assert login(client, "OPER", "nope").status_code == 429

    assert login(client, "oper", "right-password").status_code == 429
    assert login(client, " oper ", "right-password").status_code == 429


@pytest.mark.usefixtures("limit_3")
def test_failures_for_some_usernames_do_not_lock_out_another_user_on_the_same_address(operator):
    client = Client()
    for name in ("alice", "bob", "carol", "dave", "erin"):
        login(client, name, "nope")
    for _ in range(3):
        login(client, "mallory", "nope")

    assert login(Client(), "oper", "right-password").status_code == 302


@pytest.mark.usefixtures("limit_3")
def test_a_locked_username_can_still_log_in_from_another_address(operator):
    for _ in range(3):
        login(Client(REMOTE_ADDR="10.0.0.9"), "oper", "nope")

    assert login(Client(REMOTE_ADDR="10.0.0.9"), "oper", "right-password").status_code == 429
    assert login(Client(REMOTE_ADDR="10.0.0.10"), "oper", "right-password").status_code == 302


def test_console_pages_carry_a_content_security_policy(operator, client):
    client.force_login(operator)

    policy = client.get("/admin/")["Content-Security-Policy"]

    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]


def test_a_console_session_lasts_hours_not_weeks(operator, client):
    client.force_login(operator)
    client.get("/admin/")

    assert client.session.get_expiry_age() == 8 * 3600


def test_a_good_login_still_works_below_the_limit(operator):
    client = Client()
    login(client, "oper", "nope")
    assert login(client, "oper", "right-password").status_code == 302


def test_the_console_requires_a_csrf_token(operator):
    client = Client(enforce_csrf_checks=True)
    assert login(client, "oper", "right-password").status_code == 403
