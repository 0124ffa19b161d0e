"""Time cues read by a model (core/engine/analysed.py, core/engine/analysis/): off by
default; when the parser found no cue, a scripted AstrBot ``Provider`` (as in
test_composer_tools.py) is asked in the background through the real adapter
(core/adapters/analyst.py); a valid answer moves the plan (reason "cue", rule
"model:<id>"), the rest (past, beyond the horizon, garbage, time-out, budget) leaves the
plan as drawn and is logged once with what to do."""

from __future__ import annotations

import asyncio
import logging

import pytest

from harness.engine_rig import FRIEND, GROUP, OTHER_FRIEND, START, Rig, engine_config
from proactive_chat.core.adapters.analyst import ModelAnalyst
from proactive_chat.core.engine.analysis.answer import Rejected, read_answer
from proactive_chat.core.engine.analysis.budget import HourlyBudget
from proactive_chat.core.engine.analysis.queue import AnalysisJob
from proactive_chat.core.engine.config import parse_plugin_config

NO_CUE = "等我把这份报告写完再说吧"  # no time the parser can read
MODEL = "analyst"


@pytest.fixture
def agent():
    from harness import scripted_agent

    return scripted_agent


def _config(**analysis) -> dict:
    raw = engine_config(friends=(FRIEND, OTHER_FRIEND))
    raw["friend_settings"]["analysis_settings"] = {"provider_id": MODEL, **analysis}
    raw["group_settings"]["analysis_settings"] = {"provider_id": MODEL, **analysis}
    return raw


async def _engine(tmp_path, clock, agent, *script, per_hour: int = 60, **analysis):
    clock.now = START
    raw = _config(**analysis)
    raw["engine_settings"] = {"analysis_calls_per_hour": per_hour}
    rig = Rig(tmp_path, clock, raw)
    engine = await rig.start()
    model = agent.ScriptedModel(MODEL, *script)
    engine.analyst = ModelAnalyst(agent.AgentContext(model))
    return rig, engine, model


async def _settled(engine, calls: int = 1, seconds: float = 5.0) -> None:
    """Until ``calls`` questions were asked and none is waiting or in flight."""
    for _ in range(int(seconds / 0.01)):
        if (
            engine.counters["analysis_calls"] >= calls
            and not len(engine._analysis)
            and not engine._analysis._busy
        ):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the analysis did not settle: {dict(engine.counters)}")


async def test_off_by_default_nothing_is_asked(rig):
    engine = await rig.start()
    assert engine.settings.friend.analysis.enabled is False
    engine.on_user_message(FRIEND, "Alice", NO_CUE)
    assert len(engine._analysis) == 0 and engine.counters["analysis_calls"] == 0


async def test_a_valid_answer_moves_the_plan_and_the_journal_says_which_model(
    tmp_path, clock, agent
):
    rig, engine, model = await _engine(tmp_path, clock, agent, '{"cue": "报告写完", "minutes": 45}')
    try:
        engine.on_user_message(FRIEND, "Alice", NO_CUE)
        drawn = engine.sessions[FRIEND].next_reason
        assert drawn == "user_message"  # planned as usual first, off the message path after
        await _settled(engine)
        state = engine.sessions[FRIEND]
        assert state.next_reason == "cue" and state.next_at == START + 45 * 60
        planned = (await rig.store.query_journal(umo=FRIEND, kinds=("planned",), limit=1))[0]
        assert planned.reason == "cue"
        assert planned.detail["rule"] == f"model:{MODEL}"
        assert planned.detail["cue"] == "报告写完" and planned.detail["cue_at"] == START + 2700
        request = model.requests[0]
        assert request["prompt"] == NO_CUE and "JSON" in request["system_prompt"]
    finally:
        await rig.stop()


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ('{"cue": "报告写完", "minutes": -5}', "past"),
        ('{"cue": "报告写完", "minutes": 600}', "beyond_horizon"),  # max interval: 60 min
        ("Sure! In about an hour I think.", "garbage"),
        ('{"cue": "明天下午", "minutes": 30}', "not_quoted"),  # words the user never said
        ('{"cue": "报告写完", "minutes": true}', "garbage"),
    ],
)
async def test_an_answer_that_fails_a_check_leaves_the_plan(
    tmp_path, clock, agent, caplog, answer, problem
):
    rig, engine, _ = await _engine(tmp_path, clock, agent, answer, answer)
    try:
        with caplog.at_level(logging.WARNING):
            engine.on_user_message(FRIEND, "Alice", NO_CUE)
            drawn = engine.sessions[FRIEND].next_at
            await _settled(engine)
            engine.on_user_message(FRIEND, "Alice", NO_CUE + "。")
            await _settled(engine, 2)
        state = engine.sessions[FRIEND]
        assert state.next_reason == "user_message" and drawn is not None
        assert engine.counters[f"analysis_{problem}"] == 2
        warned = [r.getMessage() for r in caplog.records if "Time-cue analysis" in r.getMessage()]
        assert len(warned) == 1 and problem in warned[0] and "To fix" in warned[0]  # once
    finally:
        await rig.stop()


async def test_a_model_that_finds_no_cue_changes_nothing(tmp_path, clock, agent):
    rig, engine, _ = await _engine(tmp_path, clock, agent, '```json\n{"cue": null}\n```')
    try:
        engine.on_user_message(FRIEND, "Alice", NO_CUE)
        await _settled(engine)
        assert engine.counters["analysis_no_cue"] == 1
        assert engine.sessions[FRIEND].next_reason == "user_message"
    finally:
        await rig.stop()


async def test_a_time_out_leaves_the_plan_and_stop_cancels_the_call(tmp_path, clock, agent):
    rig, engine, _ = await _engine(
        tmp_path, clock, agent, agent.HANG, agent.HANG, timeout_seconds=1
    )
    try:
        engine.on_user_message(FRIEND, "Alice", NO_CUE)
        await _settled(engine, seconds=5)
        assert engine.counters["analysis_timeout"] == 1
        assert engine.sessions[FRIEND].next_reason == "user_message"
        engine.on_user_message(OTHER_FRIEND, "Bob", NO_CUE)  # hangs: stop() must cancel it
        await asyncio.sleep(0.05)
        assert engine._analysis._busy == {OTHER_FRIEND}
    finally:
        await rig.stop()
    assert all(task.done() for task in engine._analysis_workers)


async def test_the_hourly_budget_is_global_and_hard(tmp_path, clock, agent, caplog):
    answer = '{"cue": null}'
    rig, engine, model = await _engine(tmp_path, clock, agent, answer, answer, answer, per_hour=1)
    try:
        with caplog.at_level(logging.WARNING):
            engine.on_user_message(FRIEND, "Alice", NO_CUE)
            await _settled(engine)
            engine.on_user_message(OTHER_FRIEND, "Bob", NO_CUE)
            engine.on_user_message(GROUP, "G", NO_CUE)
            for _ in range(200):
                if engine.counters["analysis_budget"] == 2:
                    break
                await asyncio.sleep(0.01)
        assert len(model.requests) == 1 and engine.counters["analysis_budget"] == 2
        assert sum("analysis_calls_per_hour" in r.getMessage() for r in caplog.records) == 1
        clock.advance(3601)  # an hour later the budget is there again
        engine.on_user_message(FRIEND, "Alice", NO_CUE)
        await _settled(engine, 2)
        assert len(model.requests) == 2
    finally:
        await rig.stop()


async def test_an_answer_for_an_older_message_or_under_a_promise_is_dropped(tmp_path, clock, agent):
    rig, engine, _ = await _engine(tmp_path, clock, agent, agent.HANG, timeout_seconds=2)
    valid = '{"cue": "报告写完", "minutes": 45}'
    try:
        engine.on_user_message(FRIEND, "Alice", NO_CUE)
        await asyncio.sleep(0.05)  # the first question is in flight (it hangs)
        clock.advance(10)
        engine.on_user_message(FRIEND, "Alice", NO_CUE + "！")
        assert len(engine._analysis) == 1  # waits: one question per session in flight
        engine._apply_analysis(AnalysisJob(FRIEND, NO_CUE, START, engine.settings.friend), valid)
        assert engine.counters["analysis_stale"] == 1
        assert engine.sessions[FRIEND].next_reason == "user_message"
        engine.on_bot_message(FRIEND, "好的，我十分钟后提醒你。")
        now = engine.sessions[FRIEND].last_user_at
        engine._apply_analysis(AnalysisJob(FRIEND, NO_CUE, now, engine.settings.friend), valid)
        assert engine.counters["analysis_stale"] == 2
        assert engine.sessions[FRIEND].next_reason == "promise"  # the promise wins
    finally:
        await rig.stop()


def test_read_answer_checks():
    now, horizon = 1000.0, 3600.0
    cue = read_answer('{"cue": "写完", "minutes": 30}', "报告写完再说", now, horizon, "model:x")
    assert cue is not None and not isinstance(cue, Rejected)
    assert cue.target == now + 1800 and cue.rule == "model:x" and cue.matched == "写完"
    assert read_answer('{"cue": null}', "x", now, horizon, "r") is None
    for raw in (
        "",
        "[]",
        "null",
        '{"cue": 5, "minutes": 3}',
        '{"cue": "x", "minutes": NaN}',
        "x" * 3000,
    ):
        got = read_answer(raw, "x", now, horizon, "r")
        assert isinstance(got, Rejected) and got.problem == "garbage", raw


def test_the_budget_slides():
    budget = HourlyBudget()
    assert budget.take(0.0, 2) and budget.take(1.0, 2) and not budget.take(2.0, 2)
    assert budget.take(3600.5, 2) and budget.used(3600.5) == 2


def test_bad_analysis_settings_are_reported_clearly():
    parsed, problems = parse_plugin_config(
        {
            "friend_settings": {"analysis_settings": {"timeout_seconds": 0, "max_turns": "x"}},
            "engine_settings": {"analysis_calls_per_hour": -1},
        }
    )
    text = "\n".join(problems)
    assert "friend_settings.analysis_settings.timeout_seconds" in text
    assert "friend_settings.analysis_settings.max_turns" in text
    assert "engine_settings.analysis_calls_per_hour" in text
    assert parsed.friend.analysis.timeout_seconds == 15 and not parsed.friend.analysis.enabled
