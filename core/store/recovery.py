"""Deciding whether an existing store file can be used, and moving it aside if not.

A file that is not SQLite, is truncated or damaged, belongs to another program or was
written by a newer version of the plugin is never written to: it is renamed (with its
``-wal``, ``-shm`` and ``-journal`` files) to ``<name>.<tag>-<time>`` beside it, so a
bad file never stops the plugin and nothing is deleted. A file that cannot even be
read raises ``StoreUnavailable`` with what to do. Worker thread only.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from .errors import StoreUnavailable, advice
from .schema import APPLICATION_ID, SCHEMA_VERSION

Problem = tuple[str, str]  # (tag for the moved file's name, what was found)


def inspect_existing(
    path: Path, connect: Callable[[], sqlite3.Connection]
) -> tuple[sqlite3.Connection | None, Problem | None]:
    """(open connection, None) when the file is fine; (None, problem) when it cannot be
    used as is; (None, None) when there is no file yet (or an empty one)."""
    try:
        with path.open("rb") as file:
            header = file.read(100)
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        raise StoreUnavailable(
            f"cannot read the store {path} ({exc}); make it readable and writable "
            "by the user running AstrBot"
        ) from exc
    if not header:
        return None, None  # an empty file is a new SQLite database
    if not header.startswith(b"SQLite format 3\x00"):
        return None, ("corrupt", "is not an SQLite database")
    if len(header) < 100:
        return None, ("corrupt", "is truncated")
    try:
        conn = connect()
    except sqlite3.Error as exc:
        return None, classify_open_error(exc, path)
    try:
        problem = _problem_inside(conn)
    except sqlite3.Error as exc:
        conn.close()
        return None, classify_open_error(exc, path)
    if problem is not None:
        conn.close()
        return None, problem
    return conn, None


def _problem_inside(conn: sqlite3.Connection) -> Problem | None:
    """A foreign, newer or damaged database, read through an open connection."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if app_id != APPLICATION_ID and (app_id != 0 or tables):
        shown = ", ".join(sorted(tables)[:5]) or "none"
        return "foreign", f"belongs to another program (application_id {app_id}, tables: {shown})"
    if version > SCHEMA_VERSION:
        return "newer", (
            f"was written by a newer version of the plugin (schema {version}, "
            f"this version reads up to {SCHEMA_VERSION})"
        )
    check = conn.execute("PRAGMA quick_check").fetchall()
    if check != [("ok",)]:
        return "corrupt", f"is damaged ({check[0][0] if check else 'no answer'})"
    return None


def classify_open_error(exc: sqlite3.Error, path: Path) -> Problem:
    """A damaged file is a problem to move aside; any other failure raises."""
    code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return "corrupt", f"is damaged ({exc})"
    raise StoreUnavailable(f"cannot open the store {path} ({exc}); {advice(exc, path)}")


def move_aside(path: Path, tag: str, now: float) -> Path:
    """Rename the file and its companions to a free ``<name>.<tag>-<time>``; return it."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    base = f"{path.name}.{tag}-{stamp}"
    number = 1
    while (path.parent / base).exists():
        number += 1
        base = f"{path.name}.{tag}-{stamp}-{number}"
    target = path.parent / base
    try:
        for suffix in ("", "-wal", "-shm", "-journal"):
            source = Path(f"{path}{suffix}")
            if source.exists():
                os.replace(source, Path(f"{target}{suffix}"))
    except OSError as exc:
        raise StoreUnavailable(
            f"the store {path} cannot be used and could not be moved aside ({exc}); "
            "move or rename it by hand, then reload the plugin"
        ) from exc
    return target


def keep_private(folder: Path, path: Path) -> None:
    """The journal holds chat text: other local users must not read it.

    The folder becomes 0700 and the database 0600 (created empty if missing, an empty
    file is a new SQLite database); SQLite gives its -wal and -shm files the database's
    mode. Best effort: a file system without Unix modes keeps its own rules.
    """
    with contextlib.suppress(OSError):
        os.chmod(folder, 0o700)
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
