"""Soak: a real AstrBot core hosting the plugin under everything at once, for a set time.

``run_soak(host, sessions, settings)`` drives a booted ``InProcessHost`` (``chat=True``,
plugin config from ``soak_plugin_config``) and returns a ``SoakReport``. The bench
(``bench/soak.py``) and the short soak in the test suite (tests/host/test_soak_short.py)
both call it. Concurrently, until the reloads are done and the time is up:

- hot reloads spread over the run, as a dashboard save does: ``PluginManager.reload``
  and ``host.set_plugin_config`` in turn, every other save with a real change;
- panel clients: live-log followers and a ``/healthz`` prober in other processes
  (``harness.probes``), ``/ws/events`` clients, a logged-in reader of ``/api/status``
  and the pages (``harness.soak_clients``); all reconnect by themselves;
- chat traffic through the recording platform (private chats and groups), answered by
  the scripted model, a share of its answers slow;
- "send now" through the admin API at a steady rate, some pressed right before a save.

Accounting: every accepted trigger (202) must end as exactly one message on the
platform or one journaled non-delivery (``soak_report.match_triggers``); every chat
message that wakes the bot must get exactly one reply.

Growth (RSS, fds, asyncio tasks, threads) is measured between a warm-up point (after
15 reloads, or a tenth of them if more; see ``WARMUP_RELOADS``) and the end, both with
traffic held still, the same clients connected, and a full garbage collection first. Last, the plugin is terminated
and none of its tasks or threads may remain.
"""

from __future__ import annotations

import asyncio
import gc
import random
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from .probes import HealthProber, LogFollowers
from .roots import PLUGIN_NAME
from .soak_clients import Actors, Admin, ChatUsers, EventsClient, PanelReader, Recorder
from .soak_report import SoakReport, Usage, match_triggers, sum_counts
from .waiting import async_wait_for

SOAK_PASSWORD = "Soak-Passw0rd-2024"
PLATFORM_ID = "test_im"  # harness.stand_ins.PLATFORM_ID (not imported: it imports astrbot)
# Measured (bench/soak.py, pages and WebSockets in use): RSS climbs over the first dozen
# or so reloads (allocator arenas, caches filling), then stays nearly flat; the
# warm-up point comes after that, so growth from there on means a leak.
WARMUP_RELOADS = 15
PLUGIN_TASK_PREFIXES = ("proactive-", "pc-")
PLUGIN_THREAD_PREFIX = "proactive-"


@dataclass
class SoakSettings:
    minutes: float = 2.0
    reloads: int = 40
    friends: int = 12
    groups: int = 4
    chat_per_second: float = 2.0
    triggers_per_second: float = 1.0
    slow_share: float = 0.2  # answers of the scripted model that take 1.5-4 s
    log_clients: int = 3
    event_clients: int = 3
    probe_interval: float = 0.01
    settle_seconds: float = 90.0  # bound for in-flight work to finish at a checkpoint
    seed: int = 2024


@dataclass
class SoakSessions:
    friends: list[str]  # sender ids of private chats
    groups: list[str]  # group ids

    @classmethod
    def fresh(cls, friends: int, groups: int, tag: str | None = None) -> SoakSessions:
        """Ids no other run in this process (or earlier, in this root) used."""
        tag = tag or f"{int(time.time() * 1000) % 10**8:08d}"
        return cls(
            friends=[f"soak{tag}u{i}" for i in range(friends)],
            groups=[f"soak{tag}g{i}" for i in range(groups)],
        )

    @property
    def friend_umos(self) -> list[str]:
        return [f"{PLATFORM_ID}:FriendMessage:{u}" for u in self.friends]

    @property
    def group_umos(self) -> list[str]:
        return [f"{PLATFORM_ID}:GroupMessage:{g}" for g in self.groups]

    @property
    def umos(self) -> list[str]:
        return self.friend_umos + self.group_umos


def soak_plugin_config(port: int, sessions: SoakSessions, variant: int = 0) -> dict:
    """The plugin config: every soak session listed, plans hours away (so every
    proactive message of the run comes from a trigger), no quiet hours. ``variant``
    (0 or 1) changes a few settings, as a person editing the config would."""
    schedule = {
        "min_interval_minutes": 240,
        "max_interval_minutes": 600,
        "quiet_hours": "",
        "max_unanswered_times": 3 + variant,
    }
    history = {"conversation_history_limit": 8 + 2 * variant}
    prompt = f"SOAK-PROACTIVE v{variant} unanswered={{{{unanswered_count}}}}"
    return {
        "web_admin": {"port": port, "password": SOAK_PASSWORD},
        "friend_settings": {
            "enable": True,
            "session_list": sessions.friend_umos,
            "proactive_prompt": prompt,
            "schedule_settings": schedule,
            "context_settings": history,
        },
        "group_settings": {
            "enable": True,
            "session_list": sessions.group_umos,
            "proactive_prompt": prompt,
            "group_idle_trigger_minutes": 240,
            "schedule_settings": dict(schedule),
            "context_settings": history,
        },
    }


# -- the run ---------------------------------------------------------------------------


async def run_soak(
    host: Any,
    sessions: SoakSessions,
    settings: SoakSettings,
    progress: Callable[[str], None] | None = None,
) -> SoakReport:
    """Run the soak on ``host`` (booted with ``chat=True`` and ``soak_plugin_config``)."""
    soak = _Soak(host, sessions, settings, progress or (lambda _line: None))
    return await soak.run()


class _Soak:
    def __init__(self, host: Any, sessions: SoakSessions, settings: SoakSettings, progress):
        from . import stand_ins

        assert stand_ins.PLATFORM_ID == PLATFORM_ID
        self.host = host
        self.sessions = sessions
        self.settings = settings
        self.say = progress
        self.rng = random.Random(settings.seed)
        self.port = int(host.plugin_config()["web_admin"]["port"])
        self.report = SoakReport(settings=asdict(settings))
        self.platform = stand_ins.platform(host)
        self.provider = stand_ins.provider(host)
        self.recorder = Recorder(self.platform, self.provider, self.rng, settings.slow_share)
        self.started_wall = time.time()
        self.variant = 0

    async def run(self) -> SoakReport:
        import httpx

        from .panel_probes import login_with

        s, report = self.settings, self.report
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}", timeout=30) as http:
            self.http = http
            token = await login_with(http, SOAK_PASSWORD)
            self.actors = Actors(self.port, token, asyncio.Event(), asyncio.Event(), self.rng)
            # The reader opens this session's page: make it known first.
            await self.platform.inject_and_wait("soak hello", sender_id=self.sessions.friends[0])
            self.recorder.drain()
            self.recorder.replies_by_message.clear()
            prober = await asyncio.to_thread(HealthProber(self.port, s.probe_interval).start)
            try:
                followers = await asyncio.to_thread(
                    LogFollowers(self.port, token, s.log_clients).start
                )
                try:
                    await self._run_actors()
                finally:
                    report.log_clients = (await asyncio.to_thread(followers.stop))["clients"]
            finally:
                probe = await asyncio.to_thread(prober.stop)
        report.probe = {k: v for k, v in probe.items() if k != "first_failures"}
        report.probe["first_failures"] = probe.get("first_failures", [])[:5]
        await self._account()
        await self._final_terminate()
        self.provider.reset()
        return report

    async def _run_actors(self) -> None:
        """Everyone at work while the reloads go on; then their counts into the report."""
        s, report, actors = self.settings, self.report, self.actors
        chat = ChatUsers(
            actors,
            self.recorder,
            self.sessions.friends,
            self.sessions.groups,
            s.chat_per_second,
            s.settle_seconds,
        )
        reader = PanelReader(actors, self.sessions.umos[0])
        events = [EventsClient(actors) for _ in range(s.event_clients)]
        async with Admin(actors, self.sessions.umos, s.triggers_per_second) as admin:
            self.admin, self.chat, self.events = admin, chat, events
            actors.gate.set()
            background = [
                asyncio.create_task(coro, name=f"soak-{name}")
                for name, coro in (
                    ("recorder", self.recorder.run(actors.stop)),
                    ("chat", chat.run()),
                    ("admin", admin.run()),
                    ("reader", reader.run()),
                    ("logs", self._watch_logs(actors.stop)),
                    *((f"events-{i}", e.run()) for i, e in enumerate(events)),
                )
            ]
            report.boot = Usage.now()
            began = time.monotonic()
            try:
                await self._drive(began)
                report.end = await self._checkpoint()
            finally:
                actors.stop.set()
                await asyncio.wait(background, timeout=15)
                for task in background:
                    task.cancel()
            report.seconds = time.monotonic() - began
        await chat.settle(s.settle_seconds)
        self.recorder.drain()
        report.chat = asdict(chat.counts)
        report.triggers = asdict(admin.counts)
        report.panel = asdict(reader.counts)
        report.events = sum_counts([e.counts for e in events])
        report.llm_calls = dict(self.recorder.llm_outcomes)
        report.proactive_sent = self.recorder.proactive_total
        report.replies_sent = self.recorder.replies_total

    async def _drive(self, began: float) -> None:
        """The reloads, spread over the run, with the warm-up checkpoint among them."""
        s = self.settings
        interval = s.minutes * 60.0 / max(1, s.reloads)
        warmup = min(max(WARMUP_RELOADS, s.reloads // 10), s.reloads // 2)
        paused = 0.0
        for index in range(s.reloads):
            due = began + paused + (index + 1) * interval
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            await self._reload(index)
            if index + 1 == warmup:
                held = time.monotonic()
                self.report.warm = await self._checkpoint()
                paused += time.monotonic() - held
                self.say(f"warm-up point after {warmup} reloads: {self.report.warm}")
            elif (index + 1) % max(1, s.reloads // 10) == 0:
                self.say(self._progress_line(index + 1, began))
        if self.report.warm is None:
            self.report.warm = await self._checkpoint()
        end = began + paused + s.minutes * 60.0
        await asyncio.sleep(max(0.0, end - time.monotonic()))

    def _progress_line(self, done: int, began: float) -> str:
        r = self.report
        return (
            f"{time.monotonic() - began:7.1f} s  reloads {r.reloads_survived}/{done}  "
            f"chats {self.chat.counts.injected}  triggers {self.admin.counts.accepted}  "
            f"proactive {self.recorder.proactive_total}  replies {self.recorder.replies_total}"
        )

    async def _reload(self, index: int) -> None:
        """One save in the dashboard, in turn: a reload, a save without changes, a
        reload, a save that changes settings."""
        report = self.report
        report.reloads_requested += 1
        if self.rng.random() < 0.5:  # "send now" pressed right before the save
            self.admin.counts.before_reload += 1
            await self.admin.fire()
        began = time.perf_counter()
        self.actors.reload_began = time.monotonic()
        try:
            if index % 2 == 0:
                ok, error = await self.host.reload_plugin()
            else:
                if index % 4 == 3:
                    self.variant ^= 1
                config = soak_plugin_config(self.port, self.sessions, self.variant)
                ok, error = await self.host.set_plugin_config(config)
        except Exception as exc:  # a timeout, a refused config: counted, the run goes on
            ok, error = False, f"{type(exc).__name__}: {exc}"
        self.actors.reload_ended = time.monotonic()
        report.reload_seconds.append(time.perf_counter() - began)
        problem = error if not ok else await self._panel_problem()
        if problem:
            report.reload_failures.append(f"reload {index + 1}: {problem}")
        else:
            report.reloads_survived += 1

    async def _panel_problem(self) -> str | None:
        """None when the new instance's engine runs and its panel answers /healthz."""
        service = getattr(self.host.plugin_instance(), "service", None)
        engine = getattr(service, "engine", None)
        if engine is None or not engine.running:
            return f"engine not running: {getattr(service, 'problem', 'no service')}"
        try:
            response = await self.http.get("/healthz", timeout=10)
        except Exception as exc:
            return f"/healthz: {type(exc).__name__}"
        return None if response.status_code == 200 else f"/healthz {response.status_code}"

    async def _checkpoint(self) -> Usage:
        """Hold traffic, let in-flight work finish (bounded), collect, measure, resume."""
        gate = self.actors.gate
        gate.clear()
        try:
            await self._settle()
            gc.collect()
            await asyncio.sleep(0.5)
            return Usage.now()
        finally:
            gate.set()

    async def _settle(self) -> None:
        deadline = self.settings.settle_seconds

        async def quiet() -> bool:
            engine = self._engine()
            if engine is None or self.admin.in_flight:
                return False
            status = await engine.status()
            return not status["writing"] and not status["queued"]

        await self.chat.settle(deadline)
        await async_wait_for(quiet, deadline, 0.1, "the engine to finish its messages")
        await async_wait_for(
            lambda: all(e.connected for e in self.events), 15, 0.05, "/ws/events clients back"
        )
        self.recorder.drain()

    def _engine(self) -> Any:
        service = getattr(self.host.plugin_instance(), "service", None)
        return getattr(service, "engine", None)

    async def _watch_logs(self, stop: asyncio.Event) -> None:
        """Keep the host's log capture from growing; note the plugin's errors."""
        logs = self.host.logs
        while not stop.is_set():
            self._scan_logs()
            logs.records.clear()
            try:
                await asyncio.wait_for(stop.wait(), 1.0)
            except TimeoutError:
                pass
        self._scan_logs()

    def _scan_logs(self) -> None:
        errors = self.report.plugin_errors
        for record in self.host.logs.select(min_level=40):
            if "[ProactiveChat]" in record.getMessage() and len(errors) < 50:
                errors.append(record.getMessage()[:500])

    # -- accounting --------------------------------------------------------------------
    async def _account(self) -> None:
        """Match every accepted trigger to its outcome in the journal and the platform."""
        report = self.report
        matched = match_triggers(await self._journal(), self.recorder.proactive)
        accepted = report.triggers["accepted"]
        if matched.journaled < accepted:  # a 202 the journal never heard of
            matched.lost += accepted - matched.journaled
            matched.examples.append(f"{accepted} triggers accepted, {matched.journaled} journaled")
        report.triggers["journaled"] = matched.journaled
        report.trigger_outcomes = matched.outcomes
        report.lost_triggers = matched.lost
        report.duplicated = matched.duplicated
        report.unexplained_proactive = matched.unexplained
        report.examples = matched.examples[:20]

    async def _journal(self) -> list[Any]:
        """Every journal entry of the soak's sessions since the start, oldest first."""
        engine = self._engine()
        assert engine is not None, "no engine at the end of the soak"
        umos = set(self.sessions.umos)
        entries: list[Any] = []
        before: int | None = None
        while True:
            page = await engine.store.query_journal(
                since=self.started_wall - 1, before_id=before, limit=1000
            )
            entries += [e for e in page if e.umo in umos]
            if len(page) < 1000:
                break
            before = page[-1].id
        entries.sort(key=lambda e: e.id)
        return entries

    async def _final_terminate(self) -> None:
        instance = self.host.plugin_instance()
        await asyncio.wait_for(instance.terminate(), 30)
        await asyncio.sleep(0.5)
        self.report.leftover_tasks = plugin_tasks()
        self.report.leftover_threads = [
            t.name for t in threading.enumerate() if t.name.startswith(PLUGIN_THREAD_PREFIX)
        ]


def plugin_tasks() -> list[str]:
    """Tasks the plugin owns: named by it, or running its code or its web server's."""
    found = []
    for task in asyncio.all_tasks():
        coro = task.get_coro()
        code = getattr(coro, "cr_code", None)
        filename = code.co_filename if code is not None else ""
        if (
            task.get_name().startswith(PLUGIN_TASK_PREFIXES)
            or PLUGIN_NAME in filename
            or "/uvicorn/" in filename
            or "/starlette/" in filename
        ):
            found.append(f"{task.get_name()}: {coro!r}")
    return found
