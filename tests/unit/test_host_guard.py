"""``split_host`` and ``HostPolicy``: which Host and Origin headers the panel answers."""

from __future__ import annotations

import pytest

from proactive_chat.web.auth.host_guard import LOCAL_NAMES, HostPolicy, split_host
from proactive_chat.web.settings import WebAdminSettings


@pytest.mark.parametrize(
    ("header", "host"),
    [
        ("localhost", "localhost"),
        ("localhost:4100", "localhost"),
        ("LocalHost:4100", "localhost"),
        ("Example.COM:4100", "example.com"),
        ("example.com.", "example.com"),
        ("example.com.:4100", "example.com"),
        ("127.0.0.1:4100", "127.0.0.1"),
        ("  127.0.0.1  ", "127.0.0.1"),
        ("[::1]", "::1"),
        ("[::1]:4100", "::1"),
        ("[FE80::1]:80", "fe80::1"),
        ("[2001:db8::5]:65535", "2001:db8::5"),
    ],
)
def test_split_host_good(header, host):
    assert split_host(header) == host


@pytest.mark.parametrize(
    "header",
    [
        "",
        "   ",
        ".",
        ":4100",
        "localhost:",
        "localhost:http",
        "localhost:-1",
        "user@localhost",
        "evil.com@127.0.0.1",
        "localhost/path",
        "local host",
        "localhost\\x",
        "localhost?x",
        "localhost#x",
        "[::1",
        "[::1]x",
        "[::1]:",
        "[::1]:abc",
        "[]",
        "[]:4100",
    ],
)
def test_split_host_malformed_is_none(header):
    assert split_host(header) is None


# --- HostPolicy --------------------------------------------------------------------


def policy(**kw) -> HostPolicy:
    return HostPolicy(WebAdminSettings(**kw))


@pytest.mark.parametrize(
    "header",
    ["localhost", "localhost:4100", "127.0.0.1:4100", "[::1]:4100", "LOCALHOST", "localhost."],
)
def test_local_names_always_allowed(header):
    assert policy().host_allowed(header) is True
    assert policy(host="0.0.0.0").host_allowed(header) is True


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "evil.com",
        "evil.com:4100",
        "localhost.evil.com",
        "127.0.0.1.nip.io",
        "192.168.1.20:4100",
        "[fe80::1]:4100",
        "0.0.0.0:4100",
        "127.0.0.2",
        "user@127.0.0.1",
        "127.0.0.1:80:90",
    ],
)
def test_default_policy_refuses_other_hosts(header):
    assert policy().host_allowed(header) is False


def test_configured_host_is_allowed_case_insensitively():
    p = policy(host="Panel.LAN")
    assert p.host_allowed("panel.lan:4100") is True
    assert p.host_allowed("PANEL.lan") is True
    assert p.host_allowed("other.lan") is False
    assert p.names == frozenset(LOCAL_NAMES | {"panel.lan"})


def test_configured_ip_is_allowed_but_not_other_ips():
    p = policy(host="192.168.1.20")
    assert p.host_allowed("192.168.1.20:4100") is True
    assert p.host_allowed("192.168.1.21:4100") is False
    assert p.any_ip is False


def test_allowed_hosts_are_allowed():
    p = policy(allowed_hosts=("panel.example.com", "10.1.2.3"))
    assert p.host_allowed("panel.example.com:443") is True
    assert p.host_allowed("10.1.2.3") is True
    assert p.host_allowed("example.com") is False


@pytest.mark.parametrize("bind", ["0.0.0.0", "::"])
def test_ip_literals_allowed_only_when_bound_to_all_interfaces(bind):
    p = policy(host=bind)
    assert p.any_ip is True
    assert p.host_allowed("192.168.1.20:4100") is True
    assert p.host_allowed("[fe80::1]:4100") is True
    assert p.host_allowed("10.0.0.1") is True
    assert p.host_allowed("evil.com") is False
    assert p.host_allowed("192.168.1.20.nip.io") is False
    assert bind not in p.names


# --- origin_allowed ------------------------------------------------------------------


@pytest.mark.parametrize(
    "origin",
    [
        None,
        "http://127.0.0.1:4100",
        "http://localhost:4100",
        "https://localhost:4100",
        "http://[::1]:4100",
        "http://127.0.0.1:4100/some/path",
    ],
)
def test_origin_allowed(origin):
    assert policy().origin_allowed(origin) is True


@pytest.mark.parametrize(
    "origin",
    [
        "null",
        "",
        "file://",
        "ftp://127.0.0.1",
        "chrome-extension://abcdef",
        "ws://127.0.0.1:4100",
        "http://evil.com",
        "https://evil.com:4100",
        "http://127.0.0.1.evil.com",
        "http://user@127.0.0.1:4100",
        "http://[::1",
        "http://",
        "127.0.0.1:4100",
        # Another web app on this machine: same site, other origin (port).
        "http://localhost:8080",
        "http://127.0.0.1",
        "https://localhost",
        "http://127.0.0.1:99999",
    ],
)
def test_origin_refused(origin):
    assert policy().origin_allowed(origin) is False


def test_origin_with_configured_host():
    p = policy(host="panel.lan", allowed_hosts=("alt.example",))
    assert p.origin_allowed("http://panel.lan:4100") is True
    assert p.origin_allowed("http://panel.lan:8080") is False
    # A reverse-proxy name: the public port is the proxy's, any is accepted.
    assert p.origin_allowed("https://alt.example") is True
    assert p.origin_allowed("https://alt.example:8443") is True
    assert p.origin_allowed("https://evil.example") is False
