"""Servers the scale-out tests start for themselves, on spare loopback ports, and always stop:
a three-master Redis Cluster and a private RabbitMQ node (to restart without touching the
machine's own broker)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from functools import partial
from pathlib import Path

import redis
from kombu import Connection

REDIS_SERVER = shutil.which("redis-server")
REDIS_CLI = shutil.which("redis-cli")
RABBITMQ_SERVER = shutil.which("rabbitmq-server") or next(
    (p for p in ("/usr/sbin/rabbitmq-server", "/usr/lib/rabbitmq/bin/rabbitmq-server") if os.path.exists(p)), None
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000, fixed by Redis) is free and valid too."""
    for _ in range(200):
        port = random.randrange(20000, 55000)
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 10000))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port pair for a Redis Cluster node")


class ServerExited(RuntimeError):
    pass


def wait_until(check, *, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except ServerExited:
            raise
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(interval)
    raise RuntimeError(f"{what} within {timeout:.0f}s")


def stop_group(proc: subprocess.Popen | None) -> None:
    """SIGKILL a server started in its own session, with its children."""
    if proc is not None and proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)


def stop_by_env(name: str, value: str, timeout: float = 30) -> None:
    """SIGKILL every process whose environment has `name=value` (a server that left the session it
    was started in), with its process group, and wait until they are gone."""
    wanted = f"{name}={value}".encode()
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/environ", "rb") as f:
                    if wanted in f.read().split(b"\0"):
                        pids.append(int(entry))
            except OSError:
                continue
    for pid in pids:
        try:
            os.killpg(os.getpgid(pid), signal.SIGKILL)
        except OSError:
            pass
    deadline = time.monotonic() + timeout
    while any(os.path.exists(f"/proc/{pid}") and not _is_zombie(pid) for pid in pids):
        if time.monotonic() > deadline:
            raise RuntimeError(f"processes with {name}={value} outlived SIGKILL: {pids}")
        time.sleep(0.1)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


class PrivateRedis:
    """A redis-server of the test's own on a spare port; `restart()` brings it back empty."""

    def __init__(self):
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> PrivateRedis:
        cmd = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, start_new_session=True)
        wait_until(
            redis.Redis(host="127.0.0.1", port=self.port).ping,
            timeout=20,
            what=f"redis-server :{self.port} did not answer",
        )
        return self

    def kill(self) -> None:
        stop_group(self.proc)

    def restart(self) -> None:
        self.kill()
        self.start()


class RedisCluster:
    """`redis-server --cluster-enabled yes` on three ports, joined by `redis-cli --cluster create`."""

    def __init__(self, masters: int = 3):
        self.ports = []
        while len(self.ports) < masters:
            port = free_cluster_port()
            if all(abs(port - other) not in (0, 10000) for other in self.ports):
                self.ports.append(port)
        self.dir = Path(tempfile.mkdtemp(prefix="sagaops-cluster-"))
        self.procs: list[subprocess.Popen] = []

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.ports[0]}"

    def start(self) -> RedisCluster:
        try:
            for port in self.ports:
                self.procs.append(self._node(port))
            for port, proc in zip(self.ports, self.procs, strict=True):
                wait_until(partial(self._answers, port, proc), timeout=20, what=f"redis-server :{port} did not answer")
            nodes = [f"127.0.0.1:{port}" for port in self.ports]
            subprocess.run(
                [REDIS_CLI, "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"],
                check=True, capture_output=True, timeout=60,
            )  # fmt: skip
            for port in self.ports:
                wait_until(
                    lambda p=port: redis.Redis(host="127.0.0.1", port=p).cluster("info")["cluster_state"] == "ok",
                    timeout=30,
                    what=f"cluster node :{port} did not reach state ok",
                )
        except BaseException:
            self.stop()
            raise
        return self

    def _answers(self, port: int, proc: subprocess.Popen) -> bool:
        if proc.poll() is not None:
            raise ServerExited(f"redis-server :{port} exited; see {self.dir / f'redis-{port}.log'}")
        return redis.Redis(host="127.0.0.1", port=port).ping()

    def _node(self, port: int) -> subprocess.Popen:
        cmd = [
            REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
            "--cluster-config-file", str(self.dir / f"nodes-{port}.conf"), "--dir", str(self.dir),
            "--save", "", "--appendonly", "no",
        ]  # fmt: skip
        log = (self.dir / f"redis-{port}.log").open("ab")
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def flush(self) -> None:
        for port in self.ports:
            redis.Redis(host="127.0.0.1", port=port).flushall()

    def keys_per_node(self) -> dict[int, int]:
        return {port: redis.Redis(host="127.0.0.1", port=port).dbsize() for port in self.ports}

    def stop(self) -> None:
        for proc in self.procs:
            stop_group(proc)
        self.procs = []
        shutil.rmtree(self.dir, ignore_errors=True)


class RabbitNode:
    """A RabbitMQ node of the test's own (own name, port and data directory): it can be killed and
    restarted while the machine's broker keeps serving everyone else. Its data directory survives
    a restart, as a real node's disk does."""

    def __init__(self, name: str):
        self.port = free_port()
        self.dist_port = free_port()
        self.nodename = f"{name}-{self.port}@localhost"
        self.dir = Path(tempfile.mkdtemp(prefix="sagaops-rabbit-"))
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def start(self, timeout: float = 90) -> RabbitNode:
        (self.dir / "log").mkdir(exist_ok=True)
        (self.dir / "mnesia").mkdir(exist_ok=True)
        (self.dir / "enabled_plugins").write_text("[].\n")
        (self.dir / "rabbitmq.conf").write_text(f"listeners.tcp.1 = 127.0.0.1:{self.port}\n")
        # rabbitmq-server drops root privileges to the rabbitmq user: let it write here.
        shutil.chown(self.dir, "rabbitmq", "rabbitmq") if os.geteuid() == 0 else None
        for path in self.dir.rglob("*"):
            shutil.chown(path, "rabbitmq", "rabbitmq") if os.geteuid() == 0 else None
        env = {
            **os.environ,
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONFIG_FILE": str(self.dir / "rabbitmq.conf"),
            "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.dir / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
            "RABBITMQ_FEATURE_FLAGS_FILE": str(self.dir / "feature_flags"),
            "RABBITMQ_PID_FILE": str(self.dir / "pid"),
            "ERL_CRASH_DUMP": "/dev/null",
        }
        out = (self.dir / "server.out").open("ab")
        self.proc = subprocess.Popen(
            [RABBITMQ_SERVER], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            what = f"RabbitMQ node {self.nodename} did not answer"
            wait_until(self._answers, timeout=timeout, what=what, interval=0.3)
        except BaseException:
            self.kill()
            raise
        return self

    def _answers(self) -> bool:
        if self.proc.poll() is not None:
            raise ServerExited(f"rabbitmq-server exited; see {self.dir / 'server.out'}")
        with Connection(self.url, connect_timeout=1) as conn:
            conn.ensure_connection(max_retries=1)
        return True

    def kill(self) -> None:
        """SIGKILL the node, as a crashed broker host. rabbitmq-server runs the node under `su` in
        a session of its own, out of the group started here: its processes are found by name."""
        stop_group(self.proc)
        self.proc = None
        stop_by_env("RABBITMQ_NODENAME", self.nodename)

    def restart_gracefully(self, timeout: float = 90) -> RabbitNode:
        """Stop the node as an operator does (`rabbitmqctl stop`: everything it holds reaches its
        disk) and start it again on the same data directory."""
        subprocess.run(["rabbitmqctl", "-n", self.nodename, "stop"], capture_output=True, timeout=timeout, check=True)
        self.kill()  # the node has exited; this reaps its wrapper processes
        return self.start(timeout=timeout)

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
