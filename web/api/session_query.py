"""The sessions list's query (search, filters, sort, page) read from a page URL, and the
page of session views it selects: the same filter and sort as ``GET /api/sessions``.

The page speaks the words of its controls (``kind=private|group|all``,
``served=yes|no|all``); ``api_params()`` turns them into the API's (``kind=friend``,
``served=true``) for the browser script, so both ends always select the same rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from .session_filter import MAX_QUERY_CHARS, SORT_FIELDS, filter_sessions, sorted_sessions

if TYPE_CHECKING:
    from ...core.engine.engine import ProactiveEngine

PAGE_SIZES = (25, 50, 100)
DEFAULT_SIZE = 50
# Soonest planned message first: what the admin most often wants to see (and stop) is
# what the bot is about to send; sessions with no plan follow. Also the API's default,
# so a bare /sessions and a bare /api/sessions list the same rows.
DEFAULT_SORT = "next_at"
# A header's first click: newest, most and soonest first where that is the useful end.
DESCENDING_FIRST = frozenset(
    {"last_activity_at", "last_user_at", "last_bot_at", "created_at", "unanswered", "sent_total"}
)
KINDS = {"all": None, "private": "friend", "group": "group"}
SERVED = {"all": None, "yes": True, "no": False}
MAX_PAGE = 1_000_000


@dataclass(frozen=True, slots=True)
class SessionQuery:
    q: str = ""
    kind: str = "all"
    served: str = "all"
    sort: str = DEFAULT_SORT
    page: int = 1
    size: int = DEFAULT_SIZE

    @classmethod
    def from_params(cls, params: Any) -> SessionQuery:
        """Lenient: a value that makes no sense falls back to the default (a stale or
        hand-edited link still shows a list). ``params`` is Starlette's QueryParams or a
        plain mapping; for ``sort`` the last value wins, because the no-JS header buttons
        submit theirs after the form's hidden one."""
        q = _last(params, "q").strip()[:MAX_QUERY_CHARS]
        kind = _last(params, "kind")
        served = _last(params, "served")
        sort = _last(params, "sort")
        size = _int(_last(params, "size"), DEFAULT_SIZE)
        return cls(
            q=q,
            kind=kind if kind in KINDS else "all",
            served=served if served in SERVED else "all",
            sort=sort if sort.lstrip("-") in SORT_FIELDS and sort.count("-") <= 1 else DEFAULT_SORT,
            page=min(MAX_PAGE, max(1, _int(_last(params, "page"), 1))),
            size=size if size in PAGE_SIZES else DEFAULT_SIZE,
        )

    @property
    def sort_field(self) -> str:
        return self.sort.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")

    def next_sort(self, field: str) -> str:
        """What clicking the header of ``field`` sorts by: the other direction when it
        is the current field, else the field's useful end first."""
        if field == self.sort_field:
            return field if self.descending else f"-{field}"
        return f"-{field}" if field in DESCENDING_FIRST else field

    def aria_sort(self, field: str) -> str:
        if field != self.sort_field:
            return "none"
        return "descending" if self.descending else "ascending"

    def page_params(self) -> dict[str, str]:
        """This query as the page's URL parameters, defaults left out."""
        out: dict[str, str] = {}
        if self.q:
            out["q"] = self.q
        if self.kind != "all":
            out["kind"] = self.kind
        if self.served != "all":
            out["served"] = self.served
        if self.sort != DEFAULT_SORT:
            out["sort"] = self.sort
        if self.page != 1:
            out["page"] = str(self.page)
        if self.size != DEFAULT_SIZE:
            out["size"] = str(self.size)
        return out

    def url(self, **changes: Any) -> str:
        query = replace(self, **changes) if changes else self
        params = query.page_params()
        return "/sessions" + (f"?{urlencode(params)}" if params else "")

    def api_params(self) -> dict[str, Any]:
        """The same query for ``GET /api/sessions``."""
        out: dict[str, Any] = {"sort": self.sort, "page": self.page, "size": self.size}
        if self.q:
            out["q"] = self.q
        if KINDS[self.kind] is not None:
            out["kind"] = KINDS[self.kind]
        if SERVED[self.served] is not None:
            out["served"] = "true" if SERVED[self.served] else "false"
        return out


async def session_page(engine: ProactiveEngine, query: SessionQuery) -> dict[str, Any]:
    """``{items, total, page, pages, size}``: the page of views the query selects.

    A page past the end shows the last one (a link kept from a longer list)."""
    matched = await filter_sessions(
        engine, query.q or None, KINDS[query.kind], SERVED[query.served]
    )
    total = len(matched)
    pages = max(1, math.ceil(total / query.size))
    page = min(query.page, pages)
    ordered = sorted_sessions(matched, query.sort)
    start = (page - 1) * query.size
    items = [engine.session_view(s) for s in ordered[start : start + query.size]]
    return {"items": items, "total": total, "page": page, "pages": pages, "size": query.size}


def _last(params: Any, name: str) -> str:
    getlist = getattr(params, "getlist", None)
    if getlist is not None:
        values = getlist(name)
        return str(values[-1]) if values else ""
    value = params.get(name, "") if isinstance(params, Mapping) else ""
    return str(value)


def _int(text: str, default: int) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        return default
