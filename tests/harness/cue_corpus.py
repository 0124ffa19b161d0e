"""The labelled cue corpus (tests/data/cues.jsonl) and how the parser is scored on it.

One JSON object per line: ``lang`` (zh/en), ``text``, ``now`` (ISO local time), ``tz``,
``kind`` ("user": ``parse_user_cue``; "bot": ``parse_bot_promise``), ``expect``: null when
the text must not move a plan, else the expected target (ISO local time with its offset)
and ``tolerance_min``; ``split``: "dev" (the parser was tuned on these) or "fresh" (written
afterwards and first scored untouched: the honest figure for text the rules have not seen).

Scoring: a case with a cue is a true positive when the parser's target is within the
tolerance; a wrong time counts as a false positive and a false negative; a cue where
none is expected is a false positive; None where one is expected, a false negative.
Used by the corpus test and by bench/cue_parser.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from harness.roots import REPO_ROOT

CORPUS = REPO_ROOT / "tests" / "data" / "cues.jsonl"


@dataclass(frozen=True)
class Case:
    lang: str
    text: str
    now: float
    tz: ZoneInfo
    kind: str
    expect: float | None
    tolerance_s: float
    line: int
    split: str = "dev"


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def load(path: Path = CORPUS) -> list[Case]:
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        tz = ZoneInfo(row["tz"])
        now = datetime.fromisoformat(row["now"]).replace(tzinfo=tz).timestamp()
        expect = row["expect"]
        at = datetime.fromisoformat(expect).timestamp() if expect is not None else None
        tolerance = float(row.get("tolerance_min", 0)) * 60
        cases.append(
            Case(
                row["lang"],
                row["text"],
                now,
                tz,
                row["kind"],
                at,
                tolerance,
                number,
                row.get("split", "dev"),
            )
        )
    return cases


def _shown(at: float | None, tz: ZoneInfo) -> str:
    return "None" if at is None else datetime.fromtimestamp(at, tz).strftime("%m-%d %H:%M")


def score(
    cases: list[Case],
    parse: Callable[[Case], float | None],
    key: Callable[[Case], tuple[str, ...]] = lambda case: (case.lang, case.kind),
) -> dict[tuple[str, ...], Score]:
    """Scores per ``key`` (default: language and kind); ``parse`` gives a case's target."""
    scores: dict[tuple[str, ...], Score] = {}
    for case in cases:
        result = scores.setdefault(key(case), Score())
        got = parse(case)
        if case.expect is None:
            result.fp += got is not None
            result.tn += got is None
        elif got is None:
            result.fn += 1
        elif abs(got - case.expect) <= case.tolerance_s:
            result.tp += 1
            continue
        else:
            result.fp += 1
            result.fn += 1
        if got is not None or case.expect is not None:
            result.misses.append(
                f"line {case.line} [{case.kind}] {case.text!r}: expected "
                f"{_shown(case.expect, case.tz)}, got {_shown(got, case.tz)}"
            )
    return scores
