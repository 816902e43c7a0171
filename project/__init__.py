"""This repository's project wiring around the sagaops app: URLs, the Celery app, WSGI."""
