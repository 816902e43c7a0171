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
    )
    assert result.returncode == 0, result.stdout + result.stderr


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


def test_repeated_failures_are_throttled_even_with_the_right_password(operator, settings):
    settings.SAGAOPS_LOGIN_FAILURE_LIMIT = 3
    client = Client()
    for _ in range(3):
        assert login(client, "oper", "nope").status_code == 200
    refused = login(client, "oper", "right-password")
    assert refused.status_code == 429
    assert "Too many failed logins" in refused.text


def test_a_good_login_still_works_below_the_limit(operator):
    client = Client()
    login(client, "oper", "nope")
    assert login(client, "oper", "right-password").status_code == 302


def test_the_console_requires_a_csrf_token(operator):
    client = Client(enforce_csrf_checks=True)
    assert login(client, "oper", "right-password").status_code == 403
