"""Celery entry points: ids in, call a service, nothing else."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from sagaops import dispatch
from sagaops.conf import conf
from sagaops.publishing import pipelined_publish
from sagaops.retention import retention_prune
from sagaops.services.branches import branch_run
from sagaops.services.bulk import bulk_tick as bulk_tick_run
from sagaops.services.bulk import bulks_kick
from sagaops.services.children import child_finished as child_finished_answer
from sagaops.services.executor import saga_advance
from sagaops.services.holds import hold_release_tick, holds_kick
from sagaops.services.timers import mirrors_heal, timers_drain, timers_reconcile

# The timer tasks have a queue of their own (settings.CELERY_TASK_ROUTES): a backlog of advances
# never delays the tick that turns due timers into advances.
TIMERS_QUEUE = "sagaops.timers"


# A lost database connection mid-step rolls the step back; try again shortly on a fresh one.
@shared_task(
    name=dispatch.ADVANCE,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=1,
    retry_backoff_max=10,
    max_retries=8,
)
def advance(saga_id: str) -> None:
    saga_advance(saga_id=saga_id)


# One branch step of a Parallel group (or its compensation), claimed by the executor beforehand.
@shared_task(
    name="sagaops.tasks.run_branch",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=1,
    retry_backoff_max=10,
    max_retries=8,
)
def run_branch(saga_id: str, index: int, attempt: int, compensating: bool) -> None:
    branch_run(saga_id=saga_id, index=index, attempt=attempt, compensating=compensating)


# A child saga ended: answer its parent's ChildSaga step with the outcome.
@shared_task(name="sagaops.tasks.child_finished", autoretry_for=(OperationalError, InterfaceError), max_retries=8)
def child_finished(child_id: str) -> str:
    return child_finished_answer(child_id=child_id)


def advances_enqueue(saga_ids: list[str]) -> None:
    """Send one advance per saga, the whole batch over one producer in one pipelined round trip."""
    with advance.app.producer_or_acquire() as producer, pipelined_publish(producer):
        for saga_id in saga_ids:
            advance.apply_async((saga_id,), producer=producer)


@shared_task(name=dispatch.TICK)
def tick() -> int:
    return timers_drain(enqueue=advances_enqueue, on_backlog=_tick_helper)


def _tick_helper() -> None:
    """A backlog: one more tick drains beside this one, on the next free worker process."""
    tick.apply_async(expires=conf.SAGAOPS_TICK_BUDGET)


@shared_task(name=dispatch.RECONCILE)
def reconcile() -> int:
    healed = mirrors_heal()
    return timers_reconcile() + healed


@shared_task(name=dispatch.PRUNE)
def prune() -> int:
    return retention_prune().total


@shared_task(name=dispatch.RELEASE_HOLD, autoretry_for=(OperationalError, InterfaceError), max_retries=8)
def release_hold(hold_id: int, tick: int) -> bool:
    return hold_release_tick(hold_id=hold_id, tick=tick)


@shared_task(name=dispatch.KICK_HOLDS)
def kick_holds() -> int:
    return holds_kick()


@shared_task(name=dispatch.BULK_TICK, autoretry_for=(OperationalError, InterfaceError), max_retries=8)
def bulk_tick(bulk_id: str, tick: int) -> bool:
    return bulk_tick_run(bulk_id=bulk_id, tick=tick)


@shared_task(name=dispatch.KICK_BULKS)
def kick_bulks() -> int:
    return bulks_kick()
