"""What the route tables add to the OpenAPI schema beyond the models: the error answers
of a route, the links between operations on one session, and bodies read by hand.

Nothing here changes what a route does; only what the schema says about it.
"""

from __future__ import annotations

from typing import Any

from .models import ErrorOut

# The operations on one session; ``session_links`` points answers that name a session
# at them (OpenAPI links: what a client, or schemathesis's stateful phase, follows).
SESSION_OPERATIONS = (
    "get_session",
    "get_override",
    "put_override",
    "delete_override",
    "trigger_session",
    "session_reschedule",
    "session_pause",
    "session_resume",
    "session_cancel",
    "serve_session",
    "session_promise_cancel",
    "session_preview",
    "session_draft",
    "session_forecast",
)

# The login body is read by hand (web/api/login.py) so a rate-limited client is refused
# before its body is looked at; this documents it.
LOGIN_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"password": {"type": "string", "minLength": 1}},
                "required": ["password"],
            }
        }
    },
}


def error_responses(*codes: int, json_only: bool = False) -> dict[int | str, dict[str, Any]]:
    """The error answers of a route (401 and 403 come from the guard).

    "4XX" also keeps FastAPI from documenting a 422 that our handler never sends (400).
    ``json_only`` is for a route whose own answer is not JSON (the CSV export): FastAPI
    documents an error ``model`` in the route's media type, so the schema is spelled out.
    """
    answers: tuple[int | str, ...] = (401, 403, *codes, "4XX")
    if json_only:
        content = {"application/json": {"schema": ErrorOut.model_json_schema()}}
        return {code: {"content": content} for code in answers}
    return {code: {"model": ErrorOut} for code in answers}


def session_links(pointer: str, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """Links from an answer whose JSON names a session at ``pointer`` to every operation
    on that session."""
    umo = {"umo": f"$response.body#{pointer}"}
    links = {name: {"operationId": name, "parameters": umo} for name in SESSION_OPERATIONS}
    return {status: {"links": links}}
