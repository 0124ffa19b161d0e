"""Proves the in-process harness: the real AstrBot core loads, reloads and stops our
plugin (the real one, or the stand-in while main.py does not exist)."""

from __future__ import annotations

import contextlib
import logging

import pytest

from harness import read_plugin_config
from harness.ports import free_port

pytestmark = pytest.mark.host


@contextlib.contextmanager
def count_initialize_calls():
    """Counts ``initialize()`` calls of Star subclasses defined while active (i.e. the
    classes AstrBot re-imports during a reload)."""
    from astrbot.core.star.base import Star

    calls: list[str] = []
    original = Star.__dict__["__init_subclass__"]

    def init_subclass(cls, **kwargs):
        original.__func__(cls, **kwargs)
        init = cls.__dict__.get("initialize")
        if init is not None:

            async def counted(self, *a, **kw):
                calls.append(cls.__qualname__)
                return await init(self, *a, **kw)

            cls.initialize = counted

    Star.__init_subclass__ = classmethod(init_subclass)
    try:
        yield calls
    finally:
        Star.__init_subclass__ = original


async def test_plugin_loads_without_warnings(host):
    smd = host.metadata()
    assert smd.activated
    assert host.plugin_instance() is not None
    assert host.plugin_name not in host.plugin_manager.failed_plugin_dict
    assert host.boot_seconds < 30
    plugin_warnings = [
        r.getMessage() for r in host.logs.plugin_records() if r.levelno >= logging.WARNING
    ]
    assert plugin_warnings == [], host.logs.text()


async def test_reload_runs_initialize_again(host):
    old = host.plugin_instance()
    mark = host.logs.mark()
    with count_initialize_calls() as calls:
        assert await host.reload_plugin() == (True, None)
    new = host.plugin_instance()
    assert new is not old
    assert type(new) is not type(old)  # the module was purged and imported again
    assert len(calls) == 1, calls
    assert host.logs.select(logging.ERROR, since=mark) == []


async def test_set_plugin_config_saves_then_reloads(host):
    old = host.plugin_instance()
    web_admin = dict(host.plugin_config()["web_admin"])
    web_admin["port"] = free_port()
    await host.set_plugin_config({"web_admin": web_admin})
    assert read_plugin_config(host.root)["web_admin"]["port"] == web_admin["port"]
    assert host.plugin_config()["web_admin"]["port"] == web_admin["port"]
    assert host.plugin_instance() is not old


async def test_turn_off_and_on(host):
    await host.turn_off()
    assert not host.metadata().activated
    await host.turn_on()
    assert host.metadata().activated
    assert host.plugin_instance() is not None


async def test_boots_again_in_a_new_loop_and_leaves_no_tasks(host_factory):
    for _ in range(2):
        async with host_factory() as h:
            assert h.metadata().activated
        assert h.leftover_tasks == []
