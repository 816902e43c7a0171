"""gunicorn settings hook (`gunicorn -c python:sagaops.observability.gunicorn ...`).

Runs in the gunicorn master (no Django there): it shares the metric directory with its workers
and marks an exited worker dead for prometheus_client's multiprocess mode.
"""

import os

import gunicorn.util

from sagaops.http_edges import json_write_error
from sagaops.observability import DEFAULT_MULTIPROC_DIR

# gunicorn's own refusals (a request line or header too long or malformed) answer in JSON like
# the API, not with an HTML page. Only the function is swapped; gunicorn still decides when.
gunicorn.util.write_error = json_write_error

os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", DEFAULT_MULTIPROC_DIR)
os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
