"""Cleaning a log line for the panel: no ANSI colour codes, no secrets.

Runs once per line (not per client) in the live-log pump, so it is kept to a few
precompiled regular expressions.
"""

from __future__ import annotations

import re

MASK = "***"

# CSI sequences (colours), OSC sequences (window titles, links), then lone escapes.
_ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")

# key=value / key: value / "key": "value" for names that usually hold secrets. The
# pattern starts at the keyword itself (no leading wildcard), so it scans in linear time.
_KEY_VALUE_RE = re.compile(
    r"""(?ix)
    (?P<key>(?:password|passwd|pwd|passphrase|secret|token|api[_-]?key|apikey|access[_-]?key
        |private[_-]?key|authorization|cookie|session[_-]?id|(?<![a-z])key)(?![a-z]))
    (?P<sep>["']?\s*[:=]\s*\[?\s*)
    (?:(?P<quote>["'])(?P<qvalue>[^"'\n]*)(?P=quote)
      |(?P<value>(?:bearer\s+|basic\s+)?[^\s"',;&}\]]+))
    """
)
# Cheap first look on the lower-cased line: most lines contain none of these and skip
# the rest. (Case-insensitive alternations are 20x slower in ``re``; lower() is not.)
_SUSPECT_RE = re.compile(
    r"pass|pwd|secret|token|key|auth|cookie|session|bearer|basic|sk-|aiza|gh[pousr]_|xox|eyj|://"
)
_BEARER_RE = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
# Well-known API key shapes (OpenAI-style, Google, Anthropic, GitHub, Slack, JWTs).
_KEY_SHAPES_RE = re.compile(
    r"\b(?:sk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}|AIza[0-9A-Za-z_-]{30,}"
    r"|gh[pousr]_[A-Za-z0-9]{30,}|xox[abprs]-[A-Za-z0-9-]{10,}"
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})"
)
# user:password@ in URLs.
_URL_CREDENTIALS_RE = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*):[^/\s@]+@")


def strip_ansi(text: str) -> str:
    if "\x1b" not in text:
        return text
    return _ANSI_RE.sub("", text)


class Redactor:
    """Masks secret-looking values and any exact secret it has been told about."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._secrets_re: re.Pattern[str] | None = None

    def add_secret(self, secret: str) -> None:
        # Very short strings would mask ordinary words; they are caught by key=value anyway.
        if secret and len(secret) >= 4 and secret not in self._secrets:
            self._secrets.add(secret)
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._secrets_re = re.compile("|".join(re.escape(s) for s in ordered))

    def redact(self, text: str) -> str:
        if self._secrets_re is not None:
            text = self._secrets_re.sub(MASK, text)
        if not _SUSPECT_RE.search(text.lower()):
            return text
        text = _KEY_VALUE_RE.sub(_mask_key_value, text)
        text = _BEARER_RE.sub(lambda m: f"{m.group(1)} {MASK}", text)
        text = _KEY_SHAPES_RE.sub(MASK, text)
        return _URL_CREDENTIALS_RE.sub(lambda m: f"{m.group(1)}:{MASK}@", text)

    def clean(self, text: str) -> str:
        """ANSI codes stripped, secrets masked: what the panel may show."""
        return self.redact(strip_ansi(text))


def _mask_key_value(match: re.Match[str]) -> str:
    quote = match.group("quote") or ""
    value = match.group("qvalue") if quote else match.group("value")
    if value == MASK or (quote and not value):
        return match.group(0)
    return f"{match.group('key')}{match.group('sep')}{quote}{MASK}{quote}"
