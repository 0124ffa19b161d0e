"""Times on the pages: shown in AstrBot's timezone (its ``timezone`` setting, else the
server's local time), the same on the server (first render) and in the browser (updates).

The browser gets ``{"tz": "Asia/Shanghai" | null, "offset": minutes east of UTC}``: with a
name it formats through ``Intl``; without one (the server's local zone has no IANA name we
can trust) it shifts by the offset, which is exact until the next DST change.
"""

from __future__ import annotations

import time
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from .api.access import current_engine

if TYPE_CHECKING:
    from .app import AppDeps


def panel_timezone(deps: AppDeps) -> tzinfo | None:
    """The engine's timezone (None = server local); None too while the engine is down."""
    engine = current_engine(deps)
    return engine.timezone if engine is not None else None


def zone_name(tz: tzinfo | None) -> str | None:
    key = getattr(tz, "key", None)
    return key if isinstance(key, str) and key else None


def local_datetime(ts: float, tz: tzinfo | None) -> datetime:
    return datetime.fromtimestamp(ts, tz) if tz is not None else datetime.fromtimestamp(ts)


def format_ts(ts: float | None, tz: tzinfo | None, *, seconds: bool = False) -> str:
    """``2026-11-28 14:03`` in the panel's zone; ``—`` for no time."""
    if ts is None:
        return "—"
    try:
        moment = local_datetime(float(ts), tz)
    except (OverflowError, OSError, ValueError):
        return "—"
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def iso_ts(ts: float | None, tz: tzinfo | None) -> str:
    """For ``<time datetime>``; empty for no time."""
    if ts is None:
        return ""
    try:
        return local_datetime(float(ts), tz).astimezone().isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return ""


def utc_offset_minutes(tz: tzinfo | None, at: float | None = None) -> int:
    moment = local_datetime(time.time() if at is None else at, tz)
    if tz is None:
        moment = moment.astimezone()
    offset = moment.utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


def zone_label(tz: tzinfo | None) -> str:
    """``Asia/Shanghai (UTC+08:00)`` or ``UTC+01:00`` for the server's unnamed local zone."""
    minutes = utc_offset_minutes(tz)
    sign = "+" if minutes >= 0 else "-"
    offset = f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    name = zone_name(tz)
    return f"{name} ({offset})" if name else offset


def browser_env(tz: tzinfo | None) -> dict[str, Any]:
    return {"tz": zone_name(tz), "offset": utc_offset_minutes(tz), "zone": zone_label(tz)}
