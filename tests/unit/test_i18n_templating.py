"""Language choice, translations, content-hashed static URLs, safe redirects, page routes."""

from __future__ import annotations

import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.testclient import TestClient

from proactive_chat.web.i18n import EN, JS_KEYS, ZH, js_strings, pick_language, translator
from proactive_chat.web.pages.routes import ENGINE_PAGES, build_pages_router, safe_next
from proactive_chat.web.pages.templating import NAV, build_templates

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"


def make_request(cookie: str | None = None, accept: str | None = None) -> Request:
    headers = []
    if cookie is not None:
        headers.append((b"cookie", f"pc_lang={cookie}".encode()))
    if accept is not None:
        headers.append((b"accept-language", accept.encode()))
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


# ---------- pick_language ----------


@pytest.mark.parametrize(
    ("cookie", "accept", "expected"),
    [
        ("zh", "en-US,en;q=0.9", "zh"),
        ("en", "zh-CN,zh;q=0.9", "en"),
        ("fr", "zh-CN,zh;q=0.9", "zh"),  # unknown cookie value: the header decides
        (None, "zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        (None, "zh-TW", "zh"),
        (None, "en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        (None, "en;q=0.5, zh", "zh"),  # q values, not the order of the header, rank
        (None, "zh;q=0, en;q=0.1", "en"),  # q=0 means "not acceptable"
        (None, "ja, zh;q=0.8", "zh"),  # prefers Chinese over the English fallback
        (None, "fr-FR,fr;q=0.9", "en"),
        (None, "*", "en"),
        (None, "zh;q=abc", "en"),
        (None, "", "en"),
        (None, None, "en"),
    ],
)
def test_pick_language(cookie, accept, expected):
    assert pick_language(make_request(cookie, accept)) == expected


def test_translator_formats_and_falls_back_to_the_key():
    assert translator("en")("logs.count", n=3) == "3 lines"
    assert translator("zh")("logs.count", n=3) == "3 行"
    assert translator("xx")("nav.logs") == EN["nav.logs"]
    assert translator("en")("no.such.key") == "no.such.key"


def test_english_counts_of_one_take_the_singular():
    en, zh = translator("en"), translator("zh")
    assert en("sessions.total", n=1) == "1 session"
    assert en("sessions.total", n=2) == "2 sessions"
    assert en("journal.total", n=1) == "1 entry"
    assert zh("sessions.total", n=1) == "共 1 个会话"
    assert "sessions.total.one" in JS_KEYS  # tr() in the browser picks it the same way
    for key in EN:
        assert "(s)" not in EN[key], f"{key}: {EN[key]!r} is not a plural"


# ---------- translation tables ----------

T_CALL = re.compile(r"""\bt\(\s*(['"])([^'"]+)\1""")
TR_CALL = re.compile(r"""\btr\(\s*(['"`])([^'"`]+)\1""")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def template_keys() -> set[str]:
    keys: set[str] = set()
    for path in TEMPLATES.glob("*.html"):
        keys |= {match[1] for match in T_CALL.findall(path.read_text(encoding="utf-8"))}
    return keys | {key for _, key in NAV}  # the navigation's keys are in templating.NAV


def test_templates_use_translations():
    keys = template_keys()
    assert {"login.heading", "logs.heading", "nav.logs", "auth.logout"} <= keys


def test_every_template_key_exists_in_both_languages():
    keys = template_keys()
    assert not keys - ZH.keys(), "missing in zh"
    assert not keys - EN.keys(), "missing in en"


def test_both_languages_have_the_same_keys_and_placeholders():
    assert ZH.keys() == EN.keys()
    for key in ZH:
        assert set(PLACEHOLDER.findall(ZH[key])) == set(PLACEHOLDER.findall(EN[key])), key
        assert ZH[key].strip() and EN[key].strip(), key


def test_every_key_the_scripts_use_is_shipped_to_the_browser():
    used: set[str] = set()
    for path in (STATIC / "js").glob("*.js"):
        used |= {m[1] for m in TR_CALL.findall(path.read_text(encoding="utf-8"))}
    used = {key for key in used if "${" not in key}  # `conn.${state}`: checked below
    assert used, "no tr() calls found: the regex or the scripts changed"
    assert not used - set(JS_KEYS)
    states = ("connecting", "live", "paused", "reloading", "reconnecting", "auth")
    assert {f"conn.{state}" for state in states} <= set(JS_KEYS)
    assert set(JS_KEYS) <= ZH.keys()
    assert js_strings("zh") == {key: ZH[key] for key in JS_KEYS}


# ---------- static() ----------


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def static_url(tmp_path: Path, name: str) -> str:
    return build_templates(tmp_path / "templates", tmp_path / "static").env.globals["static"](name)


def test_static_url_carries_the_content_hash(tmp_path):
    write(tmp_path / "static" / "css" / "app.css", b"body{}")
    digest = hashlib.sha256(b"body{}").hexdigest()[:10]
    assert static_url(tmp_path, "css/app.css") == f"/static/css/app.css?v={digest}"


def test_static_hash_changes_with_the_content(tmp_path):
    file = tmp_path / "static" / "js" / "a.js"
    write(file, b"one")
    before = static_url(tmp_path, "js/a.js")
    assert static_url(tmp_path, "js/a.js") == before  # stable for the same content
    write(file, b"two")
    assert static_url(tmp_path, "js/a.js") != before


def test_static_hashes_are_computed_once_at_build_time(tmp_path):
    file = tmp_path / "static" / "a.css"
    write(file, b"one")
    static = build_templates(tmp_path / "t", tmp_path / "static").env.globals["static"]
    before = static("a.css")
    write(file, b"two")
    assert static("a.css") == before


def test_static_refuses_unknown_files(tmp_path):
    write(tmp_path / "static" / "a.css", b"x")
    with pytest.raises(LookupError):
        static_url(tmp_path, "missing.css")
    with pytest.raises(LookupError):
        static_url(tmp_path, "../static/a.css")


# ---------- safe next ----------


@pytest.mark.parametrize(
    "value",
    [
        "https://evil.example/",
        "http:/evil.example",
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "javascript:alert(1)",
        "logs",
        "",
        None,
        "/" + "a" * 5000,
    ],
)
def test_safe_next_refuses_anything_but_a_local_path(value):
    assert safe_next(value) == "/overview"
    assert safe_next(value, default="/") == "/"


@pytest.mark.parametrize("value", ["/logs", "/", "/logs?level=ERROR", "/a/b#c", "/%2F%2Fx"])
def test_safe_next_keeps_local_paths(value):
    assert safe_next(value) == value


# ---------- pages ----------


class FakeAuth:
    def is_authenticated(self, request) -> bool:
        return request.cookies.get("pc_session") == "good"


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    app.state.deps = SimpleNamespace(
        auth=FakeAuth(),
        version="9.8.7",
        astrbot_version="4.29.3",
        templates=build_templates(TEMPLATES, STATIC),
        settings=SimpleNamespace(host="127.0.0.1", port=4100),
        service=None,
    )
    app.include_router(build_pages_router())
    return TestClient(app, follow_redirects=False)


def logged_in(client: TestClient) -> TestClient:
    client.cookies.set("pc_session", "good")
    return client


@pytest.mark.parametrize(
    ("path", "auth", "location"),
    [
        ("/", False, "/login"),
        ("/", True, "/overview"),
        ("/logs", False, "/login?next=/logs"),
        ("/overview", False, "/login?next=/overview"),
        ("/session?umo=a:b:c", False, "/login?next=/session?umo=a%3Ab%3Ac"),
        # Every parameter of the page stays inside ``next``, not a parameter of /login.
        ("/journal?umo=a&kind=sent", False, "/login?next=/journal?umo=a%26kind=sent"),
        ("/login", True, "/overview"),
        ("/login?next=/logs?level=ERROR", True, "/logs?level=ERROR"),
        ("/login?next=//evil.example", True, "/overview"),
    ],
)
def test_redirects(client, path, auth, location):
    if auth:
        logged_in(client)
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == location


@pytest.mark.parametrize(
    "page",
    [
        "/journal?umo=qq%3AFriendMessage%3Aa%2Fb&kind=sent&range=custom&since=2026-11-28T14%3A03",
        "/sessions?q=a+b&kind=group&sort=-name&page=2",
        "/session?umo=a:b:c/d%26e",
    ],
)
def test_the_login_returns_to_the_page_with_all_its_parameters(client, page):
    location = client.get(page).headers["location"]
    assert location.startswith("/login?next=")
    next_path = parse_qs(urlsplit(location).query)["next"]
    assert next_path == [page]
    logged_in(client)
    assert client.get(location).headers["location"] == page


@pytest.mark.parametrize(
    ("next_value", "location"),
    [("/logs", "/logs"), ("//evil.example", "/"), ("https://evil.example", "/"), ("/\\x", "/")],
)
def test_language_switch_sets_a_strict_cookie_and_goes_back_safely(client, next_value, location):
    response = client.get("/lang/zh", params={"next": next_value})
    assert response.status_code == 303
    assert response.headers["location"] == location
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("pc_lang=zh;")
    assert "samesite=strict" in cookie
    assert "path=/" in cookie


def test_language_switch_refuses_unknown_languages(client):
    assert client.get("/lang/fr").status_code == 404


class Page(HTMLParser):
    """Ids, scripts, inline styles and the i18n JSON of one page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.scripts: list[dict[str, str | None]] = []
        self.styled: list[str] = []
        self.lang: str | None = None
        self.i18n = ""
        self._in_i18n = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.add(attributes["id"] or "")
        if "style" in attributes or tag == "style":
            self.styled.append(tag)
        if tag == "html":
            self.lang = attributes.get("lang")
        if tag == "script":
            self.scripts.append(attributes)
            self._in_i18n = attributes.get("id") == "i18n"

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_i18n = False

    def handle_data(self, data):
        if self._in_i18n:
            self.i18n += data


LOGIN_IDS = {"password", "login-btn", "login-error", "theme-toggle", "lang-zh", "lang-en"}
LOGS_IDS = {
    "level",
    "scope",
    "search",
    "pause",
    "follow",
    "clear",
    "download",
    "conn-state",
    "log",
    "line-count",
    "pending-count",
    "logout",
}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(("path", "ids"), [("/login", LOGIN_IDS), ("/logs", LOGS_IDS)])
def test_pages_render_in_both_languages(client, lang, path, ids):
    client.cookies.set("pc_lang", lang)
    if path == "/logs":
        logged_in(client)
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    page = Page(response.text)
    assert ids <= page.ids
    assert page.lang == {"zh": "zh-CN", "en": "en"}[lang]
    assert json.loads(page.i18n) == js_strings(lang)
    t = translator(lang)
    assert t("nav.logs" if path == "/logs" else "login.heading") in response.text
    assert "9.8.7" in response.text
    # CSP script-src 'self' / style-src 'self': no inline code, no inline styles.
    for script in page.scripts:
        assert script.get("src") or script.get("type") == "application/json", script
        if script.get("src"):
            assert re.fullmatch(r"/static/[\w/.-]+\?v=[0-9a-f]{10}", script["src"])
    assert not page.styled


def test_login_page_hides_logout_and_keeps_a_safe_next(client):
    response = client.get("/login", params={"next": "https://evil.example"})
    page = Page(response.text)
    assert "logout" not in page.ids
    assert 'data-next="/overview"' in response.text


def test_template_output_is_escaped(client):
    response = client.get("/login", params={"next": "/x<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in response.text


def test_each_text_key_belongs_to_one_page_module():
    from proactive_chat.web import i18n

    seen: dict[str, str] = {}
    base = set(i18n.ZH) - {k for m in i18n.PAGE_TEXTS for k in m.ZH}
    for module in i18n.PAGE_TEXTS:
        assert module.ZH.keys() == module.EN.keys(), module.__name__
        assert set(module.JS_KEYS) <= module.ZH.keys(), module.__name__
        for key in module.ZH:
            assert key not in seen, f"{key} is in {seen.get(key)} and {module.__name__}"
            assert key not in base, f"{key} is in web/i18n.py and {module.__name__}"
            seen[key] = module.__name__


@pytest.mark.parametrize("path", sorted(ENGINE_PAGES))
def test_every_engine_page_needs_a_login(client, path):
    response = client.get(path, params={"x": "1"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}?x=1"


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("path", sorted(ENGINE_PAGES))
def test_engine_pages_render_without_an_engine_and_keep_the_csp(client, lang, path):
    """No service at all (the panel alone): every page still renders, says why, and
    carries no inline code or style (CSP ``script-src 'self'; style-src 'self'``)."""
    client.cookies.set("pc_lang", lang)
    logged_in(client)
    url = f"{path}?umo=test:FriendMessage:alice" if path == "/session" else path
    response = client.get(url)
    assert response.status_code == 200, response.text[:500]
    page = Page(response.text)
    assert page.lang == {"zh": "zh-CN", "en": "en"}[lang]
    assert json.loads(page.i18n) == js_strings(lang)
    assert {"logout", "theme-toggle", "lang-zh", "lang-en"} <= page.ids
    for script in page.scripts:
        assert script.get("src") or script.get("type") == "application/json", script
    assert not page.styled
    if path != "/help":
        visible = re.sub(r"<script.*?</script>", "", response.text, flags=re.S)
        assert translator(lang)("reason.engine_not_loaded") in visible  # said, and translated
