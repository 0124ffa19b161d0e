"""Run ``astrbot run`` as a subprocess on a prepared root and drive its dashboard API.

Synchronous on purpose (httpx.Client): the AstrBot under test lives in another process.
From an async test, wrap calls in ``await asyncio.to_thread(proc.method, ...)`` if the
test's own event loop must keep serving something meanwhile.

Dashboard facts (astrbot 4.29.3, astrbot/dashboard/api):
- ``POST /api/v1/auth/login`` ``{"username": "astrbot", "password": <plain text>}`` ->
  ``{"status": "ok", "data": {"token": ..., "username": ..., "change_pwd_hint": ...}}``;
  a wrong password answers only after a 3 s penalty (status "error", HTTP 200 or 401).
- ``PUT /api/v1/plugins/config`` ``{"plugin_id": <name>, "config": {...}}``: validated
  against _conf_schema.json, top-level keys merged into the saved config, then
  ``plugin_manager.reload(name)``; answers after the reload.
- ``PATCH /api/v1/plugins/enabled`` ``{"plugin_id": <name>, "enabled": bool}``.
- ``POST /api/v1/plugins/reload`` ``{"plugin_id": <name>}``.
- ``GET /api/v1/plugins/config?plugin_id=<name>`` -> ``data.config`` is the live config.
- ``GET /api/v1/plugins/<name>`` -> plugin detail (``activated``, ``version`` etc.).
- ``DELETE /api/v1/plugins/<name>`` ``{"delete_config": bool, "delete_data": bool}``:
  uninstall (terminate, unbind, delete the plugin folder, then the config file and
  ``data/plugin_data/<name>`` when asked).
- ``POST /api/v1/plugins/<name>/source`` binds a market source; ``POST
  /api/v1/plugins/<name>/update`` updates from it (see harness.plugin_market).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import re
import resource
import signal
import subprocess
import sys
import time
import weakref
from pathlib import Path
from typing import Any

import httpx

from .ports import free_port
from .roots import OFFLINE_ENV, PLUGIN_NAME
from .waiting import WaitTimeout, wait_for

VENV_BIN = Path(sys.executable).parent
ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
PASSWORD_RE = re.compile(r"Initial password:\s*(\S+)")
PROBLEM_RE = re.compile(r"\[(WARN|ERRO|CRIT)\]|Traceback \(most recent call last\)")
# Offline, AstrBot's boot-time download of LLM metadata (models.dev) always logs two
# WARN lines and one ERRO line from utils.llm_metadata; nothing to do with the plugin.
KNOWN_NOISE_RE = re.compile(r"\[utils\.llm_metadata:\d+\]")
USERNAME = "astrbot"

_live: weakref.WeakSet[AstrBotProcess] = weakref.WeakSet()


class DashboardError(AssertionError):
    """The dashboard answered something other than ``status: ok``."""


class AstrBotProcess:
    """One ``astrbot run`` child process on ``root``, its dashboard on 127.0.0.1.

    Args:
        root: AstrBot root made by ``make_astrbot_root`` (the process runs with cwd=root).
        dashboard_port: Port for the dashboard; a free one when None.
        password: If given, the fresh root's initial dashboard password is this one
            (ASTRBOT_DASHBOARD_INITIAL_PASSWORD; >= 12 chars with upper, lower, digit).
            Otherwise read it from the log with ``initial_password()``.
        env: Extra environment variables for the child.
        log_path: Where stdout+stderr go (appended); ``<root>/astrbot-process.log``.
        nofile: The child's soft descriptor limit (RLIMIT_NOFILE), e.g. 1,024 as many
            services and shells have; None keeps this process's.
    """

    def __init__(
        self,
        root: Path,
        dashboard_port: int | None = None,
        *,
        password: str | None = None,
        env: dict[str, str] | None = None,
        log_path: Path | None = None,
        plugin_name: str = PLUGIN_NAME,
        nofile: int | None = None,
    ) -> None:
        self.root = Path(root)
        self.dashboard_port = dashboard_port or free_port()
        self.base_url = f"http://127.0.0.1:{self.dashboard_port}"
        self.log_path = Path(log_path or self.root / "astrbot-process.log")
        self.plugin_name = plugin_name
        self._password = password
        self._extra_env = dict(env or {})
        self.token: str | None = None
        self.popen: subprocess.Popen | None = None
        self.started_at: float | None = None
        self.ready_after: float | None = None
        self._log_offset = 0
        self._nofile = nofile

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> AstrBotProcess:
        """Start ``astrbot run``; again after ``kill()`` or ``stop()`` (same root, same
        ports: a restart). ``log_text()`` then shows the new run only."""
        if self.alive():
            raise RuntimeError("already running")
        self.token = None
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ASTRBOT_", "DASHBOARD_"))}
        env.update(OFFLINE_ENV)
        env.update(
            ASTRBOT_ROOT=str(self.root),
            DASHBOARD_HOST="127.0.0.1",
            DASHBOARD_PORT=str(self.dashboard_port),
            PYTHONUNBUFFERED="1",  # loguru writes to a pipe: flush every line
        )
        if self._password is not None:
            env["ASTRBOT_DASHBOARD_INITIAL_PASSWORD"] = self._password
        env.update(self._extra_env)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(
                [str(VENV_BIN / "astrbot"), "run"],
                cwd=self.root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: killpg reaches any children
                # a parent started in background ignores SIGINT; and the descriptor limit
                preexec_fn=functools.partial(_child_setup, self._nofile),
            )
        self.started_at = time.monotonic()
        _live.add(self)
        weakref.finalize(self, _kill_group, self.popen)
        return self

    def launch(self, ready_timeout: float = 60.0, *, login: bool = True) -> AstrBotProcess:
        """``start()``, ``wait_ready()``, then (unless ``login=False``) ``login()``."""
        self.start()
        self.wait_ready(ready_timeout)
        if login:
            self.login()
        return self

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Wait until the dashboard answers HTTP; returns seconds since start()."""
        assert self.popen is not None, "start() first"

        def answers() -> bool:
            if not self.alive():
                raise AssertionError(
                    f"astrbot exited with {self.exit_code} before its dashboard came up:\n"
                    + self.log_tail()
                )
            try:
                r = httpx.get(f"{self.base_url}/api/v1/auth/setup-status", timeout=1.0)
            except httpx.HTTPError:
                return False
            return r.status_code == 200

        try:
            wait_for(answers, timeout, 0.1)
        except WaitTimeout as exc:
            raise WaitTimeout(f"{exc}\n{self.log_tail()}") from None
        self.ready_after = time.monotonic() - (self.started_at or 0)
        return self.ready_after

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    @property
    def exit_code(self) -> int | None:
        return None if self.popen is None else self.popen.poll()

    @property
    def pid(self) -> int | None:
        return None if self.popen is None else self.popen.pid

    def stop(self, timeout: float = 15.0) -> int | None:
        """Stop gracefully, then harder. Never leaves the process (group) behind.

        SIGINT first: AstrBot turns it into a cancel of its main task and runs
        ``core_lifecycle.stop()`` (plugins' ``terminate()`` included). SIGTERM is not
        handled by AstrBot at all (instant death, no terminate), so it is only the
        second step; SIGKILL on the whole process group is the last.
        """
        if self.popen is None:
            return None
        steps = ((signal.SIGINT, timeout), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0))
        for sig, wait in steps:
            if self.popen.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                if sig == signal.SIGKILL:
                    os.killpg(self.popen.pid, sig)
                else:
                    self.popen.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(wait)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)  # stragglers left in its group
        _live.discard(self)
        return self.popen.returncode

    def kill(self, timeout: float = 10.0) -> int | None:
        """``kill -9`` of the whole process group, at once: no terminate(), no flush.
        Returns when the child is reaped (its exit code, -9)."""
        if self.popen is None:
            return None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout)
        _live.discard(self)
        return self.popen.returncode

    def __enter__(self) -> AstrBotProcess:
        if self.popen is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- log -----------------------------------------------------------------------
    def log_text(self) -> str:
        """This run's stdout+stderr so far, ANSI colours removed."""
        if not self.log_path.exists():
            return ""
        with open(self.log_path, "rb") as f:
            f.seek(self._log_offset)
            data = f.read()
        return ANSI_RE.sub("", data.decode("utf-8", "replace"))

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def log_problems(self, ignore: re.Pattern | None = KNOWN_NOISE_RE) -> list[str]:
        """Log lines at WARN or above (and traceback headers), minus known noise."""
        return [
            line
            for line in self.log_text().splitlines()
            if PROBLEM_RE.search(line) and not (ignore and ignore.search(line))
        ]

    def wait_for_log(self, pattern: str, timeout: float = 10.0) -> re.Match:
        """Wait until ``pattern`` (a regex) appears in this run's log."""
        regex = re.compile(pattern, re.MULTILINE)
        return wait_for(
            lambda: regex.search(self.log_text()), timeout, 0.05, lambda: self.log_tail()
        )

    def initial_password(self, timeout: float = 10.0) -> str:
        """The dashboard password a fresh root printed (``Initial password: ...``)."""
        if self._password is not None:
            return self._password
        match = self.wait_for_log(PASSWORD_RE.pattern, timeout)
        self._password = match.group(1)
        return self._password

    # -- dashboard API -------------------------------------------------------------
    def login(self, password: str | None = None, timeout: float = 15.0) -> str:
        """Log in as ``astrbot``; stores and returns the JWT (used by ``api()``)."""
        body = {"username": USERNAME, "password": password or self.initial_password()}
        r = httpx.post(f"{self.base_url}/api/v1/auth/login", json=body, timeout=timeout)
        payload = _ok(r)
        self.token = payload["data"]["token"]
        return self.token

    def api(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict | None = None,
        timeout: float = 30.0,
        check: bool = True,
    ) -> dict:
        """An authenticated dashboard call (``path`` under ``/api/v1``); returns the JSON.

        With ``check`` (default) anything but ``{"status": "ok"}`` raises DashboardError.
        """
        if self.token is None:
            self.login()
        r = httpx.request(
            method,
            f"{self.base_url}/api/v1{path}",
            json=json,
            params=params,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=timeout,
        )
        return _ok(r) if check else r.json()

    def auth_headers(self) -> dict[str, str]:
        """``Authorization: Bearer <token>`` (logs in first if needed), for calls made
        with httpx directly, e.g. streamed ones (see harness.webchat)."""
        if self.token is None:
            self.login()
        return {"Authorization": f"Bearer {self.token}"}

    def get_plugin_config(self) -> dict:
        data = self.api("GET", "/plugins/config", params={"plugin_id": self.plugin_name})
        return data["data"]["config"]

    def save_plugin_config(self, config: dict, timeout: float = 30.0) -> dict:
        """Save as the dashboard's Save button does; returns after AstrBot's reload.

        Top-level keys of ``config`` replace the saved ones (AstrBot does
        ``config.update(posted)``): send whole groups, e.g. the full ``web_admin``.
        """
        body = {"plugin_id": self.plugin_name, "config": config}
        return self.api("PUT", "/plugins/config", json=body, timeout=timeout)

    def plugin_info(self) -> dict:
        return self.api("GET", f"/plugins/{self.plugin_name}")["data"]

    def set_plugin_enabled(self, enabled: bool, timeout: float = 30.0) -> dict:
        body = {"plugin_id": self.plugin_name, "enabled": enabled}
        return self.api("PATCH", "/plugins/enabled", json=body, timeout=timeout)

    def disable_plugin(self, timeout: float = 30.0) -> dict:
        return self.set_plugin_enabled(False, timeout)

    def enable_plugin(self, timeout: float = 30.0) -> dict:
        return self.set_plugin_enabled(True, timeout)

    def reload_plugin(self, timeout: float = 30.0) -> dict:
        body = {"plugin_id": self.plugin_name}
        return self.api("POST", "/plugins/reload", json=body, timeout=timeout)

    def uninstall_plugin(
        self, *, delete_config: bool = False, delete_data: bool = False, timeout: float = 30.0
    ) -> dict:
        """``DELETE /plugins/<name>``: terminate, unbind, delete the plugin folder, and
        with the flags ``data/config/<name>_config.json`` and ``data/plugin_data/<name>``."""
        body = {"delete_config": delete_config, "delete_data": delete_data}
        return self.api("DELETE", f"/plugins/{self.plugin_name}", json=body, timeout=timeout)

    def bind_market_source(self, registry_url: str, market_plugin_id: str) -> dict:
        """``POST /plugins/<name>/source``: update this plugin from ``registry_url``
        (a market registry JSON) from now on."""
        body = {
            "install_method": "market",
            "registry_url": registry_url,
            "market_plugin_id": market_plugin_id,
        }
        return self.api("POST", f"/plugins/{self.plugin_name}/source", json=body)

    def update_plugin(self, timeout: float = 60.0) -> dict:
        """``POST /plugins/<name>/update``, the dashboard's Update button: download from
        the bound source, replace the folder, reload, and reload once more."""
        return self.api("POST", f"/plugins/{self.plugin_name}/update", json={}, timeout=timeout)


def _ok(r: httpx.Response) -> dict:
    try:
        payload = r.json()
    except ValueError:
        raise DashboardError(f"HTTP {r.status_code}, not JSON: {r.text[:500]}") from None
    if r.status_code != 200 or payload.get("status") != "ok":
        raise DashboardError(
            f"{r.request.method} {r.request.url} -> HTTP {r.status_code}: {payload}"
        )
    return payload


def _child_setup(nofile: int | None) -> None:
    _default_sigint()
    if nofile is not None:
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, hard))


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _kill_group(popen: subprocess.Popen) -> None:
    """Last resort (finalizer): only while the child is not yet reaped, so the
    process group id is certainly still ours."""
    if popen.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(popen.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        popen.wait(5)


@atexit.register
def _stop_all() -> None:
    for proc in list(_live):
        with contextlib.suppress(Exception):
            proc.stop(timeout=5)
