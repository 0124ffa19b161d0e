"""Reads the ``web_admin`` config group into a checked, immutable settings object.

Every value is validated on its own: a bad one is reported (key, value, what was
used instead) and replaced by its default (a size out of its range: by the nearest
bound), so no config can stop the plugin.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4100
DEFAULT_LOG_BUFFER = 2000
DEFAULT_SESSION_HOURS = 24

_HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)*\.?$"
)


@dataclass(frozen=True)
class WebAdminSettings:
    enabled: bool = True
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    password: str = field(default="", repr=False)
    allowed_hosts: tuple[str, ...] = ()
    log_buffer_size: int = DEFAULT_LOG_BUFFER
    session_hours: int = DEFAULT_SESSION_HOURS

    @property
    def binds_all_interfaces(self) -> bool:
        return self.host in ("0.0.0.0", "::", "")

    @property
    def display_host(self) -> str:
        """The host to put in a URL a person can click."""
        if self.binds_all_interfaces:
            return "127.0.0.1"
        if ":" in self.host:
            return f"[{self.host}]"
        return self.host

    @property
    def url(self) -> str:
        return f"http://{self.display_host}:{self.port}/"


def is_valid_host(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return bool(_HOSTNAME_RE.match(value.lower()))


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "no", "off"):
        return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return None


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]{1,9}", value.strip()):
        return int(value.strip())
    return None


def parse_web_admin(raw: Any) -> tuple[WebAdminSettings, list[str]]:
    """Return the settings and one human-readable problem per rejected value."""
    defaults = WebAdminSettings()
    problems: list[str] = []
    if raw is None:
        return defaults, problems
    if not isinstance(raw, Mapping):
        problems.append(f"web_admin should be an object, got {type(raw).__name__}; using defaults")
        return defaults, problems

    def reject(key: str, value: Any, used: Any, why: str) -> None:
        shown = "<hidden>" if key == "password" else repr(value)[:80]
        problems.append(f"web_admin.{key}={shown} {why}; using {used!r}")

    enabled = defaults.enabled
    if "enabled" in raw:
        parsed = _as_bool(raw["enabled"])
        if parsed is None:
            reject("enabled", raw["enabled"], enabled, "is not true/false")
        else:
            enabled = parsed

    host = defaults.host
    if "host" in raw:
        value = raw["host"]
        if isinstance(value, str) and value.strip() and is_valid_host(value.strip()):
            host = value.strip()
        else:
            reject("host", value, host, "is not an IP address or host name")

    port = defaults.port
    if "port" in raw:
        parsed = _as_int(raw["port"])
        if parsed is None or not 1 <= parsed <= 65535:
            reject("port", raw["port"], port, "is not a port number (1-65535)")
        else:
            port = parsed

    password = defaults.password
    if "password" in raw:
        value = raw["password"]
        if value is None:
            pass
        elif not isinstance(value, str):
            reject("password", value, "", "is not text")
        else:
            password = value.strip()

    allowed: list[str] = []
    if "allowed_hosts" in raw:
        value = raw["allowed_hosts"]
        if isinstance(value, str):
            value = [part for part in re.split(r"[,\s]+", value) if part]
        if not isinstance(value, list):
            reject("allowed_hosts", value, [], "is not a list of host names")
        else:
            for item in value:
                name = item.strip().lower().rstrip(".") if isinstance(item, str) else ""
                if name and is_valid_host(name):
                    if name not in allowed:
                        allowed.append(name)
                else:
                    problems.append(
                        f"web_admin.allowed_hosts entry {item!r:.80} is not a host name; ignored"
                    )

    log_buffer_size = _bounded_int(
        raw, "log_buffer_size", defaults.log_buffer_size, 200, 50_000, reject
    )
    session_hours = _bounded_int(raw, "session_hours", defaults.session_hours, 1, 720, reject)

    settings = WebAdminSettings(
        enabled=enabled,
        host=host,
        port=port,
        password=password,
        allowed_hosts=tuple(allowed),
        log_buffer_size=log_buffer_size,
        session_hours=session_hours,
    )
    return settings, problems


def _bounded_int(raw: Mapping, key: str, default: int, low: int, high: int, reject) -> int:
    if key not in raw:
        return default
    parsed = _as_int(raw[key])
    if parsed is None:
        reject(key, raw[key], default, "is not a whole number")
        return default
    if not low <= parsed <= high:
        used = min(max(parsed, low), high)
        reject(key, raw[key], used, f"is outside {low}-{high}")
        return used
    return parsed
