"""Shared fixtures: a real AstrBot hosting the plugin, in-process or as a subprocess.

In-process (marker ``host``, added automatically to tests that use these fixtures):
    async def test_x(host):            # fresh boot of AstrBot's core for this test
        inst = host.plugin_instance()
        await host.set_plugin_config({...}); await host.reload_plugin()
    async def test_y(host_factory):    # custom plugin config / several boots
        async with host_factory(plugin_config={...}) as host: ...

  All in-process hosts of a pytest process share ONE AstrBot root (AstrBot fixes its
  root at import time). Never import astrbot, or the plugin's main.py, at module top
  level in a test file: import inside the test, after ``host`` is set up.
  ``caplog`` does not see AstrBot (its loggers do not propagate, and AstrBot strips the
  root logger's handlers after loading plugins): use ``host.logs``.

In-process with a scripted LLM and a recording IM platform (harness/stand_ins.py):
    async def test_c(chat_host):           # host + stand-ins, core event bus running
        from harness import stand_ins      # import inside the test (it imports astrbot)
        im, llm = stand_ins.platform(chat_host), stand_ins.provider(chat_host)
        llm.answer("hello")                # next LLM call answers this
        event = await im.inject_and_wait("hi", sender_id=stand_ins.unique_id())
        assert im.replies_to(event)[0].text == "hello"
    async def test_d(chat_host_factory):   # tts / no proactive support / extra core keys
        async with chat_host_factory(tts=True, proactive=False, core_config={...}) as h: ...

Subprocess (marker ``process``):
    def test_z(process_host):
        proc = process_host()              # started, dashboard ready, logged in
        proc.save_plugin_config({...})     # PUT /api/v1/plugins/config

The plugin under test is the repo root (main.py) or, if it has none, a stand-in made
by harness.dummy_plugin. ``ASTRBOT_TEST_PLUGIN_SRC=<dir>`` picks another folder.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from hypothesis import HealthCheck, settings  # noqa: E402

from harness.dummy_plugin import make_dummy_plugin  # noqa: E402
from harness.inprocess import InProcessHost, prepare_process_root  # noqa: E402
from harness.ports import free_port  # noqa: E402
from harness.process import AstrBotProcess  # noqa: E402
from harness.roots import REPO_ROOT, make_astrbot_root  # noqa: E402

HARNESS_PASSWORD = "Harness-Passw0rd-42"

# Where this process's in-process AstrBot root will be. Set now, before anything can
# import astrbot, so that even a stray import never writes into the repo; the root's
# content is laid out only when a test asks for a host.
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="astrbot-tests-"))
_INPROC_ROOT = _SESSION_DIR / "inprocess-root"
if "astrbot" not in sys.modules:
    os.environ["ASTRBOT_ROOT"] = str(_INPROC_ROOT)

# Hypothesis (property tests, schemathesis): deterministic by default, so CI never goes
# red by chance; PC_HYPOTHESIS_PROFILE=explore draws fresh random examples, many more.
# No example database, and its caches go to the session dir, not ./.hypothesis.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(_SESSION_DIR / "hypothesis"))
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "explore",
    derandomize=False,
    database=None,
    deadline=None,
    max_examples=3000,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("PC_HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config: pytest.Config) -> None:
    # tests/host/test_x.py and tests/process/test_x.py share basenames and the test
    # folders have no __init__.py (the repo root has one: it is the plugin package).
    if config.option.importmode == "prepend":
        config.option.importmode = "importlib"
    # astrbot imports the stdlib audioop (deprecated) for Tencent voice messages.
    config.addinivalue_line("filterwarnings", "ignore:'audioop' is deprecated:DeprecationWarning")


def pytest_unconfigure(config: pytest.Config) -> None:
    if not os.environ.get("KEEP_ASTRBOT_ROOTS"):
        shutil.rmtree(_SESSION_DIR, ignore_errors=True)


LAYERS = ("unit", "host", "process", "browser")


def _layer(item: pytest.Item) -> int:
    """Where a test runs: its folder's layer, or (tests/harness_tests) its costliest marker."""
    folder = Path(str(item.path)).parent.name
    if folder in LAYERS:
        return LAYERS.index(folder)
    marked = [LAYERS.index(m.name) for m in item.iter_markers() if m.name in LAYERS]
    return max(marked, default=0)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & {"host", "host_factory", "chat_host", "chat_host_factory", "inprocess_root"}:
            item.add_marker(pytest.mark.host)
        if "process_host" in names:
            item.add_marker(pytest.mark.process)
    # Fast layers first: unit, then in-process host, then processes, then the browser.
    items.sort(key=_layer)


def default_plugin_config() -> dict:
    """A plugin config for tests: the admin panel on a free port, a known password."""
    return {"web_admin": {"port": free_port(), "password": HARNESS_PASSWORD}}


@pytest.fixture(scope="session")
def plugin_src() -> Path:
    """The plugin folder under test (linked into every root)."""
    if env := os.environ.get("ASTRBOT_TEST_PLUGIN_SRC"):
        return Path(env).resolve()
    if (REPO_ROOT / "main.py").is_file():
        return REPO_ROOT
    return make_dummy_plugin(_SESSION_DIR / "dummy_plugin")


@pytest.fixture(scope="session")
def uses_dummy_plugin(plugin_src: Path) -> bool:
    return plugin_src.is_relative_to(_SESSION_DIR)


@pytest.fixture(scope="session")
def inprocess_root(plugin_src: Path) -> Path:
    """This process's AstrBot root for in-process hosts."""
    if not (_INPROC_ROOT / "data").is_dir():
        make_astrbot_root(_INPROC_ROOT, plugin_src, default_plugin_config())
    prepare_process_root(_INPROC_ROOT)
    return _INPROC_ROOT


def pytest_sessionstart(session: pytest.Session) -> None:
    # Unit tests import pieces of astrbot (its LogBroker, say), and AstrBot fixes its
    # root at first import: lay the in-process root out before any test module loads.
    if "astrbot" not in sys.modules and "ASTRBOT_TEST_PLUGIN_SRC" not in os.environ:
        src = REPO_ROOT if (REPO_ROOT / "main.py").is_file() else None
        if src is not None:
            make_astrbot_root(_INPROC_ROOT, src, default_plugin_config())
            prepare_process_root(_INPROC_ROOT)


@pytest.fixture
def host_factory(inprocess_root: Path) -> Callable[..., InProcessHost]:
    """``host_factory(plugin_config=None, **kw)`` -> an InProcessHost to ``async with``.

    ``plugin_config`` None writes ``default_plugin_config()`` (fresh port); pass a dict
    to replace the file's content before boot.
    """

    def make(plugin_config: dict | None = None, **kwargs) -> InProcessHost:
        config = default_plugin_config() if plugin_config is None else plugin_config
        return InProcessHost(inprocess_root, plugin_config=config, **kwargs)

    return make


@pytest.fixture
async def host(host_factory: Callable[..., InProcessHost]):
    """AstrBot's core booted in this test's event loop, our plugin loaded."""
    async with host_factory() as h:
        yield h


@pytest.fixture
def chat_host_factory(host_factory: Callable[..., InProcessHost]) -> Callable[..., InProcessHost]:
    """``chat_host_factory(*, tts=False, proactive=True, core_config=None,
    plugin_config=None, **kw)`` -> an InProcessHost (to ``async with``) whose core has
    the scripted chat provider (the default chat model) and the recording IM platform
    (``support_proactive_message=proactive``); ``tts`` adds the scripted TTS provider
    and turns TTS on. ``core_config`` is merged over that for this host only.
    """

    def make(
        *,
        tts: bool = False,
        proactive: bool = True,
        core_config: dict | None = None,
        plugin_config: dict | None = None,
        **kwargs,
    ) -> InProcessHost:
        return host_factory(
            plugin_config,
            chat={"tts": tts, "proactive": proactive},
            core_config=core_config,
            **kwargs,
        )

    return make


@pytest.fixture
async def chat_host(chat_host_factory: Callable[..., InProcessHost]):
    """AstrBot's core with our plugin, the scripted LLM and the recording IM platform."""
    async with chat_host_factory() as h:
        yield h


@pytest.fixture
def process_host(tmp_path: Path, plugin_src: Path):
    """Factory: ``process_host(plugin_config=None, **kw) -> AstrBotProcess``.

    Each call lays out a new root under tmp_path, starts ``astrbot run``, waits for
    the dashboard and logs in (``start=False`` returns it unstarted, ``login=False``
    skips the login). Every process is stopped at teardown, and the fixture fails the
    test if one is still alive after that.
    """
    procs: list[AstrBotProcess] = []

    def make(
        plugin_config: dict | None = None,
        *,
        src: Path | None = None,
        start: bool = True,
        login: bool = True,
        ready_timeout: float = 60.0,
        **kwargs,
    ) -> AstrBotProcess:
        root = make_astrbot_root(
            tmp_path / f"root{len(procs)}",
            src or plugin_src,
            default_plugin_config() if plugin_config is None else plugin_config,
        )
        proc = AstrBotProcess(root, **kwargs)
        procs.append(proc)
        if start:
            proc.launch(ready_timeout, login=login)
        return proc

    yield make
    for proc in procs:
        proc.stop()
    alive = [p.pid for p in procs if p.alive()]
    assert not alive, f"astrbot processes still alive after stop: {alive}"
