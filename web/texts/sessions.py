"""Texts of the sessions page."""

from __future__ import annotations

ZH: dict[str, str] = {}

EN: dict[str, str] = {}

# Keys the page's script reads (shipped as JSON in every page).
JS_KEYS: tuple[str, ...] = ()
