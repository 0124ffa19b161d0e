"""Shared helpers for the benchmarks: import the plugin as a package, statistics, output.

Each benchmark prints a table a person can read and, last, one JSON line a
machine can compare across runs.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "proactive_chat"


def import_plugin_package() -> None:
    """Register the repo root as the package ``proactive_chat`` (it uses relative imports)."""
    if PACKAGE in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(
        PACKAGE, ROOT / "__init__.py", submodule_search_locations=[str(ROOT)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = module
    spec.loader.exec_module(module)


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
