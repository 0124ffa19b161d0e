"""Checks of what a client sends, shared by the API routes and the pages: each raises
``PanelError`` 400 with a message that says what is wrong."""

from __future__ import annotations

from typing import Any

from ...core.engine.models import JOURNAL_KINDS
from ...core.umo import parse_umo
from ..errors import PanelError


def umo_kind(umo: str) -> str:
    try:
        return parse_umo(umo).kind
    except ValueError as exc:
        raise PanelError(400, "bad_umo", str(exc)) from None


def refuse_lone_surrogates(value: Any) -> None:
    """JSON may carry ``"\\ud800"``: Python reads it as text that cannot be written as
    UTF-8 again, so saving or answering would fail later. Refuse it at the door.
    (Iterative: a body nested 900 levels deep must not exhaust the stack.)"""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise PanelError(
                    400, "bad_request", "body: text with an invalid character (lone surrogate)"
                ) from None
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def journal_kinds(text: str | None) -> list[str] | None:
    if text is None or not text.strip():
        return None
    kinds = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [k for k in kinds if k not in JOURNAL_KINDS]
    if unknown:
        shown = ", ".join(repr(k[:40]) for k in unknown[:5])
        raise PanelError(
            400,
            "bad_request",
            f"kind: unknown journal kind(s) {shown}; known: {', '.join(sorted(JOURNAL_KINDS))}",
        )
    return kinds
