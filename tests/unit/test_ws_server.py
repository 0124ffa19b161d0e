"""``/ws/logs`` login and resume against a real uvicorn on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import json
from urllib.parse import quote

import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from proactive_chat.core.logs.redaction import Redactor
from proactive_chat.core.logs.ring import LogRing
from proactive_chat.core.logs.stream import LogStream
from proactive_chat.web.app import AppDeps, create_app
from proactive_chat.web.auth.credentials import PanelSecrets
from proactive_chat.web.auth.tokens import COOKIE_NAME, PanelAuth
from proactive_chat.web.settings import WebAdminSettings
from proactive_chat.web.ws.connections import FLOOD_BURST

PASSWORD = "Ws-Passw0rd"


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):  # never touch the test process's signal handlers
        yield


class RunningPanel:
    def __init__(self, port: int, deps: AppDeps) -> None:
        self.port = port
        self.deps = deps
        self.ring: LogRing = deps.log_stream.ring

    def url(self, query: str = "") -> str:
        return f"ws://127.0.0.1:{self.port}/ws/logs{query}"

    def token(self) -> str:
        return self.deps.auth.issue_token()

    def add(self, count: int) -> None:
        start = self.ring.next_seq
        for seq in range(start, start + count):
            self.ring.append(float(seq), "INFO", f"line {seq}", False)
        self.ring.notify()


@pytest.fixture
async def panel(free_port):
    port = free_port()
    settings = WebAdminSettings(port=port, password=PASSWORD)
    auth = PanelAuth(PanelSecrets(b"w" * 32, None), PASSWORD, 3600.0)
    stream = LogStream(LogRing(50, {}), Redactor(), {})
    deps = AppDeps(
        settings=settings, auth=auth, log_stream=stream, version="0.1.0", astrbot_version="x"
    )
    config = uvicorn.Config(
        create_app(deps), host="127.0.0.1", port=port, log_config=None, lifespan="off"
    )
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(5):
        while not server.started:
            assert not task.done(), "uvicorn stopped before it started"
            await asyncio.sleep(0.01)
    try:
        yield RunningPanel(port, deps)
    finally:
        await deps.connections.close_all(wait_seconds=0.5)
        server.should_exit = True
        async with asyncio.timeout(5):
            await task


def hello_for(panel: RunningPanel, first: int, next_: int, resumed: bool) -> dict:
    return {
        "type": "hello",
        "first_seq": first,
        "next_seq": next_,
        "resumed": resumed,
        "stream": panel.ring.stream_id,
    }


async def recv_json(ws) -> dict:
    async with asyncio.timeout(2):
        return json.loads(await ws.recv())


async def recv_lines(ws, count: int) -> list[dict]:
    """Collect ``count`` log lines from ``lines`` messages; fail on any other message."""
    lines: list[dict] = []
    while len(lines) < count:
        message = await recv_json(ws)
        assert message["type"] == "lines", message
        lines.extend(message["lines"])
    return lines


async def assert_quiet(ws, seconds: float = 0.15) -> None:
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(seconds):
            await ws.recv()


async def test_no_token_is_closed_with_1008(panel):
    async with connect(panel.url()) as ws:
        with pytest.raises(ConnectionClosed) as caught:
            async with asyncio.timeout(2):
                await ws.recv()
    assert caught.value.rcvd is not None
    assert caught.value.rcvd.code == 1008
    assert caught.value.rcvd.reason == "login required"


async def test_bad_token_is_closed_with_1008(panel):
    async with connect(panel.url("?token=forged.token")) as ws:
        with pytest.raises(ConnectionClosed) as caught:
            async with asyncio.timeout(2):
                await ws.recv()
    assert caught.value.rcvd.code == 1008


async def test_token_in_query(panel):
    async with connect(panel.url(f"?token={panel.token()}")) as ws:
        hello = await recv_json(ws)
    assert hello == {
        "type": "hello",
        "first_seq": 1,
        "next_seq": 1,
        "resumed": False,
        "stream": panel.ring.stream_id,
    }
    assert len(hello["stream"]) == 8


async def test_token_in_authorization_header(panel):
    headers = {"Authorization": f"Bearer {panel.token()}"}
    async with connect(panel.url(), additional_headers=headers) as ws:
        assert (await recv_json(ws))["type"] == "hello"


async def test_token_in_cookie(panel):
    headers = {"Cookie": f"{COOKIE_NAME}={panel.token()}"}
    async with connect(panel.url(), additional_headers=headers) as ws:
        assert (await recv_json(ws))["type"] == "hello"


@pytest.mark.parametrize("origin", ["http://evil.com", "null", "http://127.0.0.1.evil.com"])
async def test_bad_origin_is_refused_at_handshake(panel, origin):
    with pytest.raises(InvalidStatus) as caught:
        async with connect(panel.url(f"?token={panel.token()}"), origin=origin):
            pass
    assert caught.value.response.status_code == 403


async def test_good_origin_is_accepted(panel):
    origin = f"http://127.0.0.1:{panel.port}"
    async with connect(panel.url(f"?token={panel.token()}"), origin=origin) as ws:
        assert (await recv_json(ws))["type"] == "hello"


async def test_fresh_connection_replays_then_streams(panel):
    panel.add(3)
    async with connect(panel.url(f"?token={panel.token()}")) as ws:
        hello = await recv_json(ws)
        assert hello == hello_for(panel, 1, 4, resumed=False)
        assert [ln["seq"] for ln in await recv_lines(ws, 3)] == [1, 2, 3]
        panel.add(2)
        lines = await recv_lines(ws, 2)
        assert [(ln["seq"], ln["text"]) for ln in lines] == [(4, "line 4"), (5, "line 5")]
        await assert_quiet(ws)


async def test_since_resumes_without_gaps_or_duplicates(panel):
    panel.add(10)
    async with connect(panel.url(f"?token={panel.token()}&since=6")) as ws:
        hello = await recv_json(ws)
        assert hello == hello_for(panel, 1, 11, resumed=True)
        assert [ln["seq"] for ln in await recv_lines(ws, 4)] == [7, 8, 9, 10]
        panel.add(3)
        assert [ln["seq"] for ln in await recv_lines(ws, 3)] == [11, 12, 13]
        await assert_quiet(ws)


async def test_since_at_tail_sends_only_new_lines(panel):
    panel.add(5)
    async with connect(panel.url(f"?token={panel.token()}&since=5")) as ws:
        assert (await recv_json(ws))["resumed"] is True
        await assert_quiet(ws)
        panel.add(1)
        assert [ln["seq"] for ln in await recv_lines(ws, 1)] == [6]


async def test_since_zero_resumes_from_the_first_line(panel):
    panel.add(4)
    async with connect(panel.url(f"?token={panel.token()}&since=0")) as ws:
        assert (await recv_json(ws))["resumed"] is True
        assert [ln["seq"] for ln in await recv_lines(ws, 4)] == [1, 2, 3, 4]


async def test_since_older_than_the_ring_reports_the_gap(panel):
    panel.add(60)  # capacity 50: the ring holds 11..60
    async with connect(panel.url(f"?token={panel.token()}&since=4")) as ws:
        hello = await recv_json(ws)
        assert hello == hello_for(panel, 11, 61, resumed=False)
        assert await recv_json(ws) == {"type": "gap", "missed": 6}  # lines 5..10
        assert [ln["seq"] for ln in await recv_lines(ws, 50)] == list(range(11, 61))


async def test_since_from_the_future_starts_fresh(panel):
    panel.add(3)
    async with connect(panel.url(f"?token={panel.token()}&since=999")) as ws:
        hello = await recv_json(ws)
        assert hello["resumed"] is False
        assert [ln["seq"] for ln in await recv_lines(ws, 3)] == [1, 2, 3]


async def test_filters_apply_to_the_stream(panel):
    ring = panel.ring
    ring.append(1.0, "INFO", "info line", False)
    ring.append(2.0, "ERROR", "error line", False)
    ring.append(3.0, "ERROR", "plugin error", True)
    ring.notify()
    token = panel.token()
    async with connect(panel.url(f"?token={token}&level=ERROR&scope=plugin")) as ws:
        await recv_json(ws)
        assert [ln["text"] for ln in await recv_lines(ws, 1)] == ["plugin error"]
        await assert_quiet(ws)


async def test_a_flooding_client_is_closed_with_1008(panel):
    panel.add(2)
    async with connect(panel.url(f"?token={panel.token()}")) as ws:
        assert (await recv_json(ws))["type"] == "hello"
        for _ in range(FLOOD_BURST + 20):
            await ws.send("ping")
        with pytest.raises(ConnectionClosed) as caught:
            async with asyncio.timeout(3):
                while True:
                    await ws.recv()
    assert (caught.value.rcvd.code, caught.value.rcvd.reason) == (1008, "too many messages")
    assert len(panel.deps.connections) == 0


async def test_a_few_client_messages_are_ignored(panel):
    async with connect(panel.url(f"?token={panel.token()}")) as ws:
        await recv_json(ws)
        for text in ("ping", '{"type": "subscribe"}', "[" * 1000):
            await ws.send(text)
        await assert_quiet(ws)
        panel.add(1)
        assert [ln["seq"] for ln in await recv_lines(ws, 1)] == [1]


async def test_close_all_closes_clients_with_1012(panel):
    async with connect(panel.url(f"?token={panel.token()}")) as ws:
        await recv_json(ws)
        await panel.deps.connections.close_all()
        with pytest.raises(ConnectionClosed) as caught:
            async with asyncio.timeout(2):
                await ws.recv()
    assert caught.value.rcvd.code == 1012
    assert len(panel.deps.connections) == 0


@pytest.mark.parametrize("since", ["abc", "--5", "²", "1.5", "9" * 5000, "0x10"])
async def test_a_malformed_since_gets_an_error_frame_and_a_clear_close(panel, since, caplog):
    async with connect(panel.url(f"?token={panel.token()}&since={quote(since)}")) as ws:
        message = await recv_json(ws)
        assert message["type"] == "error" and message["error"] == "bad_request", message
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(2):
                await ws.recv()
    assert closed.value.rcvd.code == 4400
    assert "since" in closed.value.rcvd.reason
    assert not [r for r in caplog.records if r.exc_info], "a traceback reached the log"


@pytest.mark.parametrize(("query", "named"), [("level=LOUD", "level"), ("scope=everyone", "scope")])
async def test_an_unknown_level_or_scope_gets_an_error_frame_and_a_clear_close(
    panel, query, named, caplog
):
    async with connect(panel.url(f"?token={panel.token()}&{query}")) as ws:
        message = await recv_json(ws)
        assert message["type"] == "error" and named in message["message"], message
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(2):
                await ws.recv()
    assert closed.value.rcvd.code == 4400
    assert named in closed.value.rcvd.reason
    assert not [r for r in caplog.records if r.exc_info], "a traceback reached the log"


async def test_known_levels_and_scopes_still_stream(panel):
    for query in ("level=debug&scope=all", "level=WARNING&scope=plugin", "level=&scope="):
        async with connect(panel.url(f"?token={panel.token()}&{query}")) as ws:
            assert (await recv_json(ws))["type"] == "hello"
