"""`sagaops_bench` from start to end: what runs in which order, and what is printed."""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from bench import fanout, peer, remote, runner
from bench.peer import PeerResult
from bench.remote import RemoteResult
from bench.runner import CHAIN, ENGINE, MirrorCost, Phases, Run, Sample, Worker
from bench.stats import per, ratio, verdict
from sagaops.redis import get_redis

STEPS = runner.STEPS
WARMUP = 100
TARGET_RATIO = 1.5
TARGET_PEER_RATIO = 3.0
TARGET_QUERIES = 4
TARGET_COMMITS = 1
TARGET_REDIS = 5
TARGET_P99_MS = 50
TARGET_MIRROR_BYTES = 1024
TARGET_IN_FLIGHT = 500
TARGET_REMOTE_SHARE = 0.8

Write = Callable[[str], None]


def run_benchmark(*, sagas: int, rate_seconds: float, sample: int, concurrency: int, profile: bool, write: Write):
    runner.check_isolated()
    write_machine(write, concurrency)
    runner.reset()
    measured = runner.sample_in_process(sample, runner.now_label("sample"))
    write_sample(write, measured)
    if profile:
        write("\npyinstrument profile of the in-process sample (start + advance):")
        write(runner.profile_in_process(sample, runner.now_label("profile")))
    runner.reset()  # the sample's advance tasks must not reach the worker
    worker = Worker(concurrency)
    try:
        worker.start()
        runner.burst(ENGINE, worker, WARMUP, runner.now_label("warm"))
        runner.burst(CHAIN, worker, WARMUP, runner.now_label("warm"))
        engine = runner.burst(ENGINE, worker, sagas, runner.now_label("engine"))
        chain = runner.burst(CHAIN, worker, sagas, runner.now_label("chain"))
        write_throughput(write, engine, chain, concurrency)
        engine_drain = runner.drain(ENGINE, worker, sagas, runner.now_label("drain"))
        chain_drain = runner.drain(CHAIN, worker, sagas, runner.now_label("drain"))
        write_drain(write, engine_drain, chain_drain)
        cost = runner.mirror_cost(engine)
        write_mirror(write, cost)
        arrival = engine.throughput / 2
        paced_engine = runner.paced(ENGINE, worker, arrival, rate_seconds, runner.now_label("paced"))
        paced_chain = runner.paced(CHAIN, worker, arrival, rate_seconds, runner.now_label("paced"))
        write_paced(write, arrival, rate_seconds, paced_engine, paced_chain, runner.engine_phases(paced_engine))
        fanout.fanout_report(worker, write, concurrency)  # Parallel groups: bench/fanout.py
    finally:
        worker.stop()
    write_cost(write, measured, engine_drain, chain_drain)
    dbos = peer.run_dbos(sagas)
    write_peer(write, dbos, engine, engine_drain)
    remote_result = remote.run_remote(sagas)
    write_remote(write, remote_result)
    write_targets(
        write,
        measured,
        Pair(engine, chain),
        Pair(engine_drain, chain_drain),
        dbos,
        cost,
        paced_engine,
        remote_result,
    )


@dataclass(frozen=True)
class Pair:
    engine: Run
    other: Run

    @property
    def ratio(self) -> float:
        return ratio(self.engine.throughput, self.other.throughput)


def write_machine(write: Write, concurrency: int) -> None:
    pg = connection.pg_version
    redis_version = get_redis().info("server").get("redis_version", "?")
    write("sagaops benchmark: 4 trivial local steps, the engine (durable) against a bare Celery chain")
    write(
        f"machine: {os.cpu_count()} CPUs ({_proc_value('/proc/cpuinfo', 'model name')}), "
        f"memory {_proc_value('/proc/meminfo', 'MemTotal')}, Python {platform.python_version()}, "
        f"PostgreSQL {pg // 10000}.{pg % 10000}, Redis {redis_version}"
    )
    write(
        f"worker: one `celery worker --concurrency {concurrency}` (prefork, acks late, prefetch 1); "
        f"database {settings.DATABASES['default']['NAME']}, mirror {settings.REDIS_URL}, "
        f"broker {settings.CELERY_BROKER_URL}"
    )


def _proc_value(path: str, name: str) -> str:
    """The first `name: value` line of a /proc file."""
    try:
        with open(path) as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith(name)), "?")
    except OSError:
        return "?"


def _redis(counts) -> int:
    return sum(counts.redis_commands.values())


def write_sample(write: Write, s: Sample) -> None:
    steps = s.sagas * STEPS
    broker = runner.redis_db(settings.CELERY_BROKER_URL)
    rows = [
        ("SQL statements", s.start.queries, s.advance.queries),
        ("commits", s.start.commits, s.advance.commits),
        ("DB round trips (+BEGIN, COMMIT)", s.start.db_round_trips, s.advance.db_round_trips),
        ("Redis commands", _redis(s.start), _redis(s.advance)),
        ("  of them to the broker", s.start.redis_commands[broker], s.advance.redis_commands[broker]),
        ("Redis round trips", s.start.redis_round_trips, s.advance.redis_round_trips),
        ("CPU ms (this process)", s.start_cpu * 1000, s.advance_cpu * 1000),
    ]
    write(f"\nin-process sample: {s.sagas} sagas started and advanced in this process (no worker)")
    write(f"  {'':32}{'start/saga':>12}{'advance/step':>14}{'per step incl. start':>22}")
    for name, start, advance in rows:
        write(f"  {name:32}{per(start, s.sagas):12.2f}{per(advance, steps):14.2f}{per(start + advance, steps):22.2f}")


def write_throughput(write: Write, engine: Run, chain: Run, concurrency: int) -> None:
    write(
        f"\nthroughput: {len(engine.submitted)} of each submitted by {runner.SUBMITTERS} threads as fast as they "
        f"can, 1 worker x {concurrency} processes"
    )
    write(f"  {'':20}{'sagas/s':>9}   end-to-end latency (submit -> last step done){'worker CPU ms/step':>30}")
    for name, run in (("engine (durable)", engine), ("bare Celery chain", chain)):
        cpu = per(run.worker_cpu * 1000, len(run.finished) * STEPS)
        extra = f"   ({run.failed} not completed)" if run.failed else ""
        write(f"  {name:20}{run.throughput:9.1f}   {run.latency.line()}{cpu:12.2f}{extra}")
    write(f"  engine / chain: {ratio(engine.throughput, chain.throughput):.2f}x")


def write_drain(write: Write, engine: Run, chain: Run) -> None:
    write(f"\ndrain: {len(engine.submitted)} of each queued first, then the worker empties the backlog")
    for name, run in (("engine (durable)", engine), ("bare Celery chain", chain)):
        cpu = per(run.worker_cpu * 1000, len(run.finished) * STEPS)
        write(f"  {name:20}{run.throughput:9.1f} sagas/s   worker CPU {cpu:.2f} ms/step")
    write(f"  engine / chain: {ratio(engine.throughput, chain.throughput):.2f}x")


def write_mirror(write: Write, cost: MirrorCost) -> None:
    write(
        f"\nmirror (MEMORY USAGE, {cost.sagas} finished sagas): {cost.per_saga:.0f} B per saga "
        f"(hash {cost.hash_bytes:.0f} B + log {cost.log_bytes:.0f} B); TTL {cost.ttl_min}..{cost.ttl_max} s "
        f"(SAGAOPS_MIRROR_TTL={settings.SAGAOPS_MIRROR_TTL})"
    )


def write_paced(write: Write, arrival: float, seconds: float, engine: Run, chain: Run, phases: Phases) -> None:
    write(f"\npaced: {arrival:.1f} arrivals/s (half the engine's maximum) for {seconds:.0f} s each")
    write("  from each arrival's scheduled time (a late submitter counts):")
    for name, run in (("engine (durable)", engine), ("bare Celery chain", chain)):
        write(f"  {name:20}{len(run.finished):6d} done   {run.latency.line()}")
    write("  from when the submitter began each one (its own lag apart):")
    for name, run in (("engine (durable)", engine), ("bare Celery chain", chain)):
        lag = run.lag
        write(
            f"  {name:20}{'':11}{run.latency_from_sent.line()}   submitter lag p99 {lag.p99:.0f}, max {lag.max:.0f} ms"
        )
    write("  where the engine's time went (ms):")
    for name, part in (
        ("submitter lag", phases.lag),
        ("start call (commit, enqueue)", phases.start),
        ("queue -> first claim", phases.to_claim),
        ("first claim -> done", phases.running),
    ):
        write(f"    {name:30}{part.line()}")


def write_cost(write: Write, s: Sample, drained: Run, chain: Run) -> None:
    broker = runner.redis_db(settings.CELERY_BROKER_URL)
    total = s.start + s.advance
    rows = [
        ("worker CPU ms (drain, all processes)", per(drained.worker_cpu * 1000, len(drained.finished))),
        ("PostgreSQL CPU ms (drain, server-wide)", per(drained.servers_cpu["postgres"] * 1000, len(drained.finished))),
        ("Redis CPU ms (drain, server-wide)", per(drained.servers_cpu["redis-server"] * 1000, len(drained.finished))),
        ("caller CPU ms (the start)", per(s.start_cpu * 1000, s.sagas)),
        ("commits", per(total.commits, s.sagas)),
        ("SQL statements", per(total.queries, s.sagas)),
        ("DB round trips (+BEGIN, COMMIT, SAVEPOINT)", per(total.db_round_trips, s.sagas)),
        ("Redis commands", per(_redis(total), s.sagas)),
        ("  of them to the broker", per(total.redis_commands[broker], s.sagas)),
        ("WAL bytes (pg_current_wal_lsn, server-wide)", per(s.wal_bytes, s.sagas)),
    ]
    write(f"\ncost per saga of {STEPS} local steps (in-process sample of {s.sagas}; worker CPU from the drain)")
    for name, value in rows:
        write(f"  {name:46}{value:10.2f}")
    write(f"  the machine's CPU ms per saga in the drain (worker + PostgreSQL + Redis; {os.cpu_count()} CPUs):")
    for name, run in (("engine (durable)", drained), ("bare Celery chain", chain)):
        used = run.worker_cpu + sum(run.servers_cpu.values())
        write(f"    {name:44}{per(used * 1000, len(run.finished)):10.2f}")


def write_peer(write: Write, dbos: PeerResult, engine: Run, drained: Run) -> None:
    write("\nDBOS (the same four steps as a DBOS workflow, its own database, one process)")
    if dbos.skipped:
        write(f"  skipped: {dbos.skipped}")
        return
    write(f"  submitted by 4 threads while it runs  {dbos.submit:9.1f} workflows/s")
    write(f"  engine / DBOS: {ratio(engine.throughput, dbos.submit):.2f}x")
    write(f"  draining a queued backlog             {dbos.drain:9.1f} workflows/s")
    write(f"  engine / DBOS: {ratio(drained.throughput, dbos.drain):.2f}x")


def write_remote(write: Write, r: RemoteResult) -> None:
    write(
        f"\nremote steps: {remote.STEPS} calls to a local HTTP participant, one `celery worker --pool {remote.POOL} "
        f"--concurrency {remote.THREADS}` (SAGAOPS_DB_POOL={remote.DB_CONNECTIONS}); each a drain of "
        f"{len(r.engine.submitted)} sagas"
    )
    rows = (
        ("engine, participant answers at once (CPU-bound)", r.cpu_bound),
        (f"engine, participant answers after {remote.LATENCY * 1000:.0f} ms", r.engine),
        (f"bare chain, after {remote.LATENCY * 1000:.0f} ms", r.chain),
    )
    for name, run in rows:
        cpu = per(run.worker_cpu * 1000, len(run.finished) * remote.STEPS)
        write(f"  {name:50}{r.steps_per_second(run):8.1f} steps/s   worker CPU {cpu:.2f} ms/step")
    write(f"  engine / chain: {ratio(r.engine.throughput, r.chain.throughput):.2f}x")
    write(
        f"  calls held open at once: {r.in_flight} (participant answering after {remote.PROBE_LATENCY:.0f} s, "
        f"{remote.THREADS} sagas); repeated keys at 50 ms: {r.duplicates}"
    )


def write_targets(
    write: Write,
    s: Sample,
    submitted: Pair,
    drained: Pair,
    dbos: PeerResult,
    cost: MirrorCost,
    paced: Run,
    r: RemoteResult,
) -> None:
    steps = s.sagas * STEPS
    queries = per(s.start.queries + s.advance.queries, steps)
    commits = per(s.advance.commits, steps)
    commands = per(_redis(s.start) + _redis(s.advance), steps)
    p99 = paced.latency_from_sent.p99
    remote_rate, expected = r.steps_per_second(r.engine), r.expected
    checks = [
        (
            f"engine/chain >= {TARGET_RATIO}x (submit while running)",
            f"{submitted.ratio:.2f}x",
            submitted.ratio >= TARGET_RATIO,
        ),
        (f"engine/chain >= {TARGET_RATIO}x (drain a backlog)", f"{drained.ratio:.2f}x", drained.ratio >= TARGET_RATIO),
    ]
    if not dbos.skipped:
        by_submit = ratio(submitted.engine.throughput, dbos.submit)
        by_drain = ratio(drained.engine.throughput, dbos.drain)
        checks += [
            (
                f"engine/DBOS >= {TARGET_PEER_RATIO}x (submit while running)",
                f"{by_submit:.2f}x",
                by_submit >= TARGET_PEER_RATIO,
            ),
            (
                f"engine/DBOS >= {TARGET_PEER_RATIO}x (drain a backlog)",
                f"{by_drain:.2f}x",
                by_drain >= TARGET_PEER_RATIO,
            ),
        ]
    checks += [
        (f"p99 at half the maximum rate <= {TARGET_P99_MS} ms (lag apart)", f"{p99:.1f} ms", p99 <= TARGET_P99_MS),
        (
            f"remote calls in flight on one worker >= {TARGET_IN_FLIGHT}",
            f"{r.in_flight}",
            r.in_flight >= TARGET_IN_FLIGHT,
        ),
        (
            f"remote steps/s >= {TARGET_REMOTE_SHARE:.0%} of {expected:.0f}",
            f"{remote_rate:.0f}/s",
            remote_rate >= TARGET_REMOTE_SHARE * expected,
        ),
        (f"SQL queries per step <= {TARGET_QUERIES} (start included)", f"{queries:.2f}", queries <= TARGET_QUERIES),
        (f"commits per local step <= {TARGET_COMMITS}", f"{commits:.2f}", commits <= TARGET_COMMITS),
        (f"Redis commands per step <= {TARGET_REDIS} (start included)", f"{commands:.2f}", commands <= TARGET_REDIS),
        (f"mirror <= {TARGET_MIRROR_BYTES} B per saga", f"{cost.per_saga:.0f} B", cost.per_saga <= TARGET_MIRROR_BYTES),
        ("finished saga's mirror expires", f"TTL {cost.ttl_max} s", cost.expiring),
    ]
    write("\ntargets")
    for name, value, ok in checks:
        write(f"  {name:52}{value:>12}   {verdict(ok)}")
