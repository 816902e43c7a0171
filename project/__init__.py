"""This repository's project wiring around the sagaops app: URLs, the Celery app, WSGI, the admin
site's titles. An installed app (the first), so that Django loading it prepares every process:
the metrics directory exists before any metric is created, and the Celery app is the current one."""

import os

# Every process of a host writes its metrics there (prometheus_client multiprocess mode).
os.makedirs(os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", "/tmp/sagaops-prometheus"), exist_ok=True)

from project.celery import app as celery_app  # noqa: E402

__all__ = ["celery_app"]
