"""What can go wrong with the store, and what the user can do about it.

``StoreUnavailable`` is the one error the rest of the plugin sees; ``advice()`` turns
any failure into one actionable sentence (free disk space, fix permissions, close a
database viewer...) and ``error_key()`` groups failures so each distinct one is logged
once. Nothing here touches the file.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path


class StoreUnavailable(Exception):
    """The store cannot be used; the message says what is wrong and what to do."""


class FileGone(OSError):
    """The store file was deleted or replaced while the connection was open."""


def advice(exc: BaseException, path: Path) -> str:
    """What the user can do about a failed write."""
    where = path.parent
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    number = getattr(exc, "errno", None) if isinstance(exc, OSError) else None
    if isinstance(exc, FileGone):
        return (
            f"{path} was deleted or replaced while AstrBot was running; reload the plugin "
            "to start a new store"
        )
    if primary == sqlite3.SQLITE_FULL or number == errno.ENOSPC:
        return f"free disk space in {where}"
    if primary in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_CANTOPEN) or (
        number in (errno.EACCES, errno.EPERM, errno.EROFS)
    ):
        return f"make {where} and the files in it writable by the user running AstrBot"
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return f"another program holds {path} open (a database viewer?); close it"
    if primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return "the file is damaged; reload the plugin to move it aside and start afresh"
    if isinstance(exc, sqlite3.Error | OSError):
        return f"check the disk that holds {where}"
    return "this looks like a bug in the plugin; please report it with this log"


def error_key(exc: BaseException) -> str:
    """One key per kind of failure (type and SQLite or errno name), not per message."""
    name = getattr(exc, "sqlite_errorname", None)
    if isinstance(exc, OSError) and exc.errno is not None:
        name = errno.errorcode.get(exc.errno, str(exc.errno))
    return f"{type(exc).__name__}:{name or exc}"
