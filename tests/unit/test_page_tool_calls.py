"""The tools a message used read as a list ("search_web (120 ms), draw ✗") in both
languages, on the journal page and the session page, never as raw JSON."""

from __future__ import annotations

import re
from html import unescape

import pytest

from harness.engine_rig import Rig
from harness.panel_app import panel_client, panel_deps
from proactive_chat.web.app import create_app
from proactive_chat.web.i18n import translator
from proactive_chat.web.pages.tool_calls import tool_call_list

ALICE = "test:FriendMessage:alice"

CALLS = [
    {"name": "search_web", "provider": "m1", "ms": 120, "ok": True},
    {"name": "draw", "provider": "m1", "ms": 3, "ok": False},
]


def expected(lang: str) -> str:
    t = translator(lang)
    return (
        t("journal.tool_call", name="search_web", ms=120)
        + t("journal.tool_sep")
        + (t("journal.tool_failed", name="draw"))
    )


def visible_text(html: str) -> str:
    """The page's text without scripts (the JSON blocks hold the raw entries too)."""
    html = re.sub(r"<script[^>]*>.*?</script>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_journal_and_session_pages_show_a_readable_tool_list(tmp_path, clock, lang):
    rig = Rig(tmp_path, clock, {})
    engine = await rig.start()
    try:
        engine.on_user_message(ALICE, "Alice")
        engine.journal(
            ALICE, "sent", "sent (1 part(s))", text="hi", provider="m1", model="x", tools=CALLS
        )
        deps = panel_deps(rig.service(), "Tool-Calls-Passw0rd")
        async with panel_client(create_app(deps), deps.auth.issue_token()) as client:
            client.cookies.set("pc_lang", lang)
            journal = visible_text((await client.get("/journal")).text)
            session = visible_text((await client.get("/session", params={"umo": ALICE})).text)
    finally:
        await rig.stop()
    for text in (journal, session):
        assert translator(lang)("journal.detail.tools") in text
        assert expected(lang) in text
        assert '"search_web"' not in text and '"ms"' not in text  # no raw JSON left
    if lang == "en":
        assert "search_web (120 ms), draw ✗" in journal


def test_odd_stored_calls_are_cleaned_not_shown_raw():
    stored = [
        {"name": " lookup ", "ms": 12.6, "ok": True},
        {"name": "slow", "ms": True, "ok": True},  # a bool is not a duration
        {"name": "", "ok": True},
        "not a call",
        {"ms": 4},
        {"name": "x" * 200, "ok": "yes"},  # only True is a success
    ]
    assert tool_call_list(stored) == [
        {"name": "lookup", "ms": 13, "ok": True},
        {"name": "slow", "ms": None, "ok": True},
        {"name": "x" * 80, "ms": None, "ok": False},
    ]
    assert tool_call_list({"name": "a"}) == [] and tool_call_list(None) == []
