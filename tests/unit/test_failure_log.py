"""Failures of proactive messages are logged once per cause (a model, a platform), with
what to do, whatever the number of sessions and retries; one line when it works again."""

from __future__ import annotations

import logging

import pytest

from proactive_chat.core.engine.failure_log import REMIND_SECONDS, FailureLog, model_source

A = "im:FriendMessage:a"
B = "im:FriendMessage:b"
MODEL = model_source("openai_1")


@pytest.fixture
def records():
    """Records of the "astrbot" logger (which may not propagate to the root)."""
    seen: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = seen.append
    logger = logging.getLogger("astrbot")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    yield seen
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def lines(records, level: int) -> list[str]:
    return [r.getMessage() for r in records if r.levelno == level]


def fail(log: FailureLog, umo: str, now: float = 0.0, source: str = MODEL) -> None:
    log.failed("llm_failed", source, umo, "openai_1: 401", "check the key", now=now, retry_in=300)


def test_many_sessions_and_retries_are_one_warning_with_what_to_do(records):
    log = FailureLog()
    for now in (0.0, 300.0, 1200.0):
        fail(log, A, now)
        fail(log, B, now)
    warnings = lines(records, logging.WARNING)
    assert len(warnings) == 1
    assert "What to do: check the key" in warnings[0] and "retried in 5 min" in warnings[0]
    assert log.failing == [MODEL]


def test_it_works_again_only_when_every_failing_session_got_through(records):
    log = FailureLog()
    fail(log, A)
    fail(log, B)
    log.worked("openai_1", B)  # B got through, A still fails: not over, not warned again
    fail(log, A, 300.0)
    assert len(lines(records, logging.WARNING)) == 1
    assert lines(records, logging.INFO) == []
    log.worked("openai_1", A)
    infos = lines(records, logging.INFO)
    assert len(infos) == 1 and "work again through the model openai_1" in infos[0]
    assert "2 later failure(s)" in infos[0]
    assert log.failing == []
    fail(log, A, 600.0)  # a new failure after that is news again
    assert len(lines(records, logging.WARNING)) == 2


def test_a_model_and_a_platform_are_separate_causes(records):
    log = FailureLog()
    fail(log, A)
    log.failed("send_failed", "platform im", B, "closed", "", now=0.0, retry_in=300)
    warnings = lines(records, logging.WARNING)
    assert len(warnings) == 2
    assert "check that the session's platform is connected" in warnings[1]  # the default
    log.worked("openai_1", B)  # B's platform is im too: both causes end for B
    assert log.failing == [MODEL]


def test_a_session_whose_user_spoke_keeps_no_cause_open(records):
    log = FailureLog()
    fail(log, A)
    log.forget(A)
    assert log.failing == []
    assert lines(records, logging.INFO) == []  # it did not work: nothing to announce
    fail(log, A, 10.0)
    assert len(lines(records, logging.WARNING)) == 2


def test_a_cause_that_lasts_is_summed_up_every_few_hours(records):
    log = FailureLog()
    fail(log, A)
    for n in range(1, 6):
        fail(log, B, n * 3600.0)  # hourly retries: the sixth hour brings one summary
    fail(log, A, REMIND_SECONDS + 1.0)
    warnings = lines(records, logging.WARNING)
    assert len(warnings) == 2
    assert "still fails: 6 failure(s) in 2 session(s)" in warnings[1]
    fail(log, A, REMIND_SECONDS + 2.0)
    assert len(lines(records, logging.WARNING)) == 2
