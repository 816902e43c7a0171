"""Settings for the test suite and the worker processes it starts: own Redis databases."""

import os

os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")

from sagaops.settings import *  # noqa: E402,F403

SAGAOPS_FAULTS_FROM_REDIS = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SAGAOPS_SAGA_MODULES = ["tests.sagas"]
