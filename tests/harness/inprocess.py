"""Boot the real AstrBot core (``AstrBotCoreLifecycle``) inside the test process.

One piece: ``InProcessHost`` is one object whose boot, shutdown, undo of AstrBot's global
state and plugin operations (reload, save, turn off/on, wait for our start) share that
state; split, each half would reach into the other's.

ONE ROOT PER PROCESS. ``astrbot.core`` reads ``ASTRBOT_ROOT`` once, at import time
(config path, database path, the global config and logger are module-level objects).
So ``prepare_process_root()`` must run before anything imports astrbot, and test files
must not import astrbot (or the plugin's main.py) at module top level: import inside the
test, after the ``host`` fixture has run. The conftest sets ``ASTRBOT_ROOT`` to a
temporary path at collection time so a stray import can never write into the repo, and
fails loudly if astrbot was imported before the root was laid out.

Several hosts may boot one after another in the same process (one per test, each in the
test's own event loop): on exit the host stops the lifecycle and then clears AstrBot's
global plugin registries and purges plugin modules, as a reload-all would, without
terminating anything twice.

What differs from ``astrbot run``: no dashboard web server (only the core and the plugin
manager), and ``update_llm_metadata`` (a fire-and-forget download of models.dev metadata
at boot) is replaced by a no-op, so no task outlives the host and nothing touches the
network.

Core config per host: AstrBot reads ``data/cmd_config.json`` once, at import, into the
process-global ``astrbot.core.astrbot_config``. ``core_config`` (and ``chat=True``, which
adds the stand-in LLM and IM platform of ``harness.stand_ins``) is deep-merged into that
live dict before boot; on exit every top-level key that differs from a deep copy taken
before boot is put back (AstrBot also edits the config in place while booting), and the
file gets its old bytes, so the next host in the process starts from the same config.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from .roots import OFFLINE_ENV, PLUGIN_NAME, write_plugin_config
from .waiting import async_wait_for

# core/constants.py STASH_MODULE_NAME (not imported: the plugin is not importable here).
PLUGIN_STASH_MODULE = "_astrbot_plugin_proactive_chat_stash"

_prepared_root: Path | None = None
_log_broker: Any = None  # one LogBroker per process: LogManager keeps the first one


def prepare_process_root(root: Path) -> None:
    """Point this process at ``root`` (env, sys.path). Call before importing astrbot."""
    global _prepared_root
    root = Path(root).resolve()
    if _prepared_root is not None:
        if _prepared_root != root:
            raise RuntimeError(f"this process already uses AstrBot root {_prepared_root}")
        return
    if "astrbot" in sys.modules:
        raise RuntimeError(
            "astrbot was imported before the in-process AstrBot root was prepared, so it "
            f"runs on {os.environ.get('ASTRBOT_ROOT') or os.getcwd()} with default config. "
            "Do not import astrbot (or the plugin's main.py) at module top level in a test "
            "file or conftest: import it inside the test."
        )
    os.environ["ASTRBOT_ROOT"] = str(root)
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))  # AstrBot imports plugins as data.plugins.<dir>.main
    _prepared_root = root


class LogCapture(logging.Handler):
    """Keeps every record of AstrBot's logger and the plugin's dedicated logger.

    Both loggers have ``propagate = False`` (and AstrBot removes all root handlers
    after each plugin load), so the handler is attached to them directly.
    """

    def __init__(self, logger_names: tuple[str, ...]) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.logger_names = logger_names

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def attach(self) -> None:
        for name in self.logger_names:
            logging.getLogger(name).addHandler(self)

    def detach(self) -> None:
        for name in self.logger_names:
            logging.getLogger(name).removeHandler(self)

    def mark(self) -> int:
        """A position to pass to ``since=`` later."""
        return len(self.records)

    def select(
        self, min_level: int = logging.DEBUG, since: int = 0, contains: str | None = None
    ) -> list[logging.LogRecord]:
        return [
            r
            for r in self.records[since:]
            if r.levelno >= min_level and (contains is None or contains in r.getMessage())
        ]

    def warnings(self, since: int = 0) -> list[logging.LogRecord]:
        """WARNING and above."""
        return self.select(logging.WARNING, since)

    def plugin_records(self, since: int = 0, plugin_name: str = PLUGIN_NAME):
        """Records the plugin logged itself, or AstrBot logged naming the plugin."""
        return [
            r
            for r in self.records[since:]
            if r.name.endswith(plugin_name)
            or getattr(r, "plugin_name", None) == plugin_name
            or plugin_name in r.getMessage()
            or "data.plugins." + plugin_name in (r.pathname or "").replace(os.sep, ".")
        ]

    def text(self, since: int = 0) -> str:
        return "\n".join(f"{r.levelname} {r.name}: {r.getMessage()}" for r in self.records[since:])


class InProcessHost:
    """``async with InProcessHost(root) as host:`` boots AstrBot's core with our plugin.

    Args:
        root: The process root (see ``prepare_process_root``; done here if not yet).
        plugin_config: If not None, written as the plugin's config file before boot
            (replacing what a previous host left). None keeps the file as it is.
        plugin_name: Name in metadata.yaml (= directory under data/plugins).
        start_core: Also run ``lifecycle.start()`` (event bus, cron, on_astrbot_loaded
            hooks) in a background task, as ``astrbot run`` does. Default True.
        boot_timeout / stop_timeout / op_timeout: bounds for boot, shutdown and each
            plugin operation (reload, config save, turn off/on); exceeding one raises
            TimeoutError (a hanging terminate() would otherwise hang the test).
        core_config: Top-level ``cmd_config.json`` keys for this host only, deep-merged
            (dicts merge key by key, anything else replaces) over AstrBot's live config.
        chat: True (or a dict of ``stand_ins.chat_core_config`` keyword arguments, e.g.
            ``{"tts": True, "proactive": False}``) loads the scripted chat provider (the
            default one) and the recording IM platform; ``core_config`` is merged after
            it. Reach them with ``stand_ins.provider(host)`` / ``stand_ins.platform(host)``.
    """

    def __init__(
        self,
        root: Path,
        *,
        plugin_config: dict | None = None,
        plugin_name: str = PLUGIN_NAME,
        start_core: bool = True,
        boot_timeout: float = 60.0,
        stop_timeout: float = 30.0,
        op_timeout: float = 30.0,
        core_config: dict | None = None,
        chat: bool | dict = False,
    ) -> None:
        self.root = Path(root).resolve()
        self._core_config = core_config
        self._chat = chat
        self._config_snapshot: dict | None = None
        self._config_file_bytes: bytes | None = None
        self.plugin_name = plugin_name
        self._plugin_config = plugin_config
        self._start_core = start_core
        self.boot_timeout = boot_timeout
        self.stop_timeout = stop_timeout
        self.op_timeout = op_timeout
        self.logs = LogCapture(("astrbot", f"astrbot.plugin.{plugin_name}", "astrbot.dashboard"))
        self.lifecycle: Any = None
        self.boot_seconds: float | None = None
        self.leftover_tasks: list[str] = []
        self._core_task: asyncio.Task | None = None
        self._tasks_before: set[asyncio.Task] = set()

    # -- boot / shutdown -----------------------------------------------------------
    async def __aenter__(self) -> InProcessHost:
        prepare_process_root(self.root)
        if self._plugin_config is not None:
            write_plugin_config(self.root, self._plugin_config)
        self._tasks_before = asyncio.all_tasks()
        self.logs.attach()
        started = time.monotonic()
        try:
            self._apply_core_config()
            await asyncio.wait_for(self._boot(), self.boot_timeout)
        except BaseException:
            await self._shutdown()
            raise
        self.boot_seconds = time.monotonic() - started
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._shutdown()

    async def _boot(self) -> None:
        global _log_broker
        import astrbot.core.core_lifecycle as core_lifecycle_module
        from astrbot.core import LogBroker, LogManager, db_helper, logger

        core_lifecycle_module.update_llm_metadata = _no_llm_metadata_download
        if _log_broker is None:
            _log_broker = LogBroker()
            LogManager.set_queue_handler(logger, _log_broker)
        self.lifecycle = core_lifecycle_module.AstrBotCoreLifecycle(_log_broker, db_helper)
        await self.lifecycle.initialize()
        if self._start_core:
            self._core_task = asyncio.create_task(self.lifecycle.start(), name="astrbot-core")
            await async_wait_for(lambda: self.lifecycle.curr_tasks, 10, 0.01)
        self.metadata()  # fails now if our plugin is not registered at all
        await self.plugin_started()

    async def _shutdown(self) -> None:
        try:
            if self.lifecycle is not None and hasattr(self.lifecycle, "dashboard_shutdown_event"):
                await asyncio.wait_for(self._stop_lifecycle(), self.stop_timeout)
        finally:
            try:
                self._clear_registries()
                await self._cancel_leftover_tasks()
            finally:
                self._restore_core_config()
                self._forget_login_throttle()
                self.logs.detach()

    def _apply_core_config(self) -> None:
        overlay: dict = {}
        if self._chat:
            from . import stand_ins  # imports astrbot: registers the stand-in adapters

            stand_ins.ensure_registered()
            options = self._chat if isinstance(self._chat, dict) else {}
            overlay = stand_ins.chat_core_config(**options)
        if self._core_config:
            overlay = _deep_merge(overlay, self._core_config)
        if not overlay:
            return
        from astrbot.core import astrbot_config

        config_file = Path(astrbot_config.config_path)
        if config_file.is_file():
            self._config_file_bytes = config_file.read_bytes()
        # AstrBot also edits its config in place at boot (migrations, id fixes): keep
        # a deep copy of all of it, so the undo covers more than the overlay's keys.
        self._config_snapshot = copy.deepcopy(dict(astrbot_config))
        for key, value in overlay.items():
            original = astrbot_config.get(key)
            astrbot_config[key] = (
                _deep_merge(original, value)
                if isinstance(value, dict) and isinstance(original, dict)
                else copy.deepcopy(value)
            )

    def _restore_core_config(self) -> None:
        snapshot, self._config_snapshot = self._config_snapshot, None
        if snapshot is None:
            return
        from astrbot.core import astrbot_config

        for key in [k for k in astrbot_config if k not in snapshot]:
            del astrbot_config[key]
        for key, value in snapshot.items():
            if astrbot_config.get(key) != value:
                astrbot_config[key] = value
        if self._config_file_bytes is not None:
            config_file = Path(astrbot_config.config_path)
            if not config_file.is_file() or config_file.read_bytes() != self._config_file_bytes:
                config_file.write_bytes(self._config_file_bytes)
            self._config_file_bytes = None

    async def _stop_lifecycle(self) -> None:
        from astrbot.core import sp

        # Undo a turn_off so the next host in this process starts with the plugin on.
        inactive = await sp.global_get("inactivated_plugins", [])
        module_path = f"data.plugins.{self.plugin_name}.main"
        if module_path in inactive:
            inactive.remove(module_path)
            await sp.global_put("inactivated_plugins", inactive)
        await self.lifecycle.stop()
        if self._core_task is not None:
            self._core_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._core_task

    def _clear_registries(self) -> None:
        """What reload-all does before loading, minus terminate (stop() did that)."""
        if "astrbot.core.star.star" not in sys.modules:
            return
        from astrbot.core.star.star import star_map, star_registry
        from astrbot.core.star.star_handler import star_handlers_registry

        pm = getattr(self.lifecycle, "plugin_manager", None)
        for smd in list(star_registry):
            if pm is not None and smd.root_dir_name:
                pm._purge_modules(root_dir_name=smd.root_dir_name, is_reserved=smd.reserved)
        for key in [k for k in sys.modules if k == "data.plugins" or k.startswith("data.plugins.")]:
            del sys.modules[key]
        star_handlers_registry.clear()
        star_map.clear()
        star_registry.clear()
        try:
            from astrbot.core.provider.register import llm_tools

            llm_tools.func_list.clear()
        except ImportError:  # pragma: no cover - moved in another AstrBot version
            pass

    @staticmethod
    def _forget_login_throttle() -> None:
        """The next host stands for a new AstrBot process, whose wrong-password count
        starts empty: a test that throttles 127.0.0.1 on purpose must not lock the
        next test out. (The count lives in the plugin's process stash, which outlives
        hosts here because they share the pytest process.)"""
        stash = sys.modules.get(PLUGIN_STASH_MODULE)
        state = getattr(stash, "state", None)
        if isinstance(state, dict):
            state.pop("login_failures", None)

    async def _cancel_leftover_tasks(self) -> None:
        current = asyncio.current_task()
        leftovers = [
            t for t in asyncio.all_tasks() if t not in self._tasks_before and t is not current
        ]
        self.leftover_tasks = [t.get_name() + ": " + repr(t.get_coro()) for t in leftovers]
        for task in leftovers:
            task.cancel()
        if leftovers:
            await asyncio.wait(leftovers, timeout=5)

    # -- what tests use ------------------------------------------------------------
    @property
    def plugin_manager(self) -> Any:
        return self.lifecycle.plugin_manager

    @property
    def context(self) -> Any:
        return self.lifecycle.star_context

    @property
    def log_broker(self) -> Any:
        """AstrBot's LogBroker (one per process), as the dashboard's live log uses it."""
        return self.lifecycle.log_broker

    def metadata(self) -> Any:
        """Our plugin's StarMetadata (raises if AstrBot has not registered it)."""
        smd = self.context.get_registered_star(self.plugin_name)
        if smd is None:
            failed = getattr(self.plugin_manager, "failed_plugin_dict", {})
            raise AssertionError(
                f"plugin {self.plugin_name} is not registered; failed plugins: "
                f"{failed.get(self.plugin_name, failed)}\n{self.logs.text()[-4000:]}"
            )
        return smd

    def plugin_instance(self) -> Any:
        """The current Star instance. After turn_off() it is the terminated old one
        (AstrBot keeps it): check ``metadata().activated``."""
        return self.metadata().star_cls

    def plugin_config(self) -> Any:
        """The plugin's live AstrBotConfig."""
        return self.metadata().config

    async def reload_plugin(self, *, wait_started: bool = True) -> tuple[bool, str | None]:
        """``PluginManager.reload(<our name>)``; asserts the name is known first,
        because an unknown name makes AstrBot reload ALL plugins."""
        self.metadata()
        result = await asyncio.wait_for(
            self.plugin_manager.reload(self.plugin_name), self.op_timeout
        )
        self.metadata()
        if wait_started:
            await self.plugin_started()
        return result

    async def plugin_started(self) -> None:
        """Wait for the plugin's start: its ``initialize()`` returns before it (main.py),
        so AstrBot's reload (and a dashboard save) returns while the start runs on."""
        instance = self.metadata().star_cls
        starting = getattr(instance, "_starting", None)
        if starting is not None:
            await asyncio.wait_for(asyncio.shield(starting), self.op_timeout)

    async def set_plugin_config(self, config: dict) -> tuple[bool, str | None]:
        """Save as the dashboard does (validate against the schema, merge top-level
        keys, write the file), then reload the plugin."""
        from astrbot.dashboard.services.config_service import validate_config

        cfg = self.plugin_config()
        errors, config = validate_config(config, getattr(cfg, "schema", {}) or {}, is_core=False)
        if errors:
            raise ValueError(f"config rejected by the schema: {errors}")
        cfg.save_config(config)
        return await self.reload_plugin()

    async def turn_off(self) -> None:
        """As the dashboard's disable: terminate() and remember it as inactive."""
        await asyncio.wait_for(
            self.plugin_manager.turn_off_plugin(self.plugin_name), self.op_timeout
        )

    async def turn_on(self) -> None:
        """As the dashboard's enable: a reload of the plugin."""
        await asyncio.wait_for(
            self.plugin_manager.turn_on_plugin(self.plugin_name), self.op_timeout
        )
        await self.plugin_started()


def _deep_merge(base: dict | None, overlay: dict) -> dict:
    """A new dict: ``base`` with ``overlay`` merged in (dicts recursively, the rest
    replaced; everything deep-copied)."""
    merged = copy.deepcopy(base) if base else {}
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


async def _no_llm_metadata_download() -> None:
    """Stands in for astrbot.core.utils.llm_metadata.update_llm_metadata (network)."""
