"""The plugin's own logger: AstrBot's per-plugin logger, named without importing AstrBot.

AstrBot 4.29 gives every plugin a dedicated logger, ``astrbot.plugin.<name>`` (``name``
from metadata.yaml). ``Star.__init__`` configures it through
``LogManager.get_plugin_logger`` (its handlers, ``propagate = False``, and the level the
dashboard's "log level for this plugin" selector stores), and ``astrbot.api.logger``
routes a plugin module's calls to it. Its lines reach the LogBroker tagged with
``plugin_name``, which is how the live-log page tells ours apart.

Every module of the plugin logs through ``logger`` here rather than
``from astrbot.api import logger``: importing ``astrbot.api`` imports AstrBot's whole
core (seconds, and it lays out a ``data/`` folder), and core/ must stay importable
without AstrBot (unit tests, bench). ``logging.getLogger`` by the same name returns
the very object AstrBot configures, so the per-plugin level applies to every line.
Outside AstrBot nobody configures it and it propagates to ``astrbot`` as before.
"""

from __future__ import annotations

import logging

from .constants import PLUGIN_NAME

# astrbot.core.log.PLUGIN_LOGGER_PREFIX + the plugin's metadata name.
PLUGIN_LOGGER_NAME = f"astrbot.plugin.{PLUGIN_NAME}"

logger = logging.getLogger(PLUGIN_LOGGER_NAME)
