"""What the panel's server may write to AstrBot's log: little, never at a stranger's will.

uvicorn logs through fixed logger names and asyncio through ``asyncio``; AstrBot
forwards every logger to its console. Guarantees, once ``install_host_log_filters``
ran: no INFO chatter from uvicorn, nothing a client can make it say as often as it
likes, at most ``_LINES_PER_MINUTE`` uvicorn lines a minute, no traceback (an
exception is one line: type, message, innermost frame), no ``token=`` values; and
asyncio's "socket.accept() out of system resource" for the panel's own listener at
most once a minute, as one line with the count.
"""

from __future__ import annotations

import logging
import re
import time
import traceback
from collections.abc import Callable

_UVICORN_LOGGERS = ("uvicorn.error", "uvicorn.access", "uvicorn.asgi")
_TOKEN_IN_TEXT = re.compile(r"(?i)(token=)[^&\s\"']+")
# What any client can make uvicorn say, as often as it likes: about the client, not us.
_CLIENT_FAULTS = frozenset(
    {
        "Invalid HTTP request received.",
        "Invalid UTF-8 sequence received from client.",  # logged with a traceback
        "Unsupported upgrade request.",
    }
)
_LINES_PER_MINUTE = 10
_ACCEPT_ERROR = "socket.accept() out of system resource"


class _UvicornLogFilter(logging.Filter):
    """Keeps uvicorn's per-connection chatter out of AstrBot's log and tokens out of any line.

    uvicorn logs through fixed logger names; AstrBot forwards every logger to its
    console. INFO lines (a "connection open" per WebSocket, start/stop per reload)
    and complaints about what a client sent are dropped, so a stranger cannot write
    to the host's log; what remains is capped per minute and has ``token=`` values
    masked.
    """

    marker = "proactive_chat_uvicorn_filter"

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._clock = clock
        self._window_start = float("-inf")
        self._in_window = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return False
        if isinstance(record.msg, str) and record.msg in _CLIENT_FAULTS:
            return False
        now = self._clock()
        if now - self._window_start >= 60.0:
            self._window_start, self._in_window = now, 0
        self._in_window += 1
        if self._in_window > _LINES_PER_MINUTE:
            return False
        message = record.getMessage()
        if record.exc_info:
            # One line, not a traceback a stranger could print at will: what and where.
            message = f"{message.strip()} {_one_line(record.exc_info[1])}"
            record.exc_info, record.exc_text, record.stack_info = None, None, None
            record.msg, record.args = message, None
        if "token=" in message.lower():
            record.msg, record.args = _TOKEN_IN_TEXT.sub(r"\1***", message), None
        return True


def _one_line(exc: BaseException | None) -> str:
    """``ValueError: bad (at web/api/x.py:12)``: the exception and its innermost frame."""
    if exc is None:
        return ""
    where = ""
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        where = f" (at {'/'.join(last.filename.split('/')[-3:])}:{last.lineno})"
    return f"{type(exc).__name__}: {str(exc)[:200]}{where}"


class _AcceptErrorFilter(logging.Filter):
    """asyncio's accept loop logs "out of system resource" (EMFILE) with a traceback
    once a second per listener while the process is out of descriptors: for the
    panel's listener, one line a minute with the count instead."""

    marker = "proactive_chat_accept_filter"

    def __init__(self, port: int, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._ours = re.compile(rf"laddr=\('[^']*', {port}[,)]")
        self._port = port
        self._clock = clock
        self._last = float("-inf")
        self._held = 0

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not message.startswith(_ACCEPT_ERROR) or not self._ours.search(message):
            return True
        now = self._clock()
        if now - self._last < 60.0:
            self._held += 1
            return False
        record.msg = (
            "%s: the process is out of file descriptors; the admin panel (port %d) "
            "stops accepting for a second at a time (%d more such errors in the last minute)."
        )
        record.args = (_ACCEPT_ERROR, self._port, self._held)
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        self._last, self._held = now, 0
        return True


def install_host_log_filters(port: int | None = None) -> None:
    """Idempotent across hot reloads: replaces the filters an earlier instance added.
    ``port``: the panel's listener, whose accept errors are held back."""
    remove_host_log_filters()
    for name in _UVICORN_LOGGERS:
        logging.getLogger(name).addFilter(_UvicornLogFilter())
    if port is not None:
        logging.getLogger("asyncio").addFilter(_AcceptErrorFilter(port))


def remove_host_log_filters() -> None:
    for name in (*_UVICORN_LOGGERS, "asyncio"):
        target = logging.getLogger(name)
        for old in [
            f
            for f in target.filters
            if getattr(f, "marker", None) in (_UvicornLogFilter.marker, _AcceptErrorFilter.marker)
        ]:
            target.removeFilter(old)
