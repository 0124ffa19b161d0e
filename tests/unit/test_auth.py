"""``PanelAuth``: password checks, signed tokens, where a token is found."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from starlette.requests import HTTPConnection, Request
from starlette.websockets import WebSocket

from proactive_chat.web.auth.credentials import PanelSecrets, hash_password
from proactive_chat.web.auth.tokens import COOKIE_NAME, PanelAuth

KEY = b"k" * 32
LIFETIME = 3600.0


@pytest.fixture(scope="module")
def generated_hash() -> str:
    return hash_password("generated-Pw-123")


def make_auth(clock, password="s3cret-pass", hashed=None, key=KEY, lifetime=LIFETIME) -> PanelAuth:
    return PanelAuth(PanelSecrets(key, hashed), password, lifetime, clock=clock)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- passwords ----------------------------------------------------------------------


async def test_configured_password(clock):
    auth = make_auth(clock)
    assert auth.has_password is True
    assert await auth.check_password("s3cret-pass") is True
    assert await auth.check_password("s3cret-pass ") is False
    assert await auth.check_password("S3cret-pass") is False
    assert await auth.check_password("s3cret") is False


async def test_generated_password_hash(clock, generated_hash):
    auth = make_auth(clock, password="", hashed=generated_hash)
    assert auth.has_password is True
    assert await auth.check_password("generated-Pw-123") is True
    assert await auth.check_password("generated-Pw-124") is False


async def test_configured_password_wins_over_generated(clock, generated_hash):
    auth = make_auth(clock, password="configured", hashed=generated_hash)
    assert await auth.check_password("configured") is True
    assert await auth.check_password("generated-Pw-123") is False


async def test_no_password_at_all_means_no_login(clock):
    auth = make_auth(clock, password="", hashed=None)
    assert auth.has_password is False
    for candidate in ("", "x", "s3cret-pass", " "):
        assert await auth.check_password(candidate) is False


@pytest.mark.parametrize("candidate", ["", "x" * 1025, "s3cret-pass" + "x" * 2000])
async def test_empty_and_oversized_candidates(clock, candidate):
    assert await make_auth(clock).check_password(candidate) is False


async def test_candidate_of_exactly_1024_chars_is_checked(clock):
    password = "p" * 1024
    auth = make_auth(clock, password=password)
    assert await auth.check_password(password) is True


async def test_oversized_candidate_against_hash_is_refused_without_hashing(clock, generated_hash):
    auth = make_auth(clock, password="", hashed=generated_hash)
    assert await auth.check_password("g" * 5000) is False


# --- tokens ----------------------------------------------------------------------------


def test_issue_and_verify(clock):
    auth = make_auth(clock)
    token = auth.issue_token()
    body, _ = token.split(".")
    payload = json.loads(unb64(body))
    assert payload["iat"] == int(clock.now)
    assert payload["exp"] == int(clock.now) + 3600
    assert len(payload["n"]) == 16
    assert auth.token_valid(token) is True
    assert auth.token_expiry(token) == payload["exp"]
    assert len(token) < 512


def test_tokens_are_unique(clock):
    auth = make_auth(clock)
    assert len({auth.issue_token() for _ in range(50)}) == 50


def test_token_expires(clock):
    auth = make_auth(clock)
    token = auth.issue_token()
    clock.advance(LIFETIME - 1)
    assert auth.token_valid(token) is True
    clock.advance(1)
    assert auth.token_valid(token) is False
    assert auth.token_expiry(token) is None


def test_token_survives_a_new_auth_with_same_key_and_password(clock):
    token = make_auth(clock).issue_token()
    assert make_auth(clock).token_valid(token) is True


def test_token_from_another_key_is_rejected(clock):
    token = make_auth(clock, key=b"other-key" * 4).issue_token()
    assert make_auth(clock).token_valid(token) is False


def test_token_dies_when_password_changes(clock):
    token = make_auth(clock, password="old-password").issue_token()
    assert make_auth(clock, password="new-password").token_valid(token) is False


def test_token_dies_when_generated_password_changes(clock):
    token = make_auth(clock, password="", hashed="scrypt$1$1$1$a$b").issue_token()
    assert make_auth(clock, password="", hashed="scrypt$1$1$1$a$c").token_valid(token) is False
    assert make_auth(clock, password="", hashed="scrypt$1$1$1$a$b").token_valid(token) is True


def test_token_with_no_password_is_not_valid_after_one_is_set(clock):
    token = make_auth(clock, password="", hashed=None).issue_token()
    assert make_auth(clock).token_valid(token) is False


def test_tampered_payload_is_rejected(clock):
    auth = make_auth(clock)
    body, signature = auth.issue_token().split(".")
    payload = json.loads(unb64(body))
    payload["exp"] += 10**9
    forged = b64(json.dumps(payload, separators=(",", ":")).encode())
    assert auth.token_valid(f"{forged}.{signature}") is False


def test_tampered_signature_is_rejected(clock):
    auth = make_auth(clock)
    body, signature = auth.issue_token().split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert auth.token_valid(f"{body}.{flipped}") is False
    assert auth.token_valid(f"{body}.") is False
    assert auth.token_valid(f"{body}.{signature}x") is False


def _signed(auth: PanelAuth, body: str) -> str:
    signature = b64(hmac.new(auth._key, body.encode(), "sha256").digest())
    return f"{body}.{signature}"


@pytest.mark.parametrize(
    "payload",
    [b"not json", b"[1, 2]", b'{"iat": 1}', b'{"exp": "soon"}', b'{"exp": [1]}', b'{"exp": NaN}'],
)
def test_genuine_signature_over_bad_payload_is_rejected(clock, payload):
    auth = make_auth(clock)
    assert auth.token_expiry(_signed(auth, b64(payload))) is None


def test_genuine_signature_over_non_base64_body_is_rejected(clock):
    auth = make_auth(clock)
    assert auth.token_expiry(_signed(auth, "!!!*")) is None


@pytest.mark.parametrize(
    "token",
    [None, "", ".", "..", "a.b.c", "abc", "a.b", "é.ü", "a" * 600, "a." + "b" * 600, " . "],
)
def test_garbage_tokens(clock, token):
    auth = make_auth(clock)
    assert auth.token_valid(token) is False
    assert auth.token_expiry(token) is None


def test_key_is_bound_to_the_password_fingerprint(clock):
    auth = make_auth(clock, password="pw")
    expected = hmac.new(KEY, b"pc-token-v1|" + hashlib.sha256(b"pw").digest(), "sha256").digest()
    assert auth._key == expected


# --- where tokens come from ----------------------------------------------------------


def http_scope(headers=(), query=b"", kind="http") -> dict:
    scope = {
        "type": kind,
        "path": "/api/me",
        "headers": [(k.encode(), v.encode()) for k, v in headers],
        "query_string": query,
        "scheme": "http" if kind == "http" else "ws",
        "server": ("127.0.0.1", 4100),
        "client": ("127.0.0.1", 50000),
    }
    if kind == "http":
        scope["method"] = "GET"
    return scope


async def _noop_receive():
    return {"type": "websocket.connect"}


async def _noop_send(message):
    return None


def websocket(headers=(), query=b"") -> WebSocket:
    return WebSocket(http_scope(headers, query, "websocket"), _noop_receive, _noop_send)


def test_token_from_bearer_header(clock):
    auth = make_auth(clock)
    request = Request(http_scope([("authorization", "Bearer tok-123")]))
    assert auth.token_from(request) == ("tok-123", "header")
    request = Request(http_scope([("authorization", "bearer   tok-123  ")]))
    assert auth.token_from(request) == ("tok-123", "header")


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "tok-123", ""])
def test_non_bearer_authorization_is_ignored(clock, header):
    auth = make_auth(clock)
    request = Request(http_scope([("authorization", header)]))
    assert auth.token_from(request) == (None, "")


def test_token_from_cookie(clock):
    auth = make_auth(clock)
    request = Request(http_scope([("cookie", f"other=1; {COOKIE_NAME}=cookie-tok")]))
    assert auth.token_from(request) == ("cookie-tok", "cookie")


def test_header_wins_over_cookie_and_query(clock):
    auth = make_auth(clock)
    request = Request(
        http_scope(
            [("authorization", "Bearer from-header"), ("cookie", f"{COOKIE_NAME}=from-cookie")],
            b"token=from-query",
        )
    )
    assert auth.token_from(request, allow_query=True) == ("from-header", "header")


def test_cookie_wins_over_query(clock):
    auth = make_auth(clock)
    ws = websocket([("cookie", f"{COOKIE_NAME}=from-cookie")], b"token=from-query")
    assert auth.token_from(ws, allow_query=True) == ("from-cookie", "cookie")


def test_query_only_when_allowed(clock):
    auth = make_auth(clock)
    request = Request(http_scope(query=b"token=q-tok"))
    assert auth.token_from(request) == (None, "")
    assert auth.token_from(request, allow_query=True) == ("q-tok", "query")


def test_is_authenticated_http_ignores_query_token(clock):
    auth = make_auth(clock)
    token = auth.issue_token()
    assert auth.is_authenticated(Request(http_scope(query=f"token={token}".encode()))) is False
    assert auth.is_authenticated(Request(http_scope([("authorization", f"Bearer {token}")])))
    assert auth.is_authenticated(Request(http_scope([("cookie", f"{COOKIE_NAME}={token}")])))


def test_is_authenticated_websocket_accepts_query_header_and_cookie(clock):
    auth = make_auth(clock)
    token = auth.issue_token()
    assert auth.is_authenticated(websocket(query=f"token={token}".encode())) is True
    assert auth.is_authenticated(websocket([("authorization", f"Bearer {token}")])) is True
    assert auth.is_authenticated(websocket([("cookie", f"{COOKIE_NAME}={token}")])) is True
    assert auth.is_authenticated(websocket()) is False
    assert auth.is_authenticated(websocket(query=b"token=forged.token")) is False


def test_is_authenticated_with_expired_token(clock):
    auth = make_auth(clock)
    token = auth.issue_token()
    clock.advance(LIFETIME + 1)
    assert (
        auth.is_authenticated(HTTPConnection(http_scope([("cookie", f"{COOKIE_NAME}={token}")])))
        is False
    )


# --- logout ends the token on the server -----------------------------------------------


async def test_revoked_token_is_dead_and_others_live(clock):
    saved = []
    auth = PanelAuth(
        PanelSecrets(KEY, None), "pw", LIFETIME, clock=clock, save_revoked=saved.append
    )
    ended, kept = auth.issue_token(), auth.issue_token()
    assert await auth.revoke(ended) is True
    assert auth.token_valid(ended) is False
    assert auth.token_valid(kept) is True
    assert await auth.revoke(ended) is False  # nothing left to end
    assert await auth.revoke("forged.token") is False
    assert len(saved) == 1 and len(saved[0]) == 1
    # The next instance (a reload, a restart) reads the list from the data dir.
    again = PanelAuth(PanelSecrets(KEY, None, revoked=saved[0]), "pw", LIFETIME, clock=clock)
    assert again.token_valid(ended) is False
    assert again.token_valid(kept) is True


async def test_revoked_list_is_bounded_and_forgets_expired(clock, monkeypatch):
    monkeypatch.setattr("proactive_chat.web.auth.tokens.MAX_REVOKED", 3)
    auth = make_auth(clock)
    tokens = []
    for _ in range(4):
        tokens.append(auth.issue_token())
        clock.advance(10)
    for token in tokens:
        assert await auth.revoke(token) is True
    assert len(auth._revoked) == 3
    clock.advance(LIFETIME)
    assert await auth.revoke(auth.issue_token()) is True
    assert len(auth._revoked) == 1
