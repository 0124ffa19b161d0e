"""Time cues read by a model, when the local parser found none (off by default).

A user message without a cue, in a kind whose ``analysis_settings.provider_id`` is
set, is queued (``_ask_analysis``, O(1), on the message path) and asked later by
``ANALYSIS_WORKERS`` background tasks: at most one question per session in flight,
at most ``engine_settings.analysis_calls_per_hour`` calls an hour for the whole
engine, each bounded by the kind's ``timeout_seconds``; ``stop()`` cancels them (they
are engine tasks). The answer is checked (analysis/answer.py) and used only if the
session heard nothing newer meanwhile and still has an ordinary plan (a promise, a
message being written, a pause win): then the plan moves to it as a user's cue would
(quiet hours still win), journaled ``planned`` / ``cue`` with the quoted words, the
time and ``rule: model:<provider id>``. A time-out, a spent budget, a full queue or an
answer refused is logged once per problem, with what to do, and counted.
"""

from __future__ import annotations

import asyncio

from ..constants import LOG_PREFIX
from ..plugin_log import logger
from .analysis.answer import Rejected, read_answer, system_prompt
from .analysis.queue import AnalysisJob
from .models import TIMED_PHASES, SessionSettings, SessionState
from .ports import AnalysisRequest
from .prompt_template import format_local_time
from .transitions import Transitions

ANALYSIS_WORKERS = 2

# problem code -> what to do about it (logged once per engine run)
ADVICE = {
    "queue_full": "the analysis model cannot keep up with the chats: choose a faster one, "
    "or turn it off for a kind (analysis_settings.provider_id empty)",
    "budget": "wait for the hour to pass, or raise engine_settings.analysis_calls_per_hour",
    "timeout": "choose a faster model in analysis_settings.provider_id, or raise "
    "analysis_settings.timeout_seconds",
    "failed": "check the analysis model in AstrBot's dashboard (API key, endpoint, quota)",
    "garbage": "choose a model that follows instructions (it must answer strict JSON)",
    "not_quoted": "choose a model that follows instructions (it must quote the user's words)",
    "past": "nothing to do unless it repeats: the model named a time already past",
    "beyond_horizon": "nothing to do unless it repeats: the time named is beyond the kind's "
    "max interval (schedule_settings.max_interval_minutes)",
}


class AnalysedCues(Transitions):
    def _ask_analysis(
        self, state: SessionState, settings: SessionSettings, text: str, now: float
    ) -> None:
        """Queue a question about this message for the analysis model (O(1))."""
        if self.analyst is None or not self.running:
            return
        if not self._analysis.put(AnalysisJob(state.umo, text, now, settings)):
            self._analysis_problem("queue_full", f"{self._analysis.limit} sessions wait already")
            return
        if all(task.done() for task in self._analysis_workers):  # none yet, or stopped
            self._analysis_workers = [
                asyncio.create_task(self._analysis_worker(), name=f"pc-analysis-{i}")
                for i in range(ANALYSIS_WORKERS)
            ]
            self._tasks += self._analysis_workers

    async def _analysis_worker(self) -> None:
        while self.running:
            job = await self._analysis.take()
            try:
                await self._analyse(job)
            except Exception:
                logger.exception("%s The analysis of a message in %s failed.", LOG_PREFIX, job.umo)
            finally:
                self._analysis.done(job.umo)

    async def _analyse(self, job: AnalysisJob) -> None:
        """Ask (within budget and time), then apply the checked answer."""
        analysis = job.settings.analysis
        if not self._analysis_budget.take(
            self.clock(), self.settings.engine.analysis_calls_per_hour
        ):
            self._analysis_problem(
                "budget", f"{self.settings.engine.analysis_calls_per_hour} calls this hour"
            )
            return
        self.counters["analysis_calls"] += 1
        request = AnalysisRequest(
            umo=job.umo,
            provider_id=analysis.provider_id,
            system_prompt=system_prompt(format_local_time(self.clock(), self.timezone)),
            message=job.text,
            max_turns=analysis.max_turns,
        )
        assert self.analyst is not None
        try:
            raw = await asyncio.wait_for(self.analyst.analyse(request), analysis.timeout_seconds)
        except TimeoutError:
            self._analysis_problem("timeout", f"no answer within {analysis.timeout_seconds} s")
            return
        except Exception as exc:  # a provider may raise anything
            self._analysis_problem("failed", f"{type(exc).__name__}: {exc}"[:200])
            return
        self._apply_analysis(job, raw)

    def _apply_analysis(self, job: AnalysisJob, raw: str) -> None:
        state = self.sessions.get(job.umo)
        if state is None or not self._still_open(state, job):
            self.counters["analysis_stale"] += 1
            return
        settings = self.settings_for(job.umo, state.kind)
        provider_id = job.settings.analysis.provider_id
        horizon = settings.schedule.max_interval_minutes * 60.0
        answer = read_answer(raw, job.text, self.clock(), horizon, f"model:{provider_id}")
        if answer is None:
            self.counters["analysis_no_cue"] += 1
            return
        if isinstance(answer, Rejected):
            self._analysis_problem(answer.problem, answer.reason)
            return
        self.counters["analysis_cues"] += 1
        self._plan_at_cue(state, settings, answer)
        self._touch(state)

    def _still_open(self, state: SessionState, job: AnalysisJob) -> bool:
        """The answer still applies: no newer message, an ordinary plan to move."""
        return (
            state.last_user_at == job.at
            and state.phase in TIMED_PHASES
            and not state.paused
            and state.umo not in self._promises
            and state.umo not in self._deliveries
            and self._served(state.umo, state.kind, self.settings_for(state.umo, state.kind))
        )

    def _analysis_problem(self, problem: str, reason: str) -> None:
        self.counters[f"analysis_{problem}"] += 1
        if problem in self._analysis_warned:
            return
        self._analysis_warned.add(problem)
        logger.warning(
            "%s Time-cue analysis by a model: %s (%s); the plan stays as drawn. To fix: %s. "
            "(Logged once; the panel's status counts each analysis_%s.)",
            LOG_PREFIX,
            problem,
            reason,
            ADVICE.get(problem, "check the analysis settings"),
            problem,
        )
