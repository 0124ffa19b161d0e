"""The plugin's own cost of writing and sending one proactive message (model and
platform answering at once), for two plugin trees back to back.

    .venv/bin/python bench/proactive_send.py [--rounds 5] [--messages 2000] [--before TREE]

Each round runs ``MessageComposer.compose`` + ``MessageSender.send`` of each tree
``--messages`` times in a child process per tree (so each imports its own copy),
with a stand-in context: the session's chat model answers "hi" at once, the platform
takes the message at once, no persona, no history, default settings (tools, pictures
and fallbacks off). Rounds alternate between the trees, so a busy machine weighs on
both alike. Prints the median and p99 per message of each tree, and their difference.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

from _common import ROOT, median, percentile, print_json, print_table

UMO = "bench:FriendMessage:42"


def load_tree(root: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "proactive_chat", root / "__init__.py", submodule_search_locations=[str(root)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["proactive_chat"] = module
    spec.loader.exec_module(module)


class _Provider:
    def meta(self):
        return SimpleNamespace(id="bench-model", model="m")

    def get_model(self) -> str:
        return "m"


class _Context:
    """What the composer and sender ask of AstrBot, answering at once."""

    def __init__(self) -> None:
        platform = SimpleNamespace(
            meta=lambda: SimpleNamespace(id="bench", name="bench", support_proactive_message=True)
        )
        self.platform_manager = SimpleNamespace(platform_insts=[platform])
        self.conversation_manager = self
        self.persona_manager = self
        self.personas_v3: list = []

    async def get_using_provider_async(self, umo=None):
        return _Provider()

    async def get_curr_conversation_id(self, umo):
        return None

    async def resolve_selected_persona(self, **kwargs):
        return None, None, None, False

    def get_config(self, umo=None):
        return {}

    async def llm_generate(self, **kwargs):
        return SimpleNamespace(role="assistant", completion_text="hi there")

    async def send_message(self, umo, chain):
        return True


async def measure(messages: int) -> list[float]:
    from proactive_chat.core.adapters.composer import MessageComposer
    from proactive_chat.core.adapters.sender import MessageSender
    from proactive_chat.core.engine.config import parse_plugin_config

    settings, _ = parse_plugin_config({"friend_settings": {"tts_settings": {"enable_tts": False}}})
    context = _Context()
    composer, sender = MessageComposer(context), MessageSender(context)
    await sender.send(UMO, "warm-up", settings.friend)  # AstrBot's imports, once
    times = []
    for _ in range(messages):
        started = time.perf_counter()
        result = await composer.compose(UMO, settings.friend, "PROMPT")
        await sender.send(UMO, result.text, settings.friend)
        times.append((time.perf_counter() - started) * 1e6)
    return times


def run_child(tree: Path, messages: int) -> list[float]:
    command = [sys.executable, __file__, f"--child={tree}", f"--messages={messages}"]
    output = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--messages", type=int, default=2000, help="per round and tree")
    parser.add_argument("--plugin-src", default=str(ROOT), help="the plugin tree measured")
    parser.add_argument("--before", help="another plugin tree, measured in turn")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        load_tree(Path(args.child))
        print(json.dumps(asyncio.run(measure(args.messages))))
        return
    trees = {"after": Path(args.plugin_src)}
    if args.before:
        trees["before"] = Path(args.before)
    times: dict[str, list[float]] = {name: [] for name in trees}
    for _ in range(args.rounds):
        for name, tree in trees.items():
            times[name] += run_child(tree, args.messages)
    figures: dict[str, float] = {}
    rows: list[tuple[str, object]] = []
    for name, values in times.items():
        figures[f"{name}_median_us"] = round(median(values), 1)
        figures[f"{name}_p99_us"] = round(percentile(values, 99), 1)
        rows.append(
            (
                f"{name}: median / p99 per message (µs)",
                f"{median(values):.1f} / {percentile(values, 99):.1f}",
            )
        )
    if "before" in times:
        diff = median(times["after"]) - median(times["before"])
        figures["diff_median_us"] = round(diff, 1)
        rows.append(("after - before, median (µs)", f"{diff:+.1f}"))
    print_table("Writing + sending one proactive message (bench/proactive_send.py)", rows)
    print_json("proactive_send", figures)


if __name__ == "__main__":
    main()
