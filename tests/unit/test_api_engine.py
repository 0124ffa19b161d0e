"""The engine's REST API end to end: the real app over httpx, a real ``ProactiveEngine``
over a real ``SessionStore`` in tmp_path, and a composer and a sender that implement
the engine's own small protocols (a scripted model, a recording platform).

Over 400 lines on purpose: one route table, read top to bottom, with the tests of each
route beside it.
"""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import quote

import pytest

from harness.engine_rig import RecordingSender, ScriptedComposer
from harness.panel_app import (
    SavedConfig,
    panel_client,
    panel_deps,
    seed_sessions,
    start_service,
    walk_routes,
)
from harness.waiting import async_wait_for
from proactive_chat.core.engine.engine import ProactiveEngine
from proactive_chat.web.app import AppDeps, create_app

PASSWORD = "Engine-Api-Passw0rd"
SEED_NOW = 1_700_000_000.0
ALICE = "test:FriendMessage:alice"
BOB = "test:FriendMessage:bob"
ROOM = "test:GroupMessage:room1"
SLASHED = "test:FriendMessage:team/42"
STRANGER = "test:FriendMessage:stranger"


REPLY = "Long time no see! How was the trip?"


def plugin_config() -> SavedConfig:
    return SavedConfig(
        {
            "friend_settings": {
                "session_list": [ALICE, BOB, SLASHED],
                "schedule_settings": {"quiet_hours": "0-0"},
            },
            "group_settings": {"enable": True, "session_list": [ROOM]},
            "web_admin": {"password": PASSWORD},
        }
    )


class Panel:
    """The app, its deps, the service and the stand-ins, with an authenticated client."""

    def __init__(self, app, deps, service, composer, sender, client) -> None:
        self.app, self.deps, self.service = app, deps, service
        self.composer, self.sender, self.client = composer, sender, client

    @property
    def engine(self) -> ProactiveEngine:
        return self.service.engine


def build_deps(service) -> AppDeps:
    return panel_deps(service, PASSWORD)


client_for = panel_client


@pytest.fixture
async def panel(tmp_path):
    composer, sender = ScriptedComposer(default=REPLY, provider_id="prov-1"), RecordingSender()
    service = await start_service(tmp_path, plugin_config(), composer, sender)
    deps = build_deps(service)
    app = create_app(deps)
    try:
        async with client_for(app, deps.auth.issue_token()) as client:
            yield Panel(app, deps, service, composer, sender, client)
    finally:
        await service.stop()


def path_of(umo: str, suffix: str = "") -> str:
    return f"/api/sessions/{quote(umo, safe='')}{suffix}"


async def wait_for(predicate, seconds: float = 5.0) -> None:
    await async_wait_for(predicate, timeout=seconds, interval=0.02)


# --- login ---------------------------------------------------------------------------------


def engine_routes(app) -> list[tuple[str, str]]:
    own = ("/api/status", "/api/sessions", "/api/journal", "/api/config", "/api/stats")
    own += ("/api/forecast",)
    pairs = []
    for route in walk_routes(app.routes):
        path = getattr(route, "path", "")
        if not path.startswith(own):
            continue
        for method in sorted(getattr(route, "methods", None) or ()):
            if method != "HEAD":
                pairs.append((method, path.replace("{umo:path}", quote(ALICE, safe=""))))
    return pairs


async def test_every_engine_route_needs_login(panel):
    routes = engine_routes(panel.app)
    assert len(routes) == 25  # + journal.csv, stats/daily, stats/overview, served, promise/cancel,
    # preview/draft/forecast, habits
    async with client_for(panel.app, None) as anonymous:
        for method, path in routes:
            response = await anonymous.request(method, path, json={})
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["error"] == "unauthorized"
        forged = {"Authorization": "Bearer abc.def"}
        assert (await anonymous.get("/api/status", headers=forged)).status_code == 401
    assert panel.sender.sent == []
    assert panel.engine.overrides == {}


async def test_login_cookie_reaches_the_engine_api(panel):
    async with client_for(panel.app, None) as browser:
        response = await browser.post("/api/login", json={"password": PASSWORD})
        assert response.status_code == 200
        assert (await browser.get("/api/status")).json()["running"] is True
        # A cookie-carrying write from another site is refused before the engine.
        response = await browser.post(
            path_of(ALICE, "/pause"), headers={"Origin": "http://evil.example"}
        )
        assert response.status_code == 403
    assert ALICE not in panel.engine.sessions or not panel.engine.sessions[ALICE].paused


# --- status --------------------------------------------------------------------------------


async def test_status(panel):
    panel.engine.on_user_message(ALICE, "Alice")
    body = (await panel.client.get("/api/status")).json()
    assert body["running"] is True and body["ready"] is True
    assert (body["version"], body["astrbot_version"]) == ("0.4.0", "4.29.3")
    assert body["engine_problem"] is None
    assert body["sessions_known"] == 1
    assert body["sessions_served"] == 1
    assert body["planned"] == 1
    assert body["next"][0]["umo"] == ALICE
    assert body["store"]["open"] is True
    assert body["store"]["path"].endswith("proactive_chat.db")


async def test_status_without_engine_still_answers(panel):
    panel.service.engine, engine = None, panel.service.engine
    panel.service.problem = "start-up failed: disk on fire"
    try:
        response = await panel.client.get("/api/status")
        assert response.status_code == 200
        body = response.json()
        assert body["running"] is False
        assert body["engine_problem"] == "start-up failed: disk on fire"
        response = await panel.client.get("/api/sessions")
        assert response.status_code == 503
        assert response.json() == {
            "error": "engine_unavailable",
            "message": "start-up failed: disk on fire",
        }
        assert (await panel.client.post(path_of(ALICE, "/trigger"))).status_code == 503
        # The config still reads (from the plugin config) and the journal from the store.
        assert (await panel.client.get("/api/config")).status_code == 200
        assert (await panel.client.get("/api/journal")).status_code == 200
    finally:
        panel.service.engine = engine


async def test_status_without_service():
    deps = build_deps(None)
    app = create_app(deps)
    async with client_for(app, deps.auth.issue_token()) as client:
        response = await client.get("/api/status")
        assert response.status_code == 200
        body = response.json()
        assert body["running"] is False
        assert "not loaded" in body["engine_problem"]
        assert body["store"] is None
        for path in ("/api/sessions", "/api/config", "/api/journal", path_of(ALICE)):
            response = await client.get(path)
            assert response.status_code == 503, path
            assert response.json()["error"] == "engine_unavailable"


# --- the session list ------------------------------------------------------------------


async def test_pages_cover_every_session_once(panel):
    umos = seed_sessions(panel.engine, 120, SEED_NOW)
    seen = []
    for page in (1, 2, 3):
        body = (await panel.client.get(f"/api/sessions?size=50&page={page}&sort=umo")).json()
        assert (body["total"], body["page"], body["size"]) == (120, page, 50)
        seen += [item["umo"] for item in body["items"]]
    assert seen == sorted(umos)
    body = (await panel.client.get("/api/sessions?size=50&page=4")).json()
    assert (body["items"], body["total"]) == ([], 120)


async def test_items_are_session_views(panel):
    panel.engine.on_user_message(ALICE, "Alice")
    item = (await panel.client.get("/api/sessions")).json()["items"][0]
    assert item == panel.engine.session_view(panel.engine.sessions[ALICE])
    assert item["served"] is True and item["phase"] == "planned"
    assert item["platform"] == "test"


@pytest.mark.parametrize("field", ["next_at", "last_activity_at", "unanswered", "name"])
async def test_sort_both_ways_with_missing_values_last(panel, field):
    seed_sessions(panel.engine, 60, SEED_NOW)
    for sort in (field, f"-{field}"):
        body = (await panel.client.get(f"/api/sessions?size=200&sort={sort}")).json()
        values = [item[field] for item in body["items"]]
        present = [v for v in values if v not in (None, "")]
        assert values == present + [None if field != "name" else ""] * (60 - len(present))
        expected = sorted(present, key=lambda v: v.casefold() if isinstance(v, str) else v)
        assert present == (expected[::-1] if sort.startswith("-") else expected)


async def test_search_kind_and_served_filters(panel):
    seed_sessions(panel.engine, 40, SEED_NOW)
    panel.engine.on_user_message(ALICE, "Alice Liddell")
    panel.engine.on_user_message(ROOM, "Book Club")

    async def umos(query: str) -> list[str]:
        body = (await panel.client.get(f"/api/sessions?size=200&sort=umo&{query}")).json()
        assert body["total"] == len(body["items"])
        return [item["umo"] for item in body["items"]]

    assert await umos("q=LIDDELL") == [ALICE]  # the name, any case
    assert await umos("q=groupmessage:room") == [ROOM]  # the umo, any case
    # Names "User 000001".."User 000009" (5 has none; 4 and 8 are groups).
    assert await umos("q=user%2000000") == [
        *(f"seed:FriendMessage:00000{n}" for n in (1, 2, 3, 6, 7, 9)),
        *(f"seed:GroupMessage:00000{n}" for n in (4, 8)),
    ]
    assert await umos("served=true") == [ALICE, ROOM]
    assert len(await umos("served=false")) == 40
    assert await umos("kind=group&served=true") == [ROOM]
    assert len(await umos("kind=friend")) == 31
    assert await umos("q=%20%20") == sorted([*panel.engine.sessions])  # blank: no filter
    assert await umos("q=nobody-has-this") == []


@pytest.mark.parametrize(
    "query",
    [
        "size=0",
        "size=201",
        "size=ten",
        "page=0",
        "page=-1",
        "sort=bogus",
        "sort=--name",
        "kind=channel",
        "served=maybe",
        "q=" + "x" * 201,
    ],
)
async def test_bad_list_parameters_are_400(panel, query):
    response = await panel.client.get(f"/api/sessions?{query}")
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "bad_request"
    assert response.json()["message"]


async def test_hundred_thousand_sessions_stay_fast(panel):
    engine = panel.engine
    seed_sessions(engine, 100_000, SEED_NOW)
    stalls: list[float] = []

    async def ticker() -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.002)
            now = time.perf_counter()
            stalls.append(now - last)
            last = now

    task = asyncio.create_task(ticker())
    try:
        started = time.perf_counter()
        for query in (
            "",
            "sort=-last_activity_at&size=200&page=3",
            "q=user%20099&sort=name",
            "served=false&kind=friend&sort=-next_at",
            "sort=name&page=400",
        ):
            response = await panel.client.get(f"/api/sessions?{query}")
            assert response.status_code == 200
        body = (await panel.client.get("/api/sessions?q=user%20099&sort=name")).json()
        elapsed = time.perf_counter() - started
        status = (await panel.client.get("/api/status")).json()
    finally:
        task.cancel()
    assert body["total"] == 800  # "User 099000".."User 099999" minus the nameless fifth
    assert status["sessions_known"] == 100_000
    assert elapsed < 5.0, elapsed
    assert max(stalls) < 0.25, max(stalls)  # the loop kept turning


# --- one session ---------------------------------------------------------------------------


async def test_single_session(panel):
    panel.engine.on_user_message(ALICE, "Alice")
    response = await panel.client.get(path_of(ALICE))
    assert response.status_code == 200
    assert response.json()["name"] == "Alice"
    # Unencoded colons work too.
    assert (await panel.client.get(f"/api/sessions/{ALICE}")).json()["umo"] == ALICE
    response = await panel.client.get(path_of(STRANGER))
    assert response.status_code == 404
    assert response.json()["error"] == "unknown_session"
    assert STRANGER not in panel.engine.sessions  # reading never creates a session


BAD_UMOS = [
    "no-colons-at-all",
    "test:ChannelMessage:1",
    "test:FriendMessage:",
    ":FriendMessage:1",
    "test:FriendMessage:a\x00b",
    "test:FriendMessage:tab\there",
    "test:FriendMessage:cr\rhere",
    "test:FriendMessage:" + "x" * 2000,
]


UMO_ROUTES = [
    ("GET", ""),
    ("GET", "/override"),
    ("PUT", "/override"),
    ("DELETE", "/override"),
    ("POST", "/trigger"),
    ("POST", "/reschedule"),
    ("POST", "/pause"),
    ("POST", "/resume"),
    ("POST", "/cancel"),
]


@pytest.mark.parametrize("umo", BAD_UMOS)
async def test_bad_umos_are_400(panel, umo):
    for method, suffix in UMO_ROUTES:
        response = await panel.client.request(method, path_of(umo, suffix), json={})
        assert response.status_code == 400, (method, suffix, response.text)
        assert response.json()["error"] == "bad_umo"
        assert len(response.json()["message"]) < 700
    assert panel.engine.sessions == {}


async def test_a_newline_in_a_umo_matches_no_route(panel):
    # Starlette's path pattern (``.*``) stops at "\n": no route matches, a clean 404.
    umo = "test:FriendMessage:line\nbreak"
    for method, suffix in (("GET", ""), ("PUT", "/override"), ("POST", "/trigger")):
        response = await panel.client.request(method, path_of(umo, suffix), json={})
        assert response.status_code == 404, response.text
        assert response.json()["error"] == "not_found"
    assert panel.engine.sessions == {}


async def test_bad_umo_as_a_filter_is_400(panel):
    response = await panel.client.get("/api/journal?umo=no-colons")
    assert (response.status_code, response.json()["error"]) == (400, "bad_umo")


async def test_empty_umo_is_400(panel):
    response = await panel.client.get("/api/sessions/")
    assert (response.status_code, response.json()["error"]) == (400, "bad_umo")


async def test_a_umo_with_a_slash(panel):
    panel.engine.on_user_message(SLASHED, "Team 42")
    for path in (path_of(SLASHED), f"/api/sessions/{SLASHED}"):
        response = await panel.client.get(path)
        assert (response.status_code, response.json()["umo"]) == (200, SLASHED), path
    for path in (path_of(SLASHED, "/pause"), f"/api/sessions/{SLASHED}/pause"):
        response = await panel.client.post(path)
        assert response.status_code == 200, response.text
        assert response.json()["umo"] == SLASHED
        assert response.json()["paused"] is True
    response = await panel.client.put(
        f"/api/sessions/{SLASHED}/override", json={"history_turns_is_not_a_key": 1}
    )
    assert response.status_code == 400
    response = await panel.client.put(
        f"/api/sessions/{SLASHED}/override",
        json={"context_settings": {"conversation_history_limit": 3}},
    )
    assert response.status_code == 200
    assert response.json()["umo"] == SLASHED
    assert panel.engine.overrides[SLASHED] == {
        "context_settings": {"conversation_history_limit": 3}
    }
    assert set(panel.engine.sessions) == {SLASHED}


# --- actions -------------------------------------------------------------------------------


async def test_trigger_sends_and_the_journal_shows_it(panel):
    panel.engine.on_user_message(ALICE, "Alice")
    response = await panel.client.post(path_of(ALICE, "/trigger"))
    assert response.status_code == 202
    assert response.json() == {"accepted": True, "umo": ALICE}
    await wait_for(lambda: panel.sender.sent)
    assert panel.sender.sent == [(ALICE, REPLY)]
    await wait_for(lambda: panel.composer.remembered)

    body = (await panel.client.get(f"/api/journal?umo={quote(ALICE)}&kind=sent")).json()
    assert body["total"] == 1
    (entry,) = body["items"]
    assert entry["umo"] == ALICE and entry["kind"] == "sent"
    assert entry["detail"]["text"] == REPLY
    assert entry["detail"]["provider"] == "prov-1"
    kinds = [e["kind"] for e in (await panel.client.get("/api/journal")).json()["items"]]
    assert kinds == ["planned", "sent", "fired", "manual", "planned"]  # newest first
    view = (await panel.client.get(path_of(ALICE))).json()
    assert view["sent_total"] == 1 and view["unanswered"] == 1
    assert view["phase"] == "planned"  # the next one is planned after a proactive message


async def test_trigger_while_writing_is_409(panel):
    panel.composer.gate = asyncio.Event()
    panel.engine.on_user_message(ALICE, "Alice")
    assert (await panel.client.post(path_of(ALICE, "/trigger"))).status_code == 202
    await wait_for(lambda: panel.composer.calls)
    response = await panel.client.post(path_of(ALICE, "/trigger"))
    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    assert (await panel.client.get(path_of(ALICE))).json()["writing"] is True
    panel.composer.gate.set()
    await wait_for(lambda: panel.sender.sent)
    assert len(panel.sender.sent) == 1


async def test_trigger_when_the_engine_stopped_is_503(panel):
    await panel.engine.stop()
    response = await panel.client.post(path_of(ALICE, "/trigger"))
    assert response.status_code == 503
    assert response.json()["message"] == "the engine is not running"


async def test_pause_resume_cancel_reschedule(panel):
    panel.engine.on_user_message(BOB, "Bob")
    first = (await panel.client.get(path_of(BOB))).json()
    assert (first["phase"], first["paused"]) == ("planned", False)

    view = (await panel.client.post(path_of(BOB, "/pause"))).json()
    assert (view["paused"], view["phase"], view["next_at"]) == (True, "idle", None)
    assert BOB not in panel.engine.scheduler

    view = (await panel.client.post(path_of(BOB, "/resume"))).json()
    assert (view["paused"], view["phase"]) == (False, "planned")
    assert view["next_at"] > time.time()
    assert view["next_reason"] == "resumed"

    view = (await panel.client.post(path_of(BOB, "/cancel"))).json()
    assert (view["phase"], view["next_at"], view["paused"]) == ("idle", None, False)

    view = (await panel.client.post(path_of(BOB, "/reschedule"))).json()
    assert (view["phase"], view["next_reason"]) == ("planned", "manual")
    assert panel.engine.scheduler.when(BOB) == view["next_at"]

    body = (await panel.client.get(f"/api/journal?umo={BOB}&kind=manual")).json()
    reasons = [e["reason"] for e in body["items"]]
    assert reasons == ["re-plan", "plan cancelled", "resumed", "paused"]


async def test_actions_refuse_other_methods(panel):
    assert (await panel.client.get(path_of(ALICE, "/pause"))).status_code in (400, 404, 405)
    assert (await panel.client.delete(path_of(ALICE, "/trigger"))).status_code == 405


# --- overrides -----------------------------------------------------------------------------


async def test_override_get_without_override(panel):
    body = (await panel.client.get(path_of(ALICE, "/override"))).json()
    assert (body["umo"], body["kind"], body["override"]) == (ALICE, "friend", {})
    assert "session_list" not in body["global"]
    assert body["effective"] == body["global"]
    assert body["global"]["schedule_settings"]["quiet_hours"] == "0-0"
    group = (await panel.client.get(path_of(ROOM, "/override"))).json()
    assert group["kind"] == "group" and "group_idle_trigger_minutes" in group["global"]
    assert panel.engine.sessions == {}  # reading never creates a session


async def test_override_put_applies_and_persists(panel):
    panel.engine.on_user_message(ALICE, "Alice")
    change = {"schedule_settings": {"min_interval_minutes": 5, "max_interval_minutes": 6}}
    response = await panel.client.put(path_of(ALICE, "/override"), json=change)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["override"] == change
    assert body["effective"]["schedule_settings"]["min_interval_minutes"] == 5
    assert body["effective"]["schedule_settings"]["quiet_hours"] == "0-0"  # kept from global
    assert body["global"]["schedule_settings"]["min_interval_minutes"] == 30
    settings = panel.engine.settings_for(ALICE)
    assert settings.schedule.min_interval_minutes == 5
    assert (await panel.client.get(path_of(ALICE))).json()["has_override"] is True
    assert await panel.service.store.load_overrides() == {ALICE: change}

    response = await panel.client.put(path_of(ALICE, "/override"), json={"enable": False})
    assert response.json()["override"] == {"enable": False}  # PUT replaces
    view = (await panel.client.get(path_of(ALICE))).json()
    assert (view["served"], view["phase"]) == (False, "idle")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"nope": 1}, "nope: unknown setting"),
        ({"session_list": [ALICE]}, "session_list: unknown setting"),
        ({"schedule_settings": {"min_interval_minutes": "five"}}, "not a whole number"),
        ({"schedule_settings": {"min_interval_minutes": 0}}, "outside"),
        ({"schedule_settings": {"quiet_hours": "25:00-99:00"}}, "quiet hours"),
        ({"schedule_settings": {"quiet_hours": 7}}, "quiet_hours"),
        ({"schedule_settings": []}, "not an object"),
        ({"enable": "yes"}, "not true or false"),
        ({"proactive_prompt": "x" * 30_000}, "longer than"),
        (
            {"schedule_settings": {"min_interval_minutes": 90, "max_interval_minutes": 10}},
            "above",
        ),
    ],
)
async def test_override_put_rejects(panel, body, fragment):
    response = await panel.client.put(path_of(ALICE, "/override"), json=body)
    assert response.status_code == 400, response.text
    out = response.json()
    assert out["error"] == "invalid_settings"
    assert any(fragment in error for error in out["errors"]), out
    assert panel.engine.overrides == {}


@pytest.mark.parametrize(
    "content", [b"[]", b'"text"', b"null", b"42", b"{not json", b"", b"[" * 5000]
)
async def test_override_put_needs_a_json_object(panel, content):
    response = await panel.client.put(
        path_of(ALICE, "/override"), content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] in ("bad_request", "http_error")
    assert panel.engine.overrides == {}


async def test_override_delete(panel):
    panel.engine.on_user_message(ALICE, "Alice")
    await panel.client.put(path_of(ALICE, "/override"), json={"enable": False})
    response = await panel.client.delete(path_of(ALICE, "/override"))
    assert response.status_code == 200
    assert response.json()["override"] == {}
    assert ALICE not in panel.engine.overrides
    assert await panel.service.store.load_overrides() == {}
    assert (await panel.client.get(path_of(ALICE))).json()["served"] is True
    # Deleting what does not exist is harmless and creates nothing.
    response = await panel.client.delete(path_of(STRANGER, "/override"))
    assert (response.status_code, response.json()["override"]) == (200, {})
    assert STRANGER not in panel.engine.sessions


# --- the journal ---------------------------------------------------------------------------


async def test_journal_filters_and_keyset_paging(panel):
    for _ in range(3):
        panel.engine.pause(ALICE)
        panel.engine.resume(ALICE)
    panel.engine.pause(BOB)
    body = (await panel.client.get(f"/api/journal?umo={ALICE}&kind=manual&limit=4")).json()
    assert body["total"] == 6
    first = body["items"]
    assert [e["reason"] for e in first] == ["resumed", "paused", "resumed", "paused"]
    assert all(e["umo"] == ALICE for e in first)
    assert body["next_before_id"] == first[-1]["id"]
    ids = [e["id"] for e in first]
    assert ids == sorted(ids, reverse=True)

    query = f"/api/journal?umo={ALICE}&kind=manual&limit=4&before_id={body['next_before_id']}"
    body = (await panel.client.get(query)).json()
    assert [e["reason"] for e in body["items"]] == ["resumed", "paused"]
    assert body["next_before_id"] is None and body["total"] is None
    assert max(e["id"] for e in body["items"]) < min(ids)

    body = (await panel.client.get("/api/journal?kind=manual,planned&limit=1000")).json()
    assert {e["kind"] for e in body["items"]} == {"manual", "planned"}
    assert {e["umo"] for e in body["items"]} == {ALICE, BOB}


async def test_journal_time_window(panel):
    panel.engine.pause(ALICE)
    entry = (await panel.client.get("/api/journal")).json()["items"][0]
    at = entry["at"]
    assert (await panel.client.get(f"/api/journal?since={at}")).json()["total"] == 1
    assert (await panel.client.get(f"/api/journal?until={at}")).json()["total"] == 0
    assert (await panel.client.get(f"/api/journal?since={at + 1}")).json()["items"] == []


@pytest.mark.parametrize(
    "query",
    [
        "kind=bogus",
        "kind=manual,bogus",
        "limit=0",
        "limit=1001",
        "since=abc",
        "since=nan",
        "until=inf",
        "since=-1",
        "before_id=0",
        f"before_id={2**70}",
        "umo=" + "x" * 600,
    ],
)
async def test_bad_journal_parameters_are_400(panel, query):
    response = await panel.client.get(f"/api/journal?{query}")
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "bad_request"


# --- config --------------------------------------------------------------------------------


async def test_config_get_never_shows_the_password(panel):
    response = await panel.client.get("/api/config")
    assert response.status_code == 200
    assert PASSWORD not in response.text
    body = response.json()
    assert set(body) == {"friend_settings", "group_settings", "engine_settings", "web_admin"}
    web = body["web_admin"]
    assert "password" not in web
    assert (web["password_set"], web["read_only"], web["port"]) == (True, True, 4100)
    assert "dashboard" in web["note"]
    assert body["friend_settings"]["session_list"] == [ALICE, BOB, SLASHED]


async def test_config_put_applies_live(panel):
    engine = panel.engine
    engine.on_user_message(ALICE, "Alice")
    change = {
        "engine_settings": {"missed_window_minutes": 15},
        "friend_settings": {"schedule_settings": {"max_unanswered_times": 7}},
    }
    response = await panel.client.put("/api/config", json=change)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["engine_settings"]["missed_window_minutes"] == 15
    assert body["friend_settings"]["schedule_settings"]["max_unanswered_times"] == 7
    assert body["friend_settings"]["session_list"] == [ALICE, BOB, SLASHED]  # merged, not replaced
    assert engine.settings.engine.missed_window_minutes == 15
    assert engine.settings.friend.schedule.max_unanswered_times == 7
    assert panel.service.config.saves == 1
    assert (await panel.client.get(path_of(ALICE))).json()["max_unanswered"] == 7

    response = await panel.client.put("/api/config", json={"friend_settings": {"enable": False}})
    assert response.status_code == 200
    view = (await panel.client.get(path_of(ALICE))).json()
    assert (view["served"], view["phase"]) == (False, "idle")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"web_admin": {"port": 1}}, "web_admin"),
        ({"web_admin": {"password": "x"}}, "web_admin"),
        ({"other_group": {}}, "unknown config group"),
        ({"engine_settings": {"llm_timeout_seconds": 1}}, "outside"),
        ({"engine_settings": {"nope": 1}}, "unknown setting"),
        ({"friend_settings": {"session_list": ["bad id with : one colon"]}}, "session_list"),
        ({"group_settings": {"session_list": [ALICE]}}, "not a group chat"),
        ({"friend_settings": {"proactive_prompt": "x" * 30_000}}, "longer than"),
    ],
)
async def test_config_put_rejects(panel, body, fragment):
    before = panel.engine.settings
    response = await panel.client.put("/api/config", json=body)
    assert response.status_code == 400, response.text
    out = response.json()
    assert out["error"] == "invalid_config"
    assert any(fragment in error for error in out["errors"]), out
    assert panel.engine.settings is before
    assert panel.service.config.saves == 0
    assert PASSWORD not in response.text


@pytest.mark.parametrize(
    "content",
    [b"[]", b'"x"', b"null", b'{"friend_settings": []}', b'{"engine_settings": null}', b"{"],
)
async def test_config_put_wrong_types(panel, content):
    response = await panel.client.put(
        "/api/config", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert panel.service.config.saves == 0


async def test_config_schema(panel):
    response = await panel.client.get("/api/config/schema")
    assert response.status_code == 200
    schema = response.json()
    password = schema["web_admin"]["items"]["password"]
    assert "default" not in password
    assert password["type"] == "string"
    assert panel.app.state.conf_schema is not None  # read once, then served from memory
    again = (await panel.client.get("/api/config/schema")).json()
    assert again == schema


# --- the OpenAPI description ---------------------------------------------------------------


async def test_openapi_describes_the_engine_api(panel):
    spec = (await panel.client.get("/api/openapi.json")).json()
    paths = spec["paths"]
    for path in (
        "/api/status",
        "/api/sessions",
        "/api/sessions/{umo}",
        "/api/sessions/{umo}/override",
        "/api/sessions/{umo}/trigger",
        "/api/sessions/{umo}/cancel",
        "/api/journal",
        "/api/config",
        "/api/config/schema",
    ):
        assert path in paths, path
        for operation in paths[path].values():
            assert "401" in operation["responses"]
            assert "422" not in operation["responses"]  # our handler answers 400
    sort = next(p for p in paths["/api/sessions"]["get"]["parameters"] if p["name"] == "sort")
    assert "-next_at" in sort["schema"]["enum"]
    assert "202" in paths["/api/sessions/{umo}/trigger"]["post"]["responses"]
    assert json.dumps(spec)  # plain JSON


# --- hostile text and shapes ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "content"),
    [
        ("override", b'{"proactive_prompt": "half an emoji \\ud83d"}'),
        ("override", b'{"\\udc00": 1}'),
        ("config", b'{"friend_settings": {"proactive_prompt": "\\ud83d"}}'),
        ("config", b'{"engine_settings": {"\\ud800": 1}}'),
    ],
)
async def test_lone_surrogates_in_a_body_are_400(panel, path, content):
    url = path_of(ALICE, "/override") if path == "override" else "/api/config"
    response = await panel.client.put(
        url, content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert "surrogate" in response.json()["message"]
    assert panel.engine.overrides == {}
    assert panel.service.config.saves == 0


async def test_a_name_with_half_an_emoji_is_still_served(panel):
    panel.engine.on_user_message(ALICE, "Alice \ud83d")
    for path in ("/api/sessions", path_of(ALICE), path_of(ALICE, "/cancel")):
        method = "POST" if path.endswith("/cancel") else "GET"
        response = await panel.client.request(method, path)
        assert response.status_code == 200, path
        assert "Alice \\ud83d" in response.text  # escaped: still valid JSON
    body = (await panel.client.get("/api/sessions")).json()
    assert body["items"][0]["name"] == "Alice \ud83d"


@pytest.mark.parametrize("where", ["override", "config"])
async def test_deeply_nested_bodies_are_400(panel, where):
    nested: dict = {}
    for _ in range(900):
        nested = {"a": nested}
    body = nested if where == "override" else {"friend_settings": nested}
    url = path_of(ALICE, "/override") if where == "override" else "/api/config"
    response = await panel.client.put(
        url, content=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text


# --- the bot's promise ---------------------------------------------------------------------


async def test_a_promise_shows_in_the_view_and_is_cancelled_over_the_api(panel):
    panel.engine.on_user_message(ALICE, "Alice")
    panel.engine.on_bot_message(ALICE, "I'll check on you in an hour.")
    view = (await panel.client.get(path_of(ALICE))).json()
    assert "check on you in an hour" in view["promise"]["sentence"]
    assert view["promise"]["at"] == view["next_at"]
    response = await panel.client.post(path_of(ALICE, "/promise/cancel"))
    assert response.status_code == 200, response.text
    assert response.json()["promise"] is None
    assert response.json()["next_reason"] == "promise_cancelled"
    again = await panel.client.post(path_of(ALICE, "/promise/cancel"))
    assert again.status_code == 409 and again.json()["error"] == "conflict"
    async with client_for(panel.app, None) as stranger:
        refused = await stranger.post(path_of(ALICE, "/promise/cancel"))
    assert refused.status_code == 401
