"""The panel app end to end in-process: ``create_app`` behind ``PanelGuard``, over httpx.

Over 400 lines on purpose: the guard's rules are one table of routes and answers.
"""

from __future__ import annotations

import json

import httpx
import pytest

from harness.panel_app import walk_routes
from harness.panel_probes import login_with
from proactive_chat.core.logs.redaction import Redactor
from proactive_chat.core.logs.ring import LogRing
from proactive_chat.core.logs.stream import LogStream
from proactive_chat.web.app import AppDeps, create_app
from proactive_chat.web.auth.credentials import PanelSecrets
from proactive_chat.web.auth.guard import LOGIN_MAX_BODY_BYTES, MAX_BODY_BYTES
from proactive_chat.web.auth.tokens import COOKIE_NAME, PanelAuth
from proactive_chat.web.settings import WebAdminSettings

PASSWORD = "Panel-Passw0rd"
BASE_URL = "http://127.0.0.1:4100"


def build(password: str = PASSWORD, hashed: str | None = None, **settings_kw):
    settings = WebAdminSettings(password=password, **settings_kw)
    auth = PanelAuth(PanelSecrets(b"k" * 32, hashed), settings.password, 3600.0)
    stream = LogStream(LogRing(100, {}), Redactor(), {})  # never started
    deps = AppDeps(
        settings=settings, auth=auth, log_stream=stream, version="0.1.0", astrbot_version="4.29.3"
    )
    return create_app(deps), deps


def client_for(app, **kw) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, **kw), base_url=BASE_URL, follow_redirects=False
    )


@pytest.fixture
def built():
    return build()


@pytest.fixture
async def client(built):
    async with client_for(built[0]) as c:
        yield c


def api_routes(app) -> list[tuple[str, str]]:
    pairs = []
    for route in walk_routes(app.routes):
        path = getattr(route, "path", "")
        for method in sorted(getattr(route, "methods", None) or ()):
            if path.startswith("/api/") and method != "HEAD":
                pairs.append((method, path))
    return pairs


# --- open and closed routes ---------------------------------------------------------


async def test_healthz_is_open(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_the_api_route_list_is_what_we_test(built):
    session = "/api/sessions/{umo:path}"
    assert sorted(api_routes(built[0])) == sorted(
        [
            ("GET", "/api/logs"),
            ("GET", "/api/me"),
            ("GET", "/api/openapi.json"),
            ("POST", "/api/login"),
            ("POST", "/api/logout"),
            ("GET", "/api/status"),
            ("GET", "/api/sessions"),
            ("GET", session),
            ("GET", f"{session}/override"),
            ("PUT", f"{session}/override"),
            ("DELETE", f"{session}/override"),
            ("POST", f"{session}/trigger"),
            ("POST", f"{session}/reschedule"),
            ("POST", f"{session}/pause"),
            ("POST", f"{session}/resume"),
            ("POST", f"{session}/cancel"),
            ("PUT", f"{session}/served"),
            ("POST", f"{session}/promise/cancel"),
            ("GET", f"{session}/habits"),
            ("GET", "/api/journal"),
            ("GET", "/api/journal.csv"),
            ("GET", "/api/stats/daily"),
            ("GET", "/api/stats/overview"),
            ("GET", "/api/config"),
            ("PUT", "/api/config"),
            ("GET", "/api/config/schema"),
            ("GET", f"{session}/preview"),
            ("POST", f"{session}/draft"),
            ("GET", f"{session}/forecast"),
            ("GET", "/api/forecast"),
        ]
    )


@pytest.mark.parametrize("password", [PASSWORD, ""])
async def test_every_api_route_needs_login(password):
    app, _ = build(password=password)
    async with client_for(app) as client:
        checked = 0
        for method, path in [*api_routes(app), ("GET", "/api/nope"), ("DELETE", "/api/me")]:
            if path == "/api/login":
                continue
            response = await client.request(method, path)
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["error"] == "unauthorized"
            assert response.headers["www-authenticate"] == "Bearer"
            checked += 1
        assert checked == 31  # 24 + served, promise/cancel, preview, draft, forecast, all, habits


async def test_no_password_configured_makes_login_impossible():
    app, deps = build(password="", hashed=None)
    assert deps.auth.has_password is False
    async with client_for(app) as client:
        for candidate in ("", "x", PASSWORD, "null"):
            response = await client.post("/api/login", json={"password": candidate})
            assert response.status_code in (400, 401), response.text
            assert "set-cookie" not in response.headers
        assert (await client.get("/api/me")).status_code == 401


async def test_generated_password_login():
    from proactive_chat.web.auth.credentials import hash_password

    app, _ = build(password="", hashed=hash_password("gen-Pw-1"))
    async with client_for(app) as client:
        assert (await client.post("/api/login", json={"password": "gen-Pw-2"})).status_code == 401
        token = await login_with(client, "gen-Pw-1")
        me = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200


# --- login -------------------------------------------------------------------------


async def test_login_sets_strict_httponly_cookie(client, built):
    response = await client.post("/api/login", json={"password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["expires_in"] == 3600
    assert built[1].auth.token_valid(body["token"])
    cookies = response.headers.get_list("set-cookie")
    assert len(cookies) == 1
    parts = [p.strip() for p in cookies[0].split(";")]
    assert parts[0] == f"{COOKIE_NAME}={body['token']}"
    attributes = {p.split("=")[0].lower(): p for p in parts[1:]}
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "samesite=strict"
    assert attributes["path"] == "Path=/"
    assert attributes["max-age"] == "Max-Age=3600"
    assert "secure" not in attributes  # plain http: a Secure cookie would never come back
    assert response.headers["cache-control"] == "no-store"


async def test_bearer_and_cookie_both_work(client):
    token = await login_with(client, PASSWORD)
    client.cookies.clear()
    me = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["via"] == "header"
    assert me.json()["authenticated"] is True
    assert me.json()["expires_at"] > 0

    me = await client.get("/api/me", headers={"Cookie": f"{COOKIE_NAME}={token}"})
    assert me.status_code == 200
    assert me.json()["via"] == "cookie"


async def test_cookie_from_login_is_kept_by_the_client(client):
    await login_with(client, PASSWORD)
    me = await client.get("/api/me")
    assert (me.status_code, me.json()["via"]) == (200, "cookie")


async def test_query_token_is_not_accepted_over_http(client):
    token = await login_with(client, PASSWORD)
    client.cookies.clear()
    assert (await client.get(f"/api/me?token={token}")).status_code == 401


async def test_forged_token_refused(client):
    response = await client.get("/api/me", headers={"Authorization": "Bearer abc.def"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"",
        b"[]",
        b'"pw"',
        b"{}",
        b'{"password": ""}',
        b'{"password": 5}',
        b'{"password": null}',
        b"\xff\xfe",
    ],
)
async def test_login_bad_request(client, content):
    response = await client.post(
        "/api/login", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "bad_request"


async def test_login_wrong_password(client):
    response = await client.post("/api/login", json={"password": "wrong"})
    assert response.status_code == 401
    assert response.json()["error"] == "bad_password"
    assert "set-cookie" not in response.headers


async def test_login_rate_limited_after_five_wrong(client):
    for _ in range(4):
        response = await client.post("/api/login", json={"password": "wrong"})
        assert response.status_code == 401
    response = await client.post("/api/login", json={"password": "wrong"})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "60"
    assert response.json()["error"] == "rate_limited"
    assert response.json()["retry_after"] == 60
    # Even the right password waits now.
    response = await client.post("/api/login", json={"password": PASSWORD})
    assert response.status_code == 429
    assert 1 <= int(response.headers["retry-after"]) <= 60


async def test_success_resets_failures(client):
    for _ in range(4):
        await client.post("/api/login", json={"password": "wrong"})
    await login_with(client, PASSWORD)
    for _ in range(4):
        response = await client.post("/api/login", json={"password": "wrong"})
        assert response.status_code == 401


async def test_logout_deletes_cookie(client):
    token = await login_with(client, PASSWORD)
    response = await client.post("/api/logout", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 204
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f'{COOKIE_NAME}=""') or cookie.startswith(f"{COOKIE_NAME}=;")
    assert "Max-Age=0" in cookie
    # The token is dead on the server too, not only forgotten by this browser.
    response = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


async def test_configured_password_works_exactly_as_typed():
    app, _ = build(password="  spaced Passw0rd ")
    async with client_for(app) as client:
        assert (
            await client.post("/api/login", json={"password": "spaced Passw0rd"})
        ).status_code == 401
        await login_with(client, "  spaced Passw0rd ")


# --- host, origin, headers, body size ---------------------------------------------------


@pytest.mark.parametrize("path", ["/healthz", "/api/me", "/login", "/api/login"])
async def test_evil_host_is_refused(client, path):
    response = await client.get(path, headers={"Host": "evil.com"})
    assert response.status_code == 400
    assert response.json()["error"] == "host_not_allowed"


async def test_host_with_port_and_localhost_allowed(client):
    for host in ("localhost:4100", "127.0.0.1", "[::1]:4100"):
        assert (await client.get("/healthz", headers={"Host": host})).status_code == 200


async def test_allowed_hosts_setting_is_honoured():
    app, _ = build(allowed_hosts=("panel.lan",))
    async with client_for(app) as client:
        assert (await client.get("/healthz", headers={"Host": "panel.lan:4100"})).status_code == 200
        assert (await client.get("/healthz", headers={"Host": "panel2.lan"})).status_code == 400


async def test_cross_origin_post_with_cookie_is_refused(client):
    await login_with(client, PASSWORD)
    response = await client.post("/api/logout", headers={"Origin": "http://evil.com"})
    assert response.status_code == 403
    assert response.json()["error"] == "bad_origin"
    response = await client.post("/api/logout", headers={"Referer": "http://evil.com/page"})
    assert response.status_code == 403
    response = await client.post("/api/logout", headers={"Origin": "null"})
    assert response.status_code == 403


async def test_same_origin_post_with_cookie_is_accepted(client):
    await login_with(client, PASSWORD)
    response = await client.post("/api/logout", headers={"Origin": "http://127.0.0.1:4100"})
    assert response.status_code == 204


async def test_cross_origin_post_with_bearer_is_accepted(client):
    token = await login_with(client, PASSWORD)
    client.cookies.clear()
    response = await client.post(
        "/api/logout",
        headers={"Origin": "http://evil.com", "Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 204


async def test_cross_origin_login_is_refused(client):
    response = await client.post(
        "/api/login", json={"password": PASSWORD}, headers={"Origin": "http://evil.com"}
    )
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("path", ["/healthz", "/api/me", "/nope", "/login"])
async def test_security_headers(client, path):
    response = await client.get(path)
    headers = response.headers
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert headers["cross-origin-resource-policy"] == "same-origin"
    assert len(headers.get_list("content-security-policy")) == 1


async def test_security_headers_on_refusals(client):
    response = await client.get("/healthz", headers={"Host": "evil.com"})
    assert response.headers["x-frame-options"] == "DENY"
    response = await client.get("/api/me")
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "origin",
    ["https://127.0.0.1", "http://127.0.0.1:4100", "https://localhost", "https://evil.com"],
)
async def test_no_cors_for_any_origin(client, origin):
    """The pages are same-origin and need no CORS; no other origin may read an answer
    (the CORS list once allowed local HTTPS origins the Origin check refuses)."""
    token = await login_with(client, PASSWORD)
    preflight = await client.options(
        "/api/status",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
    )
    answer = await client.get(
        "/api/status", headers={"Origin": origin, "Authorization": f"Bearer {token}"}
    )
    for response in (preflight, answer):
        assert not [h for h in response.headers if h.lower().startswith("access-control-")]


async def test_body_over_limit_is_413(client):
    response = await client.post(
        "/api/login",
        content=b"x" * (MAX_BODY_BYTES + 1),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
    assert MAX_BODY_BYTES == 256 * 1024


async def test_body_at_limit_is_read(client):
    # The login's body is read before any login: its own, smaller cap.
    body = json.dumps({"password": "wrong", "pad": "x" * (LOGIN_MAX_BODY_BYTES - 40)}).encode()
    assert len(body) <= LOGIN_MAX_BODY_BYTES
    response = await client.post(
        "/api/login", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401
    response = await client.post("/api/login", content=body + b" " * 40)
    assert response.status_code == 413
    # Logged in, the whole MAX_BODY_BYTES.
    token = await login_with(client, PASSWORD)
    bearer = {"Authorization": f"Bearer {token}"}
    response = await client.post("/api/logout", content=b" " * MAX_BODY_BYTES, headers=bearer)
    assert response.status_code == 204


async def test_a_strangers_body_is_refused_before_it_is_read(built):
    read = []

    async def chunks():
        for _ in range(MAX_BODY_BYTES // 1024 + 10):
            read.append(1)
            yield b"x" * 1024

    async with client_for(built[0], raise_app_exceptions=False) as client:
        response = await client.post("/api/status", content=chunks())
    assert response.status_code == 401, response.text


async def test_bad_content_length_is_413(client):
    response = await client.post("/api/login", content=b"{}", headers={"Content-Length": "-1"})
    assert response.status_code == 413


async def test_chunked_body_over_limit_is_413_not_a_server_error(built):
    async def chunks():
        for _ in range(MAX_BODY_BYTES // 1024 + 10):
            yield b"x" * 1024

    async with client_for(built[0], raise_app_exceptions=False) as client:
        response = await client.post("/api/login", content=chunks())
    assert response.status_code == 413, response.text


# --- logs snapshot ------------------------------------------------------------------------


async def test_logs_snapshot(client, built):
    ring = built[1].log_stream.ring
    for n in range(1, 6):
        ring.append(float(n), "ERROR" if n == 4 else "INFO", f"line {n}", n % 2 == 0)
    token = await login_with(client, PASSWORD)
    headers = {"Authorization": f"Bearer {token}"}
    body = (await client.get("/api/logs", headers=headers)).json()
    assert (body["first_seq"], body["next_seq"], body["missed"]) == (1, 6, 0)
    assert [ln["seq"] for ln in body["lines"]] == [1, 2, 3, 4, 5]
    assert body["lines"][0] == {
        "seq": 1,
        "time": 1.0,
        "level": "INFO",
        "text": "line 1",
        "plugin": False,
    }
    body = (await client.get("/api/logs?since=3", headers=headers)).json()
    assert [ln["seq"] for ln in body["lines"]] == [4, 5]
    body = (await client.get("/api/logs?level=ERROR", headers=headers)).json()
    assert [ln["seq"] for ln in body["lines"]] == [4]
    body = (await client.get("/api/logs?scope=plugin&q=LINE", headers=headers)).json()
    assert [ln["seq"] for ln in body["lines"]] == [2, 4]
    body = (await client.get("/api/logs?limit=2", headers=headers)).json()
    assert [ln["seq"] for ln in body["lines"]] == [4, 5]
    for query, named in (("level=LOUD", "level"), ("scope=everyone", "scope")):
        response = await client.get(f"/api/logs?{query}", headers=headers)
        assert response.status_code == 400, query
        assert response.json()["error"] == "bad_filter" and named in response.json()["message"]


async def test_logs_snapshot_bad_param_is_400(client):
    token = await login_with(client, PASSWORD)
    response = await client.get("/api/logs?since=abc", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"


async def test_chunked_body_under_limit_is_read(built):
    async def chunks():
        yield b'{"password": '
        yield json.dumps(PASSWORD).encode() + b"}"

    async with client_for(built[0]) as client:
        response = await client.post(
            "/api/login", content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 200, response.text
