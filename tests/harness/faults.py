"""Faults for the plugin's store and time travel for its engine, inside a real host.

``plugin_data_on_tmpfs(root)``: the plugin's data folder (``<root>/data/plugin_data/
<name>``: the store, panel_auth.json) becomes a private, empty folder for one test and
is put back afterwards: a tmpfs mounted over it when this process may mount (root on
Linux), else the folder renamed aside. On a tmpfs the faults are real: ``fill()`` takes
the last free byte (SQLite then fails with SQLITE_FULL), ``remount(read_only=True)``
makes it a read-only filesystem. The kernel refuses a read-only remount while a file is
open for writing (the store's connection), so a read-only disk under a RUNNING store
is made with ``sqlite_read_only`` (SQLite's own SQLITE_READONLY) instead.

``EngineClock(engine)``: that engine (and its scheduler) runs ``offset`` seconds ahead
of real time; ``advance(s)`` moves it and fires what became due, so a back-off of 5,
15 and 45 minutes takes milliseconds while AstrBot, the platforms and the store keep
real time.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .roots import plugin_data_dir

_can_mount: bool | None = None


def can_mount_tmpfs() -> bool:
    """Whether this process may mount a tmpfs (tried once, on a scratch folder)."""
    global _can_mount
    if _can_mount is None:
        _can_mount = False
        if sys.platform.startswith("linux") and os.geteuid() == 0 and shutil.which("mount"):
            probe = Path(tempfile.mkdtemp(prefix="pc-mount-probe-"))
            try:
                _can_mount = _run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe))
                if _can_mount:
                    _run("umount", str(probe))
            finally:
                probe.rmdir()
    return _can_mount


class PluginData:
    """The private data folder of one test (see the module docstring)."""

    FILLER = ".disk-filler"

    def __init__(self, path: Path, mounted: bool) -> None:
        self.path = path
        self.mounted = mounted

    def fill(self) -> int:
        """Take every free byte of the tmpfs; returns how many were taken."""
        assert self.mounted, "fill() needs the tmpfs"
        taken = 0
        chunk = b"\0" * 65536
        with open(self.path / self.FILLER, "wb", buffering=0) as filler:
            for size in (65536, 4096, 512, 1):
                try:
                    while True:
                        taken += filler.write(chunk[:size])
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
        return taken

    def free(self) -> None:
        (self.path / self.FILLER).unlink(missing_ok=True)

    def remount(self, *, read_only: bool) -> None:
        """Make the tmpfs read-only or writable again. Read-only fails while any file in
        it is open for writing (the kernel says the mount point is busy)."""
        assert self.mounted, "remount() needs the tmpfs"
        mode = "ro" if read_only else "rw"
        if not _run("mount", "-o", f"remount,{mode}", str(self.path)):
            raise OSError(errno.EBUSY, f"could not remount {self.path} {mode}")


@contextlib.contextmanager
def plugin_data_on_tmpfs(root: Path, size: str = "8m") -> Iterator[PluginData]:
    """A private plugin data folder for the ``with`` block (a tmpfs of ``size`` when
    possible); the folder's old content is back afterwards, whatever happened."""
    path = plugin_data_dir(root)
    path.mkdir(parents=True, exist_ok=True)
    if can_mount_tmpfs() and _run("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)):
        try:
            yield PluginData(path, mounted=True)
        finally:
            if not _run("umount", str(path)):
                _run("umount", "-l", str(path))  # a file still open: detach it anyway
        return
    aside = path.with_name(f"{path.name}.aside-{os.getpid()}-{time.monotonic_ns()}")
    path.rename(aside)
    path.mkdir()
    try:
        yield PluginData(path, mounted=False)
    finally:
        shutil.rmtree(path, ignore_errors=True)
        aside.rename(path)


async def sqlite_pragma(store: Any, pragma: str) -> list[tuple]:
    """Run ``PRAGMA <pragma>`` on the store's own connection, in its own thread."""
    return await store._in_thread(store._db.execute, f"PRAGMA {pragma}")


async def sqlite_read_only(store: Any, read_only: bool) -> None:
    """SQLite refuses every write on the store's connection (SQLITE_READONLY), or
    accepts them again."""
    await sqlite_pragma(store, f"query_only = {int(read_only)}")


async def sqlite_full(store: Any, full: bool) -> None:
    """The store's file may not grow (a real SQLITE_FULL from SQLite), or may again."""
    pages = (await sqlite_pragma(store, "page_count"))[0][0] if full else 1_000_000_000
    await sqlite_pragma(store, f"max_page_count = {pages}")


class EngineClock:
    """Runs one engine ``offset`` seconds ahead of real time (see the module docstring)."""

    def __init__(self, engine: Any) -> None:
        self.offset = 0.0
        self.attach(engine)

    def attach(self, engine: Any) -> None:
        """Drive this engine (again, e.g. the new one after a plugin reload)."""
        self.engine = engine
        engine.clock = self.now
        engine.scheduler._clock = self.now

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move the engine's time forward and hand what became due to its workers."""
        self.offset += seconds
        scheduler = self.engine.scheduler
        scheduler.run_due()
        if scheduler._loop is not None:
            scheduler._arm()  # its timer was set for the old time: set it for the new one

    def advance_to(self, at: float) -> None:
        self.advance(max(0.0, at - self.now()) + 0.5)


def _run(*command: str) -> bool:
    return subprocess.run(command, capture_output=True, timeout=30).returncode == 0
