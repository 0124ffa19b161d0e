"""What the journal page shows (its template: templates/journal.html).

How pages are built: docs/panel-pages.md.

The filter form is a plain GET form: ``umo``, ``kind`` (a journal kind, a group such as
``problems``, or a comma list), ``range`` (a preset, or ``custom``) with ``since`` /
``until`` as ``datetime-local`` values read in AstrBot's timezone, and ``before_id`` for
the next page without JavaScript. The resolved filter (epoch seconds) is handed to the
script on ``#journal-table`` so it asks ``/api/journal`` for exactly the same rows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from starlette.requests import Request

from ...core.engine.models import JOURNAL_KINDS
from ...core.store.session_store import StoreUnavailable
from ..api.access import app_deps, current_engine, current_service, engine_problem
from ..api.export import MAX_EXPORT_ROWS, engine_now
from ..api.journal import MAX_SQLITE_INT
from ..api.journal_query import JournalFilter, journal_filter, journal_page, name_of, session_names
from ..errors import PanelError
from ..i18n import pick_language, translator
from ..texts import shell
from ..timefmt import local_datetime, panel_timezone
from .tool_calls import tool_call_list

if TYPE_CHECKING:
    from ...core.engine.models import SessionState

PAGE_SIZE = 50
MAX_LIVE_ROWS = 500  # rows the script keeps while entries stream in
RANGES: dict[str, int | None] = {
    "1h": 3600,
    "24h": 86400,
    "7d": 7 * 86400,
    "30d": 30 * 86400,
    "all": None,
}
CUSTOM = "custom"
DEFAULT_RANGE = "all"
KIND_GROUPS: dict[str, tuple[str, ...]] = {
    "deliveries": ("sent", "send_failed"),
    "problems": ("send_failed", "no_provider", "llm_failed", "llm_empty", "platform_skipped"),
    "plans": (
        *("planned", "silence_started", "quiet_shifted", "auto_trigger", "missed", "retry"),
        "moment_skipped",
    ),
    "admin": ("manual", "override"),
}
# The kinds in the order of their labels (web/texts/shell.py), any unlabelled one last.
_LABELLED = [key.removeprefix("jkind.") for key in shell.EN if key.startswith("jkind.")]
KINDS: tuple[str, ...] = (
    *(k for k in _LABELLED if k in JOURNAL_KINDS),
    *sorted(JOURNAL_KINDS - set(_LABELLED)),
)
SEVERITY = {
    "sent": "ok",
    "send_failed": "danger",
    "llm_failed": "danger",
    "no_provider": "warn",
    "llm_empty": "warn",
    "platform_skipped": "warn",
}
# How details are summed up (the script does the same with the same lists).
TIME_KEYS = ("at", "until", "cue_at", "promise_at")
TEXT_KEYS = ("text",)
LABELLED_DETAILS = (
    *("text", "at", "until", "error", "provider", "persona", "unanswered"),
    *("model", "tried", "missing", "tools", "picture"),
    *("cue", "rule", "cue_at", "sentence", "promise_at"),
    "moment",
    *("habit_weight", "sleep_avoided"),
)
TEXT_PREVIEW = 120
THUMB_PREFIX = "data:image/jpeg;base64,"  # the only thumbnails shown (thumbnails.py)
VALUE_MAX = 300
MAX_INPUT_CHARS = 40


async def context(request: Request) -> dict[str, Any]:
    deps = app_deps(request)
    service = current_service(deps)
    engine = current_engine(deps)
    tz = panel_timezone(deps)
    now = engine_now(deps)
    t = translator(pick_language(request))
    form, flt, before_id, error = read_filters(request.query_params, tz, now, t)

    out: dict[str, Any] = {
        "form": form,
        # (value, text key) of each choice
        "ranges": [(value, f"journal.range.{value}") for value in (*RANGES, CUSTOM)],
        "kind_groups": [(group, f"journal.group.{group}") for group in KIND_GROUPS],
        "kinds": [(kind, f"jkind.{kind}") for kind in KINDS],
        "filter_error": error,
        "problem": None if engine is not None else engine_problem(service),
        "entries": [],
        "total": None,
        "next_before_id": None,
        "before_id": before_id,
        "umo_name": "",
        "live": False,
        "script_filter": {},
        "export_url": "/api/journal.csv",
        "export_limit": MAX_EXPORT_ROWS,
        "more_url": "",
        "first_url": "",
        "journal_env": script_env(),
    }
    if error is not None:
        out["status_code"] = 400
        return out
    assert flt is not None
    sessions = session_names(deps)
    out["umo_name"] = name_of(sessions, flt.umo) if flt.umo else ""
    out["script_filter"] = flt.query()
    out["export_url"] = "/api/journal.csv" + _query(flt.query())
    out["first_url"] = "/journal" + _query(form_params(form))
    if service is None:
        return out
    try:
        page = await journal_page(service.store, flt, before_id=before_id, limit=PAGE_SIZE)
        if before_id is not None:  # the total of the whole filter, as on the first page
            page["total"] = await service.store.count_journal(**flt.store_args())
    except StoreUnavailable as exc:
        out["problem"] = str(exc)
        return out
    out["entries"] = [entry_view(item, sessions) for item in page["items"]]
    out["total"] = page["total"]
    out["next_before_id"] = page["next_before_id"]
    if page["next_before_id"] is not None:
        more = {**form_params(form), "before_id": str(page["next_before_id"])}
        out["more_url"] = "/journal" + _query(more)
    out["live"] = before_id is None
    return out


# --- the filter -------------------------------------------------------------------------


def read_filters(
    params: Mapping[str, str], tz: tzinfo | None, now: float, t: Any
) -> tuple[dict[str, str], JournalFilter | None, int | None, str | None]:
    """(what the form shows, the checked filter, before_id, an error to show or None)."""
    umo = (params.get("umo") or "").strip()
    kind = (params.get("kind") or "").strip()
    kind = "" if kind == "all" else kind
    since_text = (params.get("since") or "").strip()
    until_text = (params.get("until") or "").strip()
    preset = (params.get("range") or "").strip()
    custom = bool(since_text or until_text)  # typed times win over a preset left as it was
    if custom or preset not in RANGES:
        preset = CUSTOM if custom or preset == CUSTOM else DEFAULT_RANGE
    form = {"umo": umo, "kind": kind, "range": preset, "since": since_text, "until": until_text}

    since: float | None = None
    until: float | None = None
    try:
        if preset == CUSTOM:
            since = _time_field(since_text, tz, "since", t)
            until = _time_field(until_text, tz, "until", t)
            if since is not None and until is not None and since >= until:
                raise ValueError(t("journal.err.order"))
            form["since"] = to_local_input(since, tz) if since is not None else ""
            form["until"] = to_local_input(until, tz) if until is not None else ""
        elif (span := RANGES[preset]) is not None:
            since = max(0.0, now - span)
        before_id = _before_id(params.get("before_id"), t)
    except ValueError as exc:
        return form, None, None, str(exc)
    try:
        flt = journal_filter(umo, ",".join(KIND_GROUPS.get(kind, ())) or kind, since, until)
    except PanelError as exc:
        return form, None, None, t("journal.err.filter", message=exc.message)
    return form, flt, before_id, None


def from_local_input(value: str, tz: tzinfo | None) -> float:
    """A ``datetime-local`` value (``2026-11-28T14:03``) read in AstrBot's zone (None:
    the server's) -> Unix seconds. ``ValueError`` when it is not one."""
    if len(value) > MAX_INPUT_CHARS:
        raise ValueError(value)
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is not None:
        raise ValueError(value)  # datetime-local carries no zone: AstrBot's applies
    if tz is not None:
        moment = moment.replace(tzinfo=tz)
    stamp = moment.timestamp()  # a naive time is the server's local time
    if not 0 <= stamp <= 1e11:
        raise ValueError(value)
    return stamp


def to_local_input(ts: float, tz: tzinfo | None) -> str:
    moment = local_datetime(ts, tz)
    return moment.strftime("%Y-%m-%dT%H:%M:%S" if moment.second else "%Y-%m-%dT%H:%M")


def form_params(form: Mapping[str, str]) -> dict[str, str]:
    """The form as URL parameters, empty fields left out."""
    return {key: value for key, value in form.items() if value}


def _time_field(text: str, tz: tzinfo | None, field: str, t: Any) -> float | None:
    if not text:
        return None
    try:
        return from_local_input(text, tz)
    except (ValueError, OverflowError, OSError):
        raise ValueError(t(f"journal.err.{field}")) from None


def _before_id(text: str | None, t: Any) -> int | None:
    if not text:
        return None
    # ASCII digits only: "²" passes isdigit() but not int(), and int() refuses
    # more than 4,300 digits; 19 digits hold every SQLite integer.
    if not (text.isascii() and text.isdigit() and len(text) <= 19):
        raise ValueError(t("journal.err.before_id"))
    if not 1 <= int(text) <= MAX_SQLITE_INT:
        raise ValueError(t("journal.err.before_id"))
    return int(text)


def _query(params: Mapping[str, str]) -> str:
    return "?" + urlencode(params, quote_via=quote) if params else ""


# --- the rows -----------------------------------------------------------------------------


def entry_view(item: dict[str, Any], sessions: Mapping[str, SessionState]) -> dict[str, Any]:
    """A journal entry (``journal_dict``) as the table shows it."""
    umo = item["umo"]
    return {
        **item,
        "name": name_of(sessions, umo) if umo else "",
        "href": "/session?umo=" + quote(umo, safe="") if umo else "",
        "kind_label": f"jkind.{item['kind']}",
        "severity": SEVERITY.get(item["kind"], ""),
        "details": detail_items(item["detail"]),
    }


def detail_items(detail: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The detail as ``{key, label (a text key or None), type: time|text|value, value,
    preview}``, texts
    first; empty values left out."""
    items: list[dict[str, Any]] = []
    keys = [*(k for k in TEXT_KEYS if k in detail), *(k for k in detail if k not in TEXT_KEYS)]
    for key in keys:
        value = detail[key]
        if value is None or value == "":
            continue
        label = f"journal.detail.{key}" if key in LABELLED_DETAILS else None
        item: dict[str, Any] = {"key": str(key), "label": label}
        if key in TIME_KEYS and isinstance(value, int | float) and not isinstance(value, bool):
            item |= {"type": "time", "value": value}
        elif key == "picture" and isinstance(value, Mapping):
            # the thumbnail is shown as an image, the rest as a value
            thumb = value.get("thumb")
            rest = {k: v for k, v in value.items() if k != "thumb"}
            item |= {"type": "value", "value": json.dumps(rest, ensure_ascii=False)[:VALUE_MAX]}
            if isinstance(thumb, str) and thumb.startswith(THUMB_PREFIX):
                item["thumb"] = thumb
        elif key == "tools" and (calls := tool_call_list(value)):
            item |= {"type": "tools", "value": calls}
        elif key in TEXT_KEYS and isinstance(value, str):
            preview = value if len(value) <= TEXT_PREVIEW else value[:TEXT_PREVIEW] + "…"
            item |= {"type": "text", "value": value, "preview": preview}
        else:
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            if len(text) > VALUE_MAX:
                text = text[:VALUE_MAX] + "…"
            item |= {"type": "value", "value": text}
        items.append(item)
    return items


def script_env() -> dict[str, Any]:
    """What journal.js needs to draw rows as the template does."""
    return {
        "severity": SEVERITY,
        "timeKeys": TIME_KEYS,
        "textKeys": TEXT_KEYS,
        "labelled": LABELLED_DETAILS,
        "textPreview": TEXT_PREVIEW,
        "valueMax": VALUE_MAX,
        "thumbPrefix": THUMB_PREFIX,
        "pageSize": PAGE_SIZE,
        "maxRows": MAX_LIVE_ROWS,
    }
