"""Tests of the harness itself (tests/harness/), not of the plugin: that the hosts boot,
reload and stop, that the stand-ins behave as AstrBot's own adapters do, that the soak's
accounting can fail. Markers come from the fixtures, as in the other layers
(tests/conftest.py): ``host`` for in-process hosts, ``process`` for ``astrbot run``."""

from __future__ import annotations

from harness.llm_fixtures import fake_llm, llm_process_host

__all__ = ["fake_llm", "llm_process_host"]
