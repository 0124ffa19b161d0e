"""Test harness: a real AstrBot (the installed ``astrbot`` package) hosting our plugin.

Import as ``harness`` (tests/ is on sys.path via tests/conftest.py). Nothing in this
package imports astrbot at import time: see inprocess.py for why.

- roots.py: ``make_astrbot_root``, ``free_port``, plugin config file helpers.
- inprocess.py: ``InProcessHost``, the core booted inside the test process.
- process.py: ``AstrBotProcess``, ``astrbot run`` as a subprocess + dashboard API.
- waiting.py: ``wait_for`` / ``async_wait_for``.
- dummy_plugin.py: a stand-in plugin with the same name, for proving the harness.
"""

from .roots import PLUGIN_NAME, REPO_ROOT, free_port, make_astrbot_root, read_plugin_config
from .waiting import WaitTimeout, async_wait_for, wait_for

__all__ = [
    "PLUGIN_NAME",
    "REPO_ROOT",
    "WaitTimeout",
    "async_wait_for",
    "free_port",
    "make_astrbot_root",
    "read_plugin_config",
    "wait_for",
]
