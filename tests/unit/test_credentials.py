"""Password hashing and ``panel_auth.json``: creation, re-reading, damaged files."""

from __future__ import annotations

import base64
import json
import os
import stat
import time

import pytest

from proactive_chat.web.auth.credentials import (
    AUTH_FILE_NAME,
    PanelSecrets,
    generate_password,
    hash_password,
    load_or_create_secrets,
    save_revoked,
    verify_password_hash,
)


@pytest.fixture(scope="module")
def known_hash() -> str:
    return hash_password("correct horse", salt=b"0123456789abcdef")


# --- hashing --------------------------------------------------------------------


def test_hash_format(known_hash):
    scheme, n, r, p, salt, digest = known_hash.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert base64.urlsafe_b64decode(salt + "==") == b"0123456789abcdef"
    assert len(base64.urlsafe_b64decode(digest + "=" * (-len(digest) % 4))) == 32
    assert "correct horse" not in known_hash


def test_hash_is_deterministic_for_a_salt_and_salted_otherwise(known_hash):
    assert hash_password("correct horse", salt=b"0123456789abcdef") == known_hash
    a, b = hash_password("same"), hash_password("same")
    assert a != b
    assert verify_password_hash("same", a) and verify_password_hash("same", b)


def test_verify_roundtrip_and_wrong_password(known_hash):
    assert verify_password_hash("correct horse", known_hash) is True
    assert verify_password_hash("correct horse ", known_hash) is False
    assert verify_password_hash("Correct horse", known_hash) is False
    assert verify_password_hash("", known_hash) is False


def test_verify_unicode_password():
    hashed = hash_password("密码-пароль-🔑")
    assert verify_password_hash("密码-пароль-🔑", hashed) is True
    assert verify_password_hash("密码-пароль-", hashed) is False


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "garbage",
        "bcrypt$16384$8$1$c2FsdA$ZGlnZXN0",
        "scrypt$x$8$1$c2FsdA$ZGlnZXN0",
        "scrypt$16384$8$1$c2FsdA",
        "scrypt$16384$8$1$c2FsdA$ZGlnZXN0$extra",
        "scrypt$16383$8$1$c2FsdA$ZGlnZXN0",  # n not a power of two
        "scrypt$16384$8$1$!!!$***",
    ],
)
def test_verify_malformed_hash_is_false_not_an_error(stored):
    assert verify_password_hash("anything", stored) is False


def test_generate_password_shape():
    passwords = {generate_password() for _ in range(20)}
    assert len(passwords) == 20
    for password in passwords:
        assert len(password) == 24
        assert set(password) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        )


# --- load_or_create_secrets ------------------------------------------------------------


def read_file(tmp_path) -> dict:
    return json.loads((tmp_path / AUTH_FILE_NAME).read_text(encoding="utf-8"))


def test_first_call_creates_file_with_0600_and_returns_password_once(tmp_path):
    secrets1, password = load_or_create_secrets(tmp_path, need_generated=True)
    path = tmp_path / AUTH_FILE_NAME
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert isinstance(password, str) and len(password) == 24
    assert isinstance(secrets1, PanelSecrets)
    assert len(secrets1.signing_key) == 32
    assert verify_password_hash(password, secrets1.generated_password_hash)

    stored = read_file(tmp_path)
    assert stored["version"] == 1
    assert stored["generated_password_hash"] == secrets1.generated_password_hash
    assert password not in path.read_text()
    assert not (tmp_path / f".{AUTH_FILE_NAME}.tmp").exists()

    secrets2, again = load_or_create_secrets(tmp_path, need_generated=True)
    assert again is None
    assert secrets2 == secrets1


def test_no_generated_password_when_one_is_configured(tmp_path):
    secrets1, password = load_or_create_secrets(tmp_path, need_generated=False)
    assert password is None
    assert secrets1.generated_password_hash is None
    assert read_file(tmp_path)["generated_password_hash"] is None
    secrets2, password2 = load_or_create_secrets(tmp_path, need_generated=False)
    assert (secrets2, password2) == (secrets1, None)


def test_password_generated_later_keeps_the_signing_key(tmp_path):
    first, _ = load_or_create_secrets(tmp_path, need_generated=False)
    second, password = load_or_create_secrets(tmp_path, need_generated=True)
    assert password is not None
    assert second.signing_key == first.signing_key
    assert verify_password_hash(password, second.generated_password_hash)


def test_generated_hash_is_kept_when_a_password_gets_configured(tmp_path):
    first, _ = load_or_create_secrets(tmp_path, need_generated=True)
    second, password = load_or_create_secrets(tmp_path, need_generated=False)
    assert password is None
    assert second == first


def test_missing_data_dir_is_created(tmp_path):
    data_dir = tmp_path / "plugin_data" / "astrbot_plugin_proactive_chat"
    _, password = load_or_create_secrets(data_dir, need_generated=True)
    assert password is not None
    assert (data_dir / AUTH_FILE_NAME).is_file()


def test_file_with_utf8_bom_is_read(tmp_path):
    original, _ = load_or_create_secrets(tmp_path, need_generated=True)
    path = tmp_path / AUTH_FILE_NAME
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    again, password = load_or_create_secrets(tmp_path, need_generated=True)
    assert password is None
    assert again == original
    assert list(tmp_path.glob(f"{AUTH_FILE_NAME}.corrupt-*")) == []


def _good_key() -> str:
    return base64.urlsafe_b64encode(b"k" * 32).decode().rstrip("=")


@pytest.mark.parametrize(
    "content",
    [
        "this is not json",
        "",
        "[]",
        '"a string"',
        "null",
        "{}",
        '{"signing_key": 5}',
        '{"signing_key": null}',
        '{"signing_key": "c2hvcnQ"}',  # b"short": under 16 bytes
        '{"signing_key": "!!!not-base64!!!"}',
        json.dumps({"signing_key": _good_key(), "generated_password_hash": "plaintext"}),
        json.dumps({"signing_key": _good_key(), "generated_password_hash": 42}),
    ],
)
def test_damaged_file_is_moved_aside_and_replaced(tmp_path, content):
    path = tmp_path / AUTH_FILE_NAME
    path.write_text(content, encoding="utf-8")
    secrets1, password = load_or_create_secrets(tmp_path, need_generated=True)
    assert password is not None
    assert verify_password_hash(password, secrets1.generated_password_hash)
    aside = list(tmp_path.glob(f"{AUTH_FILE_NAME}.corrupt-*"))
    assert len(aside) == 1
    assert aside[0].read_text(encoding="utf-8") == content
    assert read_file(tmp_path)["generated_password_hash"] == secrets1.generated_password_hash
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # and the replacement is stable
    secrets2, again = load_or_create_secrets(tmp_path, need_generated=True)
    assert (secrets2, again) == (secrets1, None)


def test_damaged_binary_file_is_moved_aside(tmp_path):
    path = tmp_path / AUTH_FILE_NAME
    path.write_bytes(b"\xff\xfe\x00garbage\x80")
    secrets1, password = load_or_create_secrets(tmp_path, need_generated=True)
    assert password is not None
    assert len(list(tmp_path.glob(f"{AUTH_FILE_NAME}.corrupt-*"))) == 1
    assert load_or_create_secrets(tmp_path, need_generated=True) == (secrets1, None)


def test_damaged_file_without_need_for_password(tmp_path):
    (tmp_path / AUTH_FILE_NAME).write_text("{broken", encoding="utf-8")
    secrets1, password = load_or_create_secrets(tmp_path, need_generated=False)
    assert password is None
    assert len(secrets1.signing_key) == 32
    assert read_file(tmp_path)["signing_key"]  # a fresh file was written
    assert len(list(tmp_path.glob(f"{AUTH_FILE_NAME}.corrupt-*"))) == 1


def test_file_written_by_hand_is_accepted(tmp_path):
    hashed = hash_password("hand-made", salt=b"s" * 16)
    (tmp_path / AUTH_FILE_NAME).write_text(
        json.dumps({"signing_key": _good_key(), "generated_password_hash": hashed}),
        encoding="utf-8",
    )
    loaded, password = load_or_create_secrets(tmp_path, need_generated=True)
    assert password is None
    assert loaded == PanelSecrets(b"k" * 32, hashed)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads everything")
def test_unreadable_file_gives_fresh_secrets_without_moving_it(tmp_path):
    path = tmp_path / AUTH_FILE_NAME
    load_or_create_secrets(tmp_path, need_generated=False)
    path.chmod(0)
    try:
        secrets1, _ = load_or_create_secrets(tmp_path, need_generated=False)
        assert len(secrets1.signing_key) == 32
        assert list(tmp_path.glob(f"{AUTH_FILE_NAME}.corrupt-*")) == []
    finally:
        path.chmod(0o600)


# --- a password change ends earlier logins for good ------------------------------------


def test_a_password_change_replaces_the_signing_key_for_good(tmp_path):
    first, _ = load_or_create_secrets(tmp_path, need_generated=False, password="old-Passw0rd")
    same, _ = load_or_create_secrets(tmp_path, need_generated=False, password="old-Passw0rd")
    assert same.signing_key == first.signing_key
    changed, _ = load_or_create_secrets(tmp_path, need_generated=False, password="new-Passw0rd")
    assert changed.signing_key != first.signing_key
    back, _ = load_or_create_secrets(tmp_path, need_generated=False, password="old-Passw0rd")
    assert back.signing_key not in (first.signing_key, changed.signing_key)
    assert "old-Passw0rd" not in (tmp_path / AUTH_FILE_NAME).read_text()


def test_switching_between_configured_and_generated_replaces_the_key(tmp_path):
    generated, password = load_or_create_secrets(tmp_path, need_generated=True, password="")
    assert password is not None
    configured, _ = load_or_create_secrets(tmp_path, need_generated=False, password="Chosen-1")
    assert configured.signing_key != generated.signing_key
    again, _ = load_or_create_secrets(tmp_path, need_generated=True, password="")
    assert again.signing_key not in (generated.signing_key, configured.signing_key)
    assert again.generated_password_hash == generated.generated_password_hash


def test_a_file_from_before_the_check_is_adopted_without_ending_logins(tmp_path):
    (tmp_path / AUTH_FILE_NAME).write_text(
        json.dumps({"signing_key": _good_key(), "generated_password_hash": None}),
        encoding="utf-8",
    )
    loaded, _ = load_or_create_secrets(tmp_path, need_generated=False, password="Chosen-1")
    assert loaded.signing_key == b"k" * 32
    assert verify_password_hash("Chosen-1", read_file(tmp_path)["password_check"])


def test_revoked_tokens_are_kept_in_the_file_until_they_expire(tmp_path):
    first, _ = load_or_create_secrets(tmp_path, need_generated=False, password="Chosen-1")
    far = int(time.time()) + 3600
    save_revoked(tmp_path, {"aaaa": far, "bbbb": int(time.time()) - 1})
    loaded, _ = load_or_create_secrets(tmp_path, need_generated=False, password="Chosen-1")
    assert dict(loaded.revoked) == {"aaaa": far}
    assert loaded.signing_key == first.signing_key
    changed, _ = load_or_create_secrets(tmp_path, need_generated=False, password="Chosen-2")
    assert dict(changed.revoked) == {}  # the new key makes them dead anyway


def test_a_check_passed_once_is_not_paid_for_again(tmp_path, monkeypatch):
    verified: dict = {}
    first, _ = load_or_create_secrets(tmp_path, False, "Chosen-1", verified)
    load_or_create_secrets(tmp_path, False, "Chosen-1", verified)
    calls = []
    monkeypatch.setattr(
        "proactive_chat.web.auth.credentials.verify_password_hash",
        lambda *a: calls.append(a) or False,
    )
    again, _ = load_or_create_secrets(tmp_path, False, "Chosen-1", verified)
    assert calls == [] and again.signing_key == first.signing_key
    changed, _ = load_or_create_secrets(tmp_path, False, "Chosen-2", verified)
    assert changed.signing_key != first.signing_key
