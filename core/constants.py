"""Names shared by every module; one place to change them."""

from pathlib import Path

PLUGIN_NAME = "astrbot_plugin_proactive_chat"
LOG_PREFIX = "[ProactiveChat]"
# Key under which process-lifetime state survives AstrBot purging our modules.
STASH_MODULE_NAME = "_astrbot_plugin_proactive_chat_stash"
# Must equal `version` in metadata.yaml (a unit test checks it).
PLUGIN_VERSION = "0.4.0"
# The plugin folder (main.py, templates/, static/, _conf_schema.json).
PLUGIN_ROOT = Path(__file__).resolve().parent.parent
