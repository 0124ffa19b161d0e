"""Test harness: a real AstrBot (the installed ``astrbot`` package) hosting our plugin.

Import as ``harness`` (tests/ is on sys.path via tests/conftest.py). Nothing in this
package imports astrbot at import time: see inprocess.py for why. One copy of each
helper lives here; the harness's own tests are in tests/harness_tests/.

- roots.py: ``make_astrbot_root``, plugin config file helpers,
  ``place_plugin`` / ``copy_plugin`` (a copy in the root, for uninstall and update).
- inprocess.py: ``InProcessHost``, the core booted inside the test process.
- process.py: ``AstrBotProcess``, ``astrbot run`` as a subprocess + dashboard API;
  llm_fixtures.py: ``fake_llm`` / ``llm_process_host`` (fake_llm.py's server as its model).
- waiting.py: ``wait_for`` / ``async_wait_for``.
- dummy_plugin.py: a stand-in plugin with the same name, for proving the harness.
- ports.py: ``free_port``, ``listening_socket``, ``port_refuses``, ``port_is_free``,
  ``listeners``; panel_probes.py: the panel's ``login`` (by port, or ``login_with`` a
  client), ``healthz``, ``panel_answers``.
- panel_client.py: ``PanelClient`` (the admin API from outside, logged in, an open
  page's WebSockets).
- engine_rig.py: the engine's stand-ins (``ScriptedComposer``, ``RecordingSender``),
  ``start_engine`` and ``Rig`` (engine + store + fake clock, ``rig.service()``);
  panel_app.py: the app in process over ASGI (``panel_deps``, ``panel_client``,
  ``start_service``, ``SavedConfig``).
- plugin_market.py: ``LocalPluginMarket``, a registry and zip on 127.0.0.1 so that
  AstrBot's own plugin update runs offline.
- panel_server.py: ``PanelServer``, the panel over a real service on real uvicorn in a
  thread of its own (for synchronous clients); api_fuzz.py: schemathesis runs over it.
- faults.py: a private plugin data folder on a tmpfs (a real full or read-only disk),
  SQLite-level store faults, ``EngineClock`` (an engine's clock ahead of real time).
- soak.py: ``run_soak``, hot reloads under panel clients, chat traffic and "send now"
  for a set time (bench/soak.py, tests/host/test_soak_short.py); its actors are in
  soak_clients.py, its report and trigger accounting in soak_report.py.
- import_rules.py, module_size.py: the readers behind tests/unit/test_architecture.py
  and tests/unit/test_module_size.py.
"""

from .ports import free_port
from .roots import PLUGIN_NAME, REPO_ROOT, make_astrbot_root, read_plugin_config
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
