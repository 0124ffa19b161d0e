"""The overview page and ``/api/stats/*``: the real app over httpx, a real engine and
store (the engine rig, with a fake clock), and AstrBot's context reduced to the one
call the page makes (``get_using_provider_async``)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import httpx
import pytest

from harness.engine_rig import Rig
from harness.panel_app import panel_client, panel_deps
from proactive_chat.core.service import ProactiveService
from proactive_chat.core.store.session_store import StoreUnavailable
from proactive_chat.web.app import AppDeps, create_app
from proactive_chat.web.i18n import js_strings, translator
from proactive_chat.web.pages import overview as page_overview

PASSWORD = "Overview-Passw0rd"
ALICE = "test:FriendMessage:alice"
BOB = "test:FriendMessage:bob"
ROOM = "test:GroupMessage:room1"
EVIL = "<img src=x onerror=alert(1)>"
START = datetime(2026, 11, 28, 9, 0, tzinfo=UTC).timestamp()
HOUR = 3600.0


def raw_config() -> dict:
    schedule = {
        "min_interval_minutes": 30,
        "max_interval_minutes": 60,
        "quiet_hours": "",
        "max_unanswered_times": 2,
    }
    return {
        "friend_settings": {
            "enable": True,
            "session_list": [ALICE, BOB],
            "schedule_settings": schedule,
        },
        "group_settings": {
            "enable": True,
            "session_list": [ROOM],
            "schedule_settings": schedule,
        },
        "web_admin": {"password": PASSWORD},
    }


class FakeProvider:
    def __init__(self, provider_id: str, model: str) -> None:
        self.provider_config = {"id": provider_id}
        self.model = model

    def meta(self):
        return SimpleNamespace(id=self.provider_config["id"], model=self.model)

    def get_model(self) -> str:
        return self.model


class FakeContext:
    """AstrBot's ``Context`` as far as the overview uses it."""

    def __init__(self, provider: object = None) -> None:
        self.provider = provider
        self.calls: list[object] = []

    async def get_using_provider_async(self, umo=None):
        self.calls.append(umo)
        if self.provider == "hang":
            await asyncio.Event().wait()
        if isinstance(self.provider, Exception):
            raise self.provider
        return self.provider


def build_deps(service) -> AppDeps:
    return panel_deps(service, PASSWORD)


client_for = panel_client


class Panel:
    def __init__(self, rig: Rig, service: ProactiveService, deps: AppDeps, client) -> None:
        self.rig, self.service, self.deps, self.client = rig, service, deps, client
        self.app = None

    @property
    def engine(self):
        return self.rig.engine

    async def page(self, lang: str = "en") -> tuple[httpx.Response, Page]:
        self.client.cookies.set("pc_lang", lang)
        response = await self.client.get("/overview")
        return response, Page(response.text)


async def open_panel(tmp_path, clock, *, tz=UTC, context=None):
    rig = Rig(tmp_path, clock, raw_config(), tz=tz)
    await rig.start()
    service = rig.service(
        context=context or FakeContext(FakeProvider("openai-main", "gpt-4o-mini"))
    )
    deps = build_deps(service)
    app = create_app(deps)
    client = client_for(app, deps.auth.issue_token())
    panel = Panel(rig, service, deps, client)
    panel.app = app
    return panel


@pytest.fixture
async def panel(tmp_path, clock):
    clock.now = START
    p = await open_panel(tmp_path, clock)
    try:
        yield p
    finally:
        await p.client.aclose()
        await p.rig.stop()


async def no_engine_client(service) -> tuple[httpx.AsyncClient, AppDeps]:
    deps = build_deps(service)
    return client_for(create_app(deps), deps.auth.issue_token()), deps


VOID_TAGS = frozenset({"meta", "link", "input", "br", "img", "hr", "line"})


class Page(HTMLParser):
    """Elements by id (attributes and text), the chart's bars, the timeline's items."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.by_id: dict[str, dict] = {}
        self.bars: list[dict] = []
        self.timeline: list[dict] = []
        self.rows: list[str] = []
        self.scripts: list[dict] = []
        self.styled: list[str] = []
        self.state_json = ""
        self._open: list[tuple[str, dict]] = []  # (tag, record collecting text)
        self._in_state = False
        self._in_timeline = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        record = {"tag": tag, "attrs": a, "text": ""}
        if "id" in a:
            self.by_id[a["id"]] = record
        if "style" in a or tag == "style":
            self.styled.append(tag)
        if tag == "script":
            self.scripts.append(a)
            self._in_state = a.get("id") == "overview-state"
        if tag == "rect" and "data-series" in a:
            self.bars.append(a)
        if a.get("id") == "timeline":
            self._in_timeline = True
        if tag == "li" and self._in_timeline and "data-umo" in a:
            self.timeline.append(record)
        if tag == "tr" and "data-day" in a:
            self.rows.append(a["data-day"])
        if tag not in VOID_TAGS:
            self._open.append((tag, record))

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_state = False
        if tag == "ol":
            self._in_timeline = False
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                break

    def handle_data(self, data):
        if self._in_state:
            self.state_json += data
        for _, record in self._open:
            record["text"] += data

    def text(self, element_id: str) -> str:
        return " ".join(self.by_id[element_id]["text"].split())

    def hidden(self, element_id: str) -> bool:
        return "hidden" in self.by_id[element_id]["attrs"]


async def send_and_answer(panel: Panel) -> None:
    """ALICE and BOB: 2 sent each, then both capped (max 2); ALICE answers. ROOM is
    only planned. Today: 4 sent, 1 answered, 2 caps reached, BOB capped now."""
    engine = panel.engine
    engine.on_user_message(ALICE, "Alice")
    engine.on_user_message(BOB, EVIL)
    await panel.rig.advance(HOUR + 1)  # both sent (#1)
    await panel.rig.advance(HOUR + 1)  # both sent (#2), both capped
    engine.on_user_message(ALICE, "Alice")  # answered
    engine.on_user_message(ROOM, "Room")


async def journal_count(panel: Panel, kind: str, since: float) -> int:
    return await panel.rig.store.count_journal(kinds=[kind], since=since)


# --- the page ------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_page_renders_with_a_running_engine(panel, lang):
    await send_and_answer(panel)
    response, page = await panel.page(lang)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    ids = {
        "stat-served",
        "stat-sent-today",
        "stat-answered-today",
        "stat-capped",
        "stat-provider",
        "stat-versions",
        "timeline",
        "chart",
        "events-state",
        "overview-state",
    }
    assert ids <= page.by_id.keys()
    t = translator(lang)
    assert page.hidden("engine-banner")
    assert page.hidden("provider-banner")
    assert page.text("stat-served") == "3"
    assert page.text("stat-known") == t("overview.card.served_of", known=3)
    assert page.text("stat-versions") == t("overview.versions", version="0.4.0", astrbot="4.29.3")
    assert page.text("stat-provider") == "openai-main · gpt-4o-mini"
    assert page.by_id["stat-provider"]["attrs"]["data-state"] == "ok"
    # The i18n block carries this page's script keys; the CSP allows no inline code.
    assert json.loads(page.by_id["i18n"]["text"]) == js_strings(lang)
    assert "overview.chart.tip_day" in js_strings(lang)
    for script in page.scripts:
        assert script.get("src") or script.get("type") == "application/json", script
    assert not page.styled


async def test_nothing_served_says_how_to_start_and_cards_say_what_the_footer_does_not(panel):
    _, page = await panel.page()
    assert not page.hidden("start-banner"), "nothing served: the overview says how to start"
    html = (await panel.client.get("/overview")).text
    assert 'href="/sessions"' in html and "/proactive on" in page.text("start-banner")
    assert page.text("stat-next") == translator("en")("overview.card.next_none")

    await send_and_answer(panel)
    _, page = await panel.page()
    assert page.hidden("start-banner")
    # "Waiting for a reply": sessions with a proactive message not answered yet (BOB,
    # capped), not only those at their cap.
    waiting = sum(1 for s in panel.engine.sessions.values() if s.unanswered > 0)
    assert waiting == 1 and (await panel.engine.status())["waiting_for_reply"] == waiting
    assert page.text("stat-waiting") == str(waiting)
    # "Next message": the earliest plan, with its session.
    first = (await panel.engine.status())["next"][0]
    assert (
        page.by_id["stat-next"]["text"]
        .strip()
        .startswith(datetime.fromtimestamp(first["at"], UTC).strftime("%Y-%m-%d %H:%M"))
    )
    # The versions are in the footer, not in a card of their own.
    assert "stat-versions" in page.by_id and 'class="stat-label">Versions' not in html


async def test_numbers_match_the_journal(panel):
    await send_and_answer(panel)
    _, page = await panel.page()
    today = START - START % 86400  # UTC midnight (the rig's zone)
    sent = await journal_count(panel, "sent", today)
    answered = await journal_count(panel, "answered", today)
    capped = await journal_count(panel, "capped", today)
    assert (sent, answered, capped) == (4, 1, 2)
    assert page.text("stat-sent-today") == str(sent)
    assert page.text("stat-answered-today") == str(answered)
    assert page.text("stat-capped") == str(capped)
    status = await panel.engine.status()
    assert page.text("stat-capped-now") == translator("en")("overview.card.capped_now", n=1)
    assert status["capped"] == 1
    # The chart's bars for today say the same.
    bars = {(b["data-day"], b["data-series"]): int(b["data-value"]) for b in page.bars}
    assert bars[("2026-11-28", "sent")] == 4
    assert bars[("2026-11-28", "answered")] == 1


async def test_the_chart_shows_thirty_days_ending_today(panel):
    await send_and_answer(panel)
    panel.rig.clock.advance(3 * 86400)  # three days later
    panel.engine.on_user_message(BOB, "Bob")  # answered on that day
    _, page = await panel.page()
    svg = page.by_id["chart"]
    assert svg["tag"] == "svg"
    assert svg["attrs"]["role"] == "img"
    assert svg["attrs"]["aria-labelledby"] == "chart-title chart-desc"
    assert page.text("chart-title")
    assert "4" in page.text("chart-desc")  # the totals are in the summary
    expected = [
        (datetime(2026, 12, 1) - timedelta(days=29 - n)).date().isoformat() for n in range(30)
    ]
    for series in ("sent", "answered"):
        days = [b["data-day"] for b in page.bars if b["data-series"] == series]
        assert days == expected
    values = {(b["data-day"], b["data-series"]): int(b["data-value"]) for b in page.bars}
    assert values[("2026-11-28", "sent")] == 4
    assert values[("2026-12-01", "answered")] == 1
    assert values[("2026-12-01", "sent")] == 0
    assert sum(values.values()) == 6
    # The plain table holds the same days, newest first.
    assert page.rows == expected[::-1]
    # Every bar has its own tooltip.
    assert "<title>2026-11-28: 4 sent</title>" in (await panel.client.get("/overview")).text


async def test_days_are_astrbot_days(tmp_path, clock):
    # 2026-11-28 17:00 UTC is already 2026-11-29 01:00 in Shanghai.
    clock.now = datetime(2026, 11, 28, 17, 0, tzinfo=UTC).timestamp()
    panel = await open_panel(tmp_path, clock, tz=ZoneInfo("Asia/Shanghai"))
    try:
        panel.engine.on_user_message(ALICE, "Alice")
        await panel.rig.advance(HOUR + 1)
        _, page = await panel.page()
        assert page.text("stat-sent-today") == "1"
        days = [b["data-day"] for b in page.bars if b["data-series"] == "sent"]
        assert days[-1] == "2026-11-29"
        body = (await panel.client.get("/api/stats/daily", params={"days": 2})).json()
        assert body["zone"].startswith("Asia/Shanghai")
        assert body["days"] == [
            {"date": "2026-11-28", "sent": 0, "answered": 0, "capped": 0},
            {"date": "2026-11-29", "sent": 1, "answered": 0, "capped": 0},
        ]
    finally:
        await panel.client.aclose()
        await panel.rig.stop()


async def test_the_timeline_lists_the_next_plans_with_names(panel):
    engine = panel.engine
    engine.on_user_message(ALICE, "Alice")
    engine.on_user_message(ROOM, "Room")
    engine.on_user_message(BOB)  # no name: the UMO is shown
    _, page = await panel.page()
    items = page.timeline
    assert {item["attrs"]["data-umo"] for item in items} == {ALICE, ROOM, BOB}
    ordered = [plan["umo"] for plan in (await engine.status())["next"]]
    assert [item["attrs"]["data-umo"] for item in items] == ordered
    texts = {item["attrs"]["data-umo"]: " ".join(item["text"].split()) for item in items}
    assert "Alice" in texts[ALICE] and "Private" in texts[ALICE]
    assert "Room" in texts[ROOM] and "Group" in texts[ROOM]
    assert BOB in texts[BOB]
    html = (await panel.client.get("/overview")).text
    assert 'href="/session?umo=test%3AFriendMessage%3Aalice"' in html
    assert page.hidden("timeline-empty")


async def test_an_empty_timeline_says_so(panel):
    _, page = await panel.page()
    assert page.timeline == []
    assert not page.hidden("timeline-empty")
    assert page.text("timeline-empty") == translator("en")("overview.timeline.empty")


async def test_names_are_escaped_everywhere(panel):
    await send_and_answer(panel)  # BOB is named EVIL
    panel.rig.clock.advance(60)
    panel.engine.on_user_message(BOB, EVIL)  # BOB answered: planned again, on the timeline
    response, page = await panel.page()
    assert EVIL not in response.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in response.text
    state = json.loads(page.state_json)
    assert EVIL in [item["name"] for item in state["overview"]["timeline"]]
    assert not [tag for tag in page.by_id.values() if tag["tag"] == "img"]


async def test_a_lone_surrogate_in_a_name_does_not_break_the_page(panel):
    # Half an emoji from an IM platform, on the timeline: the page used to fail to
    # encode as UTF-8 (a 500) while the API escaped it.
    panel.engine.on_user_message(BOB, "half \ud83d emoji")
    response, page = await panel.page()
    assert response.status_code == 200
    (item,) = page.timeline
    assert "half ? emoji" in " ".join(item["text"].split())
    state = json.loads(page.state_json)
    assert "half \ud83d emoji" in [item["name"] for item in state["overview"]["timeline"]]


async def test_provider_absent_shows_a_warning(tmp_path, clock):
    clock.now = START
    context = FakeContext(None)
    panel = await open_panel(tmp_path, clock, context=context)
    try:
        _, page = await panel.page()
        assert not page.hidden("provider-banner")
        assert page.text("stat-provider") == translator("en")("overview.provider.none")
        assert page.by_id["stat-provider"]["attrs"]["data-state"] == "none"
        assert context.calls == [None]  # AstrBot's default, not a session's
        body = (await panel.client.get("/api/stats/overview")).json()
        assert body["provider"] == {"state": "none", "id": None, "model": None, "detail": None}
    finally:
        await panel.client.aclose()
        await panel.rig.stop()


@pytest.mark.parametrize(
    ("provider", "expected"),
    [
        (ValueError("wrong provider type"), {"state": "unknown", "detail": "wrong provider type"}),
        (
            SimpleNamespace(
                meta=lambda: 1 / 0, provider_config={"id": "from-config"}, get_model=lambda: "m"
            ),
            {"state": "ok", "id": "from-config", "model": "m"},
        ),
        (SimpleNamespace(), {"state": "ok"}),
    ],
)
async def test_a_broken_provider_never_breaks_the_page(tmp_path, clock, provider, expected):
    clock.now = START
    panel = await open_panel(tmp_path, clock, context=FakeContext(provider))
    try:
        response, page = await panel.page()
        assert response.status_code == 200
        body = (await panel.client.get("/api/stats/overview")).json()
        assert {k: v for k, v in body["provider"].items() if v is not None} == expected
        assert page.by_id["stat-provider"]["attrs"]["data-state"] == expected["state"]
    finally:
        await panel.client.aclose()
        await panel.rig.stop()


async def test_a_provider_lookup_that_hangs_does_not_hold_the_page(tmp_path, clock, monkeypatch):
    from proactive_chat.web.api import stats as api_stats

    monkeypatch.setattr(api_stats, "PROVIDER_LOOKUP_SECONDS", 0.05)
    clock.now = START
    panel = await open_panel(tmp_path, clock, context=FakeContext("hang"))
    try:
        response, page = await panel.page()
        assert response.status_code == 200
        assert page.by_id["stat-provider"]["attrs"]["data-state"] == "unknown"
    finally:
        await panel.client.aclose()
        await panel.rig.stop()


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_page_without_a_service_shows_the_banner(lang):
    client, _ = await no_engine_client(None)
    async with client:
        client.cookies.set("pc_lang", lang)
        response = await client.get("/overview")
    assert response.status_code == 200
    page = Page(response.text)
    assert not page.hidden("engine-banner")
    assert translator(lang)("reason.engine_not_loaded") in page.text("engine-problem")
    assert page.text("stat-served") == "—"
    assert page.text("stat-sent-today") == "—"
    assert page.text("stat-provider") == translator(lang)("overview.provider.unknown")
    assert page.bars == []
    assert page.hidden("chart")
    assert not page.hidden("chart-problem")
    assert page.timeline == []
    assert "events-state" in page.by_id


async def test_page_with_an_engine_that_failed_to_start(tmp_path):
    service = ProactiveService(
        context=FakeContext(FakeProvider("p", "m")), config=raw_config(), data_dir=tmp_path
    )
    service.problem = "cannot create the store /x (read-only); make /x writable"
    client, _ = await no_engine_client(service)
    async with client:
        response = await client.get("/overview")
        assert response.status_code == 200
        page = Page(response.text)
        assert "make /x writable" in page.text("engine-problem")
        assert page.text("stat-provider") == "p · m"  # AstrBot's side still answers
        for path in ("/api/stats/daily", "/api/stats/overview"):
            answer = await client.get(path)
            assert answer.status_code == 503
            assert answer.json()["error"] == "engine_unavailable"
            assert "make /x writable" in answer.json()["message"]


async def test_store_problems_are_shown_not_raised(panel, monkeypatch):
    await send_and_answer(panel)
    panel.rig.store._last_error = "database or disk is full"

    async def broken(**kwargs):
        raise StoreUnavailable("the store /x failed: disk I/O error; check the disk")

    monkeypatch.setattr(panel.rig.store, "daily_totals", broken)
    response, page = await panel.page()
    assert response.status_code == 200
    assert not page.hidden("store-banner")
    assert "database or disk is full" in page.text("store-problem")
    assert "disk I/O error" in page.text("chart-problem")
    assert page.text("stat-sent-today") == "—"
    assert page.text("stat-served") == "3"  # the rest of the page still works
    answer = await panel.client.get("/api/stats/daily")
    assert answer.status_code == 503
    assert answer.json()["error"] == "store_unavailable"
    body = (await panel.client.get("/api/stats/overview")).json()
    assert body["today"] is None
    assert "disk I/O error" in body["stats_error"]
    assert body["store_error"] == "database or disk is full"


# --- the API -------------------------------------------------------------------------


async def test_daily_shape_zero_filled_and_bounded(panel):
    await send_and_answer(panel)
    answer = await panel.client.get("/api/stats/daily")
    assert answer.status_code == 200
    body = answer.json()
    assert body["zone"] == "UTC+00:00"
    assert len(body["days"]) == 30
    assert body["days"][-1] == {"date": "2026-11-28", "sent": 4, "answered": 1, "capped": 2}
    assert all(
        d == {"date": d["date"], "sent": 0, "answered": 0, "capped": 0} for d in body["days"][:-1]
    )
    assert [d["date"] for d in body["days"]] == sorted(d["date"] for d in body["days"])
    one = (await panel.client.get("/api/stats/daily", params={"days": 1})).json()
    assert one["days"] == body["days"][-1:]
    most = (await panel.client.get("/api/stats/daily", params={"days": 400})).json()
    assert len(most["days"]) == 400
    for bad in ("0", "401", "x", "-1"):
        answer = await panel.client.get("/api/stats/daily", params={"days": bad})
        assert answer.status_code == 400, bad
        assert answer.json()["error"] == "bad_request"


async def test_daily_counts_outlive_the_pruned_journal(panel):
    await send_and_answer(panel)
    await panel.rig.store.flush()
    await panel.rig.store.prune_journal(keep_days=0, max_entries=1)
    assert await panel.rig.store.count_journal() == 1
    body = (await panel.client.get("/api/stats/daily", params={"days": 1})).json()
    assert body["days"] == [{"date": "2026-11-28", "sent": 4, "answered": 1, "capped": 2}]


async def test_overview_shape(panel):
    await send_and_answer(panel)
    answer = await panel.client.get("/api/stats/overview")
    assert answer.status_code == 200
    body = answer.json()
    assert body["running"] is True
    assert body["sessions_served"] == 3
    assert body["sessions_known"] == 3
    assert body["capped"] == 1
    assert body["version"] == "0.4.0" and body["astrbot_version"] == "4.29.3"
    assert body["today"] == {"date": "2026-11-28", "sent": 4, "answered": 1, "capped": 2}
    assert body["provider"]["state"] == "ok"
    assert {item["umo"] for item in body["timeline"]} == {ALICE, ROOM}
    room = next(item for item in body["timeline"] if item["umo"] == ROOM)
    assert room["name"] == "Room" and room["kind"] == "group"
    assert room["href"] == "/session?umo=test%3AGroupMessage%3Aroom1"
    assert "days" not in body
    # What the page's script gets is what the page was rendered from.
    _, page = await panel.page()
    state = json.loads(page.state_json)["overview"]
    assert {k: v for k, v in state.items() if k != "days"} == body
    assert len(state["days"]) == 30


@pytest.mark.parametrize("path", ["/api/stats/daily", "/api/stats/overview"])
async def test_the_api_needs_a_login(panel, path):
    async with client_for(panel.app, None) as anonymous:
        answer = await anonymous.get(path)
        assert answer.status_code == 401
    async with client_for(panel.app, "not-a-token") as forged:
        assert (await forged.get(path)).status_code == 401


async def test_the_page_needs_a_login(panel):
    async with client_for(panel.app, None) as anonymous:
        answer = await anonymous.get("/overview")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/overview"


async def test_openapi_documents_the_stats_routes(panel):
    schema = (await panel.client.get("/api/openapi.json")).json()
    daily = schema["paths"]["/api/stats/daily"]["get"]
    assert "503" in daily["responses"] and "200" in daily["responses"]
    assert "/api/stats/overview" in schema["paths"]


# --- the chart's geometry -------------------------------------------------------------


@pytest.mark.parametrize(
    ("peak", "top"), [(0, 4), (3, 4), (4, 4), (5, 8), (9, 12), (12, 12), (13, 20), (950, 1200)]
)
def test_nice_top(peak, top):
    assert page_overview.nice_top(peak, 4) == top


def test_bars_are_proportional_and_inside_the_plot():
    days = [
        {"date": f"2026-11-{n:02d}", "sent": n, "answered": n // 2, "capped": 0}
        for n in range(1, 31)
    ]
    chart = page_overview.chart_view(days)
    lay = page_overview.CHART_LAYOUT
    assert chart["grid"][-1]["value"] == 40  # peak 30 -> 4 steps of 10
    for bar in chart["bars"]:
        for series in ("sent", "answered"):
            rect = bar[series]
            assert (
                lay["left"] <= rect["x"]
                and rect["x"] + chart["bar_w"] <= lay["width"] - lay["right"]
            )
            assert rect["y"] >= lay["top"]
            assert rect["y"] + rect["h"] == pytest.approx(chart["base"], abs=0.02)
            assert rect["h"] == pytest.approx(rect["n"] / 40 * chart["plot_h"], abs=0.01)
    labels = [bar["label"] for bar in chart["bars"] if bar["label"]]
    assert labels == ["11-05", "11-10", "11-15", "11-20", "11-25", "11-30"]  # today included


class ToolsContext(FakeContext):
    """And AstrBot's providers by id and its registered tools."""

    def get_provider_by_id(self, provider_id):
        return SimpleNamespace(text_chat=None) if provider_id == "backup" else None

    def get_llm_tool_manager(self):
        return SimpleNamespace(func_list=[SimpleNamespace(name="get_weather")])


async def test_the_overview_warns_about_models_and_tools_that_do_not_exist(tmp_path, clock):
    raw = raw_config()
    raw["friend_settings"]["model_settings"] = {
        "provider_id": "gone-model",
        "fallback_mode": "custom",
        "fallback_provider_ids": ["backup", "also-gone"],
    }
    raw["friend_settings"]["tool_settings"] = {
        "mode": "whitelist",
        "whitelist": ["get_weather", "no_such_tool"],
    }
    rig = Rig(tmp_path, clock, raw)
    await rig.start()
    deps = build_deps(rig.service(context=ToolsContext(FakeProvider("main", "m"))))
    try:
        async with client_for(create_app(deps), deps.auth.issue_token()) as client:
            html = (await client.get("/overview")).text
            body = (await client.get("/api/stats/overview")).json()
    finally:
        await rig.stop()
    assert [(m["kind"], m["name"]) for m in body["missing"]] == [
        ("provider", "gone-model"),
        ("provider", "also-gone"),
        ("tool", "no_such_tool"),
    ]
    assert 'id="missing-banner"' in html and "no_such_tool" in html
    assert "<code>backup</code>" not in html and "<code>get_weather</code>" not in html


async def test_without_names_in_the_config_there_is_no_warning(panel):
    _, page = await panel.page()
    assert "missing-banner" not in page.by_id
