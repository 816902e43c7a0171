import time

import pytest

from orders.invariants import Ledger, check_invariants
from sagaops.models import SagaStep
from sagaops.selectors import saga_problems
from tests.conftest import other_workers_paused, start_worker


@pytest.fixture
def workers():
    """Start workers of the test's own (killed, restarted) and stop whatever is left at the end."""
    started = []

    def start(name, **env):
        env.setdefault("SAGAOPS_CHECKOUT_STEP_TIMEOUT", "4")
        worker = start_worker(name, **env)
        started.append(worker)
        return worker

    with other_workers_paused():
        yield start
        for worker in started:
            worker.stop()


def wait_for_step(saga_id, name, statuses, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if SagaStep.objects.filter(saga_id=saga_id, name=name, status__in=statuses).exists():
            return
        time.sleep(0.05)
    raise AssertionError(f"step {name} of saga {saga_id} never reached {statuses}")


@pytest.fixture
def ledger(catalog):
    """Money and stock before the test; the test asserts `check()` is empty at its end."""
    before = Ledger.take()

    class Check:
        @staticmethod
        def problems(require_settled=True):
            return check_invariants(before) + saga_problems(require_settled=require_settled)

    return Check
