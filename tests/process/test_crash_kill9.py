"""``kill -9`` of a real ``astrbot run`` at random moments under traffic, 20 times.

Traffic: webchat users chatting through AstrBot's pipeline (each message reaches the
plugin's handler and re-plans its session), and an admin writing through the panel's
API (per-session override, pause, resume, send now). Two more sessions only hold a
plan. At a random moment (seeded; ``PC_KILL9_SEED=<n>`` replays a run's kill moments)
the process group gets SIGKILL, and AstrBot starts again on the same root. Then:

- the store opened clean: ``PRAGMA integrity_check`` on the files as the kill left
  them (a copy), nothing moved aside, no warning from the plugin in the new log;
- every plan the panel listed 2 s before the kill is in the store, no stored plan is
  one the panel had already replaced by then, and the panel of the new process shows
  each stored plan with the same time;
- only the last moments are lost: every acknowledged action is looked up in the store
  (a message by its session's ``last_user_at``, an admin action by its journal entry;
  an override, written at once, must never be lost). The lost window of a kill is the
  kill time minus the acknowledgement of the oldest action missing (0 when none).

Per-kill figures: printed with ``-s`` and written to ``test-artifacts/kill9.json``.
``PC_KILL9_ROUNDS`` changes the number of kills (20).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import statistics
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest

from harness.panel_client import PanelClient
from harness.panel_probes import panel_answers
from harness.ports import free_port
from harness.process import AstrBotProcess
from harness.roots import REPO_ROOT, plugin_data_dir
from harness.waiting import wait_for
from harness.webchat import WebChatSession

pytestmark = pytest.mark.process

PASSWORD = "Kill-Nine-Passw0rd-7"
ROUNDS = int(os.environ.get("PC_KILL9_ROUNDS", "20"))
CHATTERS = 3  # webchat sessions with a user typing non-stop
ADMIN_TOUCHED = 4  # sessions 0..3 get admin writes (the chatters' and one more)
QUIET = 2  # sessions that only hold a plan: it must come back exactly, every time
TRAFFIC_SECONDS = (2.0, 3.5)  # the kill comes this long after the first chat answer
# The store flushes every second; twice that is the bound (a loaded machine may delay a
# flush) both for plans (those listed this long before the kill must be stored) and
# for the lost window.
LOST_BOUND = 2.0
STORE_FILE = "proactive_chat.db"
ARTIFACTS = Path(os.environ.get("PC_ARTIFACTS", REPO_ROOT / "test-artifacts"))

# Journal entries that admin actions leave (core/engine/engine.py): (kind, reason).
ADMIN_JOURNAL = {
    "pause": ("manual", "paused"),
    "resume": ("manual", "resumed"),
    "trigger": ("manual", "send now"),
    "override": ("override", "session settings changed"),
}


@dataclass
class Action:
    kind: str  # "message" or a key of ADMIN_JOURNAL
    umo: str
    sent: float  # time.time() before the request
    acked: float | None = None  # time.time() when the answer was complete
    data: dict | None = None  # the override sent


@dataclass
class Snapshot:
    asked: float
    answered: float
    sessions: dict[str, dict]
    transactions: int


@dataclass
class StoreCopy:
    """The store as the kill left it, read from a copy of its files."""

    integrity: str
    sessions: dict[str, dict]
    overrides: dict[str, dict]
    journal: list[tuple[float, str, str, str]]  # (at, umo, kind, reason)


@dataclass
class KillFigures:
    round: int
    traffic_s: float
    acked: int
    messages: int
    lost: int
    lost_window_s: float
    since_flush_s: float | None
    plans_before: int
    plans_stored: int
    plans_after: int
    integrity: str
    restart_s: float
    round_s: float
    lost_kinds: list[str] = field(default_factory=list)


class Traffic:
    """Chatters, an admin and an observer, each a thread, until ``stop()``."""

    def __init__(self, panel: PanelClient, chats: list[WebChatSession], seed: int) -> None:
        self.panel = panel
        self.chats = chats
        self.seed = seed
        self.actions: list[Action] = []
        self.snapshots: list[Snapshot] = []
        self.errors: list[str] = []
        self.killing = threading.Event()  # set just before the kill: errors expected
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        workers = [(self._chat, (c,)) for c in self.chats[:CHATTERS]]
        workers += [(self._admin, ()), (self._observe, ())]
        for index, (target, args) in enumerate(workers):
            thread = threading.Thread(
                target=self._guarded, args=(target, *args), name=f"kill9-traffic-{index}"
            )
            self._threads.append(thread)
            thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        alive = [t.name for t in self._threads if t.is_alive()]
        assert not alive, f"traffic threads did not end: {alive}"

    def acked(self) -> list[Action]:
        return [a for a in self.actions if a.acked is not None]

    def chatting(self) -> bool:
        """A chat message got its answer (the first one after a start is slow)."""
        return any(a.kind == "message" and a.acked is not None for a in self.actions)

    def _guarded(self, target, *args) -> None:
        try:
            target(*args)
        except Exception as exc:  # the kill ends every thread with a connection error
            if not self.killing.is_set():
                self.errors.append(f"{type(exc).__name__}: {exc}")

    def _chat(self, chat: WebChatSession) -> None:
        number = 0
        while not self._stop.is_set():
            number += 1
            action = Action("message", chat.umo, time.time())
            self.actions.append(action)
            reply = chat.send(f"message {number}", timeout=20)
            if reply.ended:
                action.acked = time.time()

    def _admin(self) -> None:
        rng = random.Random(self.seed)
        umos = [c.umo for c in self.chats[:ADMIN_TOUCHED]]
        panel = self.panel.fork()
        try:
            while not self._stop.wait(rng.uniform(0.05, 0.2)):
                kind = rng.choice(("override", "pause", "resume", "trigger"))
                umo = rng.choice(umos)
                action = Action(kind, umo, time.time())
                if kind == "override":
                    low = rng.randint(20, 30)
                    action.data = {
                        "enable": True,
                        "schedule_settings": {
                            "min_interval_minutes": low,
                            "max_interval_minutes": low + rng.randint(5, 20),
                        },
                    }
                    self.actions.append(action)
                    r = panel.session_action(umo, "override", method="PUT", json=action.data)
                else:
                    self.actions.append(action)
                    r = panel.session_action(umo, kind)
                if r.status_code in (200, 202):
                    action.acked = time.time()
                elif not (kind == "trigger" and r.status_code == 409):  # already writing
                    raise AssertionError(f"{kind} {umo}: HTTP {r.status_code} {r.text}")
        finally:
            panel.close()

    def _observe(self) -> None:
        panel = self.panel.fork()
        try:
            while not self._stop.is_set():
                asked = time.time()
                sessions = {s["umo"]: s for s in panel.sessions()}
                transactions = panel.status()["store"]["transactions"]
                self.snapshots.append(Snapshot(asked, time.time(), sessions, transactions))
                self._stop.wait(0.25)
        finally:
            panel.close()


def copy_store(data_dir: Path, target: Path) -> Path:
    """The store's files as they are now (the database and its WAL), copied."""
    target.mkdir(parents=True)
    for suffix in ("", "-wal"):
        source = data_dir / f"{STORE_FILE}{suffix}"
        if source.exists():
            shutil.copy2(source, target / source.name)
    return target / STORE_FILE


def read_store(path: Path) -> StoreCopy:
    conn = sqlite3.connect(path)  # a copy: SQLite may recover the WAL into it
    try:
        conn.row_factory = sqlite3.Row
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        sessions = {r["umo"]: dict(r) for r in conn.execute("SELECT * FROM sessions")}
        overrides = {
            r["umo"]: json.loads(r["data"]) for r in conn.execute("SELECT umo, data FROM overrides")
        }
        journal = [
            (r["at"], r["umo"], r["kind"], r["reason"])
            for r in conn.execute("SELECT at, umo, kind, reason FROM journal")
        ]
    finally:
        conn.close()
    return StoreCopy(integrity, sessions, overrides, journal)


def reflected(action: Action, store: StoreCopy) -> bool:
    """Whether the store holds the effect of ``action``."""
    if action.kind == "message":
        row = store.sessions.get(action.umo)
        return row is not None and (row["last_user_at"] or 0.0) >= action.sent
    kind, reason = ADMIN_JOURNAL[action.kind]
    high = (action.acked or action.sent) + 0.01
    return any(
        umo == action.umo and k == kind and r == reason and action.sent - 0.01 <= at <= high
        for at, umo, k, r in store.journal
    )


def check_overrides(actions: list[Action], store: StoreCopy) -> None:
    """An acknowledged override is written at once: never lost. The stored one is the
    last acknowledged, or one sent after it whose answer the kill cut off."""
    puts = [a for a in actions if a.kind == "override"]
    for umo in {a.umo for a in puts}:
        acked = [a for a in puts if a.umo == umo and a.acked is not None]
        if not acked:
            continue
        last = max(acked, key=lambda a: a.acked or 0.0)
        possible = [last.data] + [
            a.data for a in puts if a.umo == umo and a.acked is None and a.sent >= last.sent
        ]
        assert store.overrides.get(umo) in possible, (umo, store.overrides.get(umo), possible)


def planned(sessions: dict[str, dict]) -> dict[str, float]:
    return {
        umo: s["next_at"]
        for umo, s in sessions.items()
        if s["phase"] == "planned" and s["next_at"] is not None
    }


def check_plans_stored(traffic: Traffic, store: StoreCopy, kill_at: float) -> int:
    """Plans the panel listed LOST_BOUND before the kill are in the store, and no stored
    plan is one the panel had replaced by then. Returns how many plans it listed."""
    snaps = traffic.snapshots
    old = [s for s in snaps if s.answered <= kill_at - LOST_BOUND]
    assert old, f"no snapshot {LOST_BOUND} s before the kill: {len(snaps)} in all"
    snapshot = old[-1]
    stored = planned(store.sessions)
    for umo, next_at in planned(snapshot.sessions).items():
        # A send asked for earlier may still be on its way (it plans again when done).
        later = [a for a in traffic.actions if a.umo == umo and a.sent >= snapshot.asked - 10.0]
        if any(a.kind == "pause" for a in later):
            continue  # paused since: no plan is right
        assert umo in stored, (umo, "planned before the kill, not in the store", store.sessions)
        if not later:  # nothing touched it since: the very same plan
            assert stored[umo] == next_at, (umo, stored[umo], next_at)
    for umo, next_at in stored.items():
        seen_before = {s.sessions[umo]["next_at"] for s in old[:-1] if umo in s.sessions}
        seen_since = {
            s.sessions[umo]["next_at"] for s in snaps[len(old) - 1 :] if umo in s.sessions
        }
        assert next_at not in seen_before - seen_since, (umo, "stored plan is outdated", next_at)
    return len(planned(snapshot.sessions))


def flush_age(traffic: Traffic, kill_at: float) -> float | None:
    """Seconds from the last flush the panel reported (to 0.25 s) to the kill."""
    snaps = traffic.snapshots
    if not snaps:
        return None
    final = snaps[-1].transactions
    first_seen = next(s for s in snaps if s.transactions == final)
    return kill_at - first_seen.answered


def plugin_warnings(proc: AstrBotProcess) -> list[str]:
    return [
        line
        for line in proc.log_text().splitlines()
        if "[ProactiveChat]" in line and any(f"[{lv}]" in line for lv in ("WARN", "ERRO", "CRIT"))
    ]


def unexpected_files(data_dir: Path) -> list[str]:
    """Anything but the store and the login secrets: a file moved aside as damaged
    (``.corrupt-<time>``), a temporary file left by a write the kill cut short."""
    expected = {STORE_FILE, f"{STORE_FILE}-wal", f"{STORE_FILE}-shm", "panel_auth.json"}
    return sorted(p.name for p in data_dir.iterdir() if p.name not in expected)


def open_panel(proc: AstrBotProcess, port: int) -> PanelClient:
    wait_for(lambda: panel_answers(port), 30, 0.05, lambda: proc.log_tail(30))
    panel = PanelClient(port, PASSWORD)
    wait_for(lambda: panel.status().get("ready"), 30, 0.05, lambda: proc.log_tail(30))
    return panel


def test_kill_9_under_traffic_keeps_the_store_and_the_plans(llm_process_host, fake_llm, tmp_path):
    seed = int(os.environ.get("PC_KILL9_SEED") or random.randrange(1_000_000))
    print(f"\nkill -9 test: seed {seed} (PC_KILL9_SEED={seed} replays the kill moments)")
    rng = random.Random(seed)
    port = free_port()
    plugin_config = {
        "web_admin": {"port": port, "password": PASSWORD},
        "friend_settings": {
            "enable": True,
            "session_list": [],
            "schedule_settings": {
                "min_interval_minutes": 20,
                "max_interval_minutes": 40,
                "quiet_hours": "",
                "max_unanswered_times": 0,
            },
        },
    }
    proc: AstrBotProcess = llm_process_host(plugin_config)
    data_dir = plugin_data_dir(proc.root)
    panel = open_panel(proc, port)
    chats = [WebChatSession.create(proc) for _ in range(ADMIN_TOUCHED + QUIET)]
    for chat in chats:  # served from now on: each gets a plan
        r = panel.session_action(chat.umo, "override", method="PUT", json={"enable": True})
        assert r.status_code == 200, r.text
    quiet = {c.umo for c in chats[ADMIN_TOUCHED:]}
    quiet_plans = {u: at for u, at in planned({s["umo"]: s for s in panel.sessions()}).items()}
    assert quiet <= set(quiet_plans), quiet_plans

    figures: list[KillFigures] = []
    try:
        for rnd in range(ROUNDS):
            began = time.monotonic()
            traffic = Traffic(panel, chats, seed + rnd)
            traffic.start()
            wait_for(traffic.chatting, 30, 0.02, proc.log_tail)
            time.sleep(rng.uniform(*TRAFFIC_SECONDS))  # the random kill moment
            traffic.killing.set()
            kill_at = time.time()
            proc.kill()
            traffic.stop()
            panel.close()
            store_path = copy_store(data_dir, tmp_path / f"kill{rnd}")
            proc.start()  # AstrBot's imports take seconds: check the copy meanwhile
            store = read_store(store_path)
            assert store.integrity == "ok", (rnd, store.integrity)
            assert not traffic.errors, traffic.errors
            acked = traffic.acked()
            messages = [a for a in acked if a.kind == "message"]
            check_overrides(traffic.actions, store)
            plans_before = check_plans_stored(traffic, store, kill_at)
            lost = [a for a in acked if not reflected(a, store)]
            window = max((kill_at - min(a.acked or 0.0 for a in lost)) if lost else 0.0, 0.0)
            assert window <= LOST_BOUND, (rnd, window, [asdict(a) for a in lost])

            proc.wait_ready(60)
            proc.login()  # before the chatters start, not three times at once by them
            panel = open_panel(proc, port)
            assert unexpected_files(data_dir) == [], unexpected_files(data_dir)
            shown = planned({s["umo"]: s for s in panel.sessions()})
            now = time.time()
            for umo, next_at in planned(store.sessions).items():
                if next_at > now:  # a plan in the future comes back as it was stored
                    assert shown.get(umo) == next_at, (rnd, umo, shown.get(umo), next_at)
            for umo in quiet:
                assert shown.get(umo) == quiet_plans[umo], (rnd, umo, shown.get(umo))
            warnings = plugin_warnings(proc)
            assert warnings == [], "\n".join(warnings)
            figures.append(
                KillFigures(
                    round=rnd,
                    traffic_s=round(kill_at - traffic.snapshots[0].asked, 2),
                    acked=len(acked),
                    messages=len(messages),
                    lost=len(lost),
                    lost_window_s=round(window, 3),
                    since_flush_s=_rounded(flush_age(traffic, kill_at)),
                    plans_before=plans_before,
                    plans_stored=len(planned(store.sessions)),
                    plans_after=len(shown),
                    integrity=store.integrity,
                    restart_s=round(proc.ready_after or 0.0, 2),
                    round_s=round(time.monotonic() - began, 2),
                    lost_kinds=sorted({a.kind for a in lost}),
                )
            )
    finally:
        panel.close()
        report(seed, figures)
    assert len(figures) == ROUNDS


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def report(seed: int, figures: list[KillFigures]) -> None:
    if not figures:
        return
    print(
        "round traffic_s acked msgs lost lost_window_s since_flush_s plans(before/stored/after)"
        " restart_s round_s"
    )
    for f in figures:
        print(
            f"{f.round:5d} {f.traffic_s:9.2f} {f.acked:5d} {f.messages:4d} {f.lost:4d}"
            f" {f.lost_window_s:13.3f} {f.since_flush_s!s:>13}"
            f"  {f.plans_before}/{f.plans_stored}/{f.plans_after}{'':18} {f.restart_s:9.2f}"
            f" {f.round_s:7.2f}"
        )
    windows = [f.lost_window_s for f in figures]
    summary = {
        "seed": seed,
        "kills": len(figures),
        "clean_opens": sum(f.integrity == "ok" for f in figures),
        "actions_acked": sum(f.acked for f in figures),
        "actions_lost": sum(f.lost for f in figures),
        "lost_window_max_s": max(windows),
        "lost_window_median_s": statistics.median(windows),
        "restart_median_s": statistics.median(f.restart_s for f in figures),
        "round_median_s": statistics.median(f.round_s for f in figures),
    }
    print("summary:", json.dumps(summary))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "kill9.json").write_text(
        json.dumps({"summary": summary, "kills": [asdict(f) for f in figures]}, indent=2),
        encoding="utf-8",
    )
