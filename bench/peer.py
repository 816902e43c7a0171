"""DBOS, the nearest durable peer, in the same run: `dbos_flow.py` in a subprocess of its own.

Its system database (`<benchmark database>_dbos`) is dropped and created for each run. When the
`dbos` package (requirements-bench.txt) is not installed, the run says why and goes on without it.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from bench import runner


@dataclass(frozen=True)
class PeerResult:
    submit: float = 0.0  # workflows/s, started by 4 threads while it runs
    drain: float = 0.0  # workflows/s, emptying a queued backlog
    skipped: str = ""  # why it did not run


def run_dbos(sagas: int) -> PeerResult:
    if importlib.util.find_spec("dbos") is None:
        return PeerResult(skipped="the dbos package is not installed (pip install -r requirements-bench.txt)")
    name = f"{settings.DATABASES['default']['NAME']}_dbos"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    db = settings.DATABASES["default"]
    url = f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
    rates = {}
    for mode in ("submit", "drain"):
        cmd = [sys.executable, "-m", "bench.dbos_flow", url, str(sagas), mode]
        done = subprocess.run(cmd, cwd=runner.ROOT, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            return PeerResult(skipped=f"DBOS failed ({mode}): {done.stderr.strip().splitlines()[-1:]}")
        rates.update(json.loads(done.stdout.strip().splitlines()[-1]))
    return PeerResult(submit=rates["submit"], drain=rates["drain"])
