"""How long the timers stop when the leading beat dies: two beats, the leader SIGKILLed, the time
until the standby sends its first tick.

    python -m tests.scale.bench_failover --runs 5 --lease 5      (`make bench-failover`)

Both beats use a throwaway redis-server (broker and lease) and no worker: the ticks are counted
in the beats' logs, not run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sagaops.settings")
django.setup()

from bench.processes import CeleryProcess  # noqa: E402
from tests.scale.servers import PrivateRedis  # noqa: E402

SENDS_TICK = "Sending due task sagaops-tick"
LOG_DIR = Path(__file__).resolve().parents[2] / "test-output" / "bench-failover"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="kills to time (default 5)")
    parser.add_argument("--lease", type=float, default=5.0, help="SAGAOPS_BEAT_LEASE_SECONDS (default 5)")
    args = parser.parse_args()
    if args.runs < 1 or args.lease <= 0:
        parser.error("--runs must be at least 1 and --lease above 0")
    print(f"lease {args.lease:g} s; seconds from SIGKILL of the leader to the standby's first tick:")
    gaps = [one_failover(args.lease, run) for run in range(1, args.runs + 1)]
    print(f"min {min(gaps):.2f}  median {statistics.median(gaps):.2f}  max {max(gaps):.2f} s")
    return 0


def one_failover(lease: float, run: int) -> float:
    redis = PrivateRedis().start()
    env = {
        "CELERY_BROKER_URL": redis.url(0),
        "REDIS_URL": redis.url(1),
        "SAGAOPS_BEAT_LEASE_SECONDS": str(lease),
    }
    beats = [CeleryProcess(f"failover-{run}-{n}", log_dir=LOG_DIR, env=env, role="beat") for n in "ab"]
    try:
        for beat in beats:
            beat.start()
        leader = _wait(lambda: next((b for b in beats if _ticks(b) >= 2), None), timeout=30)
        standby = beats[1] if leader is beats[0] else beats[0]
        leader.kill()
        killed = time.monotonic()
        _wait(lambda: _ticks(standby) >= 1, timeout=lease * 3 + 10)
        gap = time.monotonic() - killed
        print(f"  run {run}: {gap:.2f}", flush=True)
        return gap
    finally:
        for beat in beats:
            beat.kill()
        redis.kill()


def _ticks(beat: CeleryProcess) -> int:
    return beat.log.read_text(errors="replace").count(SENDS_TICK)


def _wait(check, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.05)
    raise SystemExit(f"bench-failover: nothing happened within {timeout:.0f}s; see the logs in {LOG_DIR}")


if __name__ == "__main__":
    sys.exit(main())
