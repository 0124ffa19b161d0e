"""``/ws/events`` against the panel's real uvicorn (``EmbeddedUvicorn``, its own frame
limits) on 127.0.0.1, with a real ``ProactiveEngine`` over a real ``SessionStore``."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import quote

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from harness.engine_rig import RecordingSender, ScriptedComposer
from harness.panel_app import VERSION, panel_deps, start_service
from harness.ports import listening_socket
from harness.waiting import async_wait_for
from proactive_chat.core.engine.engine import ProactiveEngine
from proactive_chat.core.engine.event_hub import QUEUE_SIZE
from proactive_chat.core.server.embedded_uvicorn import EmbeddedUvicorn
from proactive_chat.core.service import ProactiveService
from proactive_chat.web.app import AppDeps, create_app
from proactive_chat.web.ws.connections import FLOOD_BURST

PASSWORD = "Events-Passw0rd"
ALICE = "test:FriendMessage:alice"


class RunningPanel:
    def __init__(self, port: int, deps: AppDeps, sender: RecordingSender) -> None:
        self.port, self.deps, self.sender = port, deps, sender

    @property
    def service(self) -> ProactiveService:
        return self.deps.service

    @property
    def engine(self) -> ProactiveEngine:
        return self.deps.service.engine

    def url(self, token: str | None = "") -> str:
        token = self.deps.auth.issue_token() if token == "" else token
        return f"ws://127.0.0.1:{self.port}/ws/events" + (f"?token={token}" if token else "")

    def http(self) -> httpx.AsyncClient:
        token = self.deps.auth.issue_token()
        return httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{self.port}",
            headers={"Authorization": f"Bearer {token}"},
        )


async def run_panel(deps: AppDeps):
    sock = listening_socket()
    server = EmbeddedUvicorn(create_app(deps))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await async_wait_for(lambda: server.started or task.done(), timeout=5, interval=0.01)
    assert server.started, "uvicorn stopped before it started"
    return sock.getsockname()[1], server, task


def build_deps(service) -> AppDeps:
    return panel_deps(service, PASSWORD)


@pytest.fixture
async def panel(tmp_path):
    sender = RecordingSender()
    config = {
        "friend_settings": {"session_list": [ALICE], "schedule_settings": {"quiet_hours": "0-0"}}
    }
    composer = ScriptedComposer(default="Hello again!")
    service = await start_service(tmp_path, config, composer, sender)
    deps = build_deps(service)
    port, server, task = await run_panel(deps)
    try:
        yield RunningPanel(port, deps, sender)
    finally:
        await deps.connections.close_all(wait_seconds=0.5)
        server.should_exit = True
        async with asyncio.timeout(5):
            await task
        await service.stop()


async def recv_json(ws, seconds: float = 3.0) -> dict:
    async with asyncio.timeout(seconds):
        return json.loads(await ws.recv())


async def recv_until(ws, predicate, seconds: float = 5.0) -> list[dict]:
    """Every event up to and including the first that matches."""
    seen: list[dict] = []
    async with asyncio.timeout(seconds):
        while True:
            seen.append(json.loads(await ws.recv()))
            if predicate(seen[-1]):
                return seen


async def closed_with(ws, seconds: float = 3.0):
    with pytest.raises(ConnectionClosed) as caught:
        async with asyncio.timeout(seconds):
            while True:
                await ws.recv()
    return caught.value.rcvd


async def assert_quiet(ws, seconds: float = 0.3) -> None:
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(seconds):
            await ws.recv()


# --- login ---------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "forged.token"])
async def test_without_login_closed_with_1008(panel, token):
    async with connect(panel.url(token)) as ws:
        close = await closed_with(ws)
    assert (close.code, close.reason) == (1008, "login required")
    assert not panel.engine.events.has_subscribers


# --- the stream ----------------------------------------------------------------------------


async def test_hello_carries_the_status(panel):
    panel.engine.on_user_message(ALICE, "Alice")
    async with connect(panel.url()) as ws:
        hello = await recv_json(ws)
        assert hello["type"] == "hello"
        status = hello["status"]
        assert (status["running"], status["ready"]) == (True, True)
        assert (status["sessions_known"], status["planned"]) == (1, 1)
        assert status["version"] == VERSION
        assert status["engine_problem"] is None
        assert panel.engine.events.has_subscribers


async def test_a_trigger_shows_up_as_journal_events(panel):
    async with connect(panel.url()) as ws, panel.http() as http:
        assert (await recv_json(ws))["type"] == "hello"
        response = await http.post(f"/api/sessions/{quote(ALICE, safe='')}/trigger")
        assert response.status_code == 202
        events = await recv_until(
            ws, lambda e: e["type"] == "journal" and e["entry"]["kind"] == "sent"
        )
    journal = [e["entry"] for e in events if e["type"] == "journal"]
    assert [e["kind"] for e in journal[:3]] == ["manual", "fired", "sent"]
    sent = journal[2]
    assert sent["umo"] == ALICE
    assert sent["detail"]["text"] == "Hello again!"
    assert isinstance(sent["id"], int)
    assert panel.sender.sent == [(ALICE, "Hello again!")]


async def test_session_changes_are_sent(panel):
    async with connect(panel.url()) as ws:
        await recv_json(ws)
        panel.engine.on_user_message(ALICE, "Alice")
        events = await recv_until(ws, lambda e: e["type"] == "session")
    session = events[-1]["session"]
    assert (session["umo"], session["name"], session["phase"]) == (ALICE, "Alice", "planned")


async def test_a_slow_client_is_told_about_the_gap(panel):
    async with connect(panel.url()) as ws:
        await recv_json(ws)
        # Published in one go: the handler cannot drain the queue meanwhile.
        for n in range(QUEUE_SIZE + 25):
            panel.engine.events.publish({"type": "journal", "entry": {"id": n}})
        events = await recv_until(ws, lambda e: e["type"] == "gap")
    assert events[-1] == {"type": "gap", "dropped": 25}


async def test_half_an_emoji_is_sent_escaped(panel):
    async with connect(panel.url()) as ws:
        await recv_json(ws)
        panel.engine.events.publish({"type": "journal", "entry": {"reason": "hi \ud83d"}})
        panel.engine.events.publish({"type": "journal", "entry": {"reason": "你好"}})
        first, second = await recv_json(ws), await recv_json(ws)
    assert first["entry"]["reason"] == "hi \ud83d"
    assert second["entry"]["reason"] == "你好"


async def test_disconnect_unsubscribes(panel):
    async with connect(panel.url()) as ws:
        await recv_json(ws)
        assert panel.engine.events.has_subscribers
    await async_wait_for(lambda: not panel.engine.events.has_subscribers, timeout=3)
    await async_wait_for(lambda: len(panel.deps.connections) == 0, timeout=3)


# --- closing -------------------------------------------------------------------------------


async def test_reload_closes_with_1012(panel):
    async with connect(panel.url()) as ws:
        await recv_json(ws)
        await panel.deps.connections.close_all()
        close = await closed_with(ws)
    assert close.code == 1012
    assert not panel.engine.events.has_subscribers
    assert len(panel.deps.connections) == 0


async def test_engine_stop_sends_closed_then_1012(panel):
    async with connect(panel.url()) as ws:
        await recv_json(ws)
        await panel.engine.stop()
        assert await recv_json(ws) == {"type": "closed"}
        close = await closed_with(ws)
    assert (close.code, close.reason) == (1012, "the engine stopped")


async def test_a_flooding_client_is_closed_with_1008(panel):
    async with connect(panel.url()) as ws:
        await recv_json(ws)
        for _ in range(FLOOD_BURST + 20):
            await ws.send("ping")
        close = await closed_with(ws)
    assert (close.code, close.reason) == (1008, "too many messages")
    await async_wait_for(lambda: not panel.engine.events.has_subscribers, timeout=3)


async def test_a_few_client_messages_are_ignored(panel):
    async with connect(panel.url()) as ws:
        await recv_json(ws)
        for _ in range(5):
            await ws.send('{"type": "anything"}')
        await assert_quiet(ws)
        panel.engine.pause(ALICE)
        events = await recv_until(ws, lambda e: e["type"] == "journal")
    assert events[-1]["entry"]["reason"] == "paused"


async def test_an_oversized_frame_is_refused_by_the_server(panel):
    async with connect(panel.url(), max_size=None) as ws:
        await recv_json(ws)
        await ws.send("x" * (65 * 1024))
        close = await closed_with(ws)
    assert close.code == 1009  # uvicorn's ws_max_size, before the handler sees it
    await async_wait_for(lambda: not panel.engine.events.has_subscribers, timeout=3)


# --- without an engine ---------------------------------------------------------------------


async def test_without_engine_hello_says_why_and_stays_open(panel):
    engine, panel.service.engine = panel.service.engine, None
    panel.service.problem = "start-up failed: no disk"
    try:
        async with connect(panel.url()) as ws:
            hello = await recv_json(ws)
            assert hello["type"] == "hello"
            assert hello["status"]["running"] is False
            assert hello["status"]["engine_problem"] == "start-up failed: no disk"
            await assert_quiet(ws)
            await panel.deps.connections.close_all()
            close = await closed_with(ws)
        assert close.code == 1012
    finally:
        panel.service.engine = engine


async def test_without_service(tmp_path):
    deps = build_deps(None)
    port, server, task = await run_panel(deps)
    try:
        url = f"ws://127.0.0.1:{port}/ws/events?token={deps.auth.issue_token()}"
        async with connect(url) as ws:
            hello = await recv_json(ws)
            assert hello["status"]["running"] is False
            assert "not loaded" in hello["status"]["engine_problem"]
            for _ in range(FLOOD_BURST + 20):
                await ws.send("ping")
            close = await closed_with(ws)
        assert close.code == 1008
    finally:
        await deps.connections.close_all(wait_seconds=0.5)
        server.should_exit = True
        async with asyncio.timeout(5):
            await task
