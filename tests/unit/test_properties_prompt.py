"""Properties of ``fill_prompt`` (core/engine/prompt_template.py) over generated templates.

What it promises: only the known ``{{ name }}`` forms are replaced; ``str.format`` is
never used, so ``{``, ``}``, ``{0}``, ``{__class__}`` and unknown names stay as written
and nothing is looked up on a value; inserted values are not scanned again. It never
raises, whatever the admin typed.
"""

from __future__ import annotations

import math

from hypothesis import example, given
from hypothesis import strategies as st

from proactive_chat.core.engine.prompt_template import PLACEHOLDERS, describe_elapsed, fill_prompt

PIECES = st.one_of(
    st.text(max_size=3),
    st.sampled_from(["{", "}", "{{", "}}", "{0}", "{__class__}", "{x.__class__}", " ", "\t"]),
    st.sampled_from([f"{{{{{name}}}}}" for name in PLACEHOLDERS]),
    st.sampled_from(["{{ session_name }}", "{{unknown}}", "{{ 0 }}", "{!r}", "%s", "{:>10}"]),
)
BRACEY = st.lists(PIECES, max_size=25).map("".join)
# Literal text that cannot touch a placeholder: no braces at all.
LITERAL = st.text(st.characters().filter(lambda c: c not in "{}"), max_size=20)
VALUES = st.dictionaries(
    st.sampled_from(PLACEHOLDERS),
    st.one_of(st.text(max_size=30), st.integers(), st.floats(), st.sampled_from(["{{x}}"])),
)


class Spy:
    """A value that records every use; only ``str()`` is allowed."""

    def __init__(self, text: str) -> None:
        object.__setattr__(self, "uses", [])
        object.__setattr__(self, "text", text)

    def __str__(self) -> str:
        object.__getattribute__(self, "uses").append("str")
        return object.__getattribute__(self, "text")

    def __format__(self, spec: str) -> str:
        raise AssertionError("format() was used")

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"attribute {name!r} was looked up")


@given(BRACEY, VALUES)
@example("{0}{__class__}{x.__class__.__mro__}", {"session_name": "s"})
@example("{{{{session_name}}}}", {"session_name": "s"})
@example("{{ session_name", {"session_name": "s"})
@example("}}{{", {})
def test_never_raises_and_leaves_text_without_known_placeholders(template, values):
    filled = fill_prompt(template, values)
    assert isinstance(filled, str)
    if not any(name in template for name in values):
        assert filled == template


@given(
    st.lists(st.tuples(LITERAL, st.sampled_from(PLACEHOLDERS), st.sampled_from(["", " ", "\t "]))),
    LITERAL,
    st.fixed_dictionaries({name: st.text(max_size=30) for name in PLACEHOLDERS}),
)
@example([("a", "session_name", "")], "b", dict.fromkeys(PLACEHOLDERS, "{{unanswered_count}}"))
def test_known_placeholders_are_filled_and_values_are_not_expanded_again(parts, tail, values):
    """Values may themselves hold ``{{...}}``: they come out literally."""
    template = "".join(f"{text}{{{{{pad}{name}{pad}}}}}" for text, name, pad in parts) + tail
    expected = "".join(text + values[name] for text, name, _ in parts) + tail
    assert fill_prompt(template, values) == expected


@given(st.lists(st.tuples(LITERAL, st.sampled_from(PLACEHOLDERS))), LITERAL)
def test_a_known_name_without_a_value_stays_as_written(parts, tail):
    template = "".join(f"{text}{{{{{name}}}}}" for text, name in parts) + tail
    assert fill_prompt(template, {}) == template


@given(BRACEY, st.sets(st.sampled_from(PLACEHOLDERS)), st.text(max_size=20))
@example("{0.__class__}{session_name.__class__}{{session_name}}", {"session_name"}, "s")
def test_values_are_only_turned_into_text(template, names, text):
    """Nothing is formatted or looked up on a value: only ``str()`` of the ones used."""
    spies = {name: Spy(text) for name in names}
    fill_prompt(template, spies)
    for spy in spies.values():
        assert set(spy.uses) <= {"str"}


@given(st.one_of(st.none(), st.floats(), st.integers(min_value=-(10**30), max_value=10**30)))
@example(math.nan)
@example(-math.inf)
@example(1e308)
def test_describe_elapsed_always_answers(seconds):
    text = describe_elapsed(seconds)
    assert isinstance(text, str) and text
