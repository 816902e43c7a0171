"""Settings for the test suite and the worker processes it starts: own Redis databases.

SAGAOPS_TEST_SLOT (0-4) gives parallel test runs on one machine their own test database and
Redis databases (15..6), so they do not trample each other; `make bench` uses Redis 5 and 4,
`make soak` 3 and 2, and development 1 and 0.
"""

import os

_slot = int(os.environ.get("SAGAOPS_TEST_SLOT", "0"))
if not 0 <= _slot <= 4:
    raise ValueError(f"SAGAOPS_TEST_SLOT must be 0 to 4, not {_slot}")
os.environ.setdefault("REDIS_URL", f"redis://127.0.0.1:6379/{15 - 2 * _slot}")
os.environ.setdefault("CELERY_BROKER_URL", f"redis://127.0.0.1:6379/{14 - 2 * _slot}")
# A killed worker's embedded beat may hold the leader lease: let another take over quickly.
os.environ.setdefault("SAGAOPS_BEAT_LEASE_SECONDS", "2")
if _slot:
    os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/sagaops_slot{_slot}")
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    # The first process of a test run (workers inherit the variable): fresh metric files per slot.
    import shutil

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = f"/tmp/sagaops-prometheus-test-slot{_slot}"
    shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)

from sagaops.settings import *  # noqa: E402,F403

SAGAOPS_FAULTS_FROM_REDIS = True
SAGAOPS_SAGA_MODULES = ["tests.sagas"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# WhiteNoise warns about a missing STATIC_ROOT; tests serve static files through the finders.
STATIC_ROOT = BASE_DIR / "test-output" / "static"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True
SAGAOPS_START_GRACE = 3
# The alert tests' webhook receiver listens on loopback.
SAGAOPS_ALERT_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
SAGAOPS_WORKER_HEARTBEAT = 1.0  # the console health tests wait for a heartbeat
