"""Interrupt a step that runs past its timeout.

Celery's prefork workers run each task in the main thread of a child process, where SIGALRM
can interrupt a hanging call. Elsewhere (threads) the step's lease is the only timeout.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

from sagaops.exceptions import StepTimeout


@contextmanager
def step_timeout(step: str, seconds: float):
    if threading.current_thread() is not threading.main_thread() or seconds <= 0:
        yield
        return

    def expire(signum, frame):
        raise StepTimeout(step, seconds)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
