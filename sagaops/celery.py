"""The Celery application: workers execute saga steps, beat ticks the timers."""

import os

from celery import Celery
from celery.signals import setup_logging

from sagaops.console import heartbeat
from sagaops.observability.logging import configure_celery_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sagaops.settings")

app = Celery("sagaops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Workers and beat log through settings.LOGGING: lines carry the saga's ids, JSON with LOG_FORMAT=json.
setup_logging.connect(configure_celery_logging, weak=False)
# Workers announce themselves (and beat's tasks their last run) for the console's health panel.
heartbeat.connect()
