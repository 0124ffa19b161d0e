"""Fuzz the panel's HTTP API with schemathesis: every operation of its OpenAPI schema,
schemathesis's phases (examples, coverage, fuzzing, stateful through the schema's
links), over a real socket to a ``PanelServer``. Shared by
tests/unit/test_openapi_fuzz.py and bench/fuzz_api.py.

    report = fuzz_api(server, auth="bearer", examples=20, seed=1)
    assert report.failures == [] and report.errors == []

``auth``: ``bearer`` (the Authorization header), ``cookie`` (the login cookie plus the
Origin header a browser adds, as the panel's pages send them) or ``none`` (a stranger:
every guarded path must answer 401). A request that outlives ``request_timeout`` is an
error (a hang), never a silent pass.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

# Hypothesis keeps caches in ./.hypothesis unless told otherwise: not in the repo.
os.environ.setdefault(
    "HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(tempfile.gettempdir(), "pc-hypothesis")
)

import requests
import schemathesis
from schemathesis.engine import events, from_schema

from .panel_server import PanelServer
from .plugin_package import import_plugin_package

import_plugin_package()

from proactive_chat.web.auth.guard import PUBLIC_API  # noqa: E402

AUTH_MODES = ("bearer", "cookie", "none")
INVALID_HTTP = b"Invalid HTTP request received."  # uvicorn's answer to a malformed request

# Not ``use_after_free``: DELETE .../override resets a session's override, and the
# override view (global, override, effective) goes on existing, as documented. Not
# ``positive_data_acceptance``: the config groups and UMOs are checked by the server
# beyond what the schema spells out (a 400 for a schema-valid body is by design).
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "ignored_auth",
    "ensure_resource_availability",
    "login_required",
]

# Tokens that are a login; any other request to a guarded path is a stranger's.
_LOGINS: set[str] = set()


# What the guard answers before a request reaches any route, and why.
GUARD_REFUSALS = {401: "unauthorized", 400: "host_not_allowed", 413: "too_large"}


@schemathesis.check
def login_required(ctx: Any, response: Any, case: Any) -> bool | None:
    """Without a valid login no guarded ``/api/`` path reaches its route, whatever the
    request holds: the guard answers 401 (or first refuses a Host that is not the
    panel's with 400, a body over the cap with 413)."""
    request = response.request
    path = urlsplit(request.url).path
    if not path.startswith("/api/") or path in PUBLIC_API or _carries_login(request.headers):
        return None
    try:
        error = json.loads(response.content).get("error")
    except (ValueError, AttributeError):
        error = None
    if GUARD_REFUSALS.get(response.status_code) != error:
        raise AssertionError(
            f"no login, yet {request.method} {path} answered {response.status_code} "
            f"{response.content[:100]!r}"
        )
    return None


def _carries_login(headers: Any) -> bool:
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip() in _LOGINS:
        return True
    cookies = headers.get("Cookie", "")
    return any(f"pc_session={token}" in cookies for token in _LOGINS)


@dataclass
class FuzzFailure:
    operation: str
    check: str
    title: str
    message: str
    reproduce: str

    def __str__(self) -> str:
        return (
            f"{self.operation} [{self.check}] {self.title}\n{self.message}\n"
            f"Reproduce with:\n{self.reproduce}"
        )


@dataclass
class FuzzReport:
    auth: str
    seed: int  # ``fuzz_api(seed=...)`` repeats the run
    cases: Counter[str] = field(default_factory=Counter)  # requests per operation
    statuses: Counter[int] = field(default_factory=Counter)
    by_method: Counter[tuple[str, int]] = field(default_factory=Counter)  # (method, status)
    latencies: list[float] = field(default_factory=list)  # seconds, one per response
    failures: list[FuzzFailure] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # timeouts, refused connections, ...
    phases: dict[str, str] = field(default_factory=dict)  # phase -> how it ended
    phase_seconds: dict[str, float] = field(default_factory=dict)
    stateful_transitions: int = 0
    _phase_started: float = 0.0
    wall_seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.cases.values())


def auth_config(server: PanelServer, auth: str) -> tuple[dict[str, Any], dict[str, str]]:
    """schemathesis's ``auth`` section and the extra headers for one way of logging in.

    The login goes through the schema's own security schemes, so schemathesis knows it
    is a login (and its ``ignored_auth`` check can take it away to see a 401)."""
    if auth == "bearer":
        return {"openapi": {"bearer": {"bearer": server.token}}}, {}
    if auth == "cookie":
        return {"openapi": {"cookie": {"api_key": server.token}}}, {"Origin": server.origin}
    if auth == "none":
        return {}, {}
    raise ValueError(f"auth must be one of {AUTH_MODES}, not {auth!r}")


def load_schema(server: PanelServer) -> dict[str, Any]:
    """The schema as the panel serves it (``/api/openapi.json`` needs a login too)."""
    response = requests.get(
        f"{server.base_url}/api/openapi.json", headers=server.bearer(), timeout=30
    )
    response.raise_for_status()
    return response.json()


TESTING_PHASES = ("examples", "coverage", "fuzzing", "stateful")


def fuzz_schema(
    server: PanelServer,
    *,
    auth: str,
    examples: int = 10,
    seed: int | None = None,
    request_timeout: float = 10.0,
    stateful_steps: int = 10,
    phases: tuple[str, ...] = TESTING_PHASES,
) -> Any:
    """The panel's schema loaded into schemathesis, configured to reach ``server``
    logged in as ``auth`` with the checks above. The same ``seed`` generates the same
    requests (None: a fresh one; the schema's ``config.seed`` tells which)."""
    _LOGINS.add(server.token)
    login, headers = auth_config(server, auth)
    config = schemathesis.Config.from_dict(
        {
            "seed": seed if seed is not None else random.getrandbits(32),
            "cache": {"enabled": False},
            "auth": {**login, "auto-signup": False},
            "phases": {
                **{name: {"enabled": name in phases} for name in TESTING_PHASES},
                "stateful": {"enabled": "stateful" in phases, "max-steps": stateful_steps},
            },
        }
    )
    schema = schemathesis.openapi.from_dict(load_schema(server), config=config)
    schema.config.update(base_url=server.base_url, headers=headers, request_timeout=request_timeout)
    schema.config.generation.update(max_examples=examples, database="none")
    schema.config.checks.update(included_check_names=CHECKS)
    schema.hook(filter_failure)
    _SPARE_LOGINS[server.token] = server.deps.auth.issue_token
    return schema


# A run's login -> where to get a spare one (see ``before_call``).
_SPARE_LOGINS: dict[str, Any] = {}


@schemathesis.hook
def before_call(context: Any, case: Any, **kwargs: Any) -> None:
    """A logout ends its token on the server: a run's own login must outlive the
    logout operation, so that one request carries a fresh token instead. (schemathesis
    takes this hook only globally: it acts on the logins ``fuzz_schema`` registered.)"""
    operation = case.operation
    if operation.method.upper() != "POST" or operation.path != "/api/logout":
        return
    for values in (case.headers, case.cookies):
        for name, value in list((values or {}).items()):
            for token, issue in _SPARE_LOGINS.items():
                if isinstance(value, str) and token in value:
                    spare = issue()
                    _LOGINS.add(spare)
                    values[name] = value.replace(token, spare)


def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every failure but those on a request that is not valid HTTP/1.1 (a random
    header named ``Transfer-Encoding``, say): uvicorn refuses it with a plain-text 400
    before any code of the panel runs, and that answer is not the API's. A 5xx or a
    hang there still counts."""
    return not (response.status_code == 400 and response.content == INVALID_HTTP)


def fuzz_api(server: PanelServer, *, auth: str, **options: Any) -> FuzzReport:
    """One schemathesis run over every operation (options: see ``fuzz_schema``)."""
    schema = fuzz_schema(server, auth=auth, **options)
    report = FuzzReport(auth=auth, seed=schema.config.seed)
    started = time.perf_counter()
    for event in from_schema(schema).execute():
        _record(report, event)
    report.wall_seconds = time.perf_counter() - started
    return report


def call_and_check(
    server: PanelServer, method: str, path: str, *, auth: str = "bearer", **case: Any
) -> Any:
    """One hand-made request to the operation ``method path`` (as the schema names it),
    checked like a fuzzed one; raises schemathesis's failure when a check fails.
    ``case``: ``path_parameters``, ``query``, ``body``, ``headers``, ``media_type``."""
    schema = fuzz_schema(server, auth=auth)
    operation = schema[path][method]
    made = operation.Case(**case)
    checks = schemathesis.checks.CHECKS.get_by_names(
        [name for name in CHECKS if name != "ensure_resource_availability"]
    )
    login = {"bearer": server.bearer, "cookie": server.browser_headers, "none": dict}[auth]
    return made.call_and_validate(headers=login(), checks=checks)


def _record(report: FuzzReport, event: Any) -> None:
    if isinstance(event, events.ScenarioFinished):
        _record_scenario(report, event.recorder)
    elif isinstance(event, events.NonFatalError):
        report.errors.append(f"{event.label}: {event.info.title}: {event.info.message}")
    elif isinstance(event, events.FatalError):
        report.errors.append(f"fatal: {event.exception!r}")
    elif isinstance(event, events.PhaseStarted):
        report._phase_started = time.perf_counter()
        if event.payload is not None:
            report.stateful_transitions = event.payload.transitions_total
    elif isinstance(event, events.PhaseFinished):
        report.phase_seconds[event.phase.name.value] = time.perf_counter() - report._phase_started
        reason = event.phase.skip_reason
        report.phases[event.phase.name.value] = event.status.value + (
            f" ({reason.value})" if reason is not None else ""
        )
    elif isinstance(event, events.EngineFinished):
        for failure in event.failures or ():
            report.failures.append(
                FuzzFailure(
                    failure.operation or "", "after run", failure.title, failure.message, ""
                )
            )


def _record_scenario(report: FuzzReport, recorder: Any) -> None:
    for case_id, interaction in recorder.interactions.items():
        node = recorder.cases.get(case_id)
        label = node.value.operation.label if node is not None else "?"
        report.cases[label] += 1
        if interaction.response is not None:
            report.statuses[interaction.response.status_code] += 1
            report.by_method[interaction.request.method, interaction.response.status_code] += 1
            report.latencies.append(interaction.response.elapsed)
    seen = {(f.operation, f.check, f.title) for f in report.failures}
    for checks in recorder.checks.values():
        for check in checks:
            info = check.failure_info
            if info is None:
                continue
            failure = info.failure
            key = (failure.operation or recorder.label, check.name, failure.title)
            if key not in seen:
                seen.add(key)
                report.failures.append(FuzzFailure(*key, failure.message, info.code_sample))
