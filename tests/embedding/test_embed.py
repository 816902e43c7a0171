"""sagaops adopted by a fresh `django-admin startproject`, installed from this checkout into a
fresh virtualenv, with the lines of docs/EMBEDDING.md: a saga whose local step writes a host
model runs through a real Celery worker, to completion and through its compensation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from tests.embedding import host_files

ROOT = Path(__file__).resolve().parents[2]
# Wheels pip downloaded or built stay here between runs: a rerun installs without the network.
PIP_CACHE = ROOT / ".pytest_cache" / "embedding-pip"
SLOT = int(os.environ.get("SAGAOPS_TEST_SLOT", "0"))
DATABASE = f"sagaops_embed_slot{SLOT}"


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode:
        raise AssertionError(f"{' '.join(map(str, cmd))} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _fresh_database() -> None:
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    """The host project, migrated, with one worker running; yields (project dir, env, python)."""
    base = tmp_path_factory.mktemp("embed")
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", str(base)), "PIP_CACHE_DIR": str(PIP_CACHE)}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=base, env=env)
    python = str(venv / "bin" / "python")
    _run([python, "-m", "pip", "install", "--quiet", str(ROOT)], cwd=base, env=env, timeout=600)

    site = base / "site"
    site.mkdir()
    _run([str(venv / "bin" / "django-admin"), "startproject", "host", str(site)], cwd=base, env=env)
    settings = site / "host" / "settings.py"
    settings.write_text(
        settings.read_text()
        + host_files.SETTINGS.format(
            database=DATABASE, redis_url=os.environ["REDIS_URL"], broker_url=os.environ["CELERY_BROKER_URL"]
        )
    )
    (site / "host" / "celery.py").write_text(host_files.CELERY)
    (site / "host" / "__init__.py").write_text(host_files.INIT)
    (site / "host" / "urls.py").write_text(host_files.URLS)
    shop = site / "shop"
    shop.mkdir()
    (shop / "__init__.py").write_text("")
    (shop / "models.py").write_text(host_files.MODELS)
    (shop / "sagas.py").write_text(host_files.SAGAS)
    (site / "run_saga.py").write_text(host_files.RUN)

    _fresh_database()
    _run([python, "manage.py", "makemigrations", "shop"], cwd=site, env=env)
    _run([python, "manage.py", "migrate", "--noinput"], cwd=site, env=env)
    _run([python, "manage.py", "check"], cwd=site, env=env)

    log = (base / "worker.log").open("w")
    worker = subprocess.Popen(
        [str(venv / "bin" / "celery"), "-A", "host", "worker", "--pool", "solo", "--loglevel", "INFO"],
        cwd=site,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        ready = time.monotonic() + 60
        while "ready." not in (base / "worker.log").read_text():
            if worker.poll() is not None or time.monotonic() > ready:
                raise AssertionError("the host's worker did not start:\n" + (base / "worker.log").read_text())
            time.sleep(0.2)
        yield site, env, python, base / "worker.log"
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()


def _saga(host, mode: str) -> dict:
    site, env, python, log = host
    out = _run([python, "run_saga.py", mode], cwd=site, env=env, timeout=120)
    return json.loads(out.strip().splitlines()[-1])


def test_the_saga_completes_and_its_local_step_wrote_the_host_row(host):
    assert _saga(host, "pay") == {"saga": "completed", "booking": "paid"}


def test_a_declined_payment_compensates_and_voids_the_host_row(host):
    assert _saga(host, "decline") == {"saga": "compensated", "booking": "void"}


def test_the_api_is_mounted_under_the_hosts_prefix_and_refuses_anonymous_callers(host):
    site, env, python, _ = host
    probe = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'host.settings'); django.setup();"
        "from django.test.utils import setup_test_environment; setup_test_environment();"
        "from django.test import Client; c = Client();"
        "print(c.get('/ops/api/sagas/').status_code, c.get('/ops/api/nowhere/').status_code)"
    )
    anonymous, unknown = _run([python, "-c", probe], cwd=site, env=env).split()
    assert anonymous in ("401", "403") and unknown == "404"
