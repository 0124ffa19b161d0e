"""Login for the panel: password check, signed tokens, and where a token is found.

Tokens are ``<payload>.<signature>``: an HMAC-SHA256 over the expiry, keyed by the
signing key from the data dir and the current password. They need no server-side
session table, survive hot reloads and restarts, and all die when the password
changes.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable

from starlette.requests import HTTPConnection

from .credentials import PanelSecrets, b64decode, b64encode, verify_password_hash

COOKIE_NAME = "pc_session"
_MAX_TOKEN_LENGTH = 512


class PanelAuth:
    def __init__(
        self,
        panel_secrets: PanelSecrets,
        configured_password: str,
        token_lifetime: float,
        clock: Callable[[], float] = time.time,
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

    @property
    def has_password(self) -> bool:
        return bool(self._configured or self._generated_hash)

    async def check_password(self, candidate: str) -> bool:
        if not candidate or len(candidate) > 1024:
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
        """The token's expiry time if it is genuine and unexpired, else None."""
        if not token or len(token) > _MAX_TOKEN_LENGTH or token.count(".") != 1:
            return None
        body, signature = token.split(".")
        expected = b64encode(hmac.new(self._key, body.encode(), "sha256").digest())
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            return None
        try:
            payload = json.loads(b64decode(body))
            expires = float(payload["exp"])
        except (ValueError, KeyError, TypeError):
            return None
        return expires if expires > self._clock() else None

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
        token, _ = self.token_from(connection, allow_query=connection.scope["type"] == "websocket")
        return self.token_valid(token)
