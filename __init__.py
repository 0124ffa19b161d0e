"""astrbot_plugin_proactive_chat: AstrBot loads ``main.py``; this makes the folder a package."""
