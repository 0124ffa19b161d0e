"""Fixtures of the process layer: the LLM-backed ``astrbot run`` (harness/llm_fixtures.py)."""

from __future__ import annotations

from harness.llm_fixtures import fake_llm, llm_process_host

__all__ = ["fake_llm", "llm_process_host"]
