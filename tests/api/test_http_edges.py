"""What gunicorn sees before Django: chunked bodies and over-long request lines, against a real
gunicorn serving the test database."""

import http.client
import json
import socket
import sys

import pytest

from bench.processes import ManagedProcess
from sagaops.api.services import service_account_create
from sagaops.models import Saga
from tests.conftest import OUTPUT, worker_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn(django_db_setup, django_db_blocker):
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "project.wsgi",
        "-c",
        "python:sagaops.observability.gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
    ]
    process = ManagedProcess(
        "gunicorn", cmd, log=OUTPUT / "gunicorn.log", ready_marker="Booting worker", env=worker_env()
    ).start()
    yield port
    process.stop()


def connect(port: int) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=30)


def answer(conn: http.client.HTTPConnection) -> tuple[int, str, dict]:
    response = conn.getresponse()
    return response.status, response.getheader("Content-Type"), json.loads(response.read())


def test_an_over_long_request_line_is_a_json_400(gunicorn):
    conn = connect(gunicorn)
    conn.request("GET", "/api/sagas/?q=" + "x" * 9000)

    status, content_type, body = answer(conn)

    assert (status, content_type) == (400, "application/json")
    assert "Request Line is too large" in body["error"]


@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_is_read_not_taken_as_empty(gunicorn):
    account, token = service_account_create(name="shop")
    body = json.dumps({"type": "test.flow", "payload": {"n": 7}}).encode()
    conn = connect(gunicorn)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    conn.request("POST", "/api/sagas/", body=iter([body[:10], body[10:]]), headers=headers, encode_chunked=True)
    status, _, answered = answer(conn)

    assert status == 201, answered
    assert Saga.objects.get(pk=answered["id"]).context == {"payload": {"n": 7}}


@pytest.mark.django_db(transaction=True)
def test_an_oversized_chunked_body_is_a_json_413_and_writes_nothing(gunicorn, settings):
    _, token = service_account_create(name="shop")
    big = json.dumps({"type": "test.flow", "payload": {"blob": "x" * (300 * 1024)}}).encode()
    conn = connect(gunicorn)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    conn.request("POST", "/api/sagas/", body=iter([big]), headers=headers, encode_chunked=True)
    status, content_type, answered = answer(conn)

    assert (status, content_type) == (413, "application/json")
    assert "limit" in answered["error"]
    assert not Saga.objects.exists()
