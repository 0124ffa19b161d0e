"""The panel's login secrets, kept in the plugin's data dir.

``panel_auth.json`` holds a random signing key for login tokens (so a token stays
valid across hot reloads and restarts) and, when no password is configured, the
scrypt hash of a generated one. A generated password is returned exactly once,
when it is created, so the caller can show it in the announcing log line; it is
never written anywhere in clear.

A password change ends earlier logins for good: the file remembers which password
the signing key belongs to (its scrypt hash, ``password_check``), and a different
one gets a fresh signing key, so changing the password back later revives nothing.
It also keeps the tokens ended by a logout (``revoked``: nonce -> expiry) until
they would have expired anyway.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from ...core.constants import LOG_PREFIX
from ...core.plugin_log import logger

AUTH_FILE_NAME = "panel_auth.json"
GENERATED_CHECK = "generated"  # password_check when the generated password is the one in use
_FILE_LOCK = threading.Lock()  # two logouts at once must not lose one's revocation
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64encode(salt)}${b64encode(digest)}"


def verify_password_hash(password: str, stored: str) -> bool:
    """CPU-heavy (scrypt): call it off the event loop."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def generate_password() -> str:
    # 18 random bytes -> 24 URL-safe characters, about 144 bits.
    return secrets.token_urlsafe(18)


@dataclass(frozen=True)
class PanelSecrets:
    signing_key: bytes
    generated_password_hash: str | None
    # Which password the signing key belongs to: a scrypt hash, GENERATED_CHECK, or
    # None (a file from before this was kept: adopted as is).
    password_check: str | None = None
    revoked: Mapping[str, int] = field(default_factory=dict)


def load_or_create_secrets(
    data_dir: Path,
    need_generated: bool,
    password: str | None = None,
    verified: dict[str, bytes] | None = None,
) -> tuple[PanelSecrets, str | None]:
    """Blocking file I/O (and scrypt): run it in a thread. Returns the secrets and,
    only when it was just created, the generated password in clear.

    ``password`` is the configured one ("" for the generated one): when given and it
    is not the one the signing key belongs to, the key is replaced (every earlier
    login ends, for good). None leaves the key alone whatever the password.
    ``verified`` (kept in the process stash) remembers a check already passed, so a hot
    reload does not pay for scrypt again while the listener waits for it.
    """
    path = data_dir / AUTH_FILE_NAME
    with _FILE_LOCK:
        stored = _read_secrets(path)
        changed = stored is None
        if stored is None:
            stored = PanelSecrets(secrets.token_bytes(32), None)
        new_password = None
        if need_generated and not stored.generated_password_hash:
            new_password = generate_password()
            stored = replace(stored, generated_password_hash=hash_password(new_password))
            changed = True
        if password is not None and not _key_belongs_to(stored, password, verified):
            if stored.password_check is not None:
                # Another password than the key's: a fresh key ends every earlier login.
                stored = replace(stored, signing_key=secrets.token_bytes(32), revoked={})
            stored = replace(stored, password_check=_check_for(password))
            _remember(verified, stored.password_check, password)
            changed = True
        if changed or not path.exists():
            _write_secrets(path, stored)
    return stored, new_password


def save_revoked(data_dir: Path, revoked: Mapping[str, int]) -> None:
    """Blocking: store the logged-out tokens' nonces (expired ones dropped) in the file,
    if it still holds the same signing key (else they are dead anyway)."""
    path = data_dir / AUTH_FILE_NAME
    now = time.time()
    with _FILE_LOCK:
        stored = _read_secrets(path)
        if stored is None:
            return
        kept = {nonce: exp for nonce, exp in revoked.items() if exp > now}
        try:
            _write_secrets(path, replace(stored, revoked=kept))
        except OSError as exc:
            logger.error(
                "%s Cannot write %s (%s); a logout holds only until AstrBot restarts.",
                LOG_PREFIX,
                path,
                exc,
            )


def _check_for(password: str) -> str:
    return hash_password(password) if password else GENERATED_CHECK


def _key_belongs_to(stored: PanelSecrets, password: str, verified: dict[str, bytes] | None) -> bool:
    check = stored.password_check
    if check is None or check == GENERATED_CHECK:
        return check == GENERATED_CHECK and not password
    if not password:
        return False
    digest = hashlib.sha256(password.encode()).digest()
    if verified is not None and hmac.compare_digest(verified.get(check, b""), digest):
        return True
    if not verify_password_hash(password, check):
        return False
    _remember(verified, check, password)
    return True


def _remember(verified: dict[str, bytes] | None, check: str | None, password: str) -> None:
    if verified is not None and check is not None and password:
        verified.clear()  # one password at a time
        verified[check] = hashlib.sha256(password.encode()).digest()


def _read_secrets(path: Path) -> PanelSecrets | None:
    try:
        raw_bytes = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        logger.error("%s Cannot read %s (%s); using a new login key.", LOG_PREFIX, path, exc)
        return None
    try:
        data = json.loads(raw_bytes.decode("utf-8-sig"))
        key = b64decode(data["signing_key"])
        if len(key) < 16:
            raise ValueError("signing key too short")
        hashed = data.get("generated_password_hash") or None
        if hashed is not None and not (isinstance(hashed, str) and hashed.startswith("scrypt$")):
            raise ValueError("bad password hash")
        check = data.get("password_check") or None
        if check is not None and not (
            isinstance(check, str) and (check == GENERATED_CHECK or check.startswith("scrypt$"))
        ):
            raise ValueError("bad password check")
        revoked = data.get("revoked") or {}
        if not isinstance(revoked, dict):
            raise ValueError("bad revoked list")
        revoked = {str(nonce): int(exp) for nonce, exp in revoked.items()}
        return PanelSecrets(key, hashed, check, revoked)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
        try:
            path.replace(aside)
        except OSError:
            aside = path
        logger.error(
            "%s %s is damaged (%s); moved it to %s and created new login secrets. "
            "Existing logins end; a new generated password is shown if none is configured.",
            LOG_PREFIX,
            path,
            exc.__class__.__name__,
            aside.name,
        )
        return None


def _write_secrets(path: Path, stored: PanelSecrets) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "version": 1,
        "signing_key": b64encode(stored.signing_key),
        "generated_password_hash": stored.generated_password_hash,
        "password_check": stored.password_check,
        "revoked": dict(stored.revoked),
    }
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(payload, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
