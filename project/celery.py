"""This repository's Celery app (`celery -A project worker|beat`): workers execute saga steps,
beat ticks the timers."""

import os

from celery import Celery
from celery.signals import setup_logging

import sagaops.celery
from sagaops.observability.logging import configure_celery_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sagaops.settings")

app = Celery("sagaops")
app.config_from_object("django.conf:settings", namespace="CELERY")
sagaops.celery.configure(app)
app.autodiscover_tasks()

# This project's workers and beat log through settings.LOGGING: lines carry the saga's ids.
setup_logging.connect(configure_celery_logging, weak=False)
