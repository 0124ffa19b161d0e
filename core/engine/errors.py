"""What the engine refuses, as domain errors: no HTTP status codes in here.

The web layer maps each class to a status in one place (``web/errors.py``); the chat
commands show the message as it is. Messages are written for the admin: what is wrong
and what to do.
"""

from __future__ import annotations


class EngineError(Exception):
    """Base of every refusal of an admin action by the engine."""


class InvalidRequest(EngineError):
    """The request itself is wrong: a malformed UMO, a time that is not a number."""


class SessionNotFound(EngineError):
    """No session with this UMO is known to the engine."""


class SessionBusy(EngineError):
    """A message for this session is being written already."""


class SessionPaused(EngineError):
    """The action needs the session running: resume it first."""


class EngineStopped(EngineError):
    """The engine is not running (starting, stopped, or its store is unavailable)."""


class NothingToCancel(EngineError):
    """The action cancels something (a promise) that this session does not have now."""
