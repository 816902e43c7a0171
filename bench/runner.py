"""The benchmark run: an in-process sample, then bursts and paced runs through a real worker.

Everything happens against the benchmark's own database and Redis databases (see `check_isolated`):
the run empties them first.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from bench import flows
from bench.probes import Counts, Probe
from bench.stats import Latency, rate
from sagaops import mirror
from sagaops.models import Saga, SagaEvent, SagaStep, SagaWake
from sagaops.redis import get_redis
from sagaops.services import saga_advance, saga_start
from sagaops.states import ACTIVE_SAGA_STATUSES, SagaStatus

STEPS = len(flows.STEP_NAMES)
ROOT = Path(settings.BASE_DIR)
LOG_DIR = ROOT / "test-output" / "bench"
DEV_REDIS_DBS = {0, 1}
POLL = 0.2
# Threads that submit sagas (or chains), as several web processes would.
SUBMITTERS = 4


class BenchError(Exception):
    pass


# --- isolation -------------------------------------------------------------------------------


def redis_db(url: str) -> int:
    path = url.rsplit("/", 1)[-1].split("?", 1)[0]
    return int(path) if path.isdigit() else 0


def check_isolated() -> None:
    """Refuse to run (the run empties its databases) anywhere but on the benchmark's own ones."""
    name = settings.DATABASES["default"]["NAME"]
    mirror_db, broker_db = redis_db(settings.REDIS_URL), redis_db(settings.CELERY_BROKER_URL)
    if "bench" not in name:
        raise BenchError(f"database {name!r} is not a benchmark database: run through `make bench`")
    if {mirror_db, broker_db} & DEV_REDIS_DBS or mirror_db == broker_db:
        raise BenchError(
            f"REDIS_URL (db {mirror_db}) and CELERY_BROKER_URL (db {broker_db}) must be two Redis "
            "databases of their own, not the development ones (0, 1): run through `make bench`"
        )


def reset() -> None:
    """Empty the benchmark's tables, mirror and broker: every run starts from the same place."""
    tables = ", ".join(m._meta.db_table for m in (SagaEvent, SagaStep, Saga, SagaWake))
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} CASCADE")
    get_redis().flushdb()
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.flushdb()
    broker.close()


# --- the worker ------------------------------------------------------------------------------


class Worker:
    """One `celery worker --concurrency 2` process on the benchmark's database and broker."""

    def __init__(self, concurrency: int, queues: str = "", pool: str = "prefork", env: dict | None = None) -> None:
        self.concurrency = concurrency
        self.queues = queues  # empty: every queue the app declares
        self.pool = pool
        self.env = env or {}
        self.name = f"bench{os.getpid()}{pool}"
        self.log = LOG_DIR / f"worker-{pool}.log"
        self.proc: subprocess.Popen | None = None
        self.node = ""

    def start(self) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        modules = [m for m in settings.SAGAOPS_SAGA_MODULES if m != flows.__name__] + [flows.__name__]
        env = {**os.environ, "SAGAOPS_SAGA_MODULES": ",".join(modules), "PYTHONUNBUFFERED": "1", **self.env}
        cmd = [sys.executable, "-m", "celery", "-A", "project", "worker", "-n", f"{self.name}@%h"]
        cmd += [f"--concurrency={self.concurrency}", f"--pool={self.pool}", "--loglevel=WARNING"]
        cmd += ["--without-mingle", "--without-gossip", "--without-heartbeat"]
        if self.queues:
            cmd += ["-Q", self.queues]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60) -> None:
        from project.celery import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"the worker exited with {self.proc.returncode}: see {self.log}")
            replies = app.control.ping(timeout=0.5) or []
            nodes = [node for reply in replies for node in reply if node.startswith(f"{self.name}@")]
            if nodes:
                self.node = nodes[0]
                return
        raise BenchError(f"the worker did not answer within {timeout:.0f}s: see {self.log}")

    def consume(self, on: bool) -> None:
        """Stop or resume taking tasks from the queue (tasks already taken run to the end)."""
        from project.celery import app

        queue = app.conf.task_default_queue
        control = app.control.add_consumer if on else app.control.cancel_consumer
        control(queue, destination=[self.node], reply=True, timeout=5)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def cpu_seconds(self) -> float:
        """User + system CPU of the worker and its pool processes so far."""
        return sum(_cpu_seconds(pid) for pid in [self.proc.pid, *_children(self.proc.pid)])


def _stat_fields(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def _cpu_seconds(pid: int) -> float:
    try:
        fields = _stat_fields(pid)
    except OSError:
        return 0.0
    # After the command name: state(0) ppid(1) ... utime(11) stime(12).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


SERVERS = ("postgres", "redis-server")


def servers_cpu_seconds() -> dict[str, float]:
    """User + system CPU so far of this machine's PostgreSQL and Redis processes, by name (every
    backend, whoever it serves: an upper bound of the benchmark's share on a shared machine)."""
    totals = dict.fromkeys(SERVERS, 0.0)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    name = f.read().strip()
            except OSError:
                continue
            if name in totals:
                totals[name] += _cpu_seconds(int(entry))
    return totals


def _children(pid: int) -> list[int]:
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(_stat_fields(int(entry))[1]) == pid:
                    children.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return children


# --- submitting and collecting ---------------------------------------------------------------


@dataclass
class Run:
    """One batch of sagas (or chains): when each was submitted, when each finished."""

    label: str
    submitted: dict[str, float] = field(default_factory=dict)  # id -> submission time
    finished: dict[str, float] = field(default_factory=dict)  # id -> completion time
    sent: dict[str, float] = field(default_factory=dict)  # id -> when the submitter actually began it
    returned: dict[str, float] = field(default_factory=dict)  # id -> when its start call returned
    failed: int = 0
    worker_cpu: float = 0.0
    servers_cpu: dict[str, float] = field(default_factory=dict)  # server process name -> CPU seconds
    worst_lag: float = 0.0

    @property
    def elapsed(self) -> float:
        if not self.finished:
            return float("nan")
        return max(self.finished.values()) - min(self.submitted.values())

    @property
    def throughput(self) -> float:
        return rate(len(self.finished), self.elapsed)

    @property
    def latency(self) -> Latency:
        return Latency.of([done - self.submitted[key] for key, done in self.finished.items()])

    @property
    def lag(self) -> Latency:
        """How late the submitter began each one, behind its schedule."""
        return Latency.of([self.sent[key] - at for key, at in self.submitted.items() if key in self.sent])

    @property
    def latency_from_sent(self) -> Latency:
        """From when the submitter began each one: its own lag left out."""
        return Latency.of([done - self.sent[key] for key, done in self.finished.items() if key in self.sent])


def submit_saga(label: str, i: int, saga_type: str = flows.SAGA_TYPE) -> str:
    saga, _ = saga_start(saga_type=saga_type, payload={"i": i}, correlation_id=label)
    return str(saga.pk)


def submit_chain(label: str, i: int) -> str:
    run_id = uuid.uuid4().hex
    flows.chain_start(run_id=run_id, label=label, payload={"i": i})
    return run_id


def engine_done(label: str) -> int:
    return Saga.objects.filter(correlation_id=label).exclude(status__in=ACTIVE_SAGA_STATUSES).count()


def chain_done(label: str) -> int:
    return get_redis().llen(flows.done_key(label))


def collect_engine(run: Run) -> None:
    rows = Saga.objects.filter(correlation_id=run.label).values_list("id", "status", "finished_at")
    for saga_id, status, finished_at in rows:
        if status == SagaStatus.COMPLETED:
            run.finished[str(saga_id)] = finished_at.timestamp()
        else:
            run.failed += 1


def collect_chain(run: Run) -> None:
    for entry in get_redis().lrange(flows.done_key(run.label), 0, -1):
        run_id, done = entry.split()
        run.finished[run_id] = float(done)


@dataclass(frozen=True)
class Phases:
    """Where an engine saga's end-to-end time went (ms): the submitter's lag behind the schedule;
    the start call (its INSERT and commit, the mirror, the enqueue); from its return to the first
    step's claim (the broker, a free worker process, the load and the lock); and from that claim to
    the last checkpoint (the claim, the run of local steps and its commit)."""

    lag: Latency
    start: Latency
    to_claim: Latency
    running: Latency


def engine_phases(run: Run) -> Phases:
    first_claim = dict(
        SagaStep.objects.filter(saga__correlation_id=run.label, index=0).values_list("saga_id", "started_at")
    )
    start, to_claim, running = [], [], []
    for key, done in run.finished.items():
        claimed = first_claim[uuid.UUID(key)].timestamp()
        start.append(run.returned[key] - run.sent[key])
        to_claim.append(claimed - run.returned[key])
        running.append(done - claimed)
    return Phases(run.lag, Latency.of(start), Latency.of(to_claim), Latency.of(running))


@dataclass(frozen=True)
class Kind:
    name: str
    submit: Callable[[str, int], str]
    done: Callable[[str], int]
    collect: Callable[[Run], None]


ENGINE = Kind("engine", submit_saga, engine_done, collect_engine)
CHAIN = Kind("chain", submit_chain, chain_done, collect_chain)


def wait_done(kind: Kind, label: str, expected: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while kind.done(label) < expected:
        if time.monotonic() > deadline:
            raise BenchError(f"{kind.name}: only {kind.done(label)} of {expected} finished within {timeout:.0f}s")
        time.sleep(POLL)


def burst(kind: Kind, worker: Worker, count: int, label: str) -> Run:
    """Submit `count` as fast as the submitters can while the worker runs; wait for all of them."""
    run = Run(label)
    cpu = worker.cpu_seconds()
    _submit(kind, run, count, due=None)
    _finish(kind, worker, run, count, cpu)
    return run


def drain(kind: Kind, worker: Worker, count: int, label: str) -> Run:
    """Queue `count` while the worker does not consume, then time how fast it drains the backlog."""
    run = Run(label)
    worker.consume(False)
    try:
        _submit(kind, run, count, due=None)
    finally:
        cpu, servers = worker.cpu_seconds(), servers_cpu_seconds()
        began = time.time()
        worker.consume(True)
    run.submitted = dict.fromkeys(run.submitted, began)
    _finish(kind, worker, run, count, cpu)
    run.servers_cpu = {name: used - servers[name] for name, used in servers_cpu_seconds().items()}
    return run


def paced(kind: Kind, worker: Worker, per_second: float, seconds: float, label: str) -> Run:
    """Submit at a fixed arrival rate; latency counts from each arrival's scheduled time."""
    run = Run(label)
    count = max(1, round(per_second * seconds))
    cpu = worker.cpu_seconds()
    start = time.time() + 0.1
    _submit(kind, run, count, due=lambda i: start + i / per_second)
    _finish(kind, worker, run, count, cpu)
    return run


def _finish(kind: Kind, worker: Worker, run: Run, count: int, cpu: float) -> None:
    wait_done(kind, run.label, count, timeout=60 + count / 10)
    run.worker_cpu = worker.cpu_seconds() - cpu
    kind.collect(run)


def _submit(kind: Kind, run: Run, count: int, due: Callable[[int], float] | None) -> None:
    """Submit from SUBMITTERS threads, as a web tier starts sagas from several processes at once.

    With `due`, arrival i is submitted at due(i) and its latency counts from then, late or not.
    """
    errors: list[BaseException] = []
    lags: list[float] = [0.0]

    def submitter(offset: int) -> None:
        try:
            for i in range(offset, count, SUBMITTERS):
                at = time.time() if due is None else due(i)
                pause = at - time.time()
                if pause > 0:
                    time.sleep(pause)
                else:
                    lags.append(-pause)
                began = time.time()
                key = kind.submit(run.label, i)
                run.submitted[key], run.sent[key], run.returned[key] = at, began, time.time()
        except BaseException as error:  # noqa: BLE001 - handed to the main thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submitter, args=(k,), daemon=True) for k in range(SUBMITTERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    run.worst_lag = max(lags)


# --- the in-process sample -------------------------------------------------------------------


@dataclass
class Sample:
    sagas: int
    start: Counts
    advance: Counts
    start_cpu: float
    advance_cpu: float
    wal_bytes: int  # over the CPU pass: WAL written while `sagas` sagas started and ran


def sample_in_process(sagas: int, label: str) -> Sample:
    """Start and advance sagas right here (no worker yet), counting what each phase sends."""
    for i in range(10):  # warm up: imports, connections, script loading
        saga_advance(saga_id=submit_saga(f"{label}-warm", i))
    start, advance = Counts(), Counts()
    with Probe() as probe:
        for i in range(sagas):
            before = probe.snapshot()
            saga_id = submit_saga(label, i)
            middle = probe.snapshot()
            saga_advance(saga_id=saga_id)
            after = probe.snapshot()
            start, advance = start + (middle - before), advance + (after - middle)
    start_cpu = advance_cpu = 0.0
    wal_before = _wal_lsn()
    for i in range(sagas):
        t0 = time.process_time()
        saga_id = submit_saga(f"{label}-cpu", i)
        t1 = time.process_time()
        saga_advance(saga_id=saga_id)
        start_cpu, advance_cpu = start_cpu + t1 - t0, advance_cpu + time.process_time() - t1
    return Sample(sagas, start, advance, start_cpu, advance_cpu, _wal_lsn() - wal_before)


def _wal_lsn() -> int:
    """Bytes of WAL the server has written so far (server-wide: other databases count too)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
        return int(cursor.fetchone()[0])


def profile_in_process(sagas: int, label: str) -> str:
    try:
        from pyinstrument import Profiler
    except ImportError:
        return "pyinstrument is not installed: `make install` (requirements-dev.txt) brings it"
    profiler = Profiler(interval=0.0002)
    with profiler:
        for i in range(sagas):
            saga_advance(saga_id=submit_saga(label, i))
    return profiler.output_text(unicode=True, color=False, show_all=False)


# --- the mirror ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MirrorCost:
    sagas: int
    hash_bytes: float
    log_bytes: float
    ttl_min: int
    ttl_max: int

    @property
    def per_saga(self) -> float:
        return self.hash_bytes + self.log_bytes

    @property
    def expiring(self) -> bool:
        return 0 < self.ttl_min <= self.ttl_max <= settings.SAGAOPS_MIRROR_TTL


def mirror_cost(run: Run, sagas: int = 50) -> MirrorCost:
    client = get_redis()
    ids = list(run.finished)[:sagas]
    pipe = client.pipeline(transaction=False)
    for saga_id in ids:
        for key in (mirror.saga_key(saga_id), mirror.log_key(saga_id)):
            pipe.memory_usage(key, samples=0)
            pipe.ttl(key)
    replies = pipe.execute()
    hashes, logs = replies[0::4], replies[2::4]
    ttls = replies[1::2]
    if not ids or None in hashes or None in logs:
        raise BenchError("the mirror of a finished saga is missing")
    return MirrorCost(len(ids), sum(hashes) / len(ids), sum(logs) / len(ids), min(ttls), max(ttls))


def now_label(prefix: str) -> str:
    return f"bench-{prefix}-{timezone.now():%H%M%S}-{uuid.uuid4().hex[:6]}"
