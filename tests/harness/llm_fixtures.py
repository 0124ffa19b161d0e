"""Fixtures for full-process tests that need an LLM: AstrBot's own OpenAI-compatible
provider pointed at a ``FakeOpenAIServer`` on 127.0.0.1. The conftest.py of each folder
that uses them imports them (tests/process, tests/harness_tests); ``process_host`` comes
from tests/conftest.py.

    def test_chat(llm_process_host, fake_llm):
        proc = llm_process_host()              # started, dashboard ready, logged in
        chat = WebChatSession.create(proc)     # harness.webchat
        fake_llm.script("hi!")
        assert chat.send("hello").text == "hi!"
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from .fake_llm import FakeOpenAIServer
from .process import AstrBotProcess
from .roots import add_core_config, openai_provider_core_config


@pytest.fixture
def fake_llm() -> Iterator[FakeOpenAIServer]:
    """A started ``FakeOpenAIServer`` (stopped, threads joined, at teardown)."""
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def llm_process_host(
    fake_llm: FakeOpenAIServer, process_host: Callable[..., AstrBotProcess]
) -> Callable[..., AstrBotProcess]:
    """Factory: ``llm_process_host(plugin_config=None, *, streaming=False,
    request_max_retries=1, core_config=None, **kw) -> AstrBotProcess``.

    Like ``process_host`` (same keywords: ``src``, ``start``, ``login``,
    ``ready_timeout``, AstrBotProcess's), with ``fake_llm`` as AstrBot's default chat
    provider (id ``harness.roots.FAKE_PROVIDER_ID``). ``streaming`` sets
    ``provider_settings.streaming_response``; ``request_max_retries`` defaults to 1 so
    that a scripted error reaches AstrBot once instead of being retried 5 times
    (None: AstrBot's default); ``core_config`` adds further cmd_config keys.
    Processes are stopped by ``process_host`` before ``fake_llm`` stops.
    """

    def make(
        plugin_config: dict | None = None,
        *,
        streaming: bool = False,
        request_max_retries: int | None = 1,
        core_config: dict | None = None,
        start: bool = True,
        login: bool = True,
        ready_timeout: float = 60.0,
        **kwargs,
    ) -> AstrBotProcess:
        proc = process_host(plugin_config, start=False, **kwargs)
        provider = openai_provider_core_config(
            fake_llm.base_url,
            model=fake_llm.model,
            streaming=streaming,
            request_max_retries=request_max_retries,
        )
        add_core_config(proc.root, provider)
        if core_config:
            add_core_config(proc.root, core_config)
        if start:
            proc.launch(ready_timeout, login=login)
        return proc

    return make
