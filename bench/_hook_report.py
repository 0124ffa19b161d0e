"""The tables bench/message_hook.py prints: per hour of the sweep (floor, ours and the
difference, for each plugin tree measured), then the worst hour and the store and
loop figures of each run."""

from __future__ import annotations

from collections.abc import Callable

from _common import print_table

COLUMNS = ("floor", "ours", "diff", "batch", "total")


def _hour_table(zone: str, count: int, runs: dict[str, dict]) -> None:
    names = sorted(runs, reverse=True)  # "before" first when there is one
    cells = [f"{col} ({name})" for name in names for col in COLUMNS]
    width = 17
    print(
        f"\nPer hour, {zone}, {count:,} private sessions: median/p99 µs per message "
        "(diff = ours - floor; batch = the batched plans' share per message, and the longest\n"
        "batch in µs; total = diff + batch, the plugin's own work)"
    )
    print("local hour".ljust(18) + "".join(c.rjust(width) for c in cells))
    steps = {name: runs[name]["steps"] for name in names}
    for index in range(len(steps[names[0]])):
        row = steps[names[0]][index]["hour"].ljust(18)
        for name in names:
            step = steps[name][index]
            for col in COLUMNS:
                pair = f"{step[col + '_median_us']:.1f}/{step[col + '_p99_us']:.1f}"
                row += pair.rjust(width)
        print(row)


def _summary_rows(f: dict, w: dict, targets: tuple[float, float]) -> list[tuple[str, object]]:
    io_ok = f["loop_io_audit_events_in_handler"] == 0 and f["sql_statements_on_loop_thread"] == 0
    return [
        ("AstrBot timezone / quiet hours", f"{f['engine_timezone']} / {f['quiet_hours']!r}"),
        ("messages per hour step / steps", f"{f['messages_per_hour']} / {len(f['steps'])}"),
        ("worst hour (diff median)", w["worst_median_hour"]),
        ("  floor median / p99 (µs)", _pair(w, "floor")),
        ("  ours median / p99 (µs)", _pair(w, "ours")),
        ("  diff median / p99 (µs)", _pair(w, "diff")),
        ("  batch share / longest batch (µs)", _pair(w, "batch")),
        ("  total median / p99 (µs)", _pair(w, "total")),
        ("  wall incl. dispatch median / p99 (µs)", _pair(w, "wall")),
        ("worst hour (total p99)", w["worst_p99_hour"]),
        ("  total p99 (µs)", w["worst_diff_p99_us"]),
        (
            f"targets total median < {targets[0]:.0f}, p99 < {targets[1]:.0f} µs, every hour",
            "met" if w["targets_met"] else "NOT met",
        ),
        ("learned habits per sender before the sweep (days)", f.get("history_days", 0)),
        ("re-weighed profiles (once a day each, off the path)", f.get("reweighed_profiles", 0)),
        ("  µs per profile / longest slice (µs)", _reweigh(f)),
        ("  their share per message if it were counted (µs)", _share(f)),
        (f"messages/s over the sweep (via {f['via']})", f["sweep_msgs_per_s"]),
        ("SQLite transactions / 1,000 msgs", f["sqlite_transactions_per_1000_msgs"]),
        ("rows written / 1,000 msgs", f["rows_written_per_1000_msgs"]),
        ("I/O audit events on loop in our handler", f["loop_io_audit_events_in_handler"]),
        ("SQL statements on loop / store thread", _sql(f)),
        ("no synchronous I/O on loop (target 0)", "met" if io_ok else "NOT met"),
    ]


def _pair(w: dict, col: str) -> str:
    return f"{w[f'worst_median_hour_{col}_median_us']:.1f} / {w[f'worst_median_hour_{col}_p99_us']:.1f}"


def _reweigh(f: dict) -> str:
    per_profile = f.get("reweigh_us_per_profile", 0.0)
    return f"{per_profile:.1f} / {f.get('reweigh_longest_slice_us', 0.0):.1f}"


def _share(f: dict) -> str:
    return f"{f.get('reweigh_share_per_message_us', 0.0):.1f}"


def _sql(f: dict) -> str:
    return f"{f['sql_statements_on_loop_thread']} / {f['sql_statements_in_store_thread']}"


def print_report(
    results: dict[str, list[dict]],
    trees: dict[str, str],
    worst: Callable[[dict], dict],
    targets: tuple[float, float],
) -> None:
    for name, tree in sorted(trees.items()):
        print(f"{name}: plugin tree {tree}")
    runs_by_key: dict[tuple[str, int], dict[str, dict]] = {}
    for name, runs in results.items():
        for f in runs:
            runs_by_key.setdefault((f["zone"], f["sessions"]), {})[name] = f
    for (zone, count), runs in runs_by_key.items():
        _hour_table(zone, count, runs)
    for (zone, count), runs in runs_by_key.items():
        for name in sorted(runs, reverse=True):
            f = runs[name]
            print_table(
                f"Worst hour, {name}, {zone}, {count:,} sessions (bench/message_hook.py)",
                _summary_rows(f, worst(f), targets),
            )
