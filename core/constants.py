"""Names shared by every module; one place to change them."""

from __future__ import annotations

import re
from pathlib import Path

PLUGIN_NAME = "astrbot_plugin_proactive_chat"
LOG_PREFIX = "[ProactiveChat]"
# Key under which process-lifetime state survives AstrBot purging our modules.
STASH_MODULE_NAME = "_astrbot_plugin_proactive_chat_stash"
# The plugin folder (main.py, templates/, static/, _conf_schema.json).
PLUGIN_ROOT = Path(__file__).resolve().parent.parent


def _metadata_version(path: Path) -> str:
    """``version`` of metadata.yaml, the one place it is written (no YAML parser needed)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError:
        return "unknown"
    found = re.search(r"""^version:\s*["']?([^"'\s#]+)""", text, re.M)
    return found.group(1) if found else "unknown"


PLUGIN_VERSION = _metadata_version(PLUGIN_ROOT / "metadata.yaml")
