"""The cue parser on its labelled corpus (tests/data/cues.jsonl, scored by
tests/harness/cue_corpus.py): precision and recall per language and kind must not fall
below the floors here, set just under what the parser reaches. A failure lists every case
it gets wrong, so a rule change that fixes one case and breaks another shows both.

The corpus itself is held to its brief: at least 300 utterances, about half Chinese and
half English, at least a third that must not move a plan, promises of both languages,
and nights when the clocks change.
"""

from __future__ import annotations

from collections import Counter

import pytest

from harness.cue_corpus import Case, load, score
from proactive_chat.core.engine.cues import parse_bot_promise, parse_user_cue

# (lang, kind) -> (precision floor, recall floor), just under what the parser reaches on
# all 512 cases (zh user 0.984 / 0.992, en user 0.982 / 0.991, zh bot 1.0 / 1.0, en bot
# 1.0 / 0.963). The 68 "fresh" cases were scored once and never tuned on; the bench
# prints their figures apart (lower: the honest figure for unseen text).
FLOORS = {
    ("zh", "user"): (0.97, 0.98),
    ("en", "user"): (0.97, 0.98),
    ("zh", "bot"): (0.96, 0.96),
    ("en", "bot"): (0.96, 0.95),
}
CASES = load()


def _target(case: Case) -> float | None:
    parse = parse_user_cue if case.kind == "user" else parse_bot_promise
    cue = parse(case.text, case.now, case.tz)
    return None if cue is None else cue.target


def test_the_corpus_is_big_and_balanced() -> None:
    assert len(CASES) >= 300
    langs = Counter(case.lang for case in CASES)
    assert min(langs.values()) / len(CASES) >= 0.4, langs
    negatives = sum(case.expect is None for case in CASES)
    assert negatives >= len(CASES) / 3
    kinds = Counter((case.lang, case.kind, case.expect is None) for case in CASES)
    assert all(kinds[(lang, "bot", neg)] >= 10 for lang in langs for neg in (True, False))
    zones = {case.tz.key for case in CASES}
    assert {"America/New_York", "Europe/Berlin", "Europe/London"} <= zones


def test_every_label_is_a_future_time_inside_the_horizon() -> None:
    for case in CASES:
        if case.expect is not None:
            assert case.now < case.expect <= case.now + 7 * 86400, case
            assert case.tolerance_s > 0, case


@pytest.mark.parametrize(("lang", "kind"), sorted(FLOORS))
def test_accuracy_stays_above_the_floor(lang: str, kind: str) -> None:
    cases = [case for case in CASES if (case.lang, case.kind) == (lang, kind)]
    result = score(cases, _target)[(lang, kind)]
    precision_floor, recall_floor = FLOORS[(lang, kind)]
    report = "\n".join(result.misses)
    assert result.precision >= precision_floor, f"precision {result.precision:.3f}\n{report}"
    assert result.recall >= recall_floor, f"recall {result.recall:.3f}\n{report}"
