"""The panel's login secrets, kept in the plugin's data dir.

``panel_auth.json`` holds a random signing key for login tokens (so a token stays
valid across hot reloads and restarts) and, when no password is configured, the
scrypt hash of a generated one. A generated password is returned exactly once,
when it is created, so the caller can show it in the announcing log line; it is
never written anywhere in clear.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from ...core.constants import LOG_PREFIX
from ...core.plugin_log import logger

AUTH_FILE_NAME = "panel_auth.json"
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


def load_or_create_secrets(data_dir: Path, need_generated: bool) -> tuple[PanelSecrets, str | None]:
    """Blocking file I/O: run it in a thread. Returns the secrets and, only when it
    was just created, the generated password in clear."""
    path = data_dir / AUTH_FILE_NAME
    stored = _read_secrets(path)
    new_password = None
    if stored is None:
        stored = PanelSecrets(secrets.token_bytes(32), None)
    if need_generated and not stored.generated_password_hash:
        new_password = generate_password()
        stored = PanelSecrets(stored.signing_key, hash_password(new_password))
    if new_password is not None or not path.exists():
        _write_secrets(path, stored)
    return stored, new_password


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
        return PanelSecrets(key, hashed)
    except (ValueError, KeyError, TypeError) as exc:
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
    }
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(payload, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
