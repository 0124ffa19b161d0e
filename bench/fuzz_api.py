"""The panel's HTTP API fuzzed deeply with schemathesis, with figures.

    .venv/bin/python bench/fuzz_api.py [--examples 300] [--auth bearer,cookie,none]
                                       [--seed N] [--stateful-steps 20] [--timeout 10]

The same runs as tests/unit/test_openapi_fuzz.py (``harness.api_fuzz``), deeper: every
operation of the panel's OpenAPI schema through schemathesis's phases (examples,
coverage, fuzzing, stateful along the schema's links), ``--examples`` per operation
and phase, once per way of asking: logged in with the Bearer token, logged in like the
pages (the cookie plus the Origin header), and as a stranger (no login). The panel is
the real app over a real ``ProactiveService`` with seeded sessions and journal,
served by real uvicorn on a free 127.0.0.1 port; every request has a ``--timeout``
(a hang is an error). Checks: no 5xx; status code, content type, body and headers as
the schema says; invalid input refused; a stranger always refused (401).

Figures, per run and in total: requests per operation, the status-code histogram,
failures (each with a curl line that reproduces it), errors (timeouts and the like),
server latency p50 / p95 (from the response's ``elapsed``), wall time. Last, one JSON
line. Exit status 1 when anything failed.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests")]

from _common import median, percentile, print_json, print_table  # noqa: E402

from harness.api_fuzz import AUTH_MODES, TESTING_PHASES, FuzzReport, fuzz_api  # noqa: E402
from harness.panel_server import PanelServer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=300, help="per operation and phase")
    parser.add_argument("--auth", default=",".join(AUTH_MODES), help="bearer,cookie,none")
    parser.add_argument("--seed", type=int, default=None, help="repeat a run (default: fresh)")
    parser.add_argument("--stateful-steps", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=10.0, help="per request, seconds")
    args = parser.parse_args()
    quiet_the_panel_log()

    reports = []
    for auth in args.auth.split(","):
        with tempfile.TemporaryDirectory(prefix="fuzz-api-") as data_dir:
            with PanelServer(Path(data_dir)) as server:
                print(f"\n[{auth}] fuzzing {server.base_url} ...", flush=True)
                report = fuzz_api(
                    server,
                    auth=auth,
                    examples=args.examples,
                    seed=args.seed,
                    request_timeout=args.timeout,
                    stateful_steps=args.stateful_steps,
                    phases=TESTING_PHASES,
                )
        reports.append(report)
        show(report)

    total = sum(r.total for r in reports)
    statuses = sum((r.statuses for r in reports), Counter())
    latencies = [x for r in reports for x in r.latencies]
    failures = sum(len(r.failures) for r in reports)
    errors = sum(len(r.errors) for r in reports)
    wall = sum(r.wall_seconds for r in reports)
    print_table(
        f"All runs ({args.examples} examples per operation and phase)",
        [
            ("requests (fuzz cases) run", total),
            ("operations", len({op for r in reports for op in r.cases})),
            ("5xx answers", sum(n for s, n in statuses.items() if s >= 500)),
            ("failures", failures),
            ("errors (timeouts, ...)", errors),
            ("latency p50 (ms)", percentile(latencies, 50) * 1000),
            ("latency p95 (ms)", percentile(latencies, 95) * 1000),
            ("wall time (s)", wall),
        ],
    )
    print_json(
        "fuzz_api",
        {
            "examples": args.examples,
            "seeds": {r.auth: r.seed for r in reports},
            "cases_total": total,
            "cases_by_auth": {r.auth: r.total for r in reports},
            "statuses": {str(s): n for s, n in sorted(statuses.items())},
            "failures": failures,
            "errors": errors,
            "latency_p50_ms": round(percentile(latencies, 50) * 1000, 3),
            "latency_median_ms": round(median(latencies) * 1000, 3),
            "latency_p95_ms": round(percentile(latencies, 95) * 1000, 3),
            "wall_s": round(wall, 1),
        },
    )
    return 1 if failures or errors else 0


def show(report: FuzzReport) -> None:
    rows: list[tuple[str, object]] = [(op, n) for op, n in sorted(report.cases.items())]
    rows.append(("TOTAL", report.total))
    print_table(f"[{report.auth}] requests per operation", rows)
    print_table(
        f"[{report.auth}] status codes",
        [(str(status), n) for status, n in sorted(report.statuses.items())],
    )
    print_table(
        f"[{report.auth}] run",
        [
            *((f"phase {name}", how) for name, how in report.phases.items()),
            ("stateful links", report.stateful_transitions),
            ("seed (--auth X --seed N repeats it)", report.seed),
            ("latency p50 (ms)", percentile(report.latencies, 50) * 1000),
            ("latency p95 (ms)", percentile(report.latencies, 95) * 1000),
            ("wall time (s)", report.wall_seconds),
            ("failures", len(report.failures)),
            ("errors", len(report.errors)),
        ],
    )
    for failure in report.failures:
        print(f"\nFAILURE [{report.auth}] {failure}")
    for error in report.errors:
        print(f"\nERROR [{report.auth}] {error}")


def quiet_the_panel_log() -> None:
    """Wrong passwords and malformed requests are what fuzzing sends: the plugin's and
    uvicorn's warnings about them would bury the figures."""
    for name in ("astrbot", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.addHandler(logging.NullHandler())
        logger.propagate = False


if __name__ == "__main__":
    sys.exit(main())
