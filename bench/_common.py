"""Shared helpers for the benchmarks: import the plugin as a package, statistics, output.

Each benchmark prints a table a person can read and, last, one JSON line a
machine can compare across runs.
"""

from __future__ import annotations

import json
import socket
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))

from harness.plugin_package import import_plugin_package  # noqa: E402

__all__ = ["import_plugin_package"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def print_table(title: str, rows: list[tuple[str, object]]) -> None:
    width = max(len(name) for name, _ in rows)
    print(f"\n{title}")
    print("-" * (width + 24))
    for name, value in rows:
        shown = f"{value:,.2f}" if isinstance(value, float) else f"{value}"
        print(f"{name.ljust(width)}  {shown}")
    print("-" * (width + 24))


def print_json(name: str, figures: dict) -> None:
    print(json.dumps({"benchmark": name, **figures}, ensure_ascii=False, sort_keys=True))
