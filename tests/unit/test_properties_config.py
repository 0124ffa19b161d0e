"""Properties of the config checks (web/settings.py, core/engine/config.py) over
generated configs: whatever AstrBot hands the plugin, or a client sends the panel.

What they promise: reading a config never raises and always yields settings in the
documented ranges (``int_ranges()``, what the panel's form shows); every bad value
gets one message naming its key, and the default is used (web_admin: the message says
what is used); a minimum above the maximum is swapped when read, refused when saved
from the panel; what was read is valid as it stands (reading it again changes nothing,
and the panel may save it); the secret password never shows in a message.

Over 400 lines on purpose: the properties share their generators.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from typing import Any

from hypothesis import assume, example, given
from hypothesis import strategies as st

from proactive_chat.core.engine.config import (
    MAX_MINUTES,
    engine_defaults,
    int_ranges,
    kind_defaults,
    normalize_engine_dict,
    normalize_kind_dict,
    parse_plugin_config,
    validate_config_update,
    validate_override,
)
from proactive_chat.core.engine.quiet_hours import parse_quiet_hours
from proactive_chat.core.umo import parse_umo
from proactive_chat.web.settings import WebAdminSettings, is_valid_host, parse_web_admin

GROUPS = {"friend_settings": "friend", "group_settings": "group"}
GROUP_OF = {kind: group for group, kind in GROUPS.items()}
RANGES = int_ranges()
LIST_FIELDS = (
    "session_list",
    "segmented_reply_settings.split_words",
    "model_settings.fallback_provider_ids",
    "tool_settings.whitelist",
    "tool_settings.blacklist",
    "picture_settings.include_tools",
    "picture_settings.exclude_tools",
)
MOMENTS = "moment_settings.moments"  # a list whose entries are checked one by one too
SWAPPED_PAIRS = ("schedule_settings.min_interval_minutes", "schedule_settings.max_interval_minutes")

# --- generated values -----------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-5, 20_000),
    st.floats(),
    st.text(max_size=20),
    # Near misses and hits for the fields' own formats.
    st.sampled_from(
        [
            "",
            " ",
            "true",
            "Off",
            "0",
            " 42 ",
            "1e3",
            "12.0",
            "1-7",
            "23:00-07:00",
            "0-24",
            "1.5, 3.5",
            "3, 1",
            "70",
            "2.5",
            "words",
            "REGEX",
            "custom",
            "(",
            "[a-",
            "a{1,99999999999}",
            "。",
            "p:FriendMessage:1",
            "p:GroupMessage:g",
            "12345",
            "\ud800",
            "a\x00b",
        ]
    ),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


def shaped_like(defaults: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts with some of the known keys (nested like the defaults), each holding anything,
    plus a stray key now and then."""
    optional = {
        key: st.one_of(shaped_like(value), json_values) if isinstance(value, dict) else json_values
        for key, value in defaults.items()
    }
    return st.fixed_dictionaries({}, optional=optional | {"stray": json_values})


plugin_configs = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "friend_settings": st.one_of(shaped_like(kind_defaults("friend")), json_values),
            "group_settings": st.one_of(shaped_like(kind_defaults("group")), json_values),
            "engine_settings": st.one_of(shaped_like(engine_defaults()), json_values),
        },
    ),
)


def leaf_paths(d: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key, value in d.items():
        if isinstance(value, dict):
            out += leaf_paths(value, f"{prefix}{key}.")
        else:
            out.append(f"{prefix}{key}")
    return out


def get(d: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        d = d[part]
    return d


def put(d: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(d)
    *parents, last = path.split(".")
    here = out
    for part in parents:
        here = here[part]
    here[last] = value
    return out


# --- web_admin ------------------------------------------------------------------------------

WEB_KEYS = ("enabled", "host", "port", "password", "allowed_hosts", "log_buffer_size")
WEB_KEYS += ("session_hours",)
web_admin_configs = st.one_of(
    json_values, st.fixed_dictionaries({}, optional=dict.fromkeys(WEB_KEYS, json_values))
)


def assert_valid_web_admin(settings: WebAdminSettings) -> None:
    assert isinstance(settings.enabled, bool)
    assert settings.host == settings.host.strip() and is_valid_host(settings.host)
    assert type(settings.port) is int and 1 <= settings.port <= 65535
    # Kept exactly as typed, but always one the login page can send (or none).
    assert isinstance(settings.password, str) and len(settings.password) <= 1024
    assert settings.password == "" or settings.password.strip()
    assert not any(unicodedata.category(c) == "Cc" for c in settings.password)
    assert isinstance(settings.allowed_hosts, tuple)
    assert len(set(settings.allowed_hosts)) == len(settings.allowed_hosts)
    assert all(is_valid_host(h) and h == h.lower() for h in settings.allowed_hosts)
    assert type(settings.log_buffer_size) is int and 200 <= settings.log_buffer_size <= 50_000
    assert type(settings.session_hours) is int and 1 <= settings.session_hours <= 720


@given(web_admin_configs)
@example({"port": 10**100, "log_buffer_size": float("nan"), "session_hours": "9" * 50})
@example({"host": "a b", "allowed_hosts": "x.com, ,bad host,", "enabled": "maybe"})
def test_web_admin_any_input_gives_valid_settings_one_message_per_bad_key(raw):
    settings, problems = parse_web_admin(raw)
    assert_valid_web_admin(settings)
    if not isinstance(raw, dict):  # the whole group is wrong: one message, all defaults
        assert len(problems) == (0 if raw is None else 1)
        assert settings == WebAdminSettings()
        return
    defaults = WebAdminSettings()
    for key in WEB_KEYS:
        mine = [p for p in problems if p.startswith(f"web_admin.{key}=")]
        if key not in raw:
            assert getattr(settings, key) == getattr(defaults, key) and not mine
        elif key != "allowed_hosts":
            assert len(mine) <= 1, mine
            if mine:  # the message says what is used instead, and it is
                assert mine[0].endswith(f"; using {getattr(settings, key)!r}"), mine[0]
    assert all(p.startswith("web_admin.") for p in problems)


@given(
    st.from_regex(r"S3cr3t-[a-z0-9]{10}", fullmatch=True),
    st.sampled_from(["list", "dict", "bytes-ish"]),
    st.sampled_from([{}, {"port": "nope"}, {"enabled": 7}]),
)
def test_web_admin_a_password_never_shows_in_a_message(secret, wrapping, others):
    value = {"list": [secret], "dict": {"p": secret}, "bytes-ish": [ord(c) for c in secret]}
    _, problems = parse_web_admin({**others, "password": value[wrapping]})
    text = "\n".join(problems)
    assert any(p.startswith("web_admin.password=<hidden>") for p in problems)
    assert secret not in text and repr(value[wrapping])[:12] not in text


hostnames = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z]{2,6}){0,2}", fullmatch=True)


@given(
    enabled=st.booleans(),
    host=st.one_of(hostnames, st.ip_addresses().map(str)),
    port=st.integers(1, 65535),
    port_as_text=st.booleans(),
    password=st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=30),
    allowed=st.lists(hostnames, unique=True, max_size=4),
    log_buffer_size=st.integers(200, 50_000),
    session_hours=st.integers(1, 720),
)
def test_web_admin_valid_values_round_trip(
    enabled, host, port, port_as_text, password, allowed, log_buffer_size, session_hours
):
    raw = {
        "enabled": enabled,
        "host": host,
        "port": str(port) if port_as_text else port,
        "password": password,
        "allowed_hosts": allowed,
        "log_buffer_size": log_buffer_size,
        "session_hours": session_hours,
    }
    settings, problems = parse_web_admin(raw)
    assert problems == []
    assert settings == WebAdminSettings(
        enabled=enabled,
        host=host,
        port=port,
        password=password if password.strip() else "",  # exactly as typed; blank: none
        allowed_hosts=tuple(allowed),
        log_buffer_size=log_buffer_size,
        session_hours=session_hours,
    )


# --- friend_settings / group_settings / engine_settings: reading (lenient) ------------------


def assert_valid_kind_dict(d: dict[str, Any], group: str) -> None:
    kind = GROUPS[group]
    assert leaf_paths(d) == leaf_paths(kind_defaults(kind))  # every key, nothing else
    for path, (low, high) in RANGES[group].items():
        value = get(d, path)
        assert type(value) is int and low <= value <= high, (path, value)
    schedule = d["schedule_settings"]
    assert schedule["min_interval_minutes"] <= schedule["max_interval_minutes"]
    parse_quiet_hours(schedule["quiet_hours"])
    for path in ("enable", "auto_trigger_settings.enable_auto_trigger", "tts_settings.enable_tts"):
        assert type(get(d, path)) is bool
    assert isinstance(d["proactive_prompt"], str) and 0 < len(d["proactive_prompt"]) <= 20_000
    assert d["proactive_prompt"].strip()
    persona = d["persona_settings"]
    assert persona["mode"] in ("off", "select", "custom")
    segmented = d["segmented_reply_settings"]
    assert segmented["split_mode"] in ("regex", "words")
    assert segmented["interval_method"] in ("random", "log")
    re.compile(segmented["regex"])
    low, high = (float(x) for x in segmented["interval"].split(","))
    assert 0 <= low <= high <= 60
    assert 1 < float(segmented["log_base"]) <= 100
    words = segmented["split_words"]
    assert all(isinstance(w, str) and 1 <= len(w) <= 20 for w in words)
    assert len(set(words)) == len(words)
    sessions = d["session_list"]
    assert len(set(sessions)) == len(sessions)
    assert d["model_settings"]["fallback_mode"] in ("off", "astrbot", "custom")
    assert d["tool_settings"]["mode"] in ("off", "whitelist", "all")
    assert d["picture_settings"]["mode"] in ("off", "auto", "always")
    for path in LIST_FIELDS[2:]:
        names = get(d, path)
        assert len(set(names)) == len(names)
        assert all(isinstance(n, str) and n == n.strip() and 0 < len(n) <= 256 for n in names)
    for entry in sessions:
        assert entry == entry.strip() and entry
        if ":" in entry:
            assert parse_umo(entry).kind == kind


@given(plugin_configs)
@example({"friend_settings": {"schedule_settings": {"min_interval_minutes": 10**400}}})
@example({"group_settings": {"session_list": "1, 2,\n p:GroupMessage:3 ,p:FriendMessage:4"}})
@example({"friend_settings": {"segmented_reply_settings": {"interval": "60.0004, 0"}}})
def test_any_plugin_config_reads_into_valid_settings(raw):
    settings, problems = parse_plugin_config(raw)
    assert all(isinstance(p, str) and p for p in problems)
    assert_valid_kind_dict(settings.friend_dict, "friend_settings")
    assert_valid_kind_dict(settings.group_dict, "group_settings")
    for key, (low, high) in RANGES["engine_settings"].items():
        assert low <= settings.engine_dict[key] <= high
        assert getattr(settings.engine, key) == settings.engine_dict[key]
    schedule = settings.friend.schedule
    assert 1 <= schedule.min_interval_minutes <= schedule.max_interval_minutes <= MAX_MINUTES
    assert 0 <= settings.friend.segmented.interval_min <= settings.friend.segmented.interval_max


@given(plugin_configs)
def test_what_was_read_is_valid_as_it_stands(raw):
    """Reading the result again changes nothing, and the panel may save it as it is."""
    settings, _ = parse_plugin_config(raw)
    for group, kind in GROUPS.items():
        normalized = getattr(settings, f"{kind}_dict")
        assert normalize_kind_dict(normalized, kind) == (normalized, [])
        saved, errors = validate_config_update({group: normalized}, {})
        assert (saved, errors) == ({group: normalized}, [])
    assert normalize_engine_dict(settings.engine_dict) == (settings.engine_dict, [])


@given(st.sampled_from([*GROUPS, "engine_settings"]), st.data())
def test_numbers_in_range_are_read_as_written(group, data):
    """Whole numbers within the documented range, also written as ``3.0`` or ``" 3 "``."""
    path = data.draw(st.sampled_from(sorted(RANGES[group])))
    low, high = RANGES[group][path]
    value = data.draw(st.integers(low, high))
    written = data.draw(st.sampled_from([value, float(value), f" {value} "]))
    if group == "engine_settings":
        result, problems = normalize_engine_dict({path: written})
    else:
        raw = put(kind_defaults(GROUPS[group]), path, written)
        if path in SWAPPED_PAIRS:  # the other end too, so they cannot cross
            for other in SWAPPED_PAIRS:
                raw = put(raw, other, written)
        result, problems = normalize_kind_dict(raw, GROUPS[group])
    assert problems == [] and get(result, path) == value


@st.composite
def one_bad_leaf(draw) -> tuple[str, str, Any]:
    group = draw(st.sampled_from(sorted(GROUPS)))
    path = draw(st.sampled_from(leaf_paths(kind_defaults(GROUPS[group]))))
    return group, path, draw(json_values)


@given(one_bad_leaf())
@example(("friend_settings", "schedule_settings.quiet_hours", "0-24"))
@example(("group_settings", "schedule_settings.max_interval_minutes", 0))
@example(("friend_settings", "persona_settings.mode", ["select"]))
@example(("friend_settings", "segmented_reply_settings.log_base", "1"))
def test_a_bad_value_gets_one_message_naming_its_key_and_the_default(case):
    group, path, value = case
    kind = GROUPS[group]
    defaults = kind_defaults(kind)
    result, problems = normalize_kind_dict(put(defaults, path, value), kind)
    named = f"{group}.{path}"
    if not problems:  # accepted: read as given (text trimmed, numbers as numbers)
        assert_valid_kind_dict(result, group)
        return
    if (isinstance(value, list) and path in (*LIST_FIELDS, MOMENTS)) or (
        path == "session_list" and isinstance(value, str)
    ):
        # A list keeps its good entries; each bad one gets its own line.
        assert all(p.startswith(f"{named}[") and p.endswith("; ignored") for p in problems)
        return
    assert len(problems) == 1, problems
    (problem,) = problems
    if "swapped" in problem:  # a good value, but a minimum above its maximum
        where = f"{group}.schedule_settings:" if path in SWAPPED_PAIRS else f"{named}: "
        assert problem.startswith(where), problem
        assert_valid_kind_dict(result, group)
        return
    assert problem.startswith(f"{named}: "), problem
    assert get(result, path) == get(defaults, path)


@given(st.sampled_from(sorted(GROUPS)), st.integers(1, MAX_MINUTES), st.integers(1, MAX_MINUTES))
@example("friend_settings", 901, 900)
def test_min_above_max_is_swapped_when_read_and_refused_when_saved(group, low, high):
    kind = GROUPS[group]
    schedule = {"min_interval_minutes": low, "max_interval_minutes": high}
    result, problems = normalize_kind_dict({"schedule_settings": schedule}, kind)
    read = result["schedule_settings"]
    assert (read["min_interval_minutes"], read["max_interval_minutes"]) == (
        min(low, high),
        max(low, high),
    )
    saved, errors = validate_config_update({group: {"schedule_settings": schedule}}, {})
    if low > high:
        assert len(problems) == 1 and "swapped" in problems[0]
        assert saved == {} and len(errors) == 1 and "min_interval_minutes" in errors[0]
    else:
        assert problems == [] and errors == []


# --- what the panel sends (strict) -------------------------------------------------------


@given(
    st.sampled_from(["friend", "group"]),
    st.one_of(json_values, shaped_like(kind_defaults("group"))),
)
@example("friend", {"session_list": ["p:FriendMessage:1"]})
@example("group", {"schedule_settings": {"min_interval_minutes": 5, "max_interval_minutes": 4}})
def test_an_override_is_valid_or_refused_with_errors(kind, raw):
    cleaned, errors = validate_override(raw, kind)
    assert all(isinstance(e, str) and e for e in errors)
    if errors:
        return
    # Accepted: merged over the kind's settings it reads without a single problem.
    merged = {**kind_defaults(kind)}
    for path in leaf_paths(cleaned):
        merged = put(merged, path, get(cleaned, path))
    result, problems = normalize_kind_dict(merged, kind)
    # Only min and max are checked together, and only when the override holds both.
    assert all("swapped" in p for p in problems), problems
    assert_valid_kind_dict(result, GROUP_OF[kind])
    assert validate_override(cleaned, kind) == (cleaned, [])


@given(st.sampled_from(["friend", "group"]), st.text(min_size=1, max_size=12))
def test_an_unknown_key_is_an_error_naming_it(kind, key):
    assume(key not in kind_defaults(kind) or key == "session_list")
    _, errors = validate_override({key: 1}, kind)
    assert len(errors) == 1 and "unknown setting" in errors[0]
    assert key in errors[0] or not key.isprintable() or len(key) > 60


@given(st.one_of(json_values, st.fixed_dictionaries({}, optional={"web_admin": json_values})))
def test_a_config_update_never_raises_and_web_admin_is_refused(raw):
    saved, errors = validate_config_update(raw, {})
    assert isinstance(saved, dict) and all(isinstance(e, str) for e in errors)
    if isinstance(raw, dict) and "web_admin" in raw:
        assert any(e.startswith("web_admin:") for e in errors)
    for group, value in saved.items():
        if group in GROUPS:
            assert_valid_kind_dict(value, group)
