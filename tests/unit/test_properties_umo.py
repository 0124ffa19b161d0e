"""Properties of ``parse_umo`` / ``kind_of`` (core/umo.py) over generated text.

What the module promises: a UMO is ``platform_id:MessageType:session_id``; only the
first two colons count, so the session id may hold more (and ``/``); the type is
FriendMessage or GroupMessage; at most ``MAX_UMO_LENGTH`` characters, no control
characters; anything else is a ``ValueError`` that says why, never another error.
"""

from __future__ import annotations

import string

from hypothesis import example, given
from hypothesis import strategies as st

from proactive_chat.core.umo import MAX_UMO_LENGTH, Umo, kind_of, parse_umo

TYPES = {"FriendMessage": "friend", "GroupMessage": "group"}

# Any character but the C0 controls; lone surrogates included (Python text can hold
# them; half an emoji from an IM platform).
PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x10FFFF)
platform_ids = st.text(PRINTABLE.filter(lambda c: c != ":"), min_size=1, max_size=30).filter(
    str.strip
)
session_ids = st.text(st.one_of(PRINTABLE, st.sampled_from(":/ ")), min_size=1, max_size=60).filter(
    str.strip
)
message_types = st.sampled_from(sorted(TYPES))
anything = st.one_of(
    st.text(),
    st.text(st.sampled_from(":/FriendMessageGroup \t\n\x00" + string.digits)),
    st.none(),
    st.integers(),
    st.binary(),
    st.lists(st.text(max_size=3)),
)


@given(platform_ids, message_types, session_ids)
@example("p", "FriendMessage", "team/42")
@example("p", "GroupMessage", "a:b:c")
@example("p", "FriendMessage", "half \ud83d emoji")
def test_a_valid_umo_round_trips(platform_id, message_type, session_id):
    text = f"{platform_id}:{message_type}:{session_id}"
    if len(text) > MAX_UMO_LENGTH:
        return  # the length rule has its own property
    umo = parse_umo(text)
    assert umo == Umo(platform_id, message_type, session_id)
    assert str(umo) == text
    assert umo.kind == TYPES[message_type] == kind_of(text)


@given(anything)
@example("p:FriendMessage:")
@example(":FriendMessage:1")
@example("p:Friend:1")
@example("p:FriendMessage: \t")
@example("\ud800:GroupMessage:\udfff")
def test_arbitrary_input_parses_or_raises_value_error(value):
    try:
        umo = parse_umo(value)
    except ValueError as err:
        assert str(err)  # says why
        return
    # Accepted: it is exactly a UMO by the rules above.
    assert isinstance(value, str) and len(value) <= MAX_UMO_LENGTH
    assert not any(ord(c) < 0x20 for c in value)
    platform_id, message_type, session_id = value.split(":", 2)
    assert umo == Umo(platform_id, message_type, session_id)
    assert platform_id.strip() and session_id.strip() and message_type in TYPES
    assert kind_of(value) == umo.kind


@given(anything)
def test_kind_of_never_raises_and_agrees_with_parse(value):
    kind = kind_of(value)
    assert kind in (None, "friend", "group")
    try:
        assert parse_umo(value).kind == kind
    except ValueError:
        pass


@given(platform_ids, message_types, st.integers(min_value=1, max_value=3 * MAX_UMO_LENGTH))
def test_length_limit(platform_id, message_type, length):
    prefix = f"{platform_id}:{message_type}:"
    text = prefix + "x" * max(1, length - len(prefix))
    if len(text) <= MAX_UMO_LENGTH:
        assert str(parse_umo(text)) == text
    else:
        try:
            parse_umo(text)
        except ValueError as err:
            assert str(MAX_UMO_LENGTH) in str(err)
        else:
            raise AssertionError(f"{len(text)} characters accepted")


@given(
    platform_ids,
    message_types,
    session_ids,
    st.characters(max_codepoint=0x1F),
    st.integers(min_value=0),
)
def test_a_control_character_anywhere_is_refused(
    platform_id, message_type, session_id, control, where
):
    text = f"{platform_id}:{message_type}:{session_id}"
    cut = where % (len(text) + 1)
    try:
        parse_umo(text[:cut] + control + text[cut:])
    except ValueError:
        return
    raise AssertionError("a control character was accepted")
