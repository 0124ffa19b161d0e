"""AstrBot entry point: wiring and event handlers only.

AstrBot calls ``terminate()`` only when the entry class itself defines it (an
inherited one is skipped) and never when it defines ``__del__``: so ``terminate``
lives here and ``__del__`` must not. Every decorated handler must live here too.

AstrBot imports this module on its event loop at every hot reload, so it imports only
what registering the handlers needs (AstrBot's API and light modules of our own). The
service (store, engine) and the panel (FastAPI, pydantic, Jinja2, uvicorn) are
imported and built in a worker thread; the loop never imports them, so it never waits
on the import lock the thread holds.

``initialize()`` only starts that work (``_start``, a task) and returns: AstrBot
waits for ``initialize()`` at boot and at every save in its dashboard, and our start
(about 0.2 s, mostly re-importing our modules after AstrBot purged them) need not hold
it. Before it returns, the panel's address is listening (core/server/port_hold.py:
the previous instance's listener, or a new one after an address change), so requests
wait and none is refused. Meanwhile the dashboard page answers "reloading", commands
answer "starting", and messages are kept (core/early_messages.py) and noted when the
engine runs. ``terminate()`` waits for a start still running (bounded) before
stopping what it started.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

# AstrBot routes it to this plugin's own logger (core/plugin_log.py names the same one).
from astrbot.api import logger
from astrbot.api.event import AstrMessageEvent, filter
from astrbot.api.star import Context, Star, StarTools

from .core.adapters.lookups import platforms_loaded
from .core.command_texts import NOT_A_CHAT, status_text, switch_reply
from .core.constants import LOG_PREFIX, PLUGIN_NAME
from .core.early_messages import EarlyMessages
from .core.umo import kind_of, webchat_name

if TYPE_CHECKING:
    from .core.engine.engine import ProactiveEngine
    from .core.service import ProactiveService
    from .panel import AdminPanel

START_WAIT_SECONDS = 10.0  # terminate() waits this long for a start still running


def _session_name(event: AstrMessageEvent, umo: str) -> str:
    """The group's name in a group (never whoever spoke last), the sender's in a chat (in
    AstrBot's webchat, where every conversation has the dashboard user's name, with the
    start of the conversation id). ``umo`` is the event's (AstrBot builds it anew on
    every read)."""
    group = getattr(event.message_obj, "group", None)
    if group is not None or kind_of(umo) == "group":
        return getattr(group, "group_name", "") or ""
    sender = event.get_sender_name() or ""
    return webchat_name(event.get_session_id() or "", sender) or sender


def _reply_text(response: object) -> str:
    return getattr(response, "completion_text", "") or ""


def _is_command(event: AstrMessageEvent) -> bool:
    """A command to some plugin (``/proactive status``, ``/help``): AstrBot's waking stage
    lists the command handlers it matched in this extra."""
    return bool(event.get_extra("handlers_parsed_params"))


def _port_holder(config: dict) -> Callable[[], Awaitable[bool]]:
    """In a worker thread (it imports): what keeps the panel's configured address
    listening until the panel's server takes it (core/server/port_hold.py)."""
    from .core.server.port_hold import hold_port
    from .web.settings import parse_web_admin

    web, _ = parse_web_admin(config.get("web_admin"))  # the panel reports any problem
    return partial(hold_port, web.host, web.port, web.enabled)


def _build(context: Context, config: dict, data_dir: Path) -> tuple[ProactiveService, AdminPanel]:
    """In a worker thread: import and construct the service and the panel."""
    from .core.service import ProactiveService
    from .panel import build_panel

    service = ProactiveService(
        context, config, data_dir, is_ready=partial(platforms_loaded, context)
    )
    return service, build_panel(config, data_dir, service)


class ProactiveChatPlugin(Star):
    def __init__(self, context: Context, config: dict | None = None) -> None:
        super().__init__(context, config)
        self.config = config if config is not None else {}
        self.service: ProactiveService | None = None
        self.panel: AdminPanel | None = None
        self._starting: asyncio.Task[None] | None = None
        self._early: EarlyMessages | None = None  # while starting: messages kept

    async def initialize(self) -> None:
        """Start in the background (see the module doc); AstrBot is not held up."""
        self._early = EarlyMessages()
        try:  # the panel's port listens before we return, a new one too
            hold = await asyncio.to_thread(_port_holder, self.config)
            await hold()
        except Exception:
            logger.exception("%s Could not hold the panel's port early.", LOG_PREFIX)
        self._starting = asyncio.create_task(self._start(), name="pc-start")

    async def _start(self) -> None:
        try:
            data_dir = await asyncio.to_thread(StarTools.get_data_dir, PLUGIN_NAME)
            service, panel = await asyncio.to_thread(_build, self.context, self.config, data_dir)
            self.service = service
            await service.start()
            self._note_early_messages(service)
            self.panel = panel
            await panel.start()
            panel.attach_dashboard(self.context)  # the page in AstrBot's dashboard
        except Exception:
            logger.exception("%s Start-up failed; AstrBot is not affected.", LOG_PREFIX)
        finally:
            self._early = None  # from now on a message without an engine is not kept

    def _note_early_messages(self, service: ProactiveService) -> None:
        early, engine = self._early, service.engine
        if early is None or engine is None or not len(early):
            return
        noted = early.replay(engine)
        if early.dropped:
            logger.warning(
                "%s %d messages arrived while the plugin was starting, more than it keeps; "
                "the %d oldest were not noted (their chats plan again at their next "
                "message, nothing to do).",
                LOG_PREFIX,
                noted + early.dropped,
                early.dropped,
            )

    async def terminate(self) -> None:
        starting, self._starting = self._starting, None
        if starting is not None and not starting.done():
            try:  # a save right after a save: let the start finish, then stop it all
                await asyncio.wait_for(asyncio.shield(starting), START_WAIT_SECONDS)
            except TimeoutError:
                logger.error(
                    "%s The start was still running after %g s; stopping it half-way.",
                    LOG_PREFIX,
                    START_WAIT_SECONDS,
                )
                starting.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await starting
        panel, self.panel = self.panel, None
        if panel is not None:
            await panel.stop()
        service, self.service = self.service, None
        if service is not None:
            await service.stop()

    def _engine(self) -> ProactiveEngine | None:
        service = self.service
        return service.engine if service is not None else None

    # -- events ----------------------------------------------------------------------
    @filter.on_platform_loaded()
    async def pc_on_platform_loaded(self) -> None:
        if self.service is not None:
            self.service.notify_ready()

    @filter.event_message_type(filter.EventMessageType.ALL)
    async def pc_on_message(self, event: AstrMessageEvent) -> None:
        """Every incoming message: a few dict operations, no I/O (see core/engine/messages.py)."""
        # Every call and attribute read here is paid on every message of every chat:
        # the engine is looked up inline, the UMO (a new string per read) read once.
        service = self.service
        engine = service.engine if service is not None else None
        if engine is None:
            if self._early is not None:
                self._keep_early(event)  # still starting: noted when the engine runs
            return
        try:
            umo = event.unified_msg_origin
            if event.get_sender_id() == event.get_self_id():
                engine.on_bot_message(umo)
            elif not _is_command(event):
                # A command is not conversation: it must not re-plan the chat (nor add a
                # "planned" row to the journal for every command).
                text = event.message_str
                engine.note_user_message(umo, _session_name(event, umo), text)
                engine.note_talk(umo, event.get_sender_name(), text)  # O(1)
        except Exception:
            logger.exception("%s Could not note a message", LOG_PREFIX)

    def _keep_early(self, event: AstrMessageEvent) -> None:
        early = self._early
        if early is None:
            return
        try:
            umo = event.unified_msg_origin
            if event.get_sender_id() == event.get_self_id():
                early.bot(umo)
            elif not _is_command(event):
                text = event.message_str
                early.user(umo, _session_name(event, umo), event.get_sender_name(), text)
        except Exception:
            logger.exception("%s Could not keep a message during start-up", LOG_PREFIX)

    @filter.on_llm_response()
    async def pc_on_llm_response(self, event: AstrMessageEvent, response: object) -> None:
        """The model answered in this session (also seen for streamed replies, which
        ``after_message_sent`` misses): in a group, that restarts the silence."""
        engine = self._engine()
        if engine is None:
            if self._early is not None:
                self._early.bot(event.unified_msg_origin, _reply_text(response))
            return
        try:
            text = _reply_text(response)
            engine.on_bot_message(event.unified_msg_origin, text)  # a promise in it plans
            engine.note_bot_talk(event.unified_msg_origin, text)
        except Exception:
            logger.exception("%s Could not note a reply", LOG_PREFIX)

    @filter.after_message_sent()
    async def pc_after_message_sent(self, event: AstrMessageEvent) -> None:
        engine = self._engine()
        if engine is None:
            if self._early is not None:
                self._early.bot(event.unified_msg_origin)
            return
        try:
            engine.on_bot_message(event.unified_msg_origin)
        except Exception:
            logger.exception("%s Could not note a reply", LOG_PREFIX)

    # -- commands --------------------------------------------------------------------
    @filter.command_group("proactive")
    def proactive(self) -> None:
        """主动消息 / proactive messages: status, on, off, now, panel"""

    @proactive.command("status")
    async def pc_status(self, event: AstrMessageEvent):
        """本会话的主动消息状态 / this session's status"""
        yield event.plain_result(self._status_text(event.unified_msg_origin))

    @filter.permission_type(filter.PermissionType.ADMIN)
    @proactive.command("on")
    async def pc_on(self, event: AstrMessageEvent):
        """在本会话开启主动消息 / turn proactive messages on here"""
        yield event.plain_result(await self._set_enabled(event.unified_msg_origin, True))

    @filter.permission_type(filter.PermissionType.ADMIN)
    @proactive.command("off")
    async def pc_off(self, event: AstrMessageEvent):
        """在本会话关闭主动消息 / turn proactive messages off here"""
        yield event.plain_result(await self._set_enabled(event.unified_msg_origin, False))

    @filter.permission_type(filter.PermissionType.ADMIN)
    @proactive.command("now")
    async def pc_now(self, event: AstrMessageEvent):
        """立即发送一条主动消息 / send a proactive message now"""
        engine = self._engine()
        if engine is None:
            yield event.plain_result(self._unavailable())
            return
        try:
            engine.request_trigger(event.unified_msg_origin)
        except Exception as exc:
            yield event.plain_result(f"无法发送 / Cannot send: {exc}")
            return
        yield event.plain_result("好的，马上写一条。/ Writing one now.")

    @filter.permission_type(filter.PermissionType.ADMIN)
    @proactive.command("panel")
    async def pc_panel(self, event: AstrMessageEvent):
        """管理面板地址（仅私聊）/ the admin panel's address (private chat only)"""
        if kind_of(event.unified_msg_origin) != "friend":
            yield event.plain_result("请在私聊中使用。/ Please ask in a private chat.")
            return
        panel = self.panel
        if panel is None or not panel.settings.enabled:
            yield event.plain_result("管理面板未启用。/ The admin panel is off.")
            return
        yield event.plain_result(
            f"管理面板 / Admin panel: {panel.settings.url}\n"
            "密码见插件配置或首次启动日志。/ The password is in the plugin config or the "
            "first start-up log."
        )

    # -- helpers ---------------------------------------------------------------------
    async def _set_enabled(self, umo: str, enabled: bool) -> str:
        """``/proactive on|off``: the chat put on or taken off its kind's ``session_list``
        (the list the panel's Serve switch and AstrBot's config dialog show)."""
        service = self.service
        if service is None:
            return self._unavailable()
        if kind_of(umo) is None:
            return NOT_A_CHAT
        try:
            outcome = await service.set_served(umo, enabled)
        except Exception as exc:
            logger.warning("%s /proactive %s failed for %s: %s", LOG_PREFIX, enabled, umo, exc)
            return f"操作失败，配置未改变 / Failed, the config is unchanged: {exc}"
        return switch_reply(self._engine(), umo, outcome)

    def _status_text(self, umo: str) -> str:
        """What the panel's Serve switch says, with the reason and how to change it."""
        engine = self._engine()
        if engine is None:
            return self._unavailable()
        return status_text(engine, umo)

    def _unavailable(self) -> str:
        starting = self._starting
        if starting is not None and not starting.done():
            return (
                "主动消息正在启动，请稍后再试 / Proactive chat is starting; try again in a moment."
            )
        problem = self.service.problem if self.service else None
        return f"主动消息引擎未运行 / The engine is not running{': ' + problem if problem else ''}"
