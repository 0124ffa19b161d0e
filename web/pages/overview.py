"""What the overview page shows (its template: templates/overview.html).

How pages are built: docs/panel-pages.md.

Context: ``ov`` (``overview_body`` of web/api/stats.py with ``days``: the chart's series or
None), ``chart`` (the bar chart's geometry, or None without data), ``chart_days``
(how many days it shows), ``page_state``
(JSON for static/js/overview.js: the same body plus the chart's layout constants, so
the script redraws the chart exactly as the server drew it).
"""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request

from ..api.access import app_deps
from ..api.stats import DEFAULT_DAYS, overview_body

# The chart's layout in SVG user units (viewBox); overview.js reads it from page_state.
CHART_LAYOUT: dict[str, Any] = {
    "width": 720,
    "height": 240,
    "left": 40,  # room for the y-axis labels
    "right": 8,
    "top": 12,
    "bottom": 26,  # room for the date labels
    "ticks": 4,  # horizontal grid lines above zero
    "label_every": 5,  # a date label every 5th day, counted back from today
    "bar": 0.36,  # each bar's share of a day's width
    "gap": 0.06,  # between the two bars of a day
}


async def context(request: Request) -> dict[str, Any]:
    body = await overview_body(app_deps(request), chart_days=DEFAULT_DAYS)
    days = body.get("days")
    return {
        "ov": body,
        "chart": chart_view(days) if days else None,
        "chart_days": DEFAULT_DAYS,
        "page_state": {"overview": body, "layout": CHART_LAYOUT, "chart_days": DEFAULT_DAYS},
    }


def nice_top(peak: int, ticks: int) -> int:
    """The y-axis maximum: ``ticks`` whole steps of 1, 2, 3 or 5 times a power of ten."""
    if peak <= ticks:
        return ticks
    raw = peak / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 3, 5, 10) if m * magnitude >= raw)
    return int(step * ticks)


def _round(value: float) -> float:
    return round(value, 2)


def chart_view(days: list[dict[str, Any]]) -> dict[str, Any]:
    """Coordinates of the bars, grid lines and labels for ``days`` (oldest first)."""
    lay = CHART_LAYOUT
    plot_w = lay["width"] - lay["left"] - lay["right"]
    plot_h = lay["height"] - lay["top"] - lay["bottom"]
    base = lay["top"] + plot_h
    count = len(days)
    slot = plot_w / count
    bar_w = max(1.0, slot * lay["bar"])
    gap = slot * lay["gap"]
    peak = max(max(d["sent"], d["answered"]) for d in days)
    top = nice_top(peak, lay["ticks"])

    def height(value: int) -> float:
        return value / top * plot_h

    bars = []
    for index, day in enumerate(days):
        center = lay["left"] + slot * index + slot / 2
        sent_h, answered_h = height(day["sent"]), height(day["answered"])
        bars.append(
            {
                **day,
                "slot_x": _round(lay["left"] + slot * index),
                "sent": {
                    "x": _round(center - gap / 2 - bar_w),
                    "y": _round(base - sent_h),
                    "h": _round(sent_h),
                    "n": day["sent"],
                },
                "answered": {
                    "x": _round(center + gap / 2),
                    "y": _round(base - answered_h),
                    "h": _round(answered_h),
                    "n": day["answered"],
                },
                "label": day["date"][5:] if (count - 1 - index) % lay["label_every"] == 0 else None,
                "label_x": _round(center),
            }
        )
    grid = [
        {"value": top // lay["ticks"] * k, "y": _round(base - plot_h * k / lay["ticks"])}
        for k in range(lay["ticks"] + 1)
    ]
    return {
        **lay,
        "slot": _round(slot),
        "bar_w": _round(bar_w),
        "plot_h": plot_h,
        "base": base,
        "right_x": lay["width"] - lay["right"],
        "label_y": base + 17,
        "bars": bars,
        "grid": grid,
        "count": count,
        "sent": sum(d["sent"] for d in days),
        "answered": sum(d["answered"] for d in days),
        "capped": sum(d["capped"] for d in days),
        "peak_sent": max(d["sent"] for d in days),
    }
