"""The Celery application: workers execute saga steps, beat ticks the timers."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sagaops.settings")

app = Celery("sagaops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
