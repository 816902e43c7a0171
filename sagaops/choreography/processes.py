"""`sagaops_consume` processes for tests and tools, in their own process group (like CeleryProcess)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

from sagaops.processes import ProcessError


class ConsumerProcess:
    def __init__(self, group: str, *, name: str, log_dir: Path, env: dict[str, str] | None = None):
        self.name = name
        self.log = log_dir / f"consumer-{name}.log"
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.cmd = [sys.executable, "manage.py", "sagaops_consume", group, "--name", name, "--block-ms", "200"]
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> ConsumerProcess:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.log.unlink(missing_ok=True)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.cmd,
                cwd=settings.BASE_DIR,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ProcessError(f"{self.name} exited with {self.proc.returncode}; see {self.log}")
            if "sagaops_consume: consuming" in self.log.read_text(errors="replace"):
                return self
            time.sleep(0.05)
        self.kill()
        raise ProcessError(f"{self.name} was not ready within {timeout:.0f}s; see {self.log}")

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no acknowledgements, no cleanup, as in a crash."""
        if self.alive:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self, timeout: float = 20) -> int | None:
        if self.alive:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode if self.proc else None
