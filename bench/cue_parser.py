"""The time-cue parser (core/engine/cues): its accuracy on the labelled corpus and its
cost per message.

    .venv/bin/python bench/cue_parser.py [--repeat 300] [--rounds 5] [--corpus PATH]

Accuracy: precision and recall on tests/data/cues.jsonl (scored as in
tests/harness/cue_corpus.py: a cue at the wrong time counts as a false positive and a
false negative), separately for zh and en, user cues (``parse_user_cue``) and bot
promises (``parse_bot_promise``), for all cases and for the "fresh" split alone (written
after the rules were tuned on the rest).

Cost, in µs per call (each message is parsed ``--repeat`` times in a row, ``--rounds``
times; the figure per message is the mean call of its best run, then median and p95 over
the messages):

- "no cue, everyday chat": lines like most messages ("哈哈好的", "what are you doing"),
  answered by the screen. Target: 1-3 µs median.
- "no cue, near misses": the corpus's user lines that must not move a plan; most hold a
  trigger word, so the rules run and refuse.
- "user cue": the corpus's user lines with a cue; "bot reply": all its bot lines.

A table per part and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import import_plugin_package, median, percentile, print_json, print_table

EVERYDAY = (
    "哈哈哈哈", "好的", "嗯嗯", "你在干嘛呀", "今天好累啊", "我也觉得", "真的假的", "笑死我了",
    "这个好可爱", "你吃了吗", "谢谢你呀", "我喜欢这首歌", "不知道诶", "好无聊啊", "你觉得呢",
    "这个有点贵", "我妈又在唠叨了", "刚看完那部剧，结局好虐", "周末想去爬山", "你好聪明",
    "帮我想想晚饭吃什么", "我朋友今天生日", "这道题怎么做啊", "天气好热", "你猜", "没事没事",
    "ok", "lol", "haha yes", "thanks!", "what are you doing", "that's so funny", "I love this song",
    "you're sweet", "no way", "really?", "tell me a joke", "I don't know", "same here",
    "what do you think about cats", "my mom keeps nagging me", "I just finished that show",
    "this is so expensive", "can you help me with my homework", "it's so hot today", "good job",
    "I'm bored", "hmm let me think", "you're right", "that makes sense",
)  # fmt: skip


def _timed(parse, text: str, now: float, tz, repeat: int) -> float:
    began = time.perf_counter()
    for _ in range(repeat):
        parse(text, now, tz)
    return (time.perf_counter() - began) / repeat * 1e6


def cost(label: str, items: list, repeat: int, rounds: int) -> tuple[str, dict]:
    """items: (parse, text, now, tz). Returns the row label and median/p95 in µs."""
    # The best of the rounds per message: the machine is shared, and a preempted run
    # measures the neighbours, not the parser.
    samples = [
        min(_timed(parse, text, now, tz, repeat) for _ in range(rounds))
        for parse, text, now, tz in items
    ]
    return label, {
        "median_us": median(samples),
        "p95_us": percentile(samples, 95),
        "messages": len(items),
    }


def accuracy(cases, score, parse_for) -> dict:
    figures = {}
    for split in ("all", "fresh"):
        chosen = [case for case in cases if split == "all" or case.split == split]
        for (lang, kind), result in sorted(score(chosen, parse_for).items()):
            figures[f"{split}.{lang}.{kind}"] = {
                "precision": round(result.precision, 4),
                "recall": round(result.recall, 4),
                "tp": result.tp,
                "fp": result.fp,
                "fn": result.fn,
                "cases": sum(1 for c in chosen if (c.lang, c.kind) == (lang, kind)),
            }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=300, help="calls per message and run")
    parser.add_argument("--rounds", type=int, default=5, help="runs over all messages")
    parser.add_argument("--corpus", type=Path, default=None, help="a cues.jsonl to score")
    args = parser.parse_args()

    import_plugin_package()
    from harness.cue_corpus import CORPUS, load, score
    from proactive_chat.core.engine.cues import parse_bot_promise, parse_user_cue
    from proactive_chat.core.engine.cues.parse import screened

    cases = load(args.corpus or CORPUS)

    def parse_for(case):
        parse = parse_user_cue if case.kind == "user" else parse_bot_promise
        cue = parse(case.text, case.now, case.tz)
        return None if cue is None else cue.target

    figures = accuracy(cases, score, parse_for)
    print_table(
        f"Accuracy on {len(cases)} labelled utterances (precision / recall, tp fp fn)",
        [
            (key, f"{f['precision']:.3f} / {f['recall']:.3f}  ({f['tp']} {f['fp']} {f['fn']})")
            for key, f in figures.items()
        ],
    )

    zone, now = cases[0].tz, cases[0].now
    user_cases = [c for c in cases if c.kind == "user"]
    parts = [
        ("no cue, everyday chat", [(parse_user_cue, t, now, zone) for t in EVERYDAY]),
        (
            "no cue, near misses",
            [(parse_user_cue, c.text, c.now, c.tz) for c in user_cases if c.expect is None],
        ),
        (
            "user cue",
            [(parse_user_cue, c.text, c.now, c.tz) for c in user_cases if c.expect is not None],
        ),
        (
            "bot reply",
            [(parse_bot_promise, c.text, c.now, c.tz) for c in cases if c.kind == "bot"],
        ),
    ]
    costs = dict(cost(label, items, args.repeat, args.rounds) for label, items in parts)
    passed = sum(screened(text.lower()) for text in EVERYDAY)
    print_table(
        "Cost per call, µs (median / p95)",
        [(label, f"{c['median_us']:.2f} / {c['p95_us']:.2f}") for label, c in costs.items()]
        + [("everyday lines past the screen", f"{passed} of {len(EVERYDAY)}")],
    )
    print_json(
        "cue_parser",
        {
            "corpus": len(cases),
            "accuracy": figures,
            "cost_us": {k.replace(" ", "_").replace(",", ""): v for k, v in costs.items()},
            "everyday_past_screen": passed,
        },
    )


if __name__ == "__main__":
    main()
