"""The soak's trigger accounting (harness.soak_report.match_triggers) on hand-made
journals: it must catch a lost, a doubled and an unexplained message, or the soak's
zeros would prove nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.soak_report import GrowthBounds, SoakReport, Usage, match_triggers


@dataclass
class E:
    """What match_triggers reads of a journal entry."""

    umo: str
    kind: str
    reason: str
    detail: dict = field(default_factory=dict)
    at: float = 0.0


A = "test_im:FriendMessage:a"
B = "test_im:FriendMessage:b"
STOPPED = "not sent: the plugin stopped (reload or shutdown) before the message was written"


def trigger(umo: str) -> E:
    return E(umo, "manual", "send now")


def sent(umo: str, text: str) -> E:
    return E(umo, "sent", "sent (1 part(s))", {"text": text})


def test_every_trigger_with_one_outcome_is_clean():
    journal = [
        trigger(A),
        E(A, "fired", "manual trigger"),
        sent(A, "hi a"),
        E(A, "planned", "after_proactive"),
        trigger(B),
        E(B, "fired", "manual trigger"),
        E(B, "cancelled", "the user spoke while the message was being written"),
        trigger(A),
        E(A, "cancelled", STOPPED),
    ]
    result = match_triggers(journal, {(A, "hi a"): 1})
    assert (result.journaled, result.lost, result.duplicated, result.unexplained) == (3, 0, 0, 0)
    assert result.outcomes == {
        "sent": 1,
        "cancelled (the user spoke)": 1,
        "cancelled (a reload)": 1,
    }


def test_a_trigger_that_vanished_is_lost_even_when_the_next_one_is_sent():
    journal = [
        trigger(A),
        E(A, "fired", "manual trigger"),  # then a reload, and nothing
        trigger(A),
        E(A, "fired", "manual trigger"),
        sent(A, "second"),
    ]
    result = match_triggers(journal, {(A, "second"): 1})
    assert result.lost == 1 and result.duplicated == 0
    assert "no outcome" in result.examples[0]


def test_sent_but_never_on_the_platform_is_lost():
    result = match_triggers([trigger(A), E(A, "fired", "manual trigger"), sent(A, "x")], {})
    assert result.lost == 1


def test_twice_on_the_platform_or_two_outcomes_is_duplicated():
    once = [trigger(A), E(A, "fired", "manual trigger"), sent(A, "x")]
    assert match_triggers(once, {(A, "x"): 2}).duplicated == 1
    doubled = [*once, sent(A, "x")]
    assert match_triggers(doubled, {(A, "x"): 1}).duplicated == 1


def test_a_later_delivery_is_not_taken_for_the_triggers_outcome():
    # A failure re-plans with back-off; the retry's own "fired" starts a new delivery.
    journal = [
        trigger(A),
        E(A, "fired", "manual trigger"),
        E(A, "llm_failed", "timeout"),
        E(A, "retry", "retry #1"),
        E(A, "fired", "retry"),
        sent(A, "later"),
    ]
    result = match_triggers(journal, {(A, "later"): 1})
    assert result.duplicated == 0 and result.outcomes == {"llm_failed (timeout)": 1}
    assert result.unexplained == 1  # nothing in the soak plans a message: flag it


def test_problems_name_everything_that_is_not_zero_and_growth_above_bounds():
    report = SoakReport(settings={}, reloads_requested=3, reloads_survived=3)
    report.triggers = {"errors": {}}
    report.warm = Usage(rss_mb=100.0, fds=40, tasks=50, threads=10)
    report.end = Usage(rss_mb=100.5, fds=40, tasks=50, threads=10)
    assert report.problems(GrowthBounds()) == []
    report.lost_triggers = 1
    report.end = Usage(rss_mb=200.0, fds=60, tasks=50, threads=10)
    assert report.problems(GrowthBounds()) == [
        "lost triggers = 1",
        "rss_mb grew by 100.0 (> 64.0)",
        "fds grew by 20.0 (> 8)",
    ]
