"""The failures of proactive messages in AstrBot's log: once per cause, with what to do.

A chat model with a bad key fails for every session at every retry, and so does a
platform that is down: a warning each time would bury the log. The first failure of a
cause (what failed: ``model openai_1``, ``platform aiocqhttp``) is one warning that
says what to do; later ones (of any session, any kind) go to the journal only, with a
summary every few hours while it lasts; once every session that failed through it has
got a message through, one line says that it works again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..constants import LOG_PREFIX
from ..plugin_log import logger
from ..umo import platform_of

REMIND_SECONDS = 6 * 3600.0  # a cause still failing after this is logged again, summed up

# When the failing part did not say what to do.
DEFAULT_ADVICE = {
    "llm_failed": "check the session's chat model in AstrBot's dashboard (key, endpoint, quota)",
    "llm_empty": "check the session's chat model in AstrBot's dashboard and the proactive prompt",
    "no_provider": "choose a chat model for this session in AstrBot's dashboard",
    "send_failed": "check that the session's platform is connected in AstrBot's dashboard",
    "platform_skipped": (
        "enable the platform in AstrBot's dashboard; if it cannot start conversations, "
        "take its sessions off the list"
    ),
}


def model_source(provider_id: str) -> str:
    return f"model {provider_id}" if provider_id else "model"


def platform_source(umo: str) -> str:
    return f"platform {platform_of(umo)}"


def describe_delay(seconds: float) -> str:
    minutes = seconds / 60.0
    if minutes < 1:
        return f"{max(seconds, 0):.0f} s"
    if minutes < 120:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.1f} h"


@dataclass(slots=True)
class _Cause:
    warned_at: float
    sessions: set[str] = field(default_factory=set)  # sessions failing through it
    unlogged: int = 0  # failures since the last line about it


class FailureLog:
    def __init__(self) -> None:
        self._open: dict[str, _Cause] = {}  # source -> what is failing through it

    def failed(
        self,
        kind: str,
        source: str,
        umo: str,
        reason: str,
        advice: str = "",
        *,
        now: float,
        retry_in: float | None,
        exc_info: BaseException | None = None,
    ) -> None:
        """A message failed; warn if its cause is new, remind if it is old."""
        cause = self._open.get(source)
        if cause is not None:
            cause.sessions.add(umo)
            cause.unlogged += 1
            if now - cause.warned_at >= REMIND_SECONDS:
                logger.warning(
                    "%s The %s still fails: %d failure(s) in %d session(s) since the last "
                    "line about it; the latest: %s (%s). What to do: %s.",
                    LOG_PREFIX,
                    source,
                    cause.unlogged,
                    len(cause.sessions),
                    reason,
                    kind,
                    advice or DEFAULT_ADVICE.get(kind, "see the plugin's journal"),
                )
                cause.warned_at, cause.unlogged = now, 0
            return
        self._open[source] = _Cause(warned_at=now, sessions={umo})
        if retry_in is None:
            then = "It is not retried (the user spoke, or the session is not served)."
        else:
            then = (
                f"This session is retried in {describe_delay(retry_in)}, then less and less "
                f"often; until the {source} works again, its failures go to the journal only."
            )
        logger.warning(
            "%s No proactive message for %s (%s): %s. What to do: %s. %s",
            LOG_PREFIX,
            umo,
            kind,
            reason,
            advice or DEFAULT_ADVICE.get(kind, "see the plugin's journal"),
            then,
            exc_info=exc_info,
        )

    def worked(self, provider_id: str, umo: str) -> None:
        """A message for this session got through this model and platform. A cause is
        over when every session that failed through it has got a message through."""
        for source in (model_source(provider_id), model_source(""), platform_source(umo)):
            cause = self._open.get(source)
            if cause is None:
                continue
            cause.sessions.discard(umo)
            if not cause.sessions:
                del self._open[source]
                logger.info(
                    "%s Proactive messages work again through the %s (%d later failure(s) "
                    "went to the journal only).",
                    LOG_PREFIX,
                    source,
                    cause.unlogged,
                )

    def forget(self, umo: str) -> None:
        """The session starts afresh (its user spoke): it no longer keeps a cause open.
        Called for every message: nothing to do (the usual case) costs one test."""
        if not self._open:
            return
        for source in [s for s, cause in self._open.items() if umo in cause.sessions]:
            cause = self._open[source]
            cause.sessions.discard(umo)
            if not cause.sessions:
                del self._open[source]

    @property
    def failing(self) -> list[str]:
        """What is failing now (logged, not yet working again)."""
        return list(self._open)
