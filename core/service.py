"""``ProactiveService``: the store, the engine and their AstrBot adapters, as one unit.

Start order: store, then engine (the panel comes after, in main.py); stop in reverse.
``start()`` and ``stop()`` never raise and ``stop()`` is bounded: the plugin lives in
AstrBot's process and its terminate() holds AstrBot's plugin lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any

from .adapters.analyst import ModelAnalyst
from .adapters.availability import missing_names
from .adapters.composer import MessageComposer
from .adapters.sender import MessageSender
from .constants import LOG_PREFIX
from .engine.config import SCHEMA_GROUPS, parse_plugin_config, validate_config_update
from .engine.engine import ProactiveEngine
from .engine.models import PluginSettings
from .engine.serving import kind_enabled, session_list_with
from .plugin_log import logger
from .store.session_store import SessionStore, StoreUnavailable
from .umo import kind_of

STORE_FILE_NAME = "proactive_chat.db"
ENGINE_STOP_SECONDS = 3.5  # the engine lets a send in progress finish for 2 s
STORE_CLOSE_SECONDS = 4.0  # final flush and thread end (the store bounds them at 3 s)
PRUNE_INTERVAL_SECONDS = 3600.0
STORE_RETRY_SECONDS = (5.0, 15.0, 45.0, 120.0)  # then every 2 min while the store stays shut


@dataclass(frozen=True, slots=True)
class ServeOutcome:
    """What ``set_served`` did. ``refused`` is "kind_off" when the kind's own switch is off
    (nothing is changed: the switch points to Config instead); ``errors`` are the config
    checks that failed (nothing is changed either)."""

    served: bool
    changed: bool = False
    dropped_override: bool = False  # an old per-session ``enable`` was removed
    removed_bare_ids: tuple[str, ...] = ()
    refused: str | None = None
    errors: tuple[str, ...] = ()


def resolve_timezone(name: object) -> tzinfo | None:
    """AstrBot's configured timezone (``timezone`` in its config); None = system local.
    Reads tzdata from disk: call it off the event loop."""
    if not isinstance(name, str) or not name.strip():
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        logger.warning(
            "%s AstrBot's timezone %r is unknown; using the system's local time.",
            LOG_PREFIX,
            name,
        )
        return None


class ProactiveService:
    def __init__(
        self,
        context: Any,
        config: MutableMapping[str, Any],
        data_dir: Path,
        *,
        is_ready: Callable[[], bool] | None = None,
    ) -> None:
        self.context = context
        self.config = config
        self.data_dir = data_dir
        self.store = SessionStore(data_dir / STORE_FILE_NAME)
        self.engine: ProactiveEngine | None = None
        self._is_ready = is_ready
        self._prune_task: asyncio.Task | None = None
        self._reopen_task: asyncio.Task | None = None
        self._config_lock = asyncio.Lock()
        self.problem: str | None = None  # why the engine is not running, for the panel

    async def start(self) -> None:
        try:
            await self._start()
        except Exception as exc:
            self.problem = f"start-up failed: {exc}"
            logger.exception(
                "%s The proactive engine could not start; AstrBot is not affected.", LOG_PREFIX
            )

    async def _start(self) -> None:
        # Off the loop: a session list of 100,000 UMOs takes a few hundred ms to check.
        settings, problems = await asyncio.to_thread(parse_plugin_config, dict(self.config))
        for problem in problems:
            logger.warning("%s Config: %s", LOG_PREFIX, problem)
        timezone = await asyncio.to_thread(resolve_timezone, self._astrbot_timezone())
        try:
            await self.store.open()
        except StoreUnavailable as exc:
            self.problem = str(exc)
            logger.error(
                "%s %s. Proactive messages are off until this is fixed; the plugin tries "
                "again by itself (every 2 minutes at most).",
                LOG_PREFIX,
                exc,
            )
            self._reopen_task = asyncio.create_task(self._reopen(timezone), name="pc-reopen")
            return
        await self._start_engine(settings, timezone)

    async def _reopen(self, timezone: tzinfo | None) -> None:
        """Open the store once its disk is fixed, then start the engine (logged once)."""
        for attempt in itertools.count():
            await asyncio.sleep(STORE_RETRY_SECONDS[min(attempt, len(STORE_RETRY_SECONDS) - 1)])
            try:
                await self.store.open()
            except StoreUnavailable:
                continue  # logged once, at start
            except Exception:
                logger.exception("%s Opening the store failed unexpectedly.", LOG_PREFIX)
                return
            break
        logger.info(
            "%s The store %s opened; proactive messages are on.", LOG_PREFIX, self.store.path
        )
        self.problem = None
        try:
            settings, _problems = await asyncio.to_thread(parse_plugin_config, dict(self.config))
            await self._start_engine(settings, timezone)
        except Exception as exc:
            self.problem = f"start-up failed: {exc}"
            logger.exception("%s The proactive engine could not start.", LOG_PREFIX)

    async def _start_engine(self, settings: PluginSettings, timezone: tzinfo | None) -> None:
        self.store.start()
        engine = ProactiveEngine(
            settings=settings,
            store=self.store,
            composer=MessageComposer(
                self.context, timeout_seconds=settings.engine.llm_timeout_seconds
            ),
            sender=MessageSender(self.context),
            analyst=ModelAnalyst(self.context),
            timezone=timezone,
            is_ready=self._is_ready,
        )
        await engine.start()
        self.engine = engine
        self._prune_task = asyncio.create_task(self._prune_periodically(), name="pc-prune")
        logger.info(
            "%s Engine started: %d known session(s), %d private chat(s) and %d group(s) listed.",
            LOG_PREFIX,
            len(engine.sessions),
            len(settings.friend_sessions),
            len(settings.group_sessions),
        )

    async def stop(self) -> None:
        """Engine first (bounded), then the store (bounded on its own), so the final
        flush runs even when a platform ignores the engine's stop."""
        for name in ("_reopen_task", "_prune_task"):
            task = getattr(self, name)
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                setattr(self, name, None)
        engine, self.engine = self.engine, None
        if engine is not None:
            await self._bounded(engine.stop(), ENGINE_STOP_SECONDS, "the engine")
        await self._bounded(self.store.close(), STORE_CLOSE_SECONDS, "the store")

    async def _bounded(self, step: Any, seconds: float, what: str) -> None:
        try:
            async with asyncio.timeout(seconds):
                await step
        except TimeoutError:
            logger.error(
                "%s Stopping %s took over %g s; moving on so AstrBot is not held up.",
                LOG_PREFIX,
                what,
                seconds,
            )
        except Exception:
            logger.exception("%s Error while stopping %s", LOG_PREFIX, what)

    def notify_ready(self) -> None:
        if self.engine is not None:
            self.engine.notify_ready()

    # -- config, applied live --------------------------------------------------------
    def missing_names(self) -> list[dict[str, str]]:
        """Models and tools the config names that AstrBot does not have (for the
        Overview); empty without an engine. Never raises."""
        engine = self.engine
        if engine is None:
            return []
        try:
            return missing_names(self.context, engine.settings)
        except Exception:
            return []

    def config_view(self) -> dict[str, Any]:
        """The engine's config groups as in effect (normalized)."""
        settings = self.engine.settings if self.engine else parse_plugin_config(self.config)[0]
        return {
            "friend_settings": settings.friend_dict,
            "group_settings": settings.group_dict,
            "engine_settings": settings.engine_dict,
        }

    async def update_config(self, raw: dict[str, Any]) -> list[str]:
        """Validate, save with AstrBot's ``save_config()`` and apply without a reload.
        Returns the errors (nothing is changed when there are any)."""
        async with self._config_lock:  # two saves must not interleave
            return await self._update_config(raw)

    async def _update_config(
        self, raw: dict[str, Any], source: str = "the admin panel"
    ) -> list[str]:
        current = {group: self.config.get(group) for group in SCHEMA_GROUPS}
        new_groups, errors = await asyncio.to_thread(validate_config_update, raw, current)
        if errors:
            return errors
        for group, value in new_groups.items():
            self.config[group] = value
        save = getattr(self.config, "save_config", None)
        if callable(save):
            try:
                await asyncio.to_thread(save)
            except BaseException:
                # Not saved: the config in memory goes back to what the file holds.
                for group in new_groups:
                    self.config[group] = current[group]
                raise
        settings, problems = await asyncio.to_thread(parse_plugin_config, dict(self.config))
        for problem in problems:
            logger.warning("%s Config: %s", LOG_PREFIX, problem)
        if self.engine is not None:
            await self.engine.apply_settings(settings)
            if self.engine.composer is not None and hasattr(
                self.engine.composer, "timeout_seconds"
            ):
                self.engine.composer.timeout_seconds = settings.engine.llm_timeout_seconds
        logger.info("%s Config saved from %s and applied.", LOG_PREFIX, source)
        return []

    async def set_served(self, umo: str, served: bool) -> ServeOutcome:
        """Serve ``umo`` or stop: its kind's ``session_list`` written back through
        ``update_config`` (checked, saved with AstrBot's ``save_config()``, applied at
        once), under the same lock as every config save. A per-session ``enable`` left by
        an older ``/proactive on|off`` is removed so the list is the one truth.

        Raises ``ValueError`` for a session id that is not a chat and what saving raises
        (``OSError``); nothing is changed then."""
        kind = kind_of(umo)
        if kind is None:
            raise ValueError(f"{umo!r} is not a private chat or a group")
        group = "group_settings" if kind == "group" else "friend_settings"
        async with self._config_lock:
            settings, _ = await asyncio.to_thread(parse_plugin_config, dict(self.config))
            override = self._override_enable(umo)
            if served and not kind_enabled(settings, kind) and override is not True:
                return ServeOutcome(served=False, refused="kind_off")
            kind_dict = settings.group_dict if kind == "group" else settings.friend_dict
            entries = list(kind_dict["session_list"])
            new_entries, bare = session_list_with(entries, umo, served)
            changed = new_entries != entries
            if changed:
                raw = {group: {"session_list": new_entries}}
                errors = await self._update_config(raw, "the Serve switch")
                if errors:
                    return ServeOutcome(served=not served, errors=tuple(errors))
            # With the kind switched off, an override is all that serves the chat: kept.
            keep = served and not kind_enabled(settings, kind)
            dropped = override is not None and not keep and await self._drop_override_enable(umo)
        logger.info(
            "%s %s %s (the list %s.session_list was %s).",
            LOG_PREFIX,
            "Serving" if served else "No longer serving",
            umo,
            group,
            "saved" if changed else "already right",
        )
        return ServeOutcome(served, changed, dropped, tuple(bare))

    def _override_enable(self, umo: str) -> bool | None:
        engine = self.engine
        value = (engine.overrides.get(umo) or {}).get("enable") if engine else None
        return value if isinstance(value, bool) else None

    async def _drop_override_enable(self, umo: str) -> bool:
        """Remove the ``enable`` of ``umo``'s override (its other settings stay)."""
        engine = self.engine
        if engine is None or umo not in engine.sessions:
            return False
        rest = {k: v for k, v in (engine.overrides.get(umo) or {}).items() if k != "enable"}
        await engine.set_override(umo, rest)
        return True

    def _astrbot_timezone(self) -> object:
        try:
            return self.context.get_config().get("timezone")
        except Exception:
            return None

    async def _prune_periodically(self) -> None:
        while True:
            engine = self.engine
            if engine is not None:
                limits = engine.settings.engine
                try:
                    removed = await self.store.prune_journal(
                        keep_days=limits.journal_keep_days, max_entries=limits.journal_max_entries
                    )
                    if removed:
                        logger.info("%s Journal: %d old entries removed.", LOG_PREFIX, removed)
                except Exception:
                    logger.exception("%s Journal clean-up failed", LOG_PREFIX)
            await asyncio.sleep(PRUNE_INTERVAL_SECONDS)
