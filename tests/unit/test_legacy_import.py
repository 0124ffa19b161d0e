"""``read_legacy_files``: the 1.x plugin's ``session_data.json``/``session_overrides.json``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from proactive_chat.core.engine.models import Phase, SessionState
from proactive_chat.core.store import legacy_import
from proactive_chat.core.store.legacy_import import IMPORTED_REASON, read_legacy_files

FRIEND = "aiocqhttp:FriendMessage:10001"
GROUP = "aiocqhttp:GroupMessage:20002"
NOW = 1_720_000_000.0

# What 1.2.x writes (keys from its persistence code; values as it stores them).
REFERENCE_SESSIONS = {
    FRIEND: {
        "self_id": "3300000000",
        "last_message_time": 1_719_990_000.123,
        "unanswered_count": 2,
        "next_trigger_time": 1_720_003_600.5,
        "last_scheduled_at": 1_719_990_100.0,
        "last_schedule_min_interval_seconds": 1800,
        "last_schedule_max_interval_seconds": 54000,
        "last_schedule_random_interval_seconds": 3500,
    },
    GROUP: {"unanswered_count": 0, "last_message_time": 1_719_000_000},
    "telegram:FriendMessage:chat:42": {"unanswered_count": 1},
}
REFERENCE_OVERRIDES = {
    FRIEND: {
        "enable": True,
        "session_name": " 小明 ",
        "proactive_prompt": "主动和 TA 打个招呼",
        "schedule_settings": {"min_interval_minutes": 60, "max_interval_minutes": 600},
        "tts_settings": {"always_send_text": False},
    },
    GROUP: {"group_idle_trigger_minutes": 45},
}


def write(folder: Path, name: str, content: object, *, bom: bool = False) -> None:
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    (folder / name).write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))


def by_umo(sessions: list[SessionState]) -> dict[str, SessionState]:
    return {s.umo: s for s in sessions}


def test_no_files_nothing_to_import(tmp_path):
    assert read_legacy_files(tmp_path) == ([], {}, [])
    assert read_legacy_files(tmp_path / "missing") == ([], {}, [])


def test_reference_shape(tmp_path):
    write(tmp_path, "session_data.json", REFERENCE_SESSIONS)
    write(tmp_path, "session_overrides.json", REFERENCE_OVERRIDES)
    sessions, overrides, problems = read_legacy_files(tmp_path, now=NOW)
    assert problems == []
    got = by_umo(sessions)
    assert got[FRIEND] == SessionState(
        umo=FRIEND,
        kind="friend",
        name="小明",
        last_user_at=1_719_990_000.123,
        last_activity_at=1_719_990_000.123,
        unanswered=2,
        next_at=1_720_003_600.5,
        phase=Phase.PLANNED,
        next_reason=IMPORTED_REASON,
        created_at=NOW,
    )
    assert got[GROUP] == SessionState(
        umo=GROUP,
        kind="group",
        last_user_at=1_719_000_000.0,
        last_activity_at=1_719_000_000.0,
        phase=Phase.IDLE,
        created_at=NOW,
    )
    assert isinstance(got[GROUP].last_user_at, float)
    # A colon inside the session id is part of the id.
    assert got["telegram:FriendMessage:chat:42"].unanswered == 1
    assert overrides == REFERENCE_OVERRIDES


def test_byte_order_mark_is_accepted(tmp_path):
    write(tmp_path, "session_data.json", {FRIEND: {"unanswered_count": 1}}, bom=True)
    write(tmp_path, "session_overrides.json", {FRIEND: {"enable": False}}, bom=True)
    sessions, overrides, problems = read_legacy_files(tmp_path)
    assert problems == []
    assert [s.umo for s in sessions] == [FRIEND]
    assert overrides == {FRIEND: {"enable": False}}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "not valid JSON"),
        ("", "not valid JSON"),
        ("[1, 2, 3]", "the top level is not an object"),
        ('"text"', "the top level is not an object"),
        ("null", "the top level is not an object"),
        ("[" * 100_000 + "]" * 100_000, "session_data.json"),  # too deep for the parser
    ],
)
def test_unusable_session_file(tmp_path, content, problem):
    write(tmp_path, "session_data.json", content)
    write(tmp_path, "session_overrides.json", {FRIEND: {"enable": True}})
    sessions, overrides, problems = read_legacy_files(tmp_path)
    assert sessions == []
    assert overrides == {FRIEND: {"enable": True}}  # the other file still counts
    assert len(problems) == 1
    assert problems[0].startswith("session_data.json")
    assert problem in problems[0]


def test_file_that_is_not_utf8(tmp_path):
    (tmp_path / "session_overrides.json").write_bytes('{"a": "é"}'.encode("latin-1"))
    _, overrides, problems = read_legacy_files(tmp_path)
    assert overrides == {}
    assert problems == ["session_overrides.json: not UTF-8 text; skipped"]


def test_unreadable_file(tmp_path):
    (tmp_path / "session_data.json").mkdir()
    sessions, _, problems = read_legacy_files(tmp_path)
    assert sessions == []
    assert len(problems) == 1 and "cannot be read" in problems[0]


def test_too_large_file_is_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(legacy_import, "MAX_FILE_BYTES", 50)
    write(tmp_path, "session_data.json", {FRIEND: {"unanswered_count": 1, "pad": "x" * 100}})
    sessions, _, problems = read_legacy_files(tmp_path)
    assert sessions == []
    assert "larger than" in problems[0]


def test_bad_keys_are_skipped_with_a_problem_each(tmp_path):
    write(
        tmp_path,
        "session_data.json",
        {
            "10001": {"unanswered_count": 1},  # a bare id: which platform? friend or group?
            "friend_message:10001": {"unanswered_count": 1},  # a pre-1.0 key
            "aiocqhttp:GuildMessage:1": {},
            "aiocqhttp:FriendMessage:": {},
            "a:FriendMessage:x\u0007": {},
            "": {},
            FRIEND: {"unanswered_count": 1},
        },
    )
    write(tmp_path, "session_overrides.json", {"20002": {"enable": True}, GROUP: {}})
    sessions, overrides, problems = read_legacy_files(tmp_path)
    assert [s.umo for s in sessions] == [FRIEND]
    assert overrides == {GROUP: {}}
    assert len(problems) == 7
    assert problems[0].startswith("session_overrides.json: '20002' is a bare id")
    assert "session_data.json: '10001' is a bare id" in problems[1]
    assert all(line.endswith("skipped") for line in problems)


def test_entries_that_are_not_objects(tmp_path):
    write(tmp_path, "session_data.json", {FRIEND: [1], GROUP: None})
    write(tmp_path, "session_overrides.json", {FRIEND: "on"})
    sessions, overrides, problems = read_legacy_files(tmp_path)
    assert (sessions, overrides) == ([], {})
    assert len(problems) == 3
    assert all("not an object" in line for line in problems)


@pytest.mark.parametrize(
    "entry",
    [
        {"unanswered_count": "2"},
        {"unanswered_count": -1},
        {"unanswered_count": True},
        {"unanswered_count": 1.5},
        {"unanswered_count": 10**12},
        {"next_trigger_time": "tomorrow"},
        {"next_trigger_time": -5},
        {"next_trigger_time": True},
        {"next_trigger_time": 1_720_000_000_000},  # milliseconds
        {"next_trigger_time": float("nan")},
        {"next_trigger_time": float("inf")},
        {"last_message_time": [1]},
        {"last_message_time": {"t": 1}},
    ],
)
def test_fields_of_the_wrong_type_are_dropped(tmp_path, entry):
    write(tmp_path, "session_data.json", json.dumps({FRIEND: entry}))  # json allows NaN
    sessions, _, problems = read_legacy_files(tmp_path)
    (state,) = sessions  # the session itself is kept
    assert (state.unanswered, state.next_at, state.last_user_at) == (0, None, None)
    assert state.phase == Phase.IDLE
    (problem,) = problems
    assert problem.startswith(f"session_data.json: {FRIEND!r}: ignored unusable ")
    assert next(iter(entry)) in problem


def test_absent_or_zero_times_are_not_problems(tmp_path):
    write(
        tmp_path,
        "session_data.json",
        {FRIEND: {"next_trigger_time": 0, "last_message_time": None, "unanswered_count": 3.0}},
    )
    sessions, _, problems = read_legacy_files(tmp_path)
    assert problems == []
    assert (sessions[0].next_at, sessions[0].last_user_at, sessions[0].unanswered) == (
        None,
        None,
        3,
    )


def test_session_name_that_is_not_text(tmp_path):
    write(tmp_path, "session_data.json", {FRIEND: {}})
    write(tmp_path, "session_overrides.json", {FRIEND: {"session_name": 42}})
    sessions, overrides, problems = read_legacy_files(tmp_path)
    assert sessions[0].name == ""
    assert overrides == {FRIEND: {"session_name": 42}}  # settings are checked where used
    assert problems == [f"session_data.json: {FRIEND!r}: ignored unusable session_name"]


def test_problem_list_is_bounded(tmp_path):
    write(tmp_path, "session_data.json", {str(n): {} for n in range(500)})
    _, _, problems = read_legacy_files(tmp_path)
    assert len(problems) == legacy_import.MAX_PROBLEMS + 1
    assert problems[-1] == f"... and {500 - legacy_import.MAX_PROBLEMS} more problems"


def test_files_are_left_untouched(tmp_path):
    write(tmp_path, "session_data.json", REFERENCE_SESSIONS)
    write(tmp_path, "session_overrides.json", REFERENCE_OVERRIDES)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    read_legacy_files(tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
