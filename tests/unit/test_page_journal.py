"""The Journal page and its CSV export, over the engine rig (a real engine and store with
a fake clock, AstrBot's zone set to Asia/Shanghai) inside the real app; HTML parsed,
CSV read back with the csv module."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import parse_qsl, quote, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest

from harness.engine_rig import Rig
from harness.panel_app import panel_client, panel_deps
from proactive_chat.core.engine.models import JournalEntry, SessionState
from proactive_chat.web.api import export as api_export
from proactive_chat.web.app import create_app
from proactive_chat.web.i18n import js_strings, translator
from proactive_chat.web.pages.journal import from_local_input, to_local_input

PASSWORD = "Journal-Page-Passw0rd"
ALICE = "test:FriendMessage:alice"
BOB = "test:FriendMessage:bob"
ROOM = "test:GroupMessage:room1"
SHANGHAI = ZoneInfo("Asia/Shanghai")
# 2023-11-14 22:13:20 UTC = 2023-11-15 06:13:20 in Shanghai
NOW = 1_700_000_000.0
PAGE_IDS = {
    "journal-filters",
    "jf-umo",
    "jf-kind",
    "jf-range",
    "jf-since",
    "jf-until",
    "journal-table",
    "journal-more",
    "journal-total",
    "journal-export",
    "events-state",
    "journal-env",
}


class Html(HTMLParser):
    """Elements by id, the journal rows, options, the text, JSON script blocks."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: dict[str, dict[str, str | None]] = {}
        self.rows: list[dict[str, str | None]] = []
        self.options: dict[str, list[dict[str, str | None]]] = {}
        self.scripts: list[dict[str, str | None]] = []
        self.json: dict[str, str] = {}
        self.styled = 0
        self.text: list[str] = []
        self._select: str | None = None
        self._script: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids[a["id"] or ""] = {"tag": tag, **a}
        if tag == "tr" and "data-id" in a:
            self.rows.append(a)
        if tag == "select":
            self._select = a.get("id")
            self.options[self._select or ""] = []
        if tag == "option" and self._select:
            self.options[self._select].append(a)
        if tag == "script":
            self.scripts.append(a)
            self._script = a.get("id")
            if self._script:
                self.json[self._script] = ""
        if tag == "style" or "style" in a:
            self.styled += 1

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        if tag == "script":
            self._script = None

    def handle_data(self, data):
        if self._script:
            self.json[self._script] += data
        else:
            self.text.append(data)

    @property
    def all_text(self) -> str:
        return " ".join(" ".join(self.text).split())

    def selected(self, select_id: str) -> str | None:
        chosen = [o.get("value") for o in self.options[select_id] if "selected" in o]
        return chosen[0] if chosen else None


class Site:
    def __init__(self, rig: Rig, service, client: httpx.AsyncClient, deps) -> None:
        self.rig, self.service, self.client, self.deps = rig, service, client, deps

    @property
    def engine(self):
        return self.rig.engine

    async def page(self, lang: str = "en", **params) -> tuple[httpx.Response, Html]:
        self.client.cookies.set("pc_lang", lang)
        response = await self.client.get("/journal", params=params)
        return response, Html(response.text)

    async def csv(self, **params) -> tuple[httpx.Response, list[list[str]]]:
        response = await self.client.get("/api/journal.csv", params=params)
        return response, read_csv(response.content) if response.status_code == 200 else []

    def log(self, umo: str, kind: str, reason: str, **detail) -> int:
        return self.engine.journal(umo, kind, reason, **detail).id


def read_csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), body[:20]
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def build(service):
    deps = panel_deps(service, PASSWORD)
    return deps, panel_client(create_app(deps), deps.auth.issue_token())


@pytest.fixture
async def site(tmp_path, clock):
    clock.now = NOW
    rig = Rig(tmp_path, clock, {}, tz=SHANGHAI)
    engine = await rig.start()
    engine.sessions[ALICE] = SessionState(umo=ALICE, kind="friend", name="Alice 爱丽丝")
    engine.sessions[ROOM] = SessionState(umo=ROOM, kind="group", name="")
    service = rig.service()
    deps, client = build(service)
    try:
        async with client:
            yield Site(rig, service, client, deps)
    finally:
        await rig.stop()


# --- the page -------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_page_renders_in_both_languages(site, lang):
    site.log(ALICE, "sent", "sent (1 part(s))", text="Long time no see!", provider="m1")
    site.log(ALICE, "planned", "after_proactive", at=NOW + 3600)
    site.log("", "restored", "1 plan(s) restored")
    response, page = await site.page(lang)
    assert response.status_code == 200
    assert PAGE_IDS <= page.ids.keys()
    assert page.ids["journal-filters"]["tag"] == "form"
    assert page.ids["journal-filters"]["method"] == "get"
    assert page.ids["jf-since"]["type"] == page.ids["jf-until"]["type"] == "datetime-local"
    t = translator(lang)
    text = page.all_text
    for key in ("nav.journal", "jkind.sent", "jkind.planned", "journal.engine_wide"):
        assert t(key) in text, key
    assert t("journal.total", n=3) in text
    assert json.loads(page.json["i18n"]) == js_strings(lang)
    # CSP: scripts only from files (JSON blocks aside), no inline styles.
    for script in page.scripts:
        assert script.get("src") or script.get("type") == "application/json", script
    assert page.styled == 0
    # Newest first; each row says what it is.
    assert [(r["data-kind"], r["data-umo"]) for r in page.rows] == [
        ("restored", ""),
        ("planned", ALICE),
        ("sent", ALICE),
    ]
    ids = [int(r["data-id"]) for r in page.rows]
    assert ids == sorted(ids, reverse=True)
    assert "Long time no see!" in text and "Alice 爱丽丝" in text and "m1" in text
    # The planned time is shown in AstrBot's zone (Shanghai), with seconds for the row.
    assert "2023-11-15 07:13" in text
    assert "2023-11-15 06:13:20" in text
    assert page.ids["journal-table"]["data-live"] == "1"
    assert "hidden" in page.ids["journal-more"]  # one page only


async def test_rows_link_to_the_session_and_badges_follow_severity(site):
    site.log(ALICE, "send_failed", "refused")
    site.log(ROOM, "no_provider", "no chat model")
    site.log(ALICE, "sent", "sent", text="hi")
    response = await site.client.get("/journal")
    html = response.text
    assert 'href="/session?umo=test%3AFriendMessage%3Aalice"' in html
    assert 'href="/session?umo=test%3AGroupMessage%3Aroom1"' in html
    badges = re.findall(r'class="badge([^"]*)"', html)
    assert badges == [" badge-ok", " badge-warn", " badge-danger"]


async def test_first_page_matches_the_api_and_pages_on(site):
    for n in range(120):
        site.log(BOB if n % 2 else ALICE, "manual", f"action {n}")
    _, page = await site.page(umo=ALICE)
    api = (await site.client.get("/api/journal", params={"umo": ALICE, "limit": 50})).json()
    assert [int(r["data-id"]) for r in page.rows] == [e["id"] for e in api["items"]]
    assert page.ids["journal-total"]["data-total"] == "60" == str(api["total"])
    table = page.ids["journal-table"]
    assert table["data-umo"] == ALICE
    assert table["data-next-before-id"] == str(api["next_before_id"])
    more = page.ids["journal-more"]
    assert "hidden" not in more
    assert f"before_id={api['next_before_id']}" in more["href"]
    # The same link works without JavaScript: the next page, the same total, not live.
    response = await site.client.get(more["href"].replace("&amp;", "&"))
    page2 = Html(response.text)
    ids2 = [int(r["data-id"]) for r in page2.rows]
    assert len(ids2) == 10 and max(ids2) < api["next_before_id"]
    assert page2.ids["journal-total"]["data-total"] == "60"
    assert page2.ids["journal-table"]["data-live"] == "0"
    assert "journal-newest" in page2.ids


async def test_filters_by_session_kind_and_group(site):
    site.log(ALICE, "sent", "sent", text="a")
    site.log(BOB, "send_failed", "refused")
    site.log(BOB, "llm_empty", "nothing")
    site.log(ALICE, "planned", "after_proactive", at=NOW + 60)
    _, page = await site.page(umo=BOB)
    assert {r["data-umo"] for r in page.rows} == {BOB}
    assert page.ids["jf-umo"]["value"] == BOB
    _, page = await site.page(kind="sent")
    assert [r["data-kind"] for r in page.rows] == ["sent"]
    assert page.selected("jf-kind") == "sent"
    _, page = await site.page(kind="problems")
    assert [r["data-kind"] for r in page.rows] == ["llm_empty", "send_failed"]
    kinds = page.ids["journal-table"]["data-kinds"].split(",")
    assert set(kinds) == {
        "send_failed",
        "no_provider",
        "llm_failed",
        "llm_empty",
        "platform_skipped",
    }
    _, page = await site.page(kind="deliveries", umo=ALICE)
    assert [r["data-kind"] for r in page.rows] == ["sent"]
    # The session's name shows next to the field when it is known.
    assert page.ids["jf-umo-name"]
    assert "Alice 爱丽丝" in page.all_text
    export = page.ids["journal-export"]["href"]
    assert export.startswith("/api/journal.csv?")
    assert "kind=sent%2Csend_failed" in export and "umo=test%3AFriendMessage%3Aalice" in export


async def test_a_session_id_with_slashes_and_colons_filters_everywhere_alike(site):
    odd = "test:GroupMessage:team/a:b?c=d&e"
    site.engine.sessions[odd] = SessionState(umo=odd, kind="group", name="Odd")
    site.log(odd, "sent", "sent", text="one")
    site.log("test:GroupMessage:team", "sent", "sent", text="prefix only")
    site.log(odd, "manual", "manual trigger")
    _, page = await site.page(umo=odd)
    assert [r["data-umo"] for r in page.rows] == [odd, odd]
    assert page.ids["jf-umo"]["value"] == odd
    api = (await site.client.get("/api/journal", params={"umo": odd})).json()
    assert [int(r["data-id"]) for r in page.rows] == [item["id"] for item in api["items"]]
    _, rows = await site.csv(umo=odd)
    assert [int(row[0]) for row in rows[1:]] == [item["id"] for item in api["items"]]
    # The export link and the session page's link to the journal carry it intact.
    export = page.ids["journal-export"]["href"]
    _, rows = await site.csv(**dict(parse_qsl(urlsplit(export).query)))
    assert [int(row[0]) for row in rows[1:]] == [item["id"] for item in api["items"]]
    session_page = await site.client.get("/session", params={"umo": odd})
    assert session_page.status_code == 200
    link = f"/journal?umo={quote(odd, safe='')}"
    assert link.replace("&", "&amp;") in session_page.text


async def test_time_presets_are_relative_to_the_engine_clock(site, clock):
    site.log(ALICE, "manual", "old")
    clock.advance(2 * 3600)
    site.log(ALICE, "manual", "new")
    _, page = await site.page(range="1h")
    assert [r["data-umo"] for r in page.rows] == [ALICE]
    assert float(page.ids["journal-table"]["data-since"]) == clock.now - 3600
    assert page.ids["journal-table"]["data-until"] == ""
    assert page.selected("jf-range") == "1h"
    _, page = await site.page(range="24h")
    assert len(page.rows) == 2
    _, page = await site.page()
    assert page.selected("jf-range") == "all" and page.ids["journal-table"]["data-since"] == ""


async def test_custom_range_is_read_in_astrbots_zone(site, clock):
    # Entries at 06:13:20, 07:13:20 and 08:13:20 Shanghai time (22:13:20 UTC and on).
    for _ in range(3):
        site.log(ALICE, "manual", "tick")
        clock.advance(3600)
    _, page = await site.page(range="custom", since="2023-11-15T07:00", until="2023-11-15T08:00")
    assert len(page.rows) == 1
    table = page.ids["journal-table"]
    expected_since = datetime(2023, 11, 14, 23, 0, tzinfo=UTC).timestamp()
    assert float(table["data-since"]) == expected_since
    assert float(table["data-until"]) == expected_since + 3600
    assert page.selected("jf-range") == "custom"
    assert page.ids["jf-since"]["value"] == "2023-11-15T07:00"
    assert "Asia/Shanghai" in page.all_text  # the zone the times are read in
    # Typed times win over a preset left as it was (no JavaScript to switch it).
    _, page = await site.page(range="1h", since="2023-11-15T07:00")
    assert len(page.rows) == 2 and page.selected("jf-range") == "custom"
    export = page.ids["journal-export"]["href"]
    assert f"since={int(expected_since)}" in export


def test_local_input_conversion():
    assert from_local_input("2023-11-15T07:00", SHANGHAI) == 1_700_002_800.0
    assert from_local_input("2023-11-15T07:00:30", SHANGHAI) == 1_700_002_830.0
    assert from_local_input("2023-11-14T23:00", UTC) == 1_700_002_800.0
    assert to_local_input(1_700_002_800.0, SHANGHAI) == "2023-11-15T07:00"
    assert to_local_input(1_700_002_830.0, SHANGHAI) == "2023-11-15T07:00:30"
    # Berlin in summer is UTC+2: the same wall time is a different instant.
    berlin = ZoneInfo("Europe/Berlin")
    assert (
        from_local_input("2024-07-01T12:00", berlin)
        == datetime(2024, 7, 1, 10, 0, tzinfo=UTC).timestamp()
    )
    for bad in ("yesterday", "2023-11-15T07:00+02:00", "2023-13-01T00:00", "1" * 60):
        with pytest.raises(ValueError):
            from_local_input(bad, SHANGHAI)
    # A wall time the clocks skip (02:30 on 2026-03-29) reads as the hour it falls in
    # after the change (03:30 CEST); one they pass twice (2026-10-25) as the first.
    gap = from_local_input("2026-03-29T02:30", berlin)
    assert gap == datetime(2026, 3, 29, 1, 30, tzinfo=UTC).timestamp()
    assert to_local_input(gap, berlin) == "2026-03-29T03:30"
    twice = from_local_input("2026-10-25T02:30", berlin)
    assert twice == datetime(2026, 10, 25, 0, 30, tzinfo=UTC).timestamp()
    assert to_local_input(twice, berlin) == "2026-10-25T02:30"


@pytest.mark.parametrize(
    ("params", "message_key"),
    [
        ({"kind": "bogus"}, "unknown journal kind"),
        ({"umo": "no-colons"}, "not a session id"),
        ({"range": "custom", "since": "not a date"}, "“From”"),
        ({"since": "2023-11-15T08:00", "until": "2023-11-15T07:00"}, "must be before"),
        ({"before_id": "abc"}, "before_id"),
        ({"before_id": "\u00b2"}, "before_id"),  # a digit to isdigit(), not to int()
        ({"before_id": "9" * 5000}, "before_id"),  # past int()'s digit limit
    ],
)
async def test_bad_filters_render_the_page_with_a_400(site, params, message_key):
    site.log(ALICE, "manual", "x")
    response, page = await site.page(**params)
    assert response.status_code == 400
    assert "jf-error" in page.ids and message_key in page.all_text
    assert page.rows == []
    assert page.ids["journal-table"]["data-live"] == "0"
    assert PAGE_IDS <= page.ids.keys()


async def test_without_an_engine_the_page_says_why(site):
    site.log(ALICE, "manual", "before the stop")
    site.service.engine = None
    site.service.problem = "start-up failed: disk on fire"
    response, page = await site.page()
    assert response.status_code == 200
    assert "disk on fire" in page.all_text
    assert len(page.rows) == 1  # the journal still reads from the store
    # No service at all: a banner, no rows, no 500.
    _, client = build(None)
    async with client:
        response = await client.get("/journal")
        page = Html(response.text)
        assert response.status_code == 200
        assert "not loaded" in page.all_text and page.rows == []
        assert (await client.get("/api/journal.csv")).status_code == 503


async def test_a_closed_store_is_a_banner_and_a_503(site):
    await site.rig.store.close()
    response, page = await site.page()
    assert response.status_code == 200
    assert "not open" in page.all_text and page.rows == []
    response = await site.client.get("/api/journal.csv")
    assert response.status_code == 503
    assert response.json()["error"] == "store_unavailable"


async def test_a_lone_surrogate_in_a_name_does_not_break_the_page(site):
    # Half an emoji from an IM platform in a session's name (kept in memory as is):
    # the page used to fail to encode as UTF-8 (a 500) while the API escaped it.
    site.engine.sessions[ALICE].name = "half \ud83d emoji"
    site.log(ALICE, "sent", "sent (1 part(s))", text="hi")
    for params in ({}, {"umo": ALICE}):
        response, page = await site.page(**params)
        assert response.status_code == 200
        assert "half ? emoji" in page.all_text
        assert [r["data-umo"] for r in page.rows] == [ALICE]


async def test_chat_text_and_names_are_escaped(site):
    evil = "<script>alert(1)</script>"
    img = '<img src=x onerror="alert(2)">'
    site.engine.sessions[BOB] = SessionState(umo=BOB, kind="friend", name=img)
    site.log(BOB, "sent", evil, text=img * 40, provider=evil)
    site.log(BOB, "llm_failed", img, error=evil)
    response, page = await site.page(umo=BOB)
    html = response.text
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=" in html
    # The long text is cut, the full one inside <details>.
    assert "<details" in html and img * 40 in page.all_text


# --- the CSV export -------------------------------------------------------------------------


async def test_csv_header_bom_zone_and_names(site):
    site.log(ALICE, "sent", "sent (1 part(s))", text="你好，好久不见", provider="m1")
    site.log(ROOM, "planned", "group_silence", at=NOW + 60)
    response, rows = await site.csv()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    # Now (the engine's clock) in AstrBot's zone.
    assert disposition == 'attachment; filename="proactive-journal-20231115-0613.csv"'
    assert rows[0] == ["id", "time", "umo", "session name", "kind", "reason", "detail"]
    room, alice = rows[1], rows[2]
    assert alice[1] == "2023-11-15T06:13:20+08:00"
    assert alice[2:6] == [ALICE, "Alice 爱丽丝", "sent", "sent (1 part(s))"]
    assert json.loads(alice[6]) == {"text": "你好，好久不见", "provider": "m1"}
    assert room[2:5] == [ROOM, "", "planned"]
    assert int(room[0]) > int(alice[0])


async def test_csv_guards_against_formulas(site):
    site.engine.sessions[BOB] = SessionState(umo=BOB, kind="friend", name="=cmd|' /C calc'!A0")
    site.log(BOB, "manual", '=HYPERLINK("http://evil.example","x")')
    site.log(BOB, "manual", "+1+1")
    site.log(BOB, "manual", "-2")
    site.log(BOB, "manual", "@SUM(A1)")
    site.log(BOB, "manual", "\tTab")
    site.log(BOB, "manual", "\rCR")
    site.log(BOB, "manual", "plain = fine")
    _, rows = await site.csv(umo=BOB)
    reasons = [row[5] for row in reversed(rows[1:])]
    assert reasons == [
        '\'=HYPERLINK("http://evil.example","x")',
        "'+1+1",
        "'-2",
        "'@SUM(A1)",
        "'\tTab",
        "'\rCR",
        "plain = fine",
    ]
    assert {row[3] for row in rows[1:]} == {"'=cmd|' /C calc'!A0"}


async def test_csv_filters_like_the_api(site, clock):
    site.log(ALICE, "sent", "a", text="x")
    clock.advance(100)
    site.log(BOB, "send_failed", "b")
    clock.advance(100)
    site.log(ALICE, "manual", "c")
    _, rows = await site.csv(umo=ALICE)
    assert [r[5] for r in rows[1:]] == ["c", "a"]
    _, rows = await site.csv(kind="sent,send_failed")
    assert [r[5] for r in rows[1:]] == ["b", "a"]
    _, rows = await site.csv(since=NOW + 50, until=NOW + 150)
    assert [r[5] for r in rows[1:]] == ["b"]
    _, rows = await site.csv(umo=BOB, kind="manual")
    assert rows == [["id", "time", "umo", "session name", "kind", "reason", "detail"]]


async def test_csv_streams_in_bounded_store_pages(site, monkeypatch):
    for n in range(2500):
        site.rig.store.append_journal(JournalEntry(NOW + n, ALICE, "manual", f"entry {n}"))
    calls: list[dict] = []
    query = site.rig.store.query_journal

    async def counting(**kwargs):
        calls.append(kwargs)
        return await query(**kwargs)

    monkeypatch.setattr(site.rig.store, "query_journal", counting)
    response, rows = await site.csv()
    assert response.status_code == 200
    data = rows[1:]
    assert len(data) == 2500
    ids = [int(r[0]) for r in data]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 2500
    assert data[0][5] == "entry 2499" and data[-1][5] == "entry 0"
    assert len(calls) == 3 and all(c["limit"] <= 1000 for c in calls)
    assert [c["before_id"] for c in calls[1:]] == [ids[999], ids[1999]]


async def test_csv_stops_at_the_limit_and_says_so(site, monkeypatch):
    monkeypatch.setattr(api_export, "MAX_EXPORT_ROWS", 1500)
    for n in range(1600):
        site.rig.store.append_journal(JournalEntry(NOW + n, ALICE, "manual", f"e{n}"))
    response, rows = await site.csv()
    assert response.headers["x-export-limit"] == "1500"
    assert len(rows) == 1 + 1500 + 1
    assert rows[-1][0].startswith("# export stopped at 1500 rows")
    # Exactly at the limit: no note.
    monkeypatch.setattr(api_export, "MAX_EXPORT_ROWS", 1600)
    _, rows = await site.csv()
    assert len(rows) == 1 + 1600 and not rows[-1][0].startswith("#")


@pytest.mark.parametrize(
    "query",
    ["kind=bogus", "kind=sent,nope", "umo=no-colons", "since=abc", "until=-1", "since=inf"],
)
async def test_csv_bad_filters_are_400(site, query):
    response = await site.client.get(f"/api/journal.csv?{query}")
    assert response.status_code == 400, response.text
    assert response.json()["error"] in {"bad_request", "bad_umo"}
    assert response.json()["message"]


async def test_csv_needs_a_login(site):
    site.log(ALICE, "manual", "secret")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=site.client._transport.app),
        base_url="http://127.0.0.1:4100",
    ) as anonymous:
        response = await anonymous.get("/api/journal.csv")
        assert response.status_code == 401
        assert "secret" not in response.text
        page = await anonymous.get("/journal", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")


async def test_csv_is_in_the_openapi_schema(site):
    schema = (await site.client.get("/api/openapi.json")).json()
    operation = schema["paths"]["/api/journal.csv"]["get"]
    assert "text/csv" in operation["responses"]["200"]["content"]
    assert {"400", "503"} <= operation["responses"].keys()
    assert {p["name"] for p in operation["parameters"]} == {"umo", "kind", "since", "until"}


def test_every_label_the_page_builds_exists_in_both_languages():
    from proactive_chat.core.engine.models import JOURNAL_KINDS
    from proactive_chat.web.i18n import EN, ZH
    from proactive_chat.web.pages import journal as page_journal

    keys = {f"jkind.{kind}" for kind in JOURNAL_KINDS}
    keys |= {f"journal.range.{value}" for value in (*page_journal.RANGES, page_journal.CUSTOM)}
    keys |= {f"journal.group.{group}" for group in page_journal.KIND_GROUPS}
    keys |= {f"journal.detail.{key}" for key in page_journal.LABELLED_DETAILS}
    assert set(page_journal.KINDS) == JOURNAL_KINDS
    assert not keys - ZH.keys() and not keys - EN.keys()
    detail_keys = {k for k in keys if k.startswith("journal.detail.")}
    assert detail_keys <= set(js_strings("en"))  # journal.js labels live rows too
