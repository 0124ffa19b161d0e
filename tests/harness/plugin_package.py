"""The plugin folder imported as the package ``proactive_chat``, outside AstrBot.

The plugin's modules use relative imports (AstrBot imports the folder as
``data.plugins.astrbot_plugin_proactive_chat``), so unit tests and benchmarks register
the repo root as a package under a short name. ``main.py`` needs the host: not here.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "proactive_chat"


def import_plugin_package() -> None:
    if PACKAGE in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(
        PACKAGE, REPO_ROOT / "__init__.py", submodule_search_locations=[str(REPO_ROOT)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = module
    spec.loader.exec_module(module)
