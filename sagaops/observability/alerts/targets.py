"""Where a webhook may point: public addresses only, unless the network is explicitly allowed.

A webhook URL is typed by an operator but fetched by the workers, from inside the network: left
open, it reaches loopback services, the cloud metadata endpoint (169.254.169.254) or anything on
the private ranges. Every address the host resolves to is checked, when the rule is saved and
again before each delivery (the name may resolve elsewhere by then).
SAGAOPS_ALERT_WEBHOOK_ALLOWED_NETWORKS lists the private networks that are allowed anyway.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from sagaops.conf import conf


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n, strict=False) for n in conf.SAGAOPS_ALERT_WEBHOOK_ALLOWED_NETWORKS]


def _internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def target_problem(url: str) -> str | None:
    """Why the workers must not POST to `url`, or None when they may."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "the webhook URL must be http(s)://host/..."
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as error:
        return f"the webhook host {parts.hostname} does not resolve: {error}"
    allowed = _allowed_networks()
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if _internal(address) and not any(address in network for network in allowed):
            return (
                f"the webhook host {parts.hostname} resolves to {address}, a loopback, link-local or private "
                "address; allow its network in SAGAOPS_ALERT_WEBHOOK_ALLOWED_NETWORKS if that is intended"
            )
    return None
