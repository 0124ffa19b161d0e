"""Login for the panel: password check, signed tokens, and where a token is found.

Tokens are ``<payload>.<signature>``: an HMAC-SHA256 over the expiry, keyed by the
signing key from the data dir and the current password. They survive hot reloads and
restarts and all die when the password changes (and stay dead if it is changed back:
the data dir's signing key is replaced, see ``credentials``). A logout ends its token
on the server: its nonce is kept, with its expiry, in ``revoked`` (and in the data
dir) until it would have expired anyway; at most ``MAX_REVOKED`` are kept, the ones
expiring soonest are forgotten first.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import math
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import HTTPConnection

from ..settings import MAX_PASSWORD_CHARS
from .credentials import PanelSecrets, b64decode, b64encode, verify_password_hash

COOKIE_NAME = "pc_session"
# Set only by the AstrBot dashboard page's in-process calls (web/dashboard/inprocess.py),
# which AstrBot's own login already admitted. A network client cannot set an ASGI scope
# key: uvicorn builds the scope from the request line and headers.
IN_PROCESS_SCOPE_KEY = "proactive_chat.dashboard"
_MAX_TOKEN_LENGTH = 512
MAX_REVOKED = 4096

RevokedSaver = Callable[[Mapping[str, int]], None]


class PanelAuth:
    def __init__(
        self,
        panel_secrets: PanelSecrets,
        configured_password: str,
        token_lifetime: float,
        clock: Callable[[], float] = time.time,
        save_revoked: RevokedSaver | None = None,
    ) -> None:
        self._configured = configured_password
        self._generated_hash = panel_secrets.generated_password_hash
        self.token_lifetime = token_lifetime
        self._clock = clock
        # Binding the key to the password makes a password change end every login.
        fingerprint = (
            hashlib.sha256(configured_password.encode()).digest()
            if configured_password
            else (self._generated_hash or "").encode()
        )
        self._key = hmac.new(
            panel_secrets.signing_key, b"pc-token-v1|" + fingerprint, "sha256"
        ).digest()
        # scrypt is memory-hungry: a few checks at a time, off the event loop.
        self._hash_slots = asyncio.Semaphore(2)
        self._revoked: dict[str, int] = dict(panel_secrets.revoked)
        self._save_revoked = save_revoked

    @property
    def has_password(self) -> bool:
        return bool(self._configured or self._generated_hash)

    async def check_password(self, candidate: str) -> bool:
        if not candidate or len(candidate) > MAX_PASSWORD_CHARS:
            return False
        if self._configured:
            return hmac.compare_digest(
                hashlib.sha256(candidate.encode()).digest(),
                hashlib.sha256(self._configured.encode()).digest(),
            )
        if not self._generated_hash:
            return False
        async with self._hash_slots:
            return await asyncio.to_thread(verify_password_hash, candidate, self._generated_hash)

    def issue_token(self) -> str:
        now = int(self._clock())
        payload = json.dumps(
            {"iat": now, "exp": now + int(self.token_lifetime), "n": secrets.token_hex(8)},
            separators=(",", ":"),
        ).encode()
        body = b64encode(payload)
        signature = b64encode(hmac.new(self._key, body.encode(), "sha256").digest())
        return f"{body}.{signature}"

    def token_expiry(self, token: str | None) -> float | None:
        """The token's expiry time if it is genuine, unexpired and not logged out, else None."""
        payload = self._genuine_payload(token)
        if payload is None:
            return None
        try:
            expires = float(payload["exp"])
        except (ValueError, KeyError, TypeError):
            return None
        if str(payload.get("n")) in self._revoked:
            return None
        return expires if expires > self._clock() else None

    async def revoke(self, token: str | None) -> bool:
        """End a genuine, unexpired token for good (logout); False if it was none."""
        expires = self.token_expiry(token)
        payload = self._genuine_payload(token)
        if expires is None or payload is None:
            return False
        now = self._clock()
        kept = {nonce: exp for nonce, exp in self._revoked.items() if exp > now}
        kept[str(payload.get("n"))] = math.ceil(expires)
        while len(kept) > MAX_REVOKED:
            del kept[min(kept, key=kept.__getitem__)]
        self._revoked = kept
        if self._save_revoked is not None:
            await asyncio.to_thread(self._save_revoked, dict(kept))
        return True

    def _genuine_payload(self, token: str | None) -> dict[str, Any] | None:
        if not token or len(token) > _MAX_TOKEN_LENGTH or token.count(".") != 1:
            return None
        body, signature = token.split(".")
        expected = b64encode(hmac.new(self._key, body.encode(), "sha256").digest())
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            return None
        try:
            payload = json.loads(b64decode(body))
        except (ValueError, TypeError):
            return None
        return payload if isinstance(payload, dict) else None

    def token_valid(self, token: str | None) -> bool:
        return self.token_expiry(token) is not None

    @staticmethod
    def bearer_token(connection: HTTPConnection) -> str | None:
        header = connection.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return None

    def token_from(
        self, connection: HTTPConnection, allow_query: bool = False
    ) -> tuple[str | None, str]:
        """The token a request carries and where it came from: header, cookie or query."""
        token = self.bearer_token(connection)
        if token:
            return token, "header"
        token = connection.cookies.get(COOKIE_NAME)
        if token:
            return token, "cookie"
        if allow_query:
            token = connection.query_params.get("token")
            if token:
                return token, "query"
        return None, ""

    def is_authenticated(self, connection: HTTPConnection) -> bool:
        if connection.scope.get(IN_PROCESS_SCOPE_KEY) is True:
            return True
        token, _ = self.token_from(connection, allow_query=connection.scope["type"] == "websocket")
        return self.token_valid(token)
