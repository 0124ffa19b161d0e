"""The Help page: both languages, the four sections, every prompt placeholder (from
core/engine/prompt_template.py) and every ``/proactive`` subcommand (from main.py) documented."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from harness.panel_app import panel_client, panel_deps
from proactive_chat.core.engine.prompt_template import PLACEHOLDERS, describe_elapsed
from proactive_chat.web.app import create_app
from proactive_chat.web.i18n import EN, ZH

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = ("help-when", "help-placeholders", "help-commands", "help-foresight", "help-faq")
LANGS = ("zh", "en")


def subcommands() -> list[str]:
    """The subcommands of the ``proactive`` command group, read from main.py's source
    (main.py needs AstrBot to import)."""
    source = ROOT.joinpath("main.py").read_text(encoding="utf-8")
    assert '@filter.command_group("proactive")' in source
    found = re.findall(r'@proactive\.command\(\s*"([^"]+)"', source)
    assert found, "no subcommands found: the regex or main.py changed"
    return found


class Sections(HTMLParser):
    """The text of each element with an id in SECTIONS, and the table of contents' links."""

    def __init__(self) -> None:
        super().__init__()
        self.text = {section: "" for section in SECTIONS}
        self.toc: list[str] = []
        self._open: list[tuple[str, str | None]] = []  # (tag, section it opens)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("br", "img", "input", "link", "meta"):
            return
        self._open.append((tag, attrs.get("id") if attrs.get("id") in SECTIONS else None))
        href = attrs.get("href") or ""
        if tag == "a" and href.startswith("#help-"):
            self.toc.append(href[1:])

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data):
        for _, section in self._open:
            if section:
                self.text[section] += data


async def render(lang: str, service=None) -> str:
    deps = panel_deps(service, "Help-Page-Passw0rd")
    async with panel_client(create_app(deps), deps.auth.issue_token(), lang=lang) as client:
        response = await client.get("/help")
    assert response.status_code == 200, response.text
    return response.text


def sections_of(html: str) -> Sections:
    parser = Sections()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("lang", LANGS)
async def test_both_languages_render_the_four_sections(lang):
    page = sections_of(await render(lang))
    table = ZH if lang == "zh" else EN
    for section in SECTIONS:
        text = page.text[section]
        assert len(text.strip()) > 200, section
        assert table[section.replace("-", ".", 1)] in text  # its heading, in this language
    assert page.toc == list(SECTIONS)
    when = page.text["help-when"]
    for setting in (
        "min_interval_minutes",
        "max_interval_minutes",
        "group_idle_trigger_minutes",
        "quiet_hours",
        "max_unanswered_times",
        "auto_trigger_after_minutes",
        "missed_window_minutes",
    ):
        assert setting in when, setting


async def test_the_language_is_the_pages_own():
    zh, en = sections_of(await render("zh")), sections_of(await render("en"))
    assert "私聊" in zh.text["help-when"] and "Private chats" not in zh.text["help-when"]
    assert "Private chats" in en.text["help-when"] and "私聊" not in en.text["help-when"]


@pytest.mark.parametrize("lang", LANGS)
async def test_every_placeholder_is_documented(lang):
    assert PLACEHOLDERS  # the list the engine fills: a new name must come with docs
    table = ZH if lang == "zh" else EN
    html = await render(lang)
    text = sections_of(html).text["help-placeholders"]
    for name in PLACEHOLDERS:
        key = f"help.ph.{name}"
        assert key in ZH and key in EN, f"{name}: no meaning in web/texts/help_page.py"
        assert "{{" + name + "}}" in text, name
        assert table[key] in text, name
        row = re.search(rf'<tr data-placeholder="{name}">(.*?)</tr>', html, re.S)
        assert row, name
        example = re.findall(r"<td>(.*?)</td>", row.group(1), re.S)[-1].strip()
        assert example, f"{name}: no example"
    assert describe_elapsed(3 * 3600 + 20 * 60) in text  # the example the engine would write


@pytest.mark.parametrize("lang", LANGS)
async def test_every_subcommand_is_documented(lang):
    text = sections_of(await render(lang)).text["help-commands"]
    for sub in subcommands():
        assert f"/proactive {sub}" in text, sub
    faq = sections_of(await render(lang)).text["help-faq"]
    assert "web_admin" in faq and "panel_auth.json" in faq  # changing the password and port
