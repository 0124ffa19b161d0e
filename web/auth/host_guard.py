"""Which Host and Origin headers the panel answers to (DNS-rebinding and CSRF defence).

A web page on another site can make the owner's browser reach 127.0.0.1 through a
DNS name it controls; the browser then sends that name as Host. Refusing unknown
host names stops it. IP literals cannot be rebound, so when the panel listens on
all interfaces any IP literal is accepted (that is how a LAN address reaches it).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from ..settings import WebAdminSettings

LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def split_host(host_header: str) -> str | None:
    """'Example.COM:4100' -> 'example.com', '[::1]:4100' -> '::1'; None if malformed."""
    value = host_header.strip().lower()
    if not value or any(c in value for c in " /\\@?#"):
        return None
    if value.startswith("["):
        end = value.find("]")
        if end == -1:
            return None
        host, rest = value[1:end], value[end + 1 :]
        if rest and not (rest.startswith(":") and rest[1:].isdigit()):
            return None
        return host or None
    host, sep, port = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
    if sep and not port.isdigit():
        return None
    return host.rstrip(".") or None


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class HostPolicy:
    def __init__(self, settings: WebAdminSettings) -> None:
        names = set(LOCAL_NAMES)
        if not settings.binds_all_interfaces:
            names.add(settings.host.lower())
        names.update(settings.allowed_hosts)
        self.names = frozenset(names)
        self.proxy_names = frozenset(settings.allowed_hosts)
        self.any_ip = settings.binds_all_interfaces
        self.port = settings.port

    def host_allowed(self, host_header: str | None) -> bool:
        host = split_host(host_header or "")
        if host is None:
            return False
        return host in self.names or (self.any_ip and _is_ip_literal(host))

    def origin_allowed(self, origin: str | None) -> bool:
        """An Origin header (browsers send one on WebSocket and unsafe requests).

        For this machine's own names the port must be the panel's too: another local
        web app (say on localhost:8080) is a different origin but the same "site", so
        the SameSite cookie alone would not stop its requests. Names in allowed_hosts
        sit behind a reverse proxy whose public port we cannot know.
        """
        if origin is None:
            return True  # not a browser
        try:
            parts = urlsplit(origin)
            port = parts.port
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False
        if not self.host_allowed(parts.netloc):
            return False
        if split_host(parts.netloc) in self.proxy_names:
            return True
        return (port or (443 if parts.scheme == "https" else 80)) == self.port
