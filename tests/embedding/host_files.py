"""The files a host project adds to adopt sagaops: the same lines as docs/EMBEDDING.md."""

SETTINGS = """
# --- sagaops (docs/EMBEDDING.md) ---
INSTALLED_APPS = [
    "sagaops",  # before django.contrib.admin: the console's admin templates
    *INSTALLED_APPS,
    "rest_framework",
    "knox",
    "sagaops.observability",
    "sagaops.choreography",
    "shop",
]
DATABASES = {{"default": {{"ENGINE": "django.db.backends.postgresql", "NAME": "{database}",
                          "USER": "postgres", "HOST": "127.0.0.1", "PORT": 5432}}}}
SAGAOPS_REDIS_URL = "{redis_url}"
CELERY_BROKER_URL = "{broker_url}"
LOGGING = {{}}
"""

CELERY = """
import os

from celery import Celery

import sagaops.celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "host.settings")

app = Celery("host")
app.config_from_object("django.conf:settings", namespace="CELERY")
sagaops.celery.configure(app)
app.autodiscover_tasks()
"""

INIT = 'from host.celery import app as celery_app\n\n__all__ = ["celery_app"]\n'

URLS = """
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("ops/", include("sagaops.urls")),
]
"""

MODELS = """
from django.db import models


class Booking(models.Model):
    reference = models.CharField(max_length=100, unique=True)
    status = models.CharField(max_length=20, default="held")
"""

SAGAS = '''
from shop.models import Booking
from sagaops.definitions import RetryPolicy, SagaDefinition, Step, StepContext, register


class Declined(Exception):
    """The card was declined: a business refusal, never retried."""


def hold(ctx: StepContext) -> dict:
    booking = Booking.objects.create(reference=ctx.action_key)
    return {"booking": booking.pk}


def void(ctx: StepContext) -> None:
    Booking.objects.filter(reference=ctx.action_key).update(status="void")


def pay(ctx: StepContext) -> dict:
    if ctx.payload.get("decline"):
        raise Declined("card declined")
    Booking.objects.filter(pk=ctx.results["hold"]["booking"]).update(status="paid")
    return {"paid": True}


register(SagaDefinition(
    name="shop.book", version=1,
    steps=[
        Step("hold", hold, compensation=void),
        Step("pay", pay, retry=RetryPolicy(max_attempts=1, non_retryable=(Declined,))),
    ],
))
'''

RUN = """
import json
import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "host.settings")
django.setup()

from sagaops.models import Saga  # noqa: E402
from sagaops.services import saga_start  # noqa: E402
from shop.models import Booking  # noqa: E402

saga, _ = saga_start(saga_type="shop.book", payload={"decline": sys.argv[1] == "decline"})
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    saga.refresh_from_db()
    if saga.status in ("completed", "compensated", "stuck"):
        break
    time.sleep(0.2)
booking = Booking.objects.get(reference=f"{saga.pk}:hold")
print(json.dumps({"saga": saga.status, "booking": booking.status}))
"""
