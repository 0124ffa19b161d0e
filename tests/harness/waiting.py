"""Poll until something is true, within a bound. No fixed sleeps in tests."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any


class WaitTimeout(AssertionError):
    """The predicate stayed falsy for the whole timeout (an AssertionError for pytest)."""


def wait_for[T](
    predicate: Callable[[], T],
    timeout: float = 10.0,
    interval: float = 0.05,
    message: str | Callable[[], str] = "",
) -> T:
    """Call ``predicate`` until it returns something truthy; return that value.

    Exceptions raised by the predicate propagate at once. Raises WaitTimeout when the
    deadline passes (the predicate is always tried at least once, and once more at the
    deadline).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        now = time.monotonic()
        if now >= deadline:
            raise WaitTimeout(_describe(predicate, timeout, message))
        time.sleep(min(interval, deadline - now))


async def async_wait_for[T](
    predicate: Callable[[], T | Awaitable[T]],
    timeout: float = 10.0,  # noqa: ASYNC109 - same signature as wait_for
    interval: float = 0.05,
    message: str | Callable[[], str] = "",
) -> T:
    """Async variant: ``predicate`` may be a plain or an async callable."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        now = time.monotonic()
        if now >= deadline:
            raise WaitTimeout(_describe(predicate, timeout, message))
        await asyncio.sleep(min(interval, deadline - now))


def _describe(predicate: Any, timeout: float, message: str | Callable[[], str]) -> str:
    text = message() if callable(message) else message
    name = getattr(predicate, "__qualname__", repr(predicate))
    return f"timed out after {timeout:.1f}s waiting for {name}" + (f": {text}" if text else "")
