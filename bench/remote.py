"""Remote steps: three calls to a real HTTP participant, on the worker pool the README recommends.

The participant (`participant.py`) runs in a process of its own and answers after a delay. One
`celery worker --pool threads` holds hundreds of calls open at once; its threads share a small
pool of database connections (SAGAOPS_DB_POOL), and a remote step gives its connection back while
its call waits. Measured, each as a drain of a backlog:

- the CPU-bound rate: the participant answers at once, so only the engine's own work limits it;
- the engine at the participant's latency (50 ms), and the bare chain of the same calls beside it;
- the calls held open at once: a backlog of as many sagas as the pool has threads against a
  participant slow enough (5 s) that every thread is in its call at the same time.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass
from functools import partial
from http.client import HTTPConnection

from bench import flows, runner
from bench.runner import Kind, Run, Worker

POOL = "threads"
THREADS = 600
DB_CONNECTIONS = 20
LATENCY = 0.05
PROBE_LATENCY = 5.0
STEPS = len(flows.REMOTE_STEPS)


def submit_chain(label: str, i: int) -> str:
    run_id = uuid.uuid4().hex
    flows.remote_chain_start(run_id=run_id, label=label, payload={"i": i})
    return run_id


submit_saga = partial(runner.submit_saga, saga_type=flows.REMOTE_TYPE)
ENGINE = Kind("engine", submit_saga, runner.engine_done, runner.collect_engine)
CHAIN = Kind("chain", submit_chain, runner.chain_done, runner.collect_chain)


class Participant:
    """The participant's process, on a free local port."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        cmd = [sys.executable, "-m", "bench.participant", str(self.port)]
        self.proc = subprocess.Popen(cmd, cwd=runner.ROOT, stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            raise runner.BenchError("the benchmark's HTTP participant did not start")

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        conn = HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=json.dumps(body or {}), headers={"Content-Type": "application/json"})
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()

    def configure(self, delay: float) -> None:
        self.call("POST", "/config", {"delay": delay})

    def stats(self) -> dict:
        return self.call("GET", "/stats")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@dataclass
class RemoteResult:
    cpu_bound: Run
    engine: Run
    chain: Run
    in_flight: int  # most calls open at once, seen by the participant
    duplicates: int  # requests that repeated a key already applied

    @staticmethod
    def steps_per_second(run: Run) -> float:
        return run.throughput * STEPS

    @property
    def expected(self) -> float:
        """min(CPU-bound rate, in flight / latency): what the engine should reach at the latency."""
        return min(self.steps_per_second(self.cpu_bound), self.in_flight / LATENCY)


def run_remote(sagas: int) -> RemoteResult:
    participant = Participant()
    participant.start()
    env = {flows.PARTICIPANT_ENV: participant.address, "SAGAOPS_DB_POOL": str(DB_CONNECTIONS)}
    worker = Worker(THREADS, pool=POOL, env=env)
    try:
        worker.start()
        participant.configure(0)
        runner.burst(ENGINE, worker, 50, runner.now_label("remote-warm"))
        runner.burst(CHAIN, worker, 50, runner.now_label("remote-warm"))
        cpu_bound = runner.drain(ENGINE, worker, sagas, runner.now_label("remote-cpu"))
        participant.configure(LATENCY)
        engine = runner.drain(ENGINE, worker, sagas, runner.now_label("remote"))
        stats = participant.stats()
        duplicates = stats["requests"] - stats["applied"]
        chain = runner.drain(CHAIN, worker, sagas, runner.now_label("remote-chain"))
        participant.configure(PROBE_LATENCY)
        runner.drain(ENGINE, worker, THREADS, runner.now_label("remote-probe"))
        in_flight = participant.stats()["max_in_flight"]
    finally:
        worker.stop()
        participant.stop()
    return RemoteResult(cpu_bound, engine, chain, in_flight, duplicates)
