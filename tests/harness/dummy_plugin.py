"""A throwaway stand-in for our plugin: same name and config schema, no behaviour.

It appends one JSON line per lifecycle step (init, initialize, terminate) to
``<root>/data/plugin_data/astrbot_plugin_proactive_chat/lifecycle.jsonl`` so a test can
see from outside what AstrBot did to it. Used to prove the harness itself, and by
harness smoke tests while the real main.py does not exist yet.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from .roots import PLUGIN_NAME, REPO_ROOT

_MAIN_PY = """\
import json
import os
import time

from astrbot.api import logger
from astrbot.api.star import Context, Star
from astrbot.core.utils.astrbot_path import get_astrbot_plugin_data_path


def _record(event, **extra):
    folder = os.path.join(get_astrbot_plugin_data_path(), "{name}")
    os.makedirs(folder, exist_ok=True)
    line = json.dumps({{"event": event, "pid": os.getpid(), "t": time.time(), **extra}})
    with open(os.path.join(folder, "lifecycle.jsonl"), "a", encoding="utf-8") as f:
        f.write(line + "\\n")


class DummyProactiveChat(Star):
    def __init__(self, context: Context, config=None):
        super().__init__(context)
        self.config = config
        self.initialized = False
        self.terminated = False
        _record("init", config=dict(config or {{}}))

    async def initialize(self):
        self.initialized = True
        _record("initialize")
        logger.info("dummy plugin initialized")

    async def terminate(self):
        self.terminated = True
        _record("terminate")
"""

_METADATA = f"""\
name: {PLUGIN_NAME}
display_name: Dummy Proactive Chat
desc: Harness stand-in for the real plugin.
version: "0.0.1"
author: harness
repo: https://example.invalid/{PLUGIN_NAME}
astrbot_version: ">=4.14.7"
"""


def make_dummy_plugin(dest: Path) -> Path:
    """Write the stand-in plugin into ``dest`` (created) and return it.

    The real ``_conf_schema.json`` is copied when the repo has one, so config saves
    go through the same schema validation as for the real plugin.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "main.py").write_text(_MAIN_PY.format(name=PLUGIN_NAME), encoding="utf-8")
    (dest / "metadata.yaml").write_text(_METADATA, encoding="utf-8")
    schema = REPO_ROOT / "_conf_schema.json"
    if schema.is_file():
        shutil.copyfile(schema, dest / "_conf_schema.json")
    else:
        (dest / "_conf_schema.json").write_text(
            json.dumps(
                {
                    "web_admin": {
                        "type": "object",
                        "description": "web admin",
                        "items": {
                            "port": {"type": "int", "default": 4100, "description": "port"},
                            "password": {"type": "string", "default": "", "description": "pw"},
                        },
                    }
                }
            ),
            encoding="utf-8",
        )
    return dest


def lifecycle_events(root: Path) -> list[dict]:
    """The lifecycle lines the stand-in wrote under ``root``, oldest first."""
    path = Path(root) / "data" / "plugin_data" / PLUGIN_NAME / "lifecycle.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
