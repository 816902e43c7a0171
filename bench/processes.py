"""Processes started by sagaops's own tools (the soak, the benchmark, tests): Celery workers and
beat, and stream consumers. Each runs in its own process group, so `kill()` takes its children
down with it, as a crashed host would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings


class ProcessError(RuntimeError):
    pass


class ManagedProcess:
    """A command whose log says when it is ready (`ready_marker`)."""

    def __init__(self, name: str, cmd: list[str], *, log: Path, ready_marker: str, env: dict[str, str] | None = None):
        self.name = name
        self.cmd = cmd
        self.log = log
        self.ready_marker = ready_marker
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> ManagedProcess:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.log.unlink(missing_ok=True)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.cmd, cwd=settings.BASE_DIR, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        try:
            self._wait_ready(timeout)
        except ProcessError:
            self.kill()
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ProcessError(f"{self.name} exited with {self.proc.returncode}; see {self.log}")
            if self.ready_marker in self.log.read_text(errors="replace"):
                return
            time.sleep(0.05)
        raise ProcessError(f"{self.name} was not ready within {timeout:.0f}s; see {self.log}")

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group: no cleanup, no acknowledgements, as in a crash."""
        if self.alive:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=60)

    def stop_warm(self, timeout: float = 60) -> None:
        """SIGTERM to the main process: it finishes what it is doing (Celery's warm shutdown)."""
        if self.alive:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=timeout)

    def stop(self) -> int | None:
        """Stop warm, or kill after 20 s; returns the exit code."""
        try:
            self.stop_warm(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()
        return self.proc.returncode if self.proc else None


class CeleryProcess(ManagedProcess):
    """A `celery worker` (optionally with embedded beat) or `celery beat`."""

    def __init__(
        self,
        name: str,
        *,
        log_dir: Path,
        env: dict[str, str] | None = None,
        concurrency: int = 2,
        beat: bool = False,
        role: str = "worker",
    ):
        # INFO, because the readiness check reads the log.
        cmd = [sys.executable, "-m", "celery", "-A", "project", role, "--loglevel=INFO"]
        schedule = ["--schedule", str(log_dir / f"beat-{name}")]
        if role == "worker":
            cmd += ["-n", f"{name}@%h", f"--concurrency={concurrency}", "--without-mingle", "--without-gossip"]
            cmd += ["-B", *schedule] if beat else []
        else:
            cmd += schedule
        # A worker logs "<name>@<host> ready." once it consumes; beat logs "beat: Starting...".
        marker = " ready." if role == "worker" else "beat: Starting"
        super().__init__(name, cmd, log=log_dir / f"{role}-{name}.log", ready_marker=marker, env=env)
