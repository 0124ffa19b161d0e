"""The session page's week heat-map of learned habits: 7 rows × 24 cells from the
engine's ``habits_view`` (the same data as ``GET /api/sessions/{umo}/habits``), each
cell a colour level (0-4) plus a title/aria text in the reader's language.

The level shows the draw's weight once the session has enough history, else the
hours in which the user wrote (relative to the busiest hour); learned sleep is marked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

LEVELS = 4


def habit_map(view: dict[str, Any] | None, t: Callable[..., str]) -> dict[str, Any] | None:
    """What the template draws, or None when nothing is learned yet."""
    if view is None:
        return None
    weights = view.get("weights")
    active = view["active"]
    scale = weights if weights is not None else active
    top = max(scale) or 1.0
    asleep_hours = _asleep_hours(weights)
    rows = []
    for day in range(7):
        cells = []
        for hour in range(24):
            bucket = day * 24 + hour
            value = scale[bucket] / top
            level = 0 if value <= 0 else min(LEVELS, 1 + int(value * LEVELS))
            asleep = weights is not None and weights[bucket] == 0.0 and hour in asleep_hours
            cells.append(
                {
                    "level": level,
                    "asleep": asleep,
                    "text": _cell_text(view, bucket, day, hour, asleep, t),
                }
            )
        rows.append({"day": t(f"habits.day.{day}"), "cells": cells})
    delay = view.get("answer_delay_seconds")
    return {
        "rows": rows,
        "state_key": "habits.off"
        if not view["enabled"]
        else "habits.used"
        if weights is not None
        else "habits.learning",
        "sleep": view.get("sleep") or "",
        "delay_minutes": None if delay is None else max(1, round(delay / 60)),
        "since": view.get("since"),
    }


def _asleep_hours(weights: list[float] | None) -> set[int]:
    """Hours of the day with no weight on any day: the learned sleep."""
    if weights is None:
        return set()
    return {h for h in range(24) if all(weights[d * 24 + h] == 0.0 for d in range(7))}


def _cell_text(
    view: dict[str, Any], bucket: int, day: int, hour: int, asleep: bool, t: Callable[..., str]
) -> str:
    weights = view.get("weights")
    if asleep:
        extra = t("habits.cell_asleep")
    elif weights is not None:
        extra = t("habits.cell_weight", w=f"{weights[bucket]:.2f}")
    else:
        extra = ""
    return t(
        "habits.cell",
        day=t(f"habits.day.{day}"),
        hour=f"{hour:02d}",
        next=f"{hour + 1:02d}",
        active=f"{view['active'][bucket]:.1f}",
        sent=f"{view['sent'][bucket]:.1f}",
        answered=f"{view['answered'][bucket]:.1f}",
        weight=extra,
    )
