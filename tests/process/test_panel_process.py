"""The admin panel seen from outside a real ``astrbot run``: hot reloads under load,
a port held by a stranger, a port change, disable/enable, and secrets in the log.

One AstrBot process (module scope) serves the reload, port-change, disable and
secret tests, in that order; each of them reads the panel's current address from
``PanelState`` so it also runs alone. The stranger test and the generated-password
test need a fresh root of their own (``process_host``).
"""

from __future__ import annotations

import errno
import json
import re
import socket
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from harness.panel_probes import login_response, login_sync, panel_answers
from harness.ports import free_port, port_refuses
from harness.probes import HealthProber, LogFollowers
from harness.process import AstrBotProcess
from harness.roots import PLUGIN_NAME, make_astrbot_root
from harness.waiting import wait_for

pytestmark = pytest.mark.process

PANEL_PASSWORD = "Panel-Process-Pw-7731"
SAVES = 10
# The announcing line says "generated password: <it>"; the later start-up lines
# only mention "the generated password shown at first start" (no colon).
GENERATED_RE = re.compile(r"generated password:\s*(\S+)")


# ----------------------------------------------------------------------- helpers


def wait_healthz(port: int, timeout: float, proc: AstrBotProcess) -> float:
    """Seconds until /healthz answered on ``port``; fails with the log tail."""
    began = time.monotonic()
    wait_for(lambda: panel_answers(port, 1.0), timeout, 0.05, lambda: proc.log_tail(30))
    return time.monotonic() - began


def panel_me(port: int, token: str) -> httpx.Response:
    return httpx.get(
        f"http://127.0.0.1:{port}/api/me",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5.0,
    )


def web_admin(port: int, password: str = PANEL_PASSWORD, **extra: object) -> dict:
    """A whole ``web_admin`` group (AstrBot replaces top-level groups on save)."""
    group = {
        "enabled": True,
        "host": "127.0.0.1",
        "port": port,
        "password": password,
        "allowed_hosts": [],
        "log_buffer_size": 2000,
        "session_hours": 24,
    }
    group.update(extra)
    return group


def assert_alive(proc: AstrBotProcess, when: str) -> None:
    assert proc.alive(), f"AstrBot died ({when}), exit code {proc.exit_code}:\n{proc.log_tail()}"


# ------------------------------------------------------------ shared AstrBot process


@dataclass
class PanelState:
    proc: AstrBotProcess
    group: dict = field(default_factory=dict)

    @property
    def port(self) -> int:
        return self.group["port"]

    def save(self, **changes: object) -> float:
        """Save the whole web_admin group with ``changes``; seconds the PUT took."""
        self.group = {**self.group, **changes}
        began = time.monotonic()
        self.proc.save_plugin_config({"web_admin": dict(self.group)})
        return time.monotonic() - began


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, plugin_src: Path) -> Iterator[PanelState]:
    group = web_admin(free_port())
    root = make_astrbot_root(
        tmp_path_factory.mktemp("panel-shared") / "root", plugin_src, {"web_admin": group}
    )
    proc = AstrBotProcess(root)
    try:
        proc.launch(60.0)
        wait_healthz(group["port"], 10.0, proc)
        yield PanelState(proc, dict(group))
    finally:
        proc.stop()
    assert not proc.alive(), f"astrbot {proc.pid} still alive after stop()"


@pytest.fixture
def panel(shared: PanelState) -> PanelState:
    """The shared process, checked alive and with its panel up before each test."""
    assert_alive(shared.proc, "before the test")
    if not panel_answers(shared.port):
        shared.proc.enable_plugin()
        wait_healthz(shared.port, 10.0, shared.proc)
    return shared


# --------------------------------------------------------------------------- tests


def test_ten_saves_with_clients_and_prober(panel: PanelState) -> None:
    proc, port = panel.proc, panel.port
    token = login_sync(port, PANEL_PASSWORD)
    assert panel_me(port, token).status_code == 200

    prober = HealthProber(port, interval=0.002).start()
    try:
        followers = LogFollowers(port, token, clients=10).start()
    except BaseException:
        prober.stop()
        raise
    try:
        save_times: list[float] = []
        between: list[bool] = []
        for i in range(SAVES):
            save_times.append(panel.save(log_buffer_size=2000 + i + 1))
            assert_alive(proc, f"after save {i + 1}")
            between.append(panel_answers(port))
        # Let every follower get through its last reconnect (each waits 50 ms, then
        # the handshake) before the count is taken.
        time.sleep(1.0)
    finally:
        probe = prober.stop()
        follow = followers.stop()

    assert_alive(proc, "after the saves")
    figures = (
        f"saves took {[round(t, 2) for t in save_times]} s; prober: {probe['probes']} probes, "
        f"{probe['ok']} ok, refused={probe['refused']}, failed={probe['failed']}, "
        f"outcomes={probe['outcomes']}, longest_outage_s={probe['longest_outage_s']:.3f}, "
        f"latency_max_ms={probe['latency_max_ms']}, first_failures={probe['first_failures']}"
    )
    print(figures)
    assert all(between), f"/healthz between saves: {between}; {figures}"
    assert probe["refused"] == 0, figures
    assert probe["failed"] == 0, figures
    assert probe["ok"] > 100, figures

    clients = follow["clients"]
    assert len(clients) == 10, f"followers: {follow}"
    table = "\n".join(
        f"  client {n}: lines={c['lines']} last_seq={c['last_seq']} dup={c['duplicates']} "
        f"missed={c['missed']} reconnects={c['reconnects']} close_codes={c['close_codes']} "
        f"longest_reconnect_s={c['longest_reconnect_s']:.3f}"
        for n, c in enumerate(clients)
    )
    assert all(c["duplicates"] == 0 for c in clients), f"duplicated lines:\n{table}"
    assert all(c["missed"] == 0 for c in clients), f"missed lines:\n{table}"
    assert all(c["reconnects"] >= SAVES for c in clients), f"too few reconnects:\n{table}"
    assert all(c["close_codes"].get("1012", 0) >= SAVES for c in clients), (
        f"each reload should close every client with 1012:\n{table}"
    )
    assert all(c["lines"] > 0 for c in clients), f"a client saw no line:\n{table}"

    me = panel_me(port, token)
    assert me.status_code == 200, (
        f"a token issued before {SAVES} saves no longer works: HTTP {me.status_code} {me.text}"
    )
    assert me.json()["authenticated"] is True


def test_port_held_by_stranger(process_host) -> None:
    port = free_port()
    stranger = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        stranger.bind(("127.0.0.1", port))
        stranger.listen(16)
        proc = process_host({"web_admin": web_admin(port)})
        taken_re = re.compile(rf"[^\n]*\b{port}\b[^\n]*(?:already used|占用)[^\n]*")
        proc.wait_for_log(taken_re.pattern, timeout=15.0)
        first_seen = time.monotonic()
        assert proc.plugin_info()["activated"] is True, "the plugin did not load"

        # Retries run at about 0.5, 1.5 and 3.5 s after the first failure (back-off
        # 0.5 s doubling, +-20 %). Watch them, then free the port at 4.5 s, when
        # the next retry is due at 6.0-9.0 s: at most 4.5 s away.
        while time.monotonic() - first_seen < 4.5:
            assert_alive(proc, "while the port is held")
            time.sleep(0.25)
        full = [m.group(0) for m in taken_re.finditer(proc.log_text())]
        assert len(full) == 1, (
            f"expected exactly one 'port taken' line after 4.5 s of retries, got {len(full)}:\n"
            + "\n".join(full)
        )
        assert not panel_answers(port, 0.5), "something answered /healthz on the stranger's port"
    finally:
        stranger.close()

    took = wait_healthz(port, 5.0, proc)
    assert_alive(proc, "after the stranger left")
    full = [m.group(0) for m in taken_re.finditer(proc.log_text())]
    assert len(full) == 1, "more 'port taken' lines after recovery:\n" + "\n".join(full)
    assert proc.plugin_info()["activated"] is True
    print(f"panel answered {took:.2f} s after the stranger closed its socket")


def test_port_change_moves_panel(panel: PanelState) -> None:
    proc, old = panel.proc, panel.port
    new = free_port()
    took = panel.save(port=new)
    old_refuses = port_refuses(old)  # immediately: the old socket must be closed, not lingering
    new_answers = panel_answers(new)
    assert_alive(proc, "after the port change")
    assert new_answers, (
        f"new port {new} does not answer /healthz right after the save ({took:.2f} s)"
    )
    assert old_refuses, (
        f"old port {old} still accepts connections right after the save returned "
        f"(PUT took {took:.2f} s): the old listener was not closed on the address change"
    )
    assert proc.plugin_info()["activated"] is True


def test_disable_frees_port_and_enable_restores(panel: PanelState) -> None:
    proc, port = panel.proc, panel.port
    proc.disable_plugin()
    began = time.monotonic()
    assert proc.plugin_info()["activated"] is False
    wait_for(
        lambda: port_refuses(port), 7.0, 0.1, lambda: f"port {port} still open; {proc.log_tail(15)}"
    )
    freed_after = time.monotonic() - began
    assert_alive(proc, "after disabling")

    # A program that wants the port (SO_REUSEADDR like any server, so TIME_WAIT
    # leftovers of earlier probes do not count; a listening socket still would).
    stranger = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    stranger.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        try:
            stranger.bind(("127.0.0.1", port))
            stranger.listen(1)
        except OSError as exc:
            pytest.fail(
                f"port {port} refused connections {freed_after:.2f} s after disable, but a "
                f"stranger cannot bind it: {errno.errorcode.get(exc.errno, exc.errno)}"
            )
    finally:
        stranger.close()

    proc.enable_plugin()
    took = wait_healthz(port, 5.0, proc)
    assert_alive(proc, "after enabling")
    assert proc.plugin_info()["activated"] is True
    print(f"port free {freed_after:.2f} s after disable; /healthz {took:.2f} s after enable")


def test_no_secret_in_log(panel: PanelState) -> None:
    proc, port = panel.proc, panel.port
    password = panel.group["password"]
    token = login_sync(port, password)
    wrong = login_response(port, "Wrong-" + password[::-1])
    assert wrong.status_code == 401, f"wrong password: HTTP {wrong.status_code} {wrong.text}"

    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{port}/ws/logs?scope=all&token={token}", open_timeout=5) as ws:
        hello = json.loads(ws.recv(timeout=5))
        assert hello["type"] == "hello", hello
    proc.wait_for_log(r"Panel login failed from", timeout=5.0)
    time.sleep(0.5)  # let the child flush whatever the socket's close made it log

    log = proc.log_text()
    assert password not in log, "the configured panel password appears in the AstrBot log:\n" + (
        "\n".join(line for line in log.splitlines() if password in line)
    )
    assert token not in log, "a panel token appears in the AstrBot log:\n" + (
        "\n".join(line for line in log.splitlines() if token in line)
    )
    signature = token.split(".")[1]
    assert signature not in log, "a panel token's signature appears in the AstrBot log"


def test_generated_password_shown_once(process_host) -> None:
    port = free_port()
    group = web_admin(port, password="")
    proc = process_host({"web_admin": group})
    wait_healthz(port, 10.0, proc)
    match = proc.wait_for_log(GENERATED_RE.pattern, timeout=10.0)
    password = match.group(1)
    assert len(password) >= 16, f"generated password looks too short: {password!r}"

    shown = [line for line in proc.log_text().splitlines() if GENERATED_RE.search(line)]
    assert len(shown) == 1, "expected one line with the generated password:\n" + "\n".join(shown)
    token = login_sync(port, password)
    assert panel_me(port, token).status_code == 200

    proc.save_plugin_config({"web_admin": {**group, "log_buffer_size": 2500}})
    wait_healthz(port, 5.0, proc)
    assert panel_me(port, token).status_code == 200, "the login did not survive the reload"
    assert login_response(port, password).status_code == 200, "generated password lost on reload"
    time.sleep(0.3)
    log = proc.log_text()
    shown = [line for line in log.splitlines() if GENERATED_RE.search(line)]
    assert len(shown) == 1, "the generated password was shown again after a reload:\n" + (
        "\n".join(shown)
    )
    assert log.count(password) == 1, (
        f"the generated password appears {log.count(password)} times in the log:\n"
        + "\n".join(line for line in log.splitlines() if password in line)
    )

    auth_file = proc.root / "data" / "plugin_data" / PLUGIN_NAME / "panel_auth.json"
    assert auth_file.is_file(), f"{auth_file} missing"
    text = auth_file.read_text(encoding="utf-8-sig")
    assert password not in text, f"{auth_file.name} holds the password in clear"
    assert json.loads(text).get("generated_password_hash", "").startswith("scrypt$")
    mode = stat.S_IMODE(auth_file.stat().st_mode)
    assert mode == 0o600, f"{auth_file.name} has mode {oct(mode)}, expected 0o600"
    assert_alive(proc, "at the end")


def test_a_stranger_holding_the_panel_leaves_astrbot_its_dashboard(process_host) -> None:
    """Under a soft limit of 1,024 descriptors (a common default), a stranger holding
    more half-open connections to the panel than its cap (256 there) gets the extra ones
    refused, and AstrBot's own dashboard keeps answering; AstrBot's log gets no flood."""
    port = free_port()
    proc = process_host({"web_admin": web_admin(port)}, nofile=1024)
    wait_healthz(port, 15.0, proc)
    held: list[socket.socket] = []
    refused = 0
    try:
        for _ in range(600):
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=2.0)
            except OSError:
                refused += 1
                continue
            held.append(sock)
            try:  # a request head that never ends
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            except OSError:
                refused += 1
        time.sleep(0.5)
        still_open = sum(1 for sock in held if _still_open(sock))
        assert still_open <= 300, f"{still_open} of 600 connections held: the cap did not hold"
        assert proc.plugin_info()["activated"] is True  # AstrBot's dashboard, logged in
        assert_alive(proc, "while a stranger holds the panel")
    finally:
        for sock in held:
            sock.close()
    wait_healthz(port, 15.0, proc)
    flood = [
        line
        for line in proc.log_text().splitlines()
        if "out of system resource" in line or "Too many open files" in line
    ]
    assert len(flood) <= 2, "\n".join(flood[:5])
    print(
        f"of 600: {still_open} held, {len(held) - still_open} closed by the panel, {refused} refused"
    )


def _still_open(sock: socket.socket) -> bool:
    """Not closed by the server: no EOF and no reset waiting to be read."""
    sock.setblocking(False)
    try:
        return sock.recv(1) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
