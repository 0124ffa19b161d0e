"""AstrBot entry point: wiring only.

AstrBot calls ``terminate()`` only when the entry class itself defines it (an
inherited one is skipped) and never when it defines ``__del__``: so ``terminate``
lives here and ``__del__`` must not.
"""

from __future__ import annotations

import asyncio
import logging

from astrbot.api.star import Context, Star, StarTools

from .core.config import parse_web_admin
from .core.constants import LOG_PREFIX, PLUGIN_NAME, PLUGIN_VERSION
from .web.panel import AdminPanel

logger = logging.getLogger("astrbot")


def _astrbot_version() -> str:
    try:
        from astrbot.core.config.default import VERSION
    except ImportError:
        return "unknown"
    return str(VERSION)


class ProactiveChatPlugin(Star):
    def __init__(self, context: Context, config: dict | None = None) -> None:
        super().__init__(context, config)
        self.config = config if config is not None else {}
        self.panel: AdminPanel | None = None

    async def initialize(self) -> None:
        try:
            settings, problems = parse_web_admin(self.config.get("web_admin"))
            for problem in problems:
                logger.warning("%s Config: %s", LOG_PREFIX, problem)
            data_dir = await asyncio.to_thread(StarTools.get_data_dir, PLUGIN_NAME)
            self.panel = AdminPanel(settings, data_dir, PLUGIN_VERSION, _astrbot_version())
            await self.panel.start()
        except Exception:
            logger.exception("%s Start-up failed; AstrBot is not affected.", LOG_PREFIX)

    async def terminate(self) -> None:
        panel, self.panel = self.panel, None
        if panel is not None:
            await panel.stop()
