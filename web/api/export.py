"""``GET /api/journal.csv``: the journal with the filters of ``GET /api/journal``
(``web/api/journal_query.py``), streamed page by page: an export never holds more than one
page of rows in memory, and no cell can run as a spreadsheet formula.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import AsyncIterator, Mapping
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from starlette.responses import StreamingResponse

from ...core.store.session_store import StoreUnavailable
from ..timefmt import local_datetime, panel_timezone
from .access import app_deps, current_engine, require_service
from .journal_query import (
    JournalFilter,
    JournalFilterParam,
    journal_page,
    name_of,
    session_names,
)
from .openapi import error_responses

if TYPE_CHECKING:
    from ...core.engine.models import SessionState
    from ...core.store.session_store import SessionStore
    from ..app import AppDeps

CSV_PAGE_ROWS = 1000
MAX_EXPORT_ROWS = 100_000
CSV_COLUMNS = ("id", "time", "umo", "session name", "kind", "reason", "detail")
# A spreadsheet reads a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


# --- CSV ------------------------------------------------------------------------------------


class CsvResponse(StreamingResponse):
    media_type = "text/csv"


def safe_cell(value: Any) -> Any:
    """A text cell a spreadsheet will not run as a formula (a leading ``'`` disarms it)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def iso_in_zone(ts: float, tz: tzinfo | None) -> str:
    """``2026-11-28T14:03:05+08:00`` in AstrBot's zone (the server's when it has none)."""
    try:
        moment = local_datetime(float(ts), tz)
    except (OverflowError, OSError, ValueError):
        return ""
    if tz is None:
        moment = moment.astimezone()
    return moment.isoformat(timespec="seconds")


def csv_rows(
    items: list[dict[str, Any]], sessions: Mapping[str, SessionState], tz: tzinfo | None
) -> list[list[Any]]:
    return [
        [
            item["id"],
            iso_in_zone(item["at"], tz),
            safe_cell(item["umo"]),
            safe_cell(name_of(sessions, item["umo"])),
            safe_cell(item["kind"]),
            safe_cell(item["reason"]),
            safe_cell(json.dumps(item["detail"], ensure_ascii=False, sort_keys=True, default=str)),
        ]
        for item in items
    ]


def csv_text(rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    # A lone surrogate (half an emoji from a platform) cannot be UTF-8: replace it.
    return buffer.getvalue().encode("utf-8", "replace")


async def stream_csv(
    store: SessionStore,
    flt: JournalFilter,
    first: dict[str, Any],
    sessions: Mapping[str, SessionState],
    tz: tzinfo | None,
    max_rows: int | None = None,
) -> AsyncIterator[bytes]:
    """Header, then one chunk per store page (``first`` is already fetched)."""
    max_rows = MAX_EXPORT_ROWS if max_rows is None else max_rows
    yield BOM.encode("utf-8") + csv_text([list(CSV_COLUMNS)])
    page, written = first, 0
    while True:
        items = page["items"][: max_rows - written]
        written += len(items)
        yield csv_text(csv_rows(items, sessions, tz))
        before_id = page["next_before_id"]
        if before_id is None:
            return
        if written >= max_rows:
            try:
                beyond = await journal_page(store, flt, before_id=before_id, limit=1, count=False)
            except StoreUnavailable:
                beyond = {"items": [None]}
            if not beyond["items"]:
                return
            note = (
                f"# export stopped at {max_rows} rows (the limit); narrow the time range "
                f"(since/until) or the filters to get the older entries"
            )
            yield csv_text([[note]])
            return
        try:
            page = await journal_page(
                store, flt, before_id=before_id, limit=min(CSV_PAGE_ROWS, max_rows - written)
            )
        except StoreUnavailable as exc:  # the headers are sent: say it in the file
            yield csv_text([[f"# export incomplete: {exc}"]])
            return


def export_filename(tz: tzinfo | None, now: float) -> str:
    return f"proactive-journal-{local_datetime(now, tz):%Y%m%d-%H%M}.csv"


def engine_now(deps: AppDeps) -> float:
    """The engine's clock (its journal's time), else the wall clock."""
    engine = current_engine(deps)
    return engine.clock() if engine is not None else time.time()


async def journal_csv(request: Request, flt: JournalFilterParam) -> CsvResponse:
    """The journal as a CSV file, with the filters of ``GET /api/journal``."""
    deps = app_deps(request)
    store = require_service(request).store
    # The first page before the headers: a broken store is still a clean 503.
    first = await journal_page(store, flt, limit=CSV_PAGE_ROWS, count=False)
    tz = panel_timezone(deps)
    body = stream_csv(store, flt, first, session_names(deps), tz)
    filename = export_filename(tz, engine_now(deps))
    return CsvResponse(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Export-Limit": str(MAX_EXPORT_ROWS),
        },
    )


def csv_responses() -> dict[int | str, dict[str, Any]]:
    """The export's answers for the OpenAPI schema: the CSV, or a JSON error."""
    csv_answer = {
        "description": (
            "UTF-8 CSV with a BOM, newest first, streamed. Columns: "
            f"{', '.join(CSV_COLUMNS)}; time in AstrBot's zone (ISO 8601), detail "
            "as JSON. Cells a spreadsheet would read as a formula start with "
            f"``'``. At most {MAX_EXPORT_ROWS} rows: a last row starting with ``#`` "
            "says when the export stopped there."
        ),
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
    return {200: csv_answer, **error_responses(400, 503, json_only=True)}


def build_export_router() -> APIRouter:
    router = APIRouter(prefix="/api", tags=["export"])
    router.add_api_route(
        "/journal.csv",
        journal_csv,
        methods=["GET"],
        response_class=CsvResponse,
        responses=csv_responses(),
    )
    return router
