"""One write transaction on the store's connection: ``BEGIN IMMEDIATE`` (the write lock
is taken up front, so a busy file fails at the start, not half-way), ``COMMIT``, and on
any failure or cancellation a rollback that never raises over the original error."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``with immediate(conn):`` everything inside is written together or not at all."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise


def rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass
