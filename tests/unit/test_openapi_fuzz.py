"""The panel's OpenAPI schema fuzzed with schemathesis against the real app over a real
``ProactiveService`` (seeded sessions and journal), served by real uvicorn.

Each run goes over every operation of the schema and fails on any 5xx, any answer
that breaks its own schema (status code, content type, body, headers), a request
that goes through without a valid login, invalid input that is accepted, or a
request that outlives the per-request timeout (a hang). Logged in, the stateful
phase follows the schema's links from the session list to the session operations.

The default run is small and repeatable (a fixed seed); ``PC_FUZZ_EXAMPLES=300``
runs more examples per operation, ``PC_HYPOTHESIS_PROFILE=explore`` a fresh random
seed. bench/fuzz_api.py runs the same fuzzing deeper and prints its figures.
"""

from __future__ import annotations

import os

import pytest
import requests

from harness.api_fuzz import TESTING_PHASES, FuzzReport, call_and_check, fuzz_api, load_schema
from harness.panel_server import PanelServer

EXAMPLES = int(os.environ.get("PC_FUZZ_EXAMPLES", "10"))
SEED = None if os.environ.get("PC_HYPOTHESIS_PROFILE") == "explore" else 20261128
REQUEST_TIMEOUT = 15.0  # generous: two busy cores; a hang takes forever


@pytest.fixture
def server(tmp_path):
    with PanelServer(tmp_path) as panel:
        yield panel


def operations(server: PanelServer) -> set[str]:
    return {
        f"{method.upper()} {path}"
        for path, methods in load_schema(server)["paths"].items()
        for method in methods
    }


def explain(report: FuzzReport) -> str:
    lines = [f"seed {report.seed}: {report.total} requests, statuses {dict(report.statuses)}"]
    lines += [f"ERROR {error}" for error in report.errors[:10]]
    lines += [f"FAILURE {failure}" for failure in report.failures[:10]]
    return "\n".join(lines)


def fuzz(server: PanelServer, auth: str, phases: tuple[str, ...]) -> FuzzReport:
    return fuzz_api(
        server,
        auth=auth,
        examples=EXAMPLES,
        seed=SEED,
        request_timeout=REQUEST_TIMEOUT,
        phases=phases,
    )


# --- logged in ---------------------------------------------------------------------------


def test_fuzz_logged_in_with_bearer_token(server):
    report = fuzz(server, "bearer", TESTING_PHASES)
    assert report.failures == [] and report.errors == [], explain(report)
    assert set(report.cases) == operations(server)  # every operation was reached
    assert not [status for status in report.statuses if status >= 500]
    # The requests got past the guard to the handlers, and the links were followed.
    assert sum(n for status, n in report.statuses.items() if 200 <= status < 300) > 50
    assert report.stateful_transitions > 0 and report.phases["stateful"] == "success"


def test_fuzz_logged_in_like_the_pages(server):
    """The cookie, plus the Origin header a browser adds to unsafe requests."""
    report = fuzz(server, "cookie", ("fuzzing", "stateful"))
    assert report.failures == [] and report.errors == [], explain(report)
    assert set(report.cases) == operations(server)
    assert not [status for status in report.statuses if status >= 500]
    # Writes got through the cross-site check: the Origin is the panel's own.
    writes = [(m, s) for m, s in report.by_method if m != "GET" and 200 <= s < 300]
    assert writes and report.statuses[403] == 0
    assert report.phases["stateful"] == "success"


# --- a stranger ---------------------------------------------------------------------------


def test_fuzz_without_login_is_refused_everywhere(server):
    """Every guarded operation answers 401 (``login_required``), whatever is sent, and
    nothing at all succeeds: not even a login, whose password is never guessed."""
    report = fuzz(server, "none", ("coverage", "fuzzing"))
    assert report.failures == [] and report.errors == [], explain(report)
    assert set(report.cases) == operations(server)
    assert report.statuses[401] > report.total // 2
    assert not [status for status in report.statuses if status < 400 or status >= 500]


# --- regressions: what the fuzzing found ----------------------------------------------------


def test_method_not_allowed_names_every_method_of_the_path(server):
    """A 405 must list the methods the path answers (RFC 9110); Starlette named only
    those of the first route: ``PATCH /api/config`` said ``Allow: GET``."""
    for method, path, allowed in (
        ("PATCH", "/api/config", "GET, PUT"),
        ("PATCH", "/api/sessions/p:FriendMessage:x/override", "DELETE, GET, PUT"),
        ("DELETE", "/api/login", "POST"),
    ):
        response = requests.request(
            method, server.base_url + path, headers=server.bearer(), timeout=REQUEST_TIMEOUT
        )
        assert response.status_code == 405
        assert response.headers["Allow"] == allowed, (method, path)


@pytest.mark.parametrize(
    ("method", "path", "case"),
    [
        # Errors of the CSV export were documented as text/csv; they are JSON.
        ("GET", "/api/journal.csv", {"query": {"kind": "no-such-kind"}}),
        # The login documented only 200.
        ("POST", "/api/login", {"body": {"password": "wrong"}}),
        ("POST", "/api/login", {"body": {"password": ""}}),
        # /api/logs documented a 422 that is never sent; its 400 was undocumented.
        ("GET", "/api/logs", {"query": {"limit": "many"}}),
    ],
)
def test_error_answers_match_the_schema(server, method, path, case):
    response = call_and_check(server, method, path, auth="bearer", **case)
    assert 400 <= response.status_code < 500


def test_a_request_that_is_not_http_is_refused_before_the_panel(server):
    """Found at depth: a generated header named ``Transfer-Encoding`` makes the request
    invalid HTTP; uvicorn answers a plain 400 before the app runs (not the API's answer,
    so its content type is not held against the schema), never a 5xx or a hang."""
    response = call_and_check(
        server,
        "POST",
        "/api/sessions/{umo}/cancel",
        path_parameters={"umo": server.umos[0]},
        headers={"Transfer-Encoding": "ZJ*b"},
    )
    assert response.status_code == 400


def test_a_strangers_answers_match_the_schema(server):
    """``/api/me`` documented only 200: a stranger gets a 401."""
    response = call_and_check(server, "GET", "/api/me", auth="none")
    assert response.status_code == 401
