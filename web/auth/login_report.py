"""Failed logins, told to the owner as one summary line per interval, never a line per try.

Guarantees: however many wrong passwords arrive, this writes at most two lines per
``interval`` to AstrBot's log: the first failure after a quiet interval is told at
once, and while failures go on, one summary with counts at each interval's end; and
one warning the moment the ceiling across all clients is first reached in an
interval (saying how to get in anyway). Addresses are shown, passwords never.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from ...core.constants import LOG_PREFIX
from ...core.plugin_log import logger

REPORT_INTERVAL = 60.0
_MAX_COUNTED_CLIENTS = 1024


class LoginFailureReport:
    def __init__(self, panel_url: str = "", interval: float = REPORT_INTERVAL) -> None:
        self.panel_url = panel_url  # named in the "how to get in anyway" line
        self._interval = interval
        self._failed: Counter[str] = Counter()
        self._refused = 0
        self._ceiling_told = False
        self._timer: asyncio.TimerHandle | None = None

    def failed(self, client: str) -> None:
        """A wrong (or unreadable) password from ``client``."""
        if self._timer is None:
            logger.warning(
                "%s Panel login failed from %s (wrong password); further failures are "
                "counted and logged once a minute.",
                LOG_PREFIX,
                client,
            )
            self._arm()
            return
        if client in self._failed or len(self._failed) < _MAX_COUNTED_CLIENTS:
            self._failed[client] += 1
        else:
            self._failed["(other addresses)"] += 1
        self._arm()

    def refused(self, client: str, ceiling: bool) -> None:
        """An attempt refused by the limit; ``ceiling``: by the one across all clients."""
        self._refused += 1
        if ceiling and not self._ceiling_told:
            self._ceiling_told = True
            logger.warning(
                "%s Too many wrong panel passwords from other machines: logins from them are "
                "paused for up to a minute at a time while this goes on. You can still log in "
                "from this machine (%s, or through an SSH tunnel to it), or set a new "
                "web_admin.password in AstrBot's plugin config. / 其他机器的错误密码过多，"
                "来自它们的登录暂停；仍可在本机（或通过 SSH 隧道）登录，或在 AstrBot 插件配置中"
                "设置新的 web_admin.password。",
                LOG_PREFIX,
                self.panel_url,
            )
        self._arm()

    def flush(self, final: bool = True) -> None:
        """Write the summary now: the panel stops (``final``), or the interval ended."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        failed = sum(self._failed.values())
        busy = bool(failed or self._refused)
        if busy:
            top, top_count = self._failed.most_common(1)[0] if self._failed else ("-", 0)
            logger.warning(
                "%s Panel logins in the last %d s: %d wrong password(s) from %d address(es) "
                "(most: %s, %d), %d attempt(s) refused by the limit.",
                LOG_PREFIX,
                int(self._interval),
                failed,
                len(self._failed),
                top,
                top_count,
                self._refused,
            )
        self._failed.clear()
        self._refused = 0
        self._ceiling_told = False
        if busy and not final:
            self._arm()  # still going on: the next failure is summarised too, not told

    def _arm(self) -> None:
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._interval, self.flush, False)
