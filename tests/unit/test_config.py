"""``parse_web_admin``: every key with good, bad, boundary and wrong-type values."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace

import pytest

from proactive_chat.web.settings import (
    DEFAULT_HOST,
    DEFAULT_LOG_BUFFER,
    DEFAULT_PORT,
    DEFAULT_SESSION_HOURS,
    MAX_PASSWORD_CHARS,
    WebAdminSettings,
    is_valid_host,
    parse_web_admin,
)

DEFAULTS = WebAdminSettings()


def parse(**raw):
    return parse_web_admin(raw)


def only_problem(problems: list[str], key: str) -> str:
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"web_admin.{key}"), problems
    return problems[0]


# --- the whole object ---------------------------------------------------------


def test_defaults_match_constants():
    assert DEFAULTS == WebAdminSettings(
        enabled=True,
        host=DEFAULT_HOST,
        port=DEFAULT_PORT,
        password="",
        allowed_hosts=(),
        log_buffer_size=DEFAULT_LOG_BUFFER,
        session_hours=DEFAULT_SESSION_HOURS,
    )
    assert (DEFAULT_HOST, DEFAULT_PORT, DEFAULT_LOG_BUFFER, DEFAULT_SESSION_HOURS) == (
        "127.0.0.1",
        4100,
        2000,
        24,
    )


@pytest.mark.parametrize("raw", [None, {}])
def test_missing_or_empty_gives_defaults_silently(raw):
    assert parse_web_admin(raw) == (DEFAULTS, [])


@pytest.mark.parametrize(
    ("raw", "type_name"),
    [([], "list"), ("web_admin", "str"), (42, "int"), (True, "bool"), ([("port", 1)], "list")],
)
def test_non_mapping_raw_gives_defaults_and_one_problem(raw, type_name):
    settings, problems = parse_web_admin(raw)
    assert settings == DEFAULTS
    assert problems == [f"web_admin should be an object, got {type_name}; using defaults"]


def test_any_mapping_is_accepted():
    settings, problems = parse_web_admin(OrderedDict(port=5000))
    assert (settings.port, problems) == (5000, [])


def test_unknown_keys_are_ignored():
    settings, problems = parse(colour="blue", nested={"a": [1, 2]})
    assert (settings, problems) == (DEFAULTS, [])


def test_all_good_values_together():
    settings, problems = parse(
        enabled=False,
        host="0.0.0.0",
        port=8080,
        password="  s3cret  ",
        allowed_hosts=["panel.example.com"],
        log_buffer_size=500,
        session_hours=2,
    )
    assert problems == []
    assert settings == WebAdminSettings(
        enabled=False,
        host="0.0.0.0",
        port=8080,
        password="  s3cret  ",  # exactly as typed: the login compares it unstripped
        allowed_hosts=("panel.example.com",),
        log_buffer_size=500,
        session_hours=2,
    )


def test_every_key_bad_reports_each_key_once_and_uses_defaults():
    settings, problems = parse(
        enabled="maybe",
        host="not a host",
        port="http",
        password=["x"],
        allowed_hosts={"a": 1},
        log_buffer_size="lots",
        session_hours=None,
    )
    assert settings == DEFAULTS
    keys = [p.split("=", 1)[0] for p in problems]
    assert keys == [
        "web_admin.enabled",
        "web_admin.host",
        "web_admin.port",
        "web_admin.password",
        "web_admin.allowed_hosts",
        "web_admin.log_buffer_size",
        "web_admin.session_hours",
    ]


# --- enabled --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        ("true", True),
        (" TRUE ", True),
        ("Yes", True),
        ("on", True),
        ("1", True),
        ("false", False),
        ("No", False),
        ("OFF", False),
        ("0", False),
    ],
)
def test_enabled_accepts_booleans_and_their_spellings(value, expected):
    settings, problems = parse(enabled=value)
    assert (settings.enabled, problems) == (expected, [])


@pytest.mark.parametrize("value", [2, -1, 1.0, 0.0, "maybe", "", None, [], {"on": True}, [True]])
def test_enabled_rejects_anything_else_and_keeps_default(value):
    settings, problems = parse(enabled=value)
    assert settings.enabled is True
    text = only_problem(problems, "enabled")
    assert text == f"web_admin.enabled={value!r} is not true/false; using True"


# --- host -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "127.0.0.1",
        "0.0.0.0",
        "192.168.1.20",
        "::",
        "::1",
        "fe80::1",
        "localhost",
        "panel.example.com",
        "my_host",
        "Example.COM",
        "a-b.c-d.e",
    ],
)
def test_host_accepts_ip_and_host_names(value):
    settings, problems = parse(host=value)
    assert (settings.host, problems) == (value, [])


def test_host_is_stripped():
    settings, problems = parse(host="  10.0.0.1\n")
    assert (settings.host, problems) == ("10.0.0.1", [])


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "evil host",
        "http://example.com",
        "example.com:4100",
        "-bad.example",
        "bad-.example",
        "a..b",
        "user@host",
        "a" * 64 + ".com",
        "x." * 130,
        "例子.com",
        None,
        4100,
        ["127.0.0.1"],
        {"host": "127.0.0.1"},
        True,
    ],
)
def test_host_rejects_junk_and_wrong_types(value):
    settings, problems = parse(host=value)
    assert settings.host == DEFAULT_HOST
    text = only_problem(problems, "host")
    assert text.endswith("is not an IP address or host name; using '127.0.0.1'")


def test_host_problem_value_is_truncated():
    _, problems = parse(host="x y" * 200)
    shown = problems[0].split("=", 1)[1].split(" is not")[0]
    assert len(shown) == 80


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("host.", True),
        ("1.2.3.4", True),
        ("2001:db8::1", True),
        ("a" * 63, True),
        ("a" * 64, False),
        (".", False),
        ("a b", False),
        ("a/b", False),
    ],
)
def test_is_valid_host(value, valid):
    assert is_valid_host(value) is valid


# --- port -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1),
        (65535, 65535),
        (8080, 8080),
        ("8080", 8080),
        (" 8080 ", 8080),
        ("+8080", 8080),
        (8080.0, 8080),
    ],
)
def test_port_good_and_boundary(value, expected):
    settings, problems = parse(port=value)
    assert (settings.port, problems) == (expected, [])


@pytest.mark.parametrize(
    "value",
    [
        0,
        -1,
        65536,
        10**9,
        "0",
        "65536",
        "-80",
        "80.5",
        80.5,
        "1e3",
        "0x50",
        "",
        "http",
        None,
        True,
        False,
        [4100],
        {"port": 4100},
        float("nan"),
        float("inf"),
    ],
)
def test_port_rejects_out_of_range_and_wrong_types(value):
    settings, problems = parse(port=value)
    assert settings.port == DEFAULT_PORT
    text = only_problem(problems, "port")
    assert text.endswith("is not a port number (1-65535); using 4100")


@pytest.mark.parametrize("value", ["+-5", "--1", "-+80", "\u00b2", "9" * 5000])
def test_port_malformed_number_strings_are_rejected_not_raised(value):
    # "No config can stop the plugin": these pass the isdigit() pre-check but int() fails.
    settings, problems = parse(port=value)
    assert settings.port == DEFAULT_PORT
    only_problem(problems, "port")


@pytest.mark.parametrize("value", ["+-5", "\u00b2"])
def test_bounded_ints_malformed_number_strings_are_rejected_not_raised(value):
    settings, problems = parse(log_buffer_size=value, session_hours=value)
    assert (settings.log_buffer_size, settings.session_hours) == (2000, 24)
    assert len(problems) == 2


# --- password -------------------------------------------------------------------


def test_password_is_kept_exactly_as_typed_and_hidden_from_repr():
    settings, problems = parse(password="  hunter2-secret  ")
    assert (settings.password, problems) == ("  hunter2-secret  ", [])
    assert "hunter2" not in repr(settings)


def test_password_the_login_cannot_take_is_refused_with_one_line():
    longest = "p" * MAX_PASSWORD_CHARS
    assert parse(password=longest) == (replace(DEFAULTS, password=longest), [])
    for value, why in (
        ("p" * (MAX_PASSWORD_CHARS + 1), "is longer than 1024 characters"),
        ("hunter2\nsecret", "contains a line break or control character"),
        ("hunter2\tsecret", "contains a line break or control character"),
    ):
        settings, problems = parse(password=value)
        assert settings.password == ""
        text = only_problem(problems, "password")
        assert text.startswith(f"web_admin.password=<hidden> {why}"), text
        assert "hunter2" not in text and "ppp" not in text


@pytest.mark.parametrize("value", [None, "", "   "])
def test_password_empty_means_none_configured(value):
    settings, problems = parse(password=value)
    assert (settings.password, problems) == ("", [])


@pytest.mark.parametrize(
    "value",
    [12345678, 3.5, True, ["hunter2-secret"], {"pw": "hunter2-secret"}, ("hunter2-secret",)],
)
def test_password_wrong_type_is_reported_without_the_value(value):
    settings, problems = parse(password=value)
    assert settings.password == ""
    text = only_problem(problems, "password")
    assert text == "web_admin.password=<hidden> is not text; using ''"
    assert "hunter2" not in text and "12345678" not in text and "3.5" not in text


def test_password_never_appears_in_any_problem():
    secret = "Tr0ub4dor&3-secret"
    _, problems = parse(password=secret, enabled="x", host="a b", port="p", session_hours="h")
    assert len(problems) == 4
    assert all(secret not in p for p in problems)
    _, problems = parse(password=[secret, {"nested": secret}], port="x")
    assert len(problems) == 2
    assert all(secret not in p for p in problems)


# --- allowed_hosts --------------------------------------------------------------


def test_allowed_hosts_list_is_lowercased_deduplicated_and_trailing_dot_dropped():
    settings, problems = parse(
        allowed_hosts=["Panel.Example.com", "panel.example.com.", " PANEL.example.COM ", "::1"]
    )
    assert settings.allowed_hosts == ("panel.example.com", "::1")
    assert problems == []


def test_allowed_hosts_comma_or_space_string():
    settings, problems = parse(allowed_hosts="A.com, b.COM.  a.com ,c.org\nd.net")
    assert settings.allowed_hosts == ("a.com", "b.com", "c.org", "d.net")
    assert problems == []


def test_allowed_hosts_empty_string_is_empty():
    assert parse(allowed_hosts="") == (DEFAULTS, [])
    assert parse(allowed_hosts=" , ,") == (DEFAULTS, [])


def test_allowed_hosts_invalid_entries_dropped_and_named():
    settings, problems = parse(
        allowed_hosts=["good.com", "bad host", "http://x.com", 5, None, "", ".", ["nested"]]
    )
    assert settings.allowed_hosts == ("good.com",)
    assert problems == [
        "web_admin.allowed_hosts entry 'bad host' is not a host name; ignored",
        "web_admin.allowed_hosts entry 'http://x.com' is not a host name; ignored",
        "web_admin.allowed_hosts entry 5 is not a host name; ignored",
        "web_admin.allowed_hosts entry None is not a host name; ignored",
        "web_admin.allowed_hosts entry '' is not a host name; ignored",
        "web_admin.allowed_hosts entry '.' is not a host name; ignored",
        "web_admin.allowed_hosts entry ['nested'] is not a host name; ignored",
    ]


def test_allowed_hosts_entry_with_port_is_dropped():
    settings, problems = parse(allowed_hosts="good.com,evil.com:80")
    assert settings.allowed_hosts == ("good.com",)
    assert problems == ["web_admin.allowed_hosts entry 'evil.com:80' is not a host name; ignored"]


@pytest.mark.parametrize("value", [5, {"a.com": True}, ("a.com",), True, None])
def test_allowed_hosts_wrong_type(value):
    settings, problems = parse(allowed_hosts=value)
    assert settings.allowed_hosts == ()
    text = only_problem(problems, "allowed_hosts")
    assert text.endswith("is not a list of host names; using []")


def test_allowed_hosts_long_entry_is_truncated_in_problem():
    _, problems = parse(allowed_hosts=["x y" * 100])
    assert len(problems) == 1
    assert len(problems[0]) < 140


# --- log_buffer_size and session_hours ---------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("log_buffer_size", 200, 200),
        ("log_buffer_size", 50_000, 50_000),
        ("log_buffer_size", "5000", 5000),
        ("log_buffer_size", 1000.0, 1000),
        ("session_hours", 1, 1),
        ("session_hours", 720, 720),
        ("session_hours", " 48 ", 48),
    ],
)
def test_bounded_ints_in_range(key, value, expected):
    settings, problems = parse(**{key: value})
    assert (getattr(settings, key), problems) == (expected, [])


@pytest.mark.parametrize(
    ("key", "value", "clamped", "bounds"),
    [
        ("log_buffer_size", 199, 200, "200-50000"),
        ("log_buffer_size", 0, 200, "200-50000"),
        ("log_buffer_size", -5, 200, "200-50000"),
        ("log_buffer_size", 50_001, 50_000, "200-50000"),
        ("log_buffer_size", "1000000", 50_000, "200-50000"),
        ("session_hours", 0, 1, "1-720"),
        ("session_hours", "-3", 1, "1-720"),
        ("session_hours", 721, 720, "1-720"),
        ("session_hours", 10**12, 720, "1-720"),
    ],
)
def test_bounded_ints_are_clamped_and_reported(key, value, clamped, bounds):
    settings, problems = parse(**{key: value})
    assert getattr(settings, key) == clamped
    text = only_problem(problems, key)
    assert text == f"web_admin.{key}={value!r} is outside {bounds}; using {clamped}"


@pytest.mark.parametrize(("key", "default"), [("log_buffer_size", 2000), ("session_hours", 24)])
@pytest.mark.parametrize("value", [None, "lots", "", "12.5", 12.5, True, [100], {"n": 5}])
def test_bounded_ints_wrong_type_uses_default(key, default, value):
    settings, problems = parse(**{key: value})
    assert getattr(settings, key) == default
    text = only_problem(problems, key)
    assert text.endswith(f"is not a whole number; using {default}")


# --- url and display_host ----------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "port", "display", "url", "all_interfaces"),
    [
        ("127.0.0.1", 4100, "127.0.0.1", "http://127.0.0.1:4100/", False),
        ("192.168.1.20", 8080, "192.168.1.20", "http://192.168.1.20:8080/", False),
        ("::1", 4100, "[::1]", "http://[::1]:4100/", False),
        ("2001:db8::5", 9000, "[2001:db8::5]", "http://[2001:db8::5]:9000/", False),
        ("0.0.0.0", 4100, "127.0.0.1", "http://127.0.0.1:4100/", True),
        ("::", 4101, "127.0.0.1", "http://127.0.0.1:4101/", True),
        ("localhost", 4100, "localhost", "http://localhost:4100/", False),
    ],
)
def test_url_and_display_host(host, port, display, url, all_interfaces):
    settings, problems = parse(host=host, port=port)
    assert problems == []
    assert settings.display_host == display
    assert settings.url == url
    assert settings.binds_all_interfaces is all_interfaces


def test_empty_host_dataclass_binds_all_interfaces():
    settings = WebAdminSettings(host="")
    assert settings.binds_all_interfaces is True
    assert settings.url == "http://127.0.0.1:4100/"


def test_settings_are_immutable():
    settings, _ = parse()
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]
