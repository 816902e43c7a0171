"""Worker hosts on one machine: a network namespace per host, joined to the default namespace by a
veth pair, with a worker inside it that reaches PostgreSQL, Redis and RabbitMQ over that link.

The services listen on loopback only, so each host gets socat forwarders bound to the host-side
address of its veth (10.253.<slot><n>.1) that relay to 127.0.0.1. Cutting the link
(`ip link set <veth> down`) leaves the host's connections hanging, as a partition does: nothing
is reset, packets simply stop. Only the veth addresses and loopback are used.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.processes import CeleryProcess

SOCAT = shutil.which("socat")
IP = shutil.which("ip")


def missing_tools() -> str | None:
    """Why network-namespace hosts cannot be made here, or None."""
    if os.geteuid() != 0:
        return "network namespaces need root (ip netns)"
    if IP is None or SOCAT is None:
        return "ip (iproute2) and socat are needed: apt-get install iproute2 socat"
    probe = subprocess.run([IP, "netns", "list"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"ip netns does not work here: {probe.stderr.strip()}"
    return None


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([IP, *args], capture_output=True, text=True, check=check)


def via(url: str, address: str) -> str:
    """`url` with its host replaced by `address` (the port and everything else kept)."""
    parts = urlsplit(url)
    userinfo = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{userinfo}{address}:{parts.port}"))


@dataclass
class Host:
    """One worker host: namespace `sagaops-s<slot>-h<n>`, veth `sgo<slot>h<n>` on our side."""

    slot: int
    number: int
    forwarders: list[subprocess.Popen] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"sagaops-s{self.slot}-h{self.number}"

    @property
    def veth(self) -> str:
        return f"sgo{self.slot}h{self.number}"

    @property
    def gateway(self) -> str:
        """The default namespace's end of the link: where this host finds the services."""
        return f"10.253.{self.slot * 10 + self.number}.1"

    @property
    def address(self) -> str:
        return f"10.253.{self.slot * 10 + self.number}.2"

    def create(self, ports: list[int]) -> Host:
        self.delete()  # a namespace left by a run that was killed before it could clean up
        ip("netns", "add", self.name)
        ip("link", "add", self.veth, "type", "veth", "peer", "name", "eth0", "netns", self.name)
        ip("addr", "add", f"{self.gateway}/30", "dev", self.veth)
        ip("link", "set", self.veth, "up")
        ip("netns", "exec", self.name, IP, "addr", "add", f"{self.address}/30", "dev", "eth0")
        ip("netns", "exec", self.name, IP, "link", "set", "eth0", "up")
        ip("netns", "exec", self.name, IP, "link", "set", "lo", "up")
        for port in ports:
            relay = [SOCAT, f"TCP-LISTEN:{port},bind={self.gateway},fork,reuseaddr", f"TCP:127.0.0.1:{port}"]
            self.forwarders.append(subprocess.Popen(relay, stderr=subprocess.DEVNULL, start_new_session=True))
        return self

    def worker(self, name: str, *, log_dir: Path, env: dict[str, str], concurrency: int = 2, beat: bool = True):
        """A Celery worker inside this host's namespace (started by `.start()`)."""
        process = CeleryProcess(name, log_dir=log_dir, env=env, concurrency=concurrency, beat=beat)
        process.cmd = [IP, "netns", "exec", self.name, *process.cmd]
        return process

    def cut(self) -> None:
        ip("link", "set", self.veth, "down")

    def restore(self) -> None:
        ip("link", "set", self.veth, "up")

    def delete(self) -> None:
        """Remove the namespace and the link by name, and stop the forwarders by PID."""
        for relay in self.forwarders:
            if relay.poll() is None:
                os.killpg(relay.pid, 9)
                relay.wait(timeout=10)
        self.forwarders = []
        # A process still inside keeps a namespace alive: kill whatever runs there first.
        pids = ip("netns", "pids", self.name, check=False).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), 9)
            except ProcessLookupError:
                pass
        ip("netns", "delete", self.name, check=False)
        ip("link", "delete", self.veth, check=False)


def host_env(host: Host, base: dict[str, str]) -> dict[str, str]:
    """A worker environment whose database, Redis and broker are reached through `host`'s link."""
    env = dict(base)
    for key in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        env[key] = via(env[key], host.gateway)
    return env
