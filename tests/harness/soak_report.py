"""The soak's report: what it counted, what must be zero, how trigger outcomes are
matched. Pure data and logic (no astrbot, no I/O), shared by ``harness.soak`` and the
bench, and testable on its own (tests/harness_tests/test_soak_report.py).

Trigger accounting (``match_triggers``). Every accepted "send now" is journaled as
``manual``/"send now"; its outcome is the first entry of an ``OUTCOME_KINDS`` kind for
that session after it, looking no further than the session's next trigger or the next
delivery's ``fired``. "lost": no outcome, or a ``sent`` whose text never reached the
platform. "duplicated": two outcomes for one trigger, or a text that reached the
platform more than once. "unexplained": a proactive message no ``sent`` entry explains.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

# How one delivery ends. ("capped" and "disabled" end planned deliveries only: "send
# now" skips those checks, and "capped" after a "sent" tells what comes next.)
OUTCOME_KINDS = frozenset(
    {
        "sent",
        "cancelled",
        "send_failed",
        "platform_skipped",
        "no_provider",
        "llm_failed",
        "llm_empty",
    }
)


@dataclass
class GrowthBounds:
    """Growth allowed between the warm-up point and the end. Why these numbers: see
    ``bench/soak.py`` and tests/host/test_soak_short.py, which set them."""

    rss_mb: float = 64.0
    fds: int = 8
    tasks: int = 8
    threads: int = 4


@dataclass
class Usage:
    rss_mb: float
    fds: int
    tasks: int
    # Not counting asyncio's default executor: it starts its workers lazily, up to
    # min(32, CPUs + 4), and keeps them, so its count depends on the machine.
    threads: int
    thread_names: dict[str, int] = field(default_factory=dict)  # all, digits dropped

    @classmethod
    def now(cls) -> Usage:
        import psutil

        process = psutil.Process()
        names: dict[str, int] = {}
        for thread in threading.enumerate():
            name = re.sub(r"\d+", "N", thread.name)
            names[name] = names.get(name, 0) + 1
        return cls(
            rss_mb=process.memory_info().rss / 2**20,
            fds=process.num_fds(),
            tasks=len(asyncio.all_tasks()),
            threads=sum(n for name, n in names.items() if not name.startswith("asyncio_")),
            thread_names=names,
        )


@dataclass
class SoakReport:
    settings: dict
    seconds: float = 0.0
    reloads_requested: int = 0
    reloads_survived: int = 0
    reload_seconds: list[float] = field(default_factory=list)
    reload_failures: list[str] = field(default_factory=list)
    proactive_sent: int = 0
    replies_sent: int = 0
    chat: dict = field(default_factory=dict)
    triggers: dict = field(default_factory=dict)
    trigger_outcomes: dict = field(default_factory=dict)
    lost_triggers: int = 0
    duplicated: int = 0
    unexplained_proactive: int = 0
    examples: list[str] = field(default_factory=list)
    probe: dict = field(default_factory=dict)
    log_clients: list[dict] = field(default_factory=list)
    events: dict = field(default_factory=dict)
    panel: dict = field(default_factory=dict)
    plugin_errors: list[str] = field(default_factory=list)
    llm_calls: dict = field(default_factory=dict)
    boot: Usage | None = None  # before any traffic or reload, for the whole picture
    warm: Usage | None = None
    end: Usage | None = None
    leftover_tasks: list[str] = field(default_factory=list)
    leftover_threads: list[str] = field(default_factory=list)

    # -- derived figures ---------------------------------------------------------------
    @property
    def refused(self) -> int:
        return (
            int(self.probe.get("refused", 0))
            + self.panel.get("errors", {}).get("ConnectError", 0)
            + self.triggers.get("errors", {}).get("ConnectError", 0)
            + self.events.get("connect_errors", {}).get("ConnectionRefusedError", 0)
        )

    @property
    def growth(self) -> Usage:
        assert self.warm is not None and self.end is not None
        return Usage(
            rss_mb=self.end.rss_mb - self.warm.rss_mb,
            fds=self.end.fds - self.warm.fds,
            tasks=self.end.tasks - self.warm.tasks,
            threads=self.end.threads - self.warm.threads,
        )

    def problems(self, bounds: GrowthBounds) -> list[str]:
        """Everything that must be zero and is not, and growth above ``bounds``."""
        out: list[str] = []

        def must_be_zero(name: str, value: int) -> None:
            if value:
                out.append(f"{name} = {value}")

        if self.reloads_survived != self.reloads_requested:
            out.append(
                f"reloads survived {self.reloads_survived}/{self.reloads_requested}: "
                f"{self.reload_failures[:5]}"
            )
        must_be_zero("lost triggers", self.lost_triggers)
        must_be_zero("duplicated messages", self.duplicated)
        must_be_zero("proactive messages no trigger explains", self.unexplained_proactive)
        must_be_zero("lost chat replies", self.chat.get("lost_replies", 0))
        must_be_zero("duplicated chat replies", self.chat.get("duplicated_replies", 0))
        must_be_zero("chat messages the pipeline never finished", self.chat.get("unprocessed", 0))
        must_be_zero("refused connections", self.refused)
        must_be_zero("failed /healthz probes", int(self.probe.get("failed", 0)))
        must_be_zero("duplicated live-log lines", sum(c["duplicates"] for c in self.log_clients))
        must_be_zero("missing live-log lines", sum(c["missed"] for c in self.log_clients))
        must_be_zero("duplicated /ws/events entries", self.events.get("duplicated", 0))
        must_be_zero("missing /ws/events entries", self.events.get("missing", 0))
        must_be_zero("panel requests not answered 200", self.panel_failures)
        must_be_zero("trigger requests without an answer", sum(self.triggers["errors"].values()))
        must_be_zero("errors logged by the plugin", len(self.plugin_errors))
        must_be_zero("plugin tasks left after terminate", len(self.leftover_tasks))
        must_be_zero("plugin threads left after terminate", len(self.leftover_threads))
        growth = self.growth
        for name in ("rss_mb", "fds", "tasks", "threads"):
            if getattr(growth, name) > getattr(bounds, name):
                out.append(
                    f"{name} grew by {getattr(growth, name):.1f} (> {getattr(bounds, name)})"
                )
        return out

    @property
    def panel_failures(self) -> int:
        return (
            sum(self.panel.get("statuses", {}).values())
            + sum(self.panel.get("errors", {}).values())
            + self.panel.get("engine_not_running", 0)
        )

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["refused"] = self.refused
        data["growth"] = asdict(self.growth) if self.warm and self.end else None
        return data


@dataclass
class TriggerMatch:
    journaled: int = 0
    lost: int = 0
    duplicated: int = 0
    unexplained: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if len(self.examples) < 20:
            self.examples.append(text)


def match_triggers(
    entries: Iterable[Any], delivered: Mapping[tuple[str, str], int]
) -> TriggerMatch:
    """``entries``: journal entries (``umo``, ``kind``, ``reason``, ``detail``), oldest
    first; ``delivered``: how often each ``(umo, text)`` reached the platform."""
    result = TriggerMatch()
    by_umo: dict[str, list[Any]] = {}
    for entry in entries:
        by_umo.setdefault(entry.umo, []).append(entry)
    explained: set[tuple[str, str]] = set()
    for umo, items in by_umo.items():
        starts = [i for i, e in enumerate(items) if e.kind == "manual" and e.reason == "send now"]
        result.journaled += len(starts)
        for n, start in enumerate(starts):
            found = _outcomes_of(items, start, starts[n + 1] if n + 1 < len(starts) else None)
            if not found:
                result.lost += 1
                after = [f"{e.kind}: {e.reason[:40]}" for e in items[start + 1 : start + 4]]
                result.note(f"trigger with no outcome: {umo} at {items[start].at:.3f}, {after}")
                continue
            if len(found) > 1:
                result.duplicated += 1
                result.note(f"two outcomes for one trigger of {umo}: {[e.kind for e in found]}")
            outcome = found[0]
            label = _outcome_label(outcome)
            result.outcomes[label] = result.outcomes.get(label, 0) + 1
            if outcome.kind != "sent":
                continue
            key = (umo, str(outcome.detail.get("text", "")))
            explained.add(key)
            if delivered.get(key, 0) == 0:
                result.lost += 1
                result.note(f"journaled as sent, never reached the platform: {key}")
    for key, count in delivered.items():
        if count > 1:
            result.duplicated += count - 1
            result.note(f"reached the platform {count} times: {key}")
        if key not in explained:
            result.unexplained += count
            result.note(f"proactive message no trigger explains: {key}")
    return result


def _outcome_label(entry: Any) -> str:
    """The outcome's kind, with why for a non-delivery: "cancelled (the user spoke)"."""
    if entry.kind == "sent":
        return "sent"
    reason = entry.reason
    for marker, short in (("plugin stopped", "a reload"), ("user spoke", "the user spoke")):
        if marker in reason:
            return f"{entry.kind} ({short})"
    return f"{entry.kind} ({reason[:40]})"


def _outcomes_of(items: list[Any], start: int, next_start: int | None) -> list[Any]:
    """The outcome entries of the trigger journaled at ``items[start]``: up to the
    session's next trigger or the next delivery's ``fired`` (its own is the first)."""
    found: list[Any] = []
    fired = 0
    for entry in items[start + 1 : next_start]:
        if entry.kind == "fired":
            fired += 1
            if fired > 1:
                break
        elif entry.kind in OUTCOME_KINDS:
            found.append(entry)
    return found


def sum_counts(counts: list[Any]) -> dict[str, Any]:
    """Several clients' count dataclasses as one dict: numbers and dicts of numbers
    added up, ``longest_*`` the largest."""
    total: dict[str, Any] = {"clients": len(counts)}
    for item in counts:
        for key, value in asdict(item).items():
            if isinstance(value, dict):
                merged = total.setdefault(key, {})
                for k, v in value.items():
                    merged[k] = merged.get(k, 0) + v
            elif key.startswith("longest_"):
                total[key] = max(total.get(key, 0.0), value)
            else:
                total[key] = total.get(key, 0) + value
    return total
