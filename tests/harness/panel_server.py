"""The panel over a real ``ProactiveService``, served by real uvicorn on 127.0.0.1, in a
thread with its own event loop: for synchronous clients (schemathesis, ``requests``)
in tests and benchmarks.

    with PanelServer(tmp_path) as server:          # seeded sessions and journal
        requests.get(server.base_url + "/api/status", headers=server.bearer())
        server.call(lambda: server.engine.pause(umo))   # runs on the server's loop

The engine, store and app live on the server's loop only; touch them through
``call()``. Startup and shutdown are bounded (``START_SECONDS``, ``STOP_SECONDS``).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import Any

from .engine_rig import RecordingSender, ScriptedComposer
from .panel_app import panel_deps, seed_sessions, start_service
from .plugin_package import import_plugin_package

import_plugin_package()

from proactive_chat.core.engine.models import SessionState  # noqa: E402
from proactive_chat.core.server.embedded_uvicorn import EmbeddedUvicorn  # noqa: E402
from proactive_chat.core.server.listener_handover import open_listener  # noqa: E402
from proactive_chat.web.app import create_app  # noqa: E402

PASSWORD = "Panel-Server-Passw0rd"
START_SECONDS = 20.0
STOP_SECONDS = 15.0
SEED_NOW = 1_700_000_000.0

# Sessions whose ids stress the routes: ``/`` and ``:`` in the id, non-ASCII, a name
# with half an emoji (what some IM platforms deliver), a long name.
ODD_SESSIONS = (
    ("odd:FriendMessage:team/42", "friend", "Team / 42"),
    ("odd:GroupMessage:a:b:c", "group", "colons: a:b:c"),
    ("odd:FriendMessage:用户-ü", "friend", "用户 ü 🙂"),
    ("odd:FriendMessage:half-emoji", "friend", "half \ud83d emoji"),
    ("odd:GroupMessage:long", "group", "L" * 300),
)
JOURNAL_KINDS = ("planned", "sent", "answered", "capped", "manual", "llm_failed", "override")


class SavedConfig(dict):
    """What AstrBot hands the plugin: a dict with ``save_config()`` (kept in memory)."""

    def save_config(self) -> None:
        pass


def seeded_config(friends: list[str], groups: list[str]) -> SavedConfig:
    return SavedConfig(
        {
            "friend_settings": {"session_list": friends, "schedule_settings": {"quiet_hours": ""}},
            "group_settings": {"enable": True, "session_list": groups},
            "web_admin": {"password": PASSWORD},
        }
    )


class PanelServer:
    def __init__(self, data_dir: Path, *, sessions: int = 40, journal: int = 120) -> None:
        self.data_dir = data_dir
        self.sessions = sessions
        self.journal = journal
        self.port = 0
        self.token = ""
        self.service: Any = None
        self.deps: Any = None
        self.app: Any = None
        self.umos: list[str] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready: Future[None] = Future()
        self._stop: asyncio.Event | None = None
        self._done: Future[None] = Future()

    # -- addresses and credentials ------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def origin(self) -> str:
        """What a browser on the panel's own page sends as Origin."""
        return self.base_url

    @property
    def engine(self) -> Any:
        return self.service.engine

    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def browser_headers(self) -> dict[str, str]:
        """Logged in the way the panel's pages are: the cookie, plus the Origin a browser
        adds to unsafe requests."""
        return {"Cookie": f"pc_session={self.token}", "Origin": self.origin}

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> PanelServer:
        self._thread = threading.Thread(target=self._run, name="panel-server", daemon=True)
        self._thread.start()
        self._ready.result(timeout=START_SECONDS)
        return self

    def stop(self) -> None:
        if self._loop is None or self._stop is None or self._done.done():
            return
        self._loop.call_soon_threadsafe(self._stop.set)
        self._done.result(timeout=STOP_SECONDS)
        if self._thread is not None:
            self._thread.join(timeout=STOP_SECONDS)

    def __enter__(self) -> PanelServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def call(self, func: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Run ``func`` on the server's loop (awaiting it if it returns an awaitable)."""
        assert self._loop is not None

        async def run() -> Any:
            result = func()
            if asyncio.iscoroutine(result):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout)

    # -- the server's thread ------------------------------------------------------------

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to whoever waits
            for future in (self._ready, self._done):
                if not future.done():
                    future.set_exception(exc)
        else:
            if not self._done.done():
                self._done.set_result(None)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        # The plugin's own listener (its TCP protocol number matters: asyncio sets
        # TCP_NODELAY only then, and without it a kept-alive answer waits ~40 ms).
        listener = await open_listener("127.0.0.1", 0)
        self.port = listener.getsockname()[1]
        server: EmbeddedUvicorn | None = None
        serving: asyncio.Task | None = None
        try:
            await self._start_service()
            deps = panel_deps(self.service, PASSWORD)
            deps.settings = replace(deps.settings, port=self.port)  # Origin checks use it
            self.deps, self.app = deps, create_app(deps)
            self.token = deps.auth.issue_token()
            server = EmbeddedUvicorn(self.app)
            serving = asyncio.create_task(server.serve(sockets=[listener]))
            async with asyncio.timeout(START_SECONDS):
                await server.startup_done.wait()
            if not server.started:
                raise RuntimeError("uvicorn did not start")
            self._ready.set_result(None)
            await self._stop.wait()
        finally:
            if server is not None and serving is not None:
                server.should_exit = True
                await asyncio.wait({serving}, timeout=5.0)
                if not serving.done():
                    serving.cancel()
                    await asyncio.wait({serving}, timeout=1.0)
            if self.service is not None:
                await self.service.stop()
            listener.close()

    async def _start_service(self) -> None:
        odd = [umo for umo, _, _ in ODD_SESSIONS]
        friends = [f"seed:FriendMessage:{n:06d}" for n in range(1, self.sessions, 2)]
        groups = [f"seed:GroupMessage:{n:06d}" for n in range(0, self.sessions, 8)]
        config = seeded_config(
            friends + [u for u in odd if ":Friend" in u], groups + [u for u in odd if ":Group" in u]
        )
        composer = ScriptedComposer(default="Long time no see!", provider_id="prov-1")
        service = await start_service(self.data_dir, config, composer, RecordingSender())
        self.service = service
        engine = service.engine
        self.umos = seed_sessions(engine, self.sessions, SEED_NOW)
        for umo, kind, name in ODD_SESSIONS:
            engine.sessions[umo] = SessionState(umo=umo, kind=kind, name=name)
            self.umos.append(umo)
        for n in range(self.journal):
            umo = self.umos[n % len(self.umos)]
            kind = JOURNAL_KINDS[n % len(JOURNAL_KINDS)]
            detail = {"n": n, "text": "hi =1+1 🙂" if n % 3 else "", "nested": {"at": [n, None]}}
            engine.journal(umo, kind, f"seeded entry {n}", **detail)
        await service.store.flush()
