"""Unit tests: the plugin folder imported as the package ``proactive_chat``.

The plugin's modules use relative imports (AstrBot imports the folder as
``data.plugins.astrbot_plugin_proactive_chat``), so the repo root is registered here
as a package under a short name. ``main.py`` is never imported: it needs the host.
"""

from __future__ import annotations

import pytest

from harness.engine_rig import START, Rig
from harness.plugin_package import import_plugin_package
from harness.ports import free_port as harness_free_port

import_plugin_package()


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def free_port():
    """``free_port()`` -> a TCP port on 127.0.0.1 that was free a moment ago."""
    return harness_free_port


@pytest.fixture
async def rig(tmp_path, clock):
    """An engine ``Rig`` on ``engine_config()``, the clock at ``START``; ``await
    rig.start()`` gives the engine. Stopped at teardown."""
    clock.now = START
    r = Rig(tmp_path, clock)
    yield r
    await r.stop()
