"""The forward view is the engine's own code on a copy (core/engine/forecast.py): its
first message is the engine's actual plan, and with the same draws the real engine,
nobody answering, sends exactly when the forecast said; quiet hours, the cap and a
group's silence are the reasons of its gaps; the live engine is left untouched."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime

import pytest

from harness.engine_rig import FRIEND, GROUP, OTHER_FRIEND, START, Rig, engine_config
from proactive_chat.core.engine.errors import InvalidRequest, SessionNotFound
from proactive_chat.core.engine.forecast import forecast_seed
from proactive_chat.core.engine.models import Phase


async def sent_times(rig: Rig, until: float) -> list[float]:
    """Run the real engine, nobody answering, until ``until``: when it sent."""
    times = []
    while True:
        state = rig.engine.sessions[FRIEND]
        if state.next_at is None or state.next_at > until:
            return times
        before = len(rig.sender.sent)
        await rig.advance(state.next_at - rig.clock())
        if len(rig.sender.sent) > before:
            times.append(rig.clock())


async def test_the_first_message_is_the_engines_plan(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    view = await engine.forecast(FRIEND, days=7)
    assert view["speaks"][0]["at"] == engine.sessions[FRIEND].next_at
    assert view["speaks"][0]["why"] == "user_message"
    assert view["assumptions"] == ["nobody_answers", "sends_work", "seeded"]


async def test_with_the_same_draws_the_engine_sends_when_forecast(tmp_path, clock):
    """The forecast's generator is seeded by the session id: given that seed, the real
    engine sends at exactly the forecast's times (the draws are the same code's)."""
    clock.now = START
    config = engine_config(quiet_hours="22:00-08:00", max_unanswered_times=0)
    rig = Rig(tmp_path, clock, config)
    try:
        engine = await rig.start()
        engine.on_user_message(FRIEND, "Alice")
        view = await engine.forecast(FRIEND, days=2)
        engine.rng = random.Random(forecast_seed(FRIEND))
        assert await sent_times(rig, view["to"]) == [s["at"] for s in view["speaks"]]
        assert len(view["speaks"]) > 20  # no cap: two days of messages
        assert any("quiet_hours" in g["reasons"] for g in view["gaps"])  # and two nights
    finally:
        await rig.stop()


async def test_the_cap_ends_the_view_with_its_reason(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    view = await engine.forecast(FRIEND)
    assert len(view["speaks"]) == 3  # max_unanswered_times
    assert view["capped_at"] == view["speaks"][-1]["at"]
    assert view["gaps"][-1]["reasons"] == ["capped"] and view["gaps"][-1]["to"] == view["to"]
    assert [s["why"] for s in view["speaks"]] == ["user_message", "after_proactive"] * 1 + [
        "after_proactive"
    ]


async def test_quiet_hours_are_a_gaps_reason(tmp_path, clock):
    clock.now = datetime(2026, 11, 28, 20, 30, tzinfo=UTC).timestamp()
    rig = Rig(tmp_path, clock, engine_config(quiet_hours="21:00-09:00", max_unanswered_times=0))
    try:
        engine = await rig.start()
        engine.on_user_message(FRIEND, "Alice")
        view = await engine.forecast(FRIEND, days=2)
        for speak in view["speaks"]:
            hour = datetime.fromtimestamp(speak["at"], UTC).hour
            assert 9 <= hour < 21, speak
        quiet = [g for g in view["gaps"] if "quiet_hours" in g["reasons"]]
        assert quiet and all(g["long"] for g in quiet)
        assert quiet[0]["hours"] >= 11  # 21:00 to 09:00 at least
    finally:
        await rig.stop()


async def test_a_group_waits_for_silence_after_each_message(rig):
    engine = await rig.start()
    engine.on_user_message(GROUP, "G")
    assert engine.sessions[GROUP].phase == Phase.SILENCE
    view = await engine.forecast(GROUP)
    assert len(view["speaks"]) == 2  # the group's cap
    assert all("silence" in s["reasons"] for s in view["speaks"])
    first, second = view["speaks"]
    assert second["at"] - first["at"] >= (10 + 20) * 60  # silence, then the interval
    assert view["gaps"][-1]["reasons"] == ["capped"]


async def test_the_live_engine_is_untouched(rig, caplog):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    state = engine.sessions[FRIEND]
    before = (state.phase, state.next_at, state.unanswered, state.sent_total)
    journal = await rig.journal_kinds(FRIEND)
    with caplog.at_level(logging.INFO):
        await engine.forecast(FRIEND)
    assert (state.phase, state.next_at, state.unanswered, state.sent_total) == before
    assert engine.scheduler.when(FRIEND) == state.next_at
    assert await rig.journal_kinds(FRIEND) == journal
    assert rig.sender.sent == [] and rig.composer.calls == []
    assert "Proactive message sent" not in caplog.text and "Cap reached" not in caplog.text


async def test_idle_paused_and_unknown_sessions(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    engine.pause(FRIEND)
    view = await engine.forecast(FRIEND)
    assert view["speaks"] == [] and view["gaps"][0]["reasons"] == ["paused"]
    with pytest.raises(SessionNotFound):
        await engine.forecast(OTHER_FRIEND)
    with pytest.raises(InvalidRequest):
        await engine.forecast(FRIEND, days=0)
    with pytest.raises(InvalidRequest):
        await engine.forecast("not a umo")


async def test_all_sessions_paged_soonest_first(tmp_path, clock):
    clock.now = START
    rig = Rig(tmp_path, clock, engine_config(friends=(FRIEND, OTHER_FRIEND)))
    try:
        engine = await rig.start()
        engine.on_user_message(FRIEND, "Alice")
        clock.advance(60)
        engine.on_user_message(OTHER_FRIEND, "Bob")
        engine.on_user_message(GROUP, "G")
        first = await engine.forecast_all(days=7, page=1, size=2)
        assert first["total"] == 3 and len(first["items"]) == 2
        second = await engine.forecast_all(days=7, page=2, size=2)
        umos = [i["umo"] for i in first["items"] + second["items"]]
        assert sorted(umos) == sorted([FRIEND, OTHER_FRIEND, GROUP])
        nexts = [engine.sessions[u].next_at for u in umos]
        assert nexts == sorted(nexts)
        with pytest.raises(InvalidRequest):
            await engine.forecast_all(size=500)
    finally:
        await rig.stop()


async def test_pages_of_many_idle_sessions_never_overlap(tmp_path, clock):
    clock.now = START
    friends = tuple(f"test:FriendMessage:u{n:02d}" for n in range(7))
    rig = Rig(tmp_path, clock, engine_config(friends=friends))
    try:
        engine = await rig.start()
        for umo in friends[:3]:
            engine.on_user_message(umo, "x")
        for umo in friends[3:]:  # served, known, never planned: all at +inf
            engine._new_state(umo, "friend")
        seen = []
        for page in (1, 2, 3):
            seen += [i["umo"] for i in (await engine.forecast_all(page=page, size=3))["items"]]
        assert sorted(seen) == sorted(friends)
        assert set(seen[:3]) == set(friends[:3])  # planned ones first
    finally:
        await rig.stop()
