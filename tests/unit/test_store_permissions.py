"""The store holds chat text (the journal): other local users must not read it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from proactive_chat.core.engine.models import JournalEntry, SessionState
from proactive_chat.core.store.session_store import SessionStore

pytestmark = pytest.mark.skipif(os.name != "posix", reason="Unix file modes")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def write_something(path: Path) -> None:
    store = SessionStore(path)
    await store.open()
    umo = "aiocqhttp:FriendMessage:1"
    store.put_session(SessionState(umo=umo, kind="friend"))
    store.append_journal(
        JournalEntry(at=1.0, umo=umo, kind="sent", reason="x", detail={"text": "hi"})
    )
    await store.flush()
    sidecars = [path.with_name(path.name + s) for s in ("-wal", "-shm")]
    assert any(p.exists() for p in sidecars)  # checked while the store is open
    for sidecar in sidecars:
        if sidecar.exists():
            assert mode(sidecar) & 0o077 == 0, (sidecar, oct(mode(sidecar)))
    await store.close()


async def test_a_new_store_is_private(tmp_path: Path) -> None:
    path = tmp_path / "plugin_data" / "store.db"
    old_umask = os.umask(0o022)  # the usual umask gives 0644 files and 0755 folders
    try:
        await write_something(path)
    finally:
        os.umask(old_umask)
    assert mode(path.parent) == 0o700
    assert mode(path) == 0o600


async def test_an_existing_readable_store_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "plugin_data" / "store.db"
    await write_something(path)
    os.chmod(path.parent, 0o755)
    os.chmod(path, 0o644)
    await write_something(path)
    assert mode(path.parent) == 0o700
    assert mode(path) == 0o600
