"""Where a reload's ``initialize()`` and ``terminate()`` spend their time: spans around
the plugin's own steps, for bench/reload.py.

After AstrBot imports a fresh ``main.py``, ``instrument(module)`` wraps its ``_build``
(run in a worker thread by ``initialize()``): the wrapper imports the service and the
panel modules itself (timed: a reload re-imports the plugin's every module) and wraps
the steps that follow in those fresh modules (store open, engine start, the panel's
secrets, app build and server start; on the way out the panel's and the service's
stop). Names a tree lacks are skipped, so an older tree can be measured too.

``panel.app_build`` is the FastAPI app's construction wherever it runs; ``app ready
after initialize`` is how long after ``initialize()`` returned the app was built (0
when ``initialize()`` waited for it), the wait of a request sent right after a save.
"""

from __future__ import annotations

import functools
import importlib
import statistics
import time
from collections import defaultdict

# (module under the plugin's package, class or None, attribute, span name)
STEPS = (
    ("core.service", "ProactiveService", "start", "service.start"),
    ("core.service", None, "parse_plugin_config", "service.parse_config"),
    ("core.store.session_store", "SessionStore", "open", "store.open"),
    ("core.engine.engine", "ProactiveEngine", "start", "engine.start"),
    ("core.service", "ProactiveService", "stop", "service.stop"),
    ("core.engine.engine", "ProactiveEngine", "stop", "engine.stop"),
    ("core.store.session_store", "SessionStore", "close", "store.close"),
    ("panel", "AdminPanel", "start", "panel.start"),
    ("panel", "AdminPanel", "_load_secrets", "panel.secrets"),
    ("panel", None, "build_templates", "panel.templates"),
    ("panel", None, "create_ready_app", "panel.app_build"),
    ("core.server.web_admin_server", "WebAdminServer", "start", "server.start"),
    ("panel", "AdminPanel", "stop", "panel.stop"),
    ("core.server.web_admin_server", "WebAdminServer", "stop", "server.stop"),
)


class ReloadSpans:
    def __init__(self) -> None:
        self.spans: dict[str, list[tuple[float, float]]] = defaultdict(list)
        self.recording = False

    def note(self, name: str, began: float) -> None:
        if self.recording:
            self.spans[name].append((began, time.perf_counter()))

    def wrap(self, name: str, func):
        spans = self
        if getattr(func, "__wrapped_by_bench__", False):
            return func
        if _is_async(func):

            @functools.wraps(func)
            async def timed_async(*args, **kwargs):
                began = time.perf_counter()
                try:
                    return await func(*args, **kwargs)
                finally:
                    spans.note(name, began)

            timed_async.__wrapped_by_bench__ = True  # type: ignore[attr-defined]
            return timed_async

        @functools.wraps(func)
        def timed(*args, **kwargs):
            began = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                spans.note(name, began)

        timed.__wrapped_by_bench__ = True  # type: ignore[attr-defined]
        return timed

    def instrument(self, main) -> None:
        """Wrap the fresh ``main`` module's ``_build`` (see the module docstring)."""
        build = getattr(main, "_build", None)
        if build is None:
            return
        package = main.__name__.rsplit(".", 1)[0]
        spans = self

        def timed_build(*args, **kwargs):
            began = time.perf_counter()
            importlib.import_module(f"{package}.core.service")
            spans.note("build.import_service", began)
            began = time.perf_counter()
            importlib.import_module(f"{package}.panel")
            spans.note("build.import_panel", began)
            for module_name, owner_name, attribute, name in STEPS:
                spans._wrap_step(f"{package}.{module_name}", owner_name, attribute, name)
            began = time.perf_counter()
            try:
                return build(*args, **kwargs)
            finally:
                spans.note("build.construct", began)

        main._build = timed_build

    def _wrap_step(self, module_name: str, owner_name: str | None, attribute: str, name: str):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            return
        owner = getattr(module, owner_name, None) if owner_name else module
        func = getattr(owner, attribute, None) if owner is not None else None
        if func is not None:
            setattr(owner, attribute, self.wrap(name, func))

    def figures(self, initialize_spans: list[tuple[float, float]]) -> dict:
        """p50 per span, and how long after ``initialize()`` the app was ready."""
        figures = {
            f"span_{name.replace('.', '_')}_p50_ms": statistics.median(b - a for a, b in spans)
            * 1000
            for name, spans in sorted(self.spans.items())
            if spans
        }
        waits = []
        for began, ended in initialize_spans:
            builds = [b for a, b in self.spans.get("panel.app_build", []) if began <= a <= ended]
            if builds:
                waits.append(max(0.0, max(builds) - ended))
        if waits:
            figures["app_ready_after_initialize_p50_ms"] = statistics.median(waits) * 1000
            figures["app_ready_after_initialize_max_ms"] = max(waits) * 1000
        return figures


def _is_async(func) -> bool:
    import inspect

    return inspect.iscoroutinefunction(func)
