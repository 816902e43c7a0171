"""The 10-way fan-out's throughput, printed by `make bench` (bench/report.py calls it).

Bursts of `bench.fanout10` sagas (a local step, a Parallel group of ten trivial local branches,
a local step) through the benchmark's worker: every branch is a task of its own, claimed under
the saga's fence and checkpointed under the step's, and each branch outcome enqueues the join.
"""

from __future__ import annotations

from collections.abc import Callable

from bench import flows, runner
from bench.runner import Kind, Run, Worker
from bench.stats import rate
from sagaops.services import saga_start

FANOUT_SAGAS = 200
WARMUP = 20


def submit_fanout(label: str, i: int) -> str:
    saga, _ = saga_start(saga_type=flows.FANOUT, payload={"i": i}, correlation_id=label)
    return str(saga.pk)


FANOUT = Kind("fan-out", submit_fanout, runner.engine_done, runner.collect_engine)


def fanout_burst(worker: Worker, count: int = FANOUT_SAGAS) -> Run:
    runner.burst(FANOUT, worker, WARMUP, runner.now_label("fanout-warm"))
    return runner.burst(FANOUT, worker, count, runner.now_label("fanout"))


def write_fanout(write: Callable[[str], None], run: Run, concurrency: int) -> None:
    count = len(run.finished)
    write(
        f"\n10-way fan-out ({flows.FANOUT}: local step, Parallel group of {flows.FANOUT_WIDTH} local branches, "
        f"local step), burst of {count + run.failed} through `--concurrency {concurrency}`:"
    )
    branch_steps = count * flows.FANOUT_WIDTH
    write(
        f"  {run.throughput:7.1f} sagas/s   {rate(branch_steps, run.elapsed):7.1f} branch steps/s   failed {run.failed}"
    )
    write(f"  latency  {run.latency.line()}")


def fanout_report(worker: Worker, write: Callable[[str], None], concurrency: int) -> Run:
    run = fanout_burst(worker)
    write_fanout(write, run, concurrency)
    return run
