"""The sessions list and the session detail pages, server-rendered, over the engine rig
(a real engine and store with a fake clock) inside the real app; HTML checked by parsing."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from urllib.parse import quote

import httpx
import pytest

from harness.engine_rig import Rig
from harness.panel_app import panel_client, panel_deps, seed_sessions
from proactive_chat.core.service import ProactiveService
from proactive_chat.web.app import create_app
from proactive_chat.web.i18n import translator

PASSWORD = "Sessions-Page-Passw0rd"
ALICE = "test:FriendMessage:alice"
ROOM = "test:GroupMessage:room1"
NOW = 1_700_000_000.0


def raw_config() -> dict:
    return {
        "friend_settings": {
            "session_list": [ALICE],
            "schedule_settings": {"quiet_hours": "0-0", "max_unanswered_times": 3},
        },
        "group_settings": {"enable": True, "session_list": [ROOM]},
    }


class Site:
    def __init__(self, rig: Rig, service: ProactiveService, client: httpx.AsyncClient) -> None:
        self.rig, self.service, self.client = rig, service, client

    @property
    def engine(self):
        return self.rig.engine

    async def page(self, path: str, lang: str = "en", **params) -> tuple[httpx.Response, Html]:
        self.client.cookies.set("pc_lang", lang)
        response = await self.client.get(path, params=params)
        return response, Html(response.text)


def build_app(service: ProactiveService | None):
    deps = panel_deps(service, PASSWORD)
    app = create_app(deps)
    return app, panel_client(app, deps.auth.issue_token())


@pytest.fixture
async def site(tmp_path, clock):
    clock.now = NOW
    rig = Rig(tmp_path, clock, raw_config())
    await rig.start()
    service = rig.service()
    _, client = build_app(service)
    try:
        async with client:
            yield Site(rig, service, client)
    finally:
        await rig.stop()


class Html(HTMLParser):
    """What the tests look at: elements by id, table rows, attributes, the text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: dict[str, dict[str, str | None]] = {}
        self.rows: list[dict[str, str | None]] = []  # <tr data-umo> / <tr data-key>
        self.buttons: list[dict[str, str | None]] = []
        self.text: list[str] = []
        self.scripts: dict[str, str] = {}
        self._script: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids[attributes["id"] or ""] = {"tag": tag, **attributes}
        if tag == "tr" and ("data-umo" in attributes or "data-key" in attributes):
            self.rows.append(attributes)
        if tag == "button":
            self.buttons.append(attributes)
        if tag == "script":
            self._script = attributes.get("id")
            if self._script:
                self.scripts[self._script] = ""

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None

    def handle_data(self, data):
        if self._script:
            self.scripts[self._script] += data
        else:
            self.text.append(data)

    @property
    def umos(self) -> list[str]:
        return [row["data-umo"] for row in self.rows if row.get("data-umo")]

    def joined(self) -> str:
        return " ".join(" ".join(self.text).split())


# --- the list ------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_list_renders_in_both_languages(site, lang):
    site.engine.on_user_message(ALICE, "Alice")
    response, page = await site.page("/sessions", lang)
    assert response.status_code == 200
    t = translator(lang)
    for key in ("nav.sessions", "sessions.col.next", "sessions.col.unanswered", "kind.private"):
        assert t(key) in page.joined()
    assert page.umos == [ALICE]
    assert {
        "session-search",
        "session-kind",
        "sessions-table",
        "pager-prev",
        "pager-next",
        "sessions-total",
        "events-state",
    } <= page.ids.keys()
    assert t("sessions.total", n=1) in page.joined()
    link = f'href="/session?umo={quote(ALICE, safe="/")}"'
    assert link in response.text
    assert "engine-banner" in page.ids and "hidden" in page.ids["engine-banner"]


async def test_search_sort_and_paging_are_applied_on_the_server(site):
    seed_sessions(site.engine, 120, NOW)
    _, page = await site.page("/sessions", sort="name", size="25", page="2")
    names = sorted(
        (s for s in site.engine.sessions.values() if s.name), key=lambda s: s.name.casefold()
    )
    assert page.umos == [s.umo for s in names[25:50]]
    assert "2 of 5" in page.joined()  # 120 / 25
    assert "disabled" not in page.ids["pager-prev"]
    assert page.ids["pager-prev"]["value"] == "1"
    assert page.ids["pager-next"]["value"] == "3"
    sort_buttons = {b["value"] for b in page.buttons if b.get("name") == "sort"}
    assert "-name" in sort_buttons  # clicking the current column reverses it

    _, page = await site.page("/sessions", q="User 00001", kind="private")
    expected = {f"seed:FriendMessage:0000{n}" for n in range(10, 20) if n % 4 and n % 5}
    assert set(page.umos) == expected
    assert "User 00001" in page.ids["session-search"]["value"]

    _, page = await site.page("/sessions", kind="group", sort="-last_activity_at", size="100")
    assert page.umos == [f"seed:GroupMessage:{n:06d}" for n in range(0, 120, 4)]

    _, page = await site.page("/sessions", sort="next_at", size="25")
    planned = sorted(
        (s for s in site.engine.sessions.values() if s.next_at is not None),
        key=lambda s: s.next_at,
    )
    assert page.umos == [s.umo for s in planned[:25]]
    assert "disabled" in page.ids["pager-prev"]


async def test_nonsense_parameters_fall_back_and_a_late_page_shows_the_last(site):
    seed_sessions(site.engine, 30, NOW)
    response, page = await site.page(
        "/sessions", sort="--drop table", size="7", kind="cats", page="99"
    )
    assert response.status_code == 200
    assert len(page.umos) == 30 - 0  # size 7 is not offered: the default (50) shows all
    assert "1 of 1" in page.joined()
    state = json.loads(page.scripts["sessions-state"])
    assert state["query"] == {
        "q": "",
        "kind": "all",
        "served": "all",
        "sort": "next_at",
        "page": 1,
        "size": 50,
    }


async def test_the_no_js_sort_button_wins_over_the_forms_hidden_sort(site):
    seed_sessions(site.engine, 10, NOW)
    response = await site.client.get("/sessions?sort=next_at&sort=-name")
    page = Html(response.text)
    expected = sorted(
        (s for s in site.engine.sessions.values() if s.name), key=lambda s: s.name.casefold()
    )
    assert page.umos[: len(expected)] == [s.umo for s in reversed(expected)]


async def test_names_are_escaped(site):
    site.engine.on_user_message(ALICE, '<script>alert("x")</script>')
    response, page = await site.page("/sessions")
    assert "<script>alert" not in response.text
    assert '<script>alert("x")</script>' in page.joined()
    response, page = await site.page("/session", umo=ALICE)
    assert "<script>alert" not in response.text
    assert json.loads(page.scripts["session-data"])["view"]["name"].startswith("<script>")


async def test_a_lone_surrogate_in_a_name_does_not_break_the_page(site):
    site.engine.on_user_message(ALICE, "half \ud83d emoji")
    response, _ = await site.page("/sessions")
    assert response.status_code == 200
    response, _ = await site.page("/session", umo=ALICE)
    assert response.status_code == 200


async def test_without_an_engine_both_pages_show_a_banner(tmp_path):
    service = ProactiveService(context=object(), config=raw_config(), data_dir=tmp_path)
    service.problem = "the store is locked"
    for svc in (None, service):
        _, client = build_app(svc)
        async with client:
            response = await client.get("/sessions")
            assert response.status_code == 200
            page = Html(response.text)
            assert "hidden" not in page.ids["engine-banner"]
            assert page.umos == []
            response = await client.get("/session", params={"umo": ALICE})
            assert response.status_code == 200
            assert "engine-banner" in Html(response.text).ids
    assert "the store is locked" in response.text


# --- the detail page ------------------------------------------------------------------------


@pytest.mark.parametrize("umo", ["test:FriendMessage:nobody", "not-a-umo", "", "x:Other:1"])
async def test_unknown_or_malformed_sessions_are_404_pages(site, umo):
    response, page = await site.page("/session", umo=umo)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert translator("en")("session.not_found") in page.joined()
    assert 'href="/sessions"' in response.text


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_detail_page_marks_what_the_override_changes(site, lang):
    engine = site.engine
    engine.on_user_message(ALICE, "Alice")
    await engine.set_override(
        ALICE, {"schedule_settings": {"min_interval_minutes": 5}, "proactive_prompt": "hi"}
    )
    response, page = await site.page("/session", lang, umo=ALICE)
    assert response.status_code == 200
    for element in (
        "session-head",
        "session-phase",
        "act-trigger",
        "act-reschedule",
        "act-pause",
        "act-resume",
        "act-cancel",
        "effective-config",
        "override-editor",
        "override-save",
        "override-reset",
        "override-diff",
        "session-journal",
        "events-state",
    ):
        assert element in page.ids, element
    rows = {row["data-key"]: row for row in page.rows if row.get("data-key")}
    assert "session_list" not in rows
    marked = {key for key, row in rows.items() if "overridden" in (row.get("class") or "")}
    assert marked == {"schedule_settings.min_interval_minutes", "proactive_prompt"}
    assert "schedule_settings.max_interval_minutes" in rows
    t = translator(lang)
    assert t("session.n_overridden", n=2) in page.joined()
    data = json.loads(page.scripts["session-data"])
    assert data["override"]["override"]["schedule_settings"] == {"min_interval_minutes": 5}
    assert data["group"] == "friend_settings"
    assert data["view"]["umo"] == ALICE
    # the label comes from _conf_schema.json in the page's language
    label = "最小间隔（分钟）" if lang == "zh" else "Minimum interval (minutes)"
    assert label in page.joined()


@pytest.mark.parametrize(
    ("lang", "shown"), [("zh", "跟随会话 (off)"), ("en", "Session's own (off)")]
)
async def test_a_choice_shows_as_its_label_not_its_internal_value(site, lang, shown):
    site.engine.on_user_message(ALICE, "Alice")
    _, page = await site.page("/session", lang, umo=ALICE)
    assert shown in page.joined()
    data = json.loads(page.scripts["session-data"])
    assert data["options"]["persona_settings.mode"]["off"] == shown.split(" (")[0]


async def test_the_detail_page_shows_the_sessions_journal(site):
    engine = site.engine
    engine.on_user_message(ALICE, "Alice")
    engine.on_user_message(ROOM, "Room")
    engine.pause(ALICE)
    _, page = await site.page("/session", umo=ALICE)
    text = page.joined()
    assert translator("en")("jkind.manual") in text
    assert "paused" in text
    assert page.ids["session-journal-all"]["href"] == f"/journal?umo={quote(ALICE, safe='')}"
    assert page.ids["session-umo"]["tag"] == "code"
    assert ALICE in text
    assert ROOM not in text


def test_every_phase_and_journal_kind_has_a_label():
    """The templates build these keys from the engine's words (``'phase.' ~ phase``)."""
    from proactive_chat.core.engine import models as engine_types
    from proactive_chat.web.i18n import EN, ZH

    phases = {phase.value for phase in engine_types.Phase}
    assert {"idle", "planned"} <= phases
    keys = {f"phase.{p}" for p in phases} | {f"jkind.{k}" for k in engine_types.JOURNAL_KINDS}
    assert not keys - ZH.keys()
    assert not keys - EN.keys()


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "user 0000", "sort": "-name", "size": "25", "page": "2"},
        {"kind": "group", "served": "no", "sort": "-last_activity_at"},
        {"kind": "private", "served": "all", "sort": "unanswered", "size": "100"},
    ],
)
async def test_the_page_and_the_api_select_the_same_rows(site, params):
    """The script pages through /api/sessions with ``api_params()``: same rows, same total."""
    from proactive_chat.web.api.session_query import SessionQuery

    seed_sessions(site.engine, 90, NOW)
    site.engine.on_user_message(ALICE, "Alice")
    _, page = await site.page("/sessions", **params)
    api = await site.client.get(
        "/api/sessions", params=SessionQuery.from_params(params).api_params()
    )
    assert api.status_code == 200
    body = api.json()
    assert page.umos == [item["umo"] for item in body["items"]]
    assert page.umos, "the query selected nothing: the comparison proves little"
    assert translator("en")("sessions.total", n=body["total"]) in page.joined()


async def test_a_sent_message_shows_its_model_tools_and_picture(site):
    thumb = "data:image/jpeg;base64,/9j/AAAA"
    site.engine.on_user_message(ALICE, "Alice")
    site.engine.journal(
        ALICE,
        "sent",
        "sent (1 part(s), 1 picture(s))",
        text="Look!",
        provider="backup",
        model="gpt-x",
        tools=[{"name": "draw_image", "ok": True}, {"name": "weather", "ok": False}],
        picture={"mode": "auto", "tool": "draw_image", "ref": "(inline image)", "thumb": thumb},
    )
    html = (await site.client.get("/session", params={"umo": ALICE})).text
    assert "backup (gpt-x)" in html and "draw_image, weather ✗" in html
    assert f'src="{thumb}"' in html
    journal = (await site.client.get("/journal", params={"umo": ALICE})).text
    assert f'src="{thumb}"' in journal and "gpt-x" in journal
    assert journal.count(thumb) == 1  # shown as the image, not again in the value


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_detail_page_shows_a_pending_promise_with_its_cancel_button(site, lang):
    engine = site.engine
    engine.on_user_message(ALICE, "Alice")
    _, page = await site.page("/session", lang, umo=ALICE)
    assert "hidden" in page.ids["session-promise-row"]  # none yet: the row is there, hidden
    engine.on_bot_message(ALICE, "好的，我十分钟后提醒你喝水。")
    _, page = await site.page("/session", lang, umo=ALICE)
    assert "hidden" not in page.ids["session-promise-row"]
    text = page.joined()
    assert "我十分钟后提醒你喝水" in text
    assert translator(lang)("session.promise_cancel") in text
    assert page.ids["promise-cancel"]["tag"] == "button"
