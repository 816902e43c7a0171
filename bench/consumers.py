"""`sagaops_consume` processes for tests and tools."""

from __future__ import annotations

import sys
from pathlib import Path

from bench.processes import ManagedProcess


class ConsumerProcess(ManagedProcess):
    def __init__(self, group: str, *, name: str, log_dir: Path, env: dict[str, str] | None = None):
        cmd = [sys.executable, "manage.py", "sagaops_consume", group, "--name", name, "--block-ms", "200"]
        super().__init__(
            name, cmd, log=log_dir / f"consumer-{name}.log", ready_marker="sagaops_consume: consuming", env=env
        )
