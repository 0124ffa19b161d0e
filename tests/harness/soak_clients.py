"""The soak's in-process actors: chat users, the admin who presses "send now", a panel
reader and ``/ws/events`` clients. Each keeps plain counters for the report.

All of them wait on a shared ``gate`` (an ``asyncio.Event``) before each action, so the
soak can hold traffic still while it measures, and stop when ``stop`` is set. Every
wait is bounded. Imports astrbot (through ``harness.stand_ins``) only inside functions
that run after the host has booted.
"""

from __future__ import annotations

import asyncio
import collections
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

PAGES = ("/overview", "/sessions", "/journal", "/session", "/config", "/help", "/logs")
MAX_PENDING_CHATS = 300  # injected messages still in AstrBot's pipeline, at most
SLOW_REPLY_SECONDS = (1.5, 4.0)
FAST_REPLY_SECONDS = (0.02, 0.3)
SCRIPT_DEPTH = 64  # scripted answers kept queued ahead of the calls


async def gated_sleep(seconds: float, stop: asyncio.Event) -> None:
    """Sleep, waking early when ``stop`` is set."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass


@dataclass
class Actors:
    """What every actor shares: the switches, the panel's address, the token."""

    port: int
    token: str
    gate: asyncio.Event
    stop: asyncio.Event
    rng: random.Random
    reload_began: float = 0.0  # time.monotonic() of the current or last reload
    reload_ended: float = 0.0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reloading(self, grace: float = 1.0) -> bool:
        """A reload is under way, or ended less than ``grace`` seconds ago."""
        ended = self.reload_ended
        return self.reload_began > ended or time.monotonic() - ended < grace


class Recorder:
    """Folds what the stand-ins record into counters and empties their lists, so a
    long run keeps flat memory: ``platform.sent`` / ``events`` and ``provider.calls``
    would otherwise grow with every message (the calls hold whole histories).

    Also keeps the provider's script topped up with unique answers, a share of them
    slow, so the same scripted model answers chats and proactive messages alike."""

    def __init__(self, platform: Any, provider: Any, rng: random.Random, slow_share: float):
        self.platform = platform
        self.provider = provider
        self.rng = rng
        self.slow_share = slow_share
        self.replies_by_message: collections.Counter[str] = collections.Counter()
        self.proactive: collections.Counter[tuple[str, str]] = collections.Counter()
        self.proactive_total = 0
        self.replies_total = 0
        self.llm_outcomes: collections.Counter[str] = collections.Counter()
        self.answers_queued = 0

    def refill_script(self) -> None:
        from harness.stand_ins import Reply

        missing = SCRIPT_DEPTH - len(self.provider.script)
        for _ in range(max(0, missing)):
            self.answers_queued += 1
            span = SLOW_REPLY_SECONDS if self.rng.random() < self.slow_share else FAST_REPLY_SECONDS
            text = f"soak answer {self.answers_queued} ✓"
            self.provider.script.append(Reply(text=text, delay=self.rng.uniform(*span)))

    def drain(self) -> None:
        """Synchronous (no await): nothing can append between the read and the delete."""
        sent = self.platform.sent
        for record in sent:
            if record.is_reply:
                self.replies_total += 1
                self.replies_by_message[record.event.message_obj.message_id] += 1
            else:
                self.proactive_total += 1
                self.proactive[(record.umo, record.text)] += 1
        sent.clear()
        self.platform.events.clear()
        calls = self.provider.calls
        for call in calls:
            if call.outcome != "pending":
                self.llm_outcomes[call.outcome] += 1
        calls[:] = [c for c in calls if c.outcome == "pending"]

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.refill_script()
            self.drain()
            await gated_sleep(0.2, stop)


@dataclass
class ChatCounts:
    injected: int = 0
    expecting_reply: int = 0
    replied: int = 0
    lost_replies: int = 0
    duplicated_replies: int = 0
    unexpected_replies: int = 0
    unprocessed: int = 0
    backpressure_skips: int = 0
    lost_examples: list[str] = field(default_factory=list)


class ChatUsers:
    """Private chats and group members writing through the recording platform: every
    message goes through AstrBot's real pipeline (and the plugin's handlers). Private
    messages and @-mentions in groups must get exactly one pipeline reply."""

    def __init__(
        self,
        actors: Actors,
        recorder: Recorder,
        friends: list[str],
        groups: list[str],
        per_second: float,
        reply_timeout: float,
    ) -> None:
        self.actors = actors
        self.recorder = recorder
        self.friends = friends
        self.groups = groups
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.reply_timeout = reply_timeout
        self.counts = ChatCounts()
        self.pending: set[asyncio.Task] = set()

    async def run(self) -> None:
        if not self.interval:
            return
        actors, counts = self.actors, self.counts
        while not actors.stop.is_set():
            await _wait_gate(actors)
            if actors.stop.is_set():
                break
            if len(self.pending) >= MAX_PENDING_CHATS:
                counts.backpressure_skips += 1
            else:
                self._inject_one()
            await gated_sleep(self.interval, actors.stop)

    def _inject_one(self) -> None:
        rng, counts = self.actors.rng, self.counts
        counts.injected += 1
        text = f"soak chat {counts.injected} 你好"
        if self.groups and rng.random() < 0.3:
            group = rng.choice(self.groups)
            at_bot = rng.random() < 0.6
            event = self.recorder.platform.inject(
                text,
                sender_id=f"{group}m{rng.randrange(5)}",
                group_id=group,
                group_name=f"soak group {group}",
                at_bot=at_bot,
            )
            expect = at_bot
        else:
            user = rng.choice(self.friends)
            event = self.recorder.platform.inject(text, sender_id=user, sender_name=f"soak {user}")
            expect = True
        counts.expecting_reply += expect
        task = asyncio.create_task(self._check(event, expect), name="soak-chat-check")
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _check(self, event: Any, expect: bool) -> None:
        counts = self.counts
        try:
            await asyncio.wait_for(event.processed.wait(), self.reply_timeout)
        except TimeoutError:
            counts.unprocessed += 1
            return
        self.recorder.drain()
        got = self.recorder.replies_by_message.pop(event.message_obj.message_id, 0)
        if not expect:
            counts.unexpected_replies += got > 0
        elif got == 0:
            counts.lost_replies += 1
            if len(counts.lost_examples) < 10:
                counts.lost_examples.append(f"{event.unified_msg_origin}: {event.message_str}")
        else:
            counts.replied += 1
            counts.duplicated_replies += got - 1

    async def settle(self, timeout: float) -> None:  # noqa: ASYNC109
        if self.pending:
            await asyncio.wait(set(self.pending), timeout=timeout)


@dataclass
class TriggerCounts:
    posted: int = 0
    accepted: int = 0  # 202
    statuses: dict[str, int] = field(default_factory=dict)  # every answer, by status
    errors: dict[str, int] = field(default_factory=dict)  # no answer: exception name
    before_reload: int = 0  # pressed right before a save
    resent: int = 0  # sent again: a reload closed the kept-alive connection (see below)
    examples: list[str] = field(default_factory=list)


class Admin:
    """``POST /api/sessions/{umo}/trigger`` at a steady rate, as the panel's "send now"
    button does; ``fire()`` also lets the reloader press it right before a save."""

    def __init__(self, actors: Actors, umos: list[str], per_second: float) -> None:
        self.actors = actors
        self.umos = umos
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.counts = TriggerCounts()
        self.in_flight = 0
        self._client: Any = None

    async def __aenter__(self) -> Admin:
        import httpx

        self._client = httpx.AsyncClient(
            base_url=self.actors.base_url,
            headers={"Authorization": f"Bearer {self.actors.token}"},
            timeout=30.0,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    async def fire(self, umo: str | None = None) -> int | None:
        """Press "send now" for ``umo`` (random if None); the HTTP status or None."""
        import httpx

        umo = umo or self.actors.rng.choice(self.umos)
        counts = self.counts
        counts.posted += 1
        self.in_flight += 1
        try:
            response = await request_like_a_browser(
                self.actors,
                self._client,
                "POST",
                f"/api/sessions/{quote(umo, safe='')}/trigger",
                counts,
            )
        except httpx.HTTPError as exc:
            bump(counts.errors, type(exc).__name__)
            _note(counts.examples, f"POST trigger {umo}: {type(exc).__name__}: {exc}")
            return None
        finally:
            self.in_flight -= 1
        bump(counts.statuses, str(response.status_code))
        if response.status_code == 202:
            counts.accepted += 1
        return response.status_code

    async def run(self) -> None:
        if not self.interval:
            return
        actors = self.actors
        while not actors.stop.is_set():
            await _wait_gate(actors)
            if actors.stop.is_set():
                break
            await self.fire()
            await gated_sleep(self.interval, actors.stop)


@dataclass
class ReaderCounts:
    requests: int = 0
    ok: int = 0
    statuses: dict[str, int] = field(default_factory=dict)  # answers other than 200
    errors: dict[str, int] = field(default_factory=dict)  # no answer: exception name
    engine_not_running: int = 0
    resent: int = 0  # sent again: a reload closed the kept-alive connection (see below)
    examples: list[str] = field(default_factory=list)


class PanelReader:
    """A logged-in person with the panel open: ``/api/status`` and a page, twice a second."""

    def __init__(self, actors: Actors, session_umo: str) -> None:
        self.actors = actors
        self.paths = [
            f"/session?umo={quote(session_umo, safe='')}" if p == "/session" else p for p in PAGES
        ]
        self.counts = ReaderCounts()

    async def run(self) -> None:
        import httpx

        actors, counts = self.actors, self.counts
        headers = {"Authorization": f"Bearer {actors.token}"}
        async with httpx.AsyncClient(
            base_url=actors.base_url, headers=headers, timeout=30.0
        ) as client:
            index = 0
            while not actors.stop.is_set():
                await _wait_gate(actors)
                if actors.stop.is_set():
                    break
                status = await self._get(client, "/api/status")
                if status is not None and not status.get("running"):
                    counts.engine_not_running += 1
                await self._get(client, self.paths[index % len(self.paths)])
                index += 1
                await gated_sleep(0.5, actors.stop)

    async def _get(self, client: Any, path: str) -> dict | None:
        import httpx

        counts = self.counts
        counts.requests += 1
        try:
            response = await request_like_a_browser(self.actors, client, "GET", path, counts)
        except httpx.HTTPError as exc:
            bump(counts.errors, type(exc).__name__)
            _note(counts.examples, f"GET {path}: {type(exc).__name__}: {exc}")
            return None
        if response.status_code != 200:
            bump(counts.statuses, str(response.status_code))
            _note(counts.examples, f"GET {path}: {response.status_code} {response.text[:200]}")
            return None
        counts.ok += 1
        return response.json() if path.startswith("/api/") else None


@dataclass
class EventsCounts:
    connects: int = 0
    hellos: int = 0
    journal_events: int = 0
    duplicated: int = 0  # a journal entry id seen again
    missing: int = 0  # ids skipped inside one connection, no "gap" said so
    gap_dropped: int = 0
    connect_errors: dict[str, int] = field(default_factory=dict)
    close_codes: dict[str, int] = field(default_factory=dict)
    longest_reconnect_s: float = 0.0


class EventsClient:
    """One ``/ws/events`` client that reconnects as the pages do (``connectEvents``).
    Journal ids only grow, so an id at or below the last one seen is a duplicate, and
    inside one connection a skipped id is a lost event."""

    def __init__(self, actors: Actors) -> None:
        self.actors = actors
        self.counts = EventsCounts()
        self.connected = False
        self._last_id: int | None = None

    async def run(self) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidHandshake

        actors, counts = self.actors, self.counts
        url = f"ws://127.0.0.1:{actors.port}/ws/events?token={actors.token}"
        lost_at: float | None = None
        while not actors.stop.is_set():
            try:
                async with connect(url, open_timeout=10, close_timeout=1, max_size=None) as ws:
                    counts.connects += 1
                    self.connected = True
                    if lost_at is not None:
                        took = time.monotonic() - lost_at
                        counts.longest_reconnect_s = max(counts.longest_reconnect_s, took)
                    connection_last: int | None = None
                    async for raw in ws:
                        connection_last = self._take(json.loads(raw), connection_last)
                    bump(counts.close_codes, str(ws.close_code))
            except ConnectionClosed as exc:
                bump(counts.close_codes, str(exc.rcvd.code) if exc.rcvd else "no-close-frame")
            except (OSError, InvalidHandshake, TimeoutError) as exc:
                bump(counts.connect_errors, type(exc).__name__)
            self.connected = False
            lost_at = time.monotonic()
            await gated_sleep(0.05, actors.stop)

    def _take(self, message: dict, connection_last: int | None) -> int | None:
        counts = self.counts
        kind = message.get("type")
        if kind == "hello":
            counts.hellos += 1
        elif kind == "gap":
            counts.gap_dropped += int(message.get("dropped") or 0)
            return None  # a gap was announced: do not count the skip as missing
        elif kind == "journal":
            counts.journal_events += 1
            entry_id = message["entry"]["id"]
            if self._last_id is not None and entry_id <= self._last_id:
                counts.duplicated += 1
                return connection_last
            if connection_last is not None and entry_id > connection_last + 1:
                counts.missing += entry_id - connection_last - 1
            self._last_id = entry_id
            return entry_id
        return connection_last


async def request_like_a_browser(
    actors: Actors, client: Any, method: str, path: str, counts: Any
) -> Any:
    """One request, sent again once if a reload closed the kept-alive connection it
    went out on before any answer: the old server closes its idle connections as it
    stops, and a request already on the way finds the connection closed, or reset if
    it had arrived unread. Browsers resend then (RFC 9112 9.3.1); httpx does not.
    Counted in ``counts.resent``; the same error with no reload near is a failure."""
    import httpx

    sent = time.monotonic()
    try:
        return await client.request(method, path)
    except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
        closed_unanswered = isinstance(exc, httpx.ReadError) or "without sending" in str(exc)
        if not (closed_unanswered and actors.reloading()):
            raise
        counts.resent += 1
        _note(
            counts.examples,
            f"resent {method} {path} ({type(exc).__name__} after "
            f"{time.monotonic() - sent:.2f} s; the reload began "
            f"{actors.reload_began - sent:+.2f} s from the first send)",
        )
        return await client.request(method, path)


def bump(counts: dict[str, int], key: str) -> None:
    """``counts[key] += 1`` in a plain dict (``dataclasses.asdict`` mangles Counters)."""
    counts[key] = counts.get(key, 0) + 1


def _note(examples: list[str], text: str, keep: int = 10) -> None:
    if len(examples) < keep:
        examples.append(text)


async def _wait_gate(actors: Actors) -> None:
    """Wait until traffic may flow (or the run stops)."""
    if actors.gate.is_set() or actors.stop.is_set():
        return
    gate = asyncio.ensure_future(actors.gate.wait())
    stop = asyncio.ensure_future(actors.stop.wait())
    try:
        await asyncio.wait({gate, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gate.cancel()
        stop.cancel()
