"""Reads the ``web_admin`` config group into a checked, immutable settings object.

Every value is validated on its own, with the checks every config reader shares
(``core/config_checks.py``): a bad one is reported (key, value, what was used
instead) and replaced by its default (a size out of its range: by the nearest
bound), so no config can stop the plugin. The password never shows in a message.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..core.config_checks import (
    BadValue,
    Voice,
    check_bool,
    check_int,
    check_text,
    settle,
    settle_list,
)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4100
DEFAULT_LOG_BUFFER = 2000
DEFAULT_SESSION_HOURS = 24
# The longest password the login accepts (``PanelAuth.check_password``): a longer
# configured one could never be typed in, so the config check refuses it.
MAX_PASSWORD_CHARS = 1024

_HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)*\.?$"
)

# "web_admin.port='http' is not a port number (1-65535); using 4100"
_VOICE = Voice(
    value_line="web_admin.{key}={value} {why}",
    item_line="web_admin.{key} entry {value} {why}",
    show=lambda value: repr(value)[:80],
    show_used=repr,
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


def _host(value: Any) -> str:
    host = check_text(value, strip=True, allow_empty=False)
    if not is_valid_host(host):
        raise BadValue("is not an IP address or host name")
    return host


def _host_name(item: Any) -> str:
    """An ``allowed_hosts`` entry as the Host header guard compares it."""
    name = item.strip().lower().rstrip(".") if isinstance(item, str) else ""
    if not (name and is_valid_host(name)):
        raise BadValue("is not a host name")
    return name


def _password(value: Any) -> str:
    """Kept exactly as typed (the login compares it unstripped); blank means none set.
    One the login page could never send is refused here rather than locking the owner out."""
    if value is None:
        return ""  # null: none set
    password = check_text(value)
    if not password.strip():
        return ""
    if len(password) > MAX_PASSWORD_CHARS:
        raise BadValue(
            f"is longer than {MAX_PASSWORD_CHARS} characters, more than the login accepts"
        )
    if any(unicodedata.category(char) == "Cc" for char in password):
        raise BadValue("contains a line break or control character, which the login cannot take")
    return password


def _whole(low: int, high: int) -> Callable[[Any], int]:
    # The panel never read "8080.0" or more than 9 digits as a number: kept so.
    return lambda value: check_int(value, low, high, max_digits=9, point_zeros=False)


def parse_web_admin(raw: Any) -> tuple[WebAdminSettings, list[str]]:
    """Return the settings and one human-readable problem per rejected value."""
    defaults = WebAdminSettings()
    if raw is None:
        return defaults, []
    if not isinstance(raw, Mapping):
        return defaults, [
            f"web_admin should be an object, got {type(raw).__name__}; using defaults"
        ]
    problems: list[str] = []

    def read(key: str, check: Callable[[Any], Any], **how: Any) -> Any:
        if key not in raw:
            return getattr(defaults, key)
        value, problem = settle(_VOICE, key, raw[key], check, getattr(defaults, key), **how)
        if problem is not None:
            problems.append(problem)
        return value

    enabled = read("enabled", check_bool, why="is not true/false")
    host = read("host", _host, why="is not an IP address or host name")
    port = read("port", _whole(1, 65535), why="is not a port number (1-65535)")
    password = read("password", _password, secret=True)
    allowed: list[str] = []
    if "allowed_hosts" in raw:
        kept, found = settle_list(
            _VOICE,
            "allowed_hosts",
            raw["allowed_hosts"],
            _host_name,
            [],
            split=r"[,\s]+",
            why_not_list="is not a list of host names",
        )
        allowed = kept or []
        problems.extend(found)
    settings = WebAdminSettings(
        enabled=enabled,
        host=host,
        port=port,
        password=password,
        allowed_hosts=tuple(allowed),
        log_buffer_size=read("log_buffer_size", _whole(200, 50_000), nearest=True),
        session_hours=read("session_hours", _whole(1, 720), nearest=True),
    )
    return settings, problems
