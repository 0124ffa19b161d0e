"""Writing the message with tools: AstrBot's own agent loop, bounded and journaled.

``ToolRun`` picks the tools a session may use (tool mode, plus the image tools when
pictures are on), then runs ``Context.tool_loop_agent`` with the same prompt,
persona and history as the plain path, at most ``max_steps`` model turns and within
the time the composer gives each attempt. Each tool call is recorded (name, duration,
success; never its arguments) for the journal. The tools get a silent event
(tool_event.py): what they try to send is collected, never delivered, so the only
message that reaches the platform is the engine's one send; the pictures among it
(and images a tool returns as its result) go out with that message. AstrBot ends its
loop when a tool "sends" (as an image tool yielding its picture does) before the model
has written anything: then one more plain call of the same model, within the same
time, writes the text.

AstrBot's agent classes are imported on first use only: with tools and pictures off,
nothing here runs.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import time
from typing import Any

from ..engine.models import SessionSettings
from .pictures import image_tool_names, picture_instruction
from .tool_event import pictures_in, silent_event

MAX_PICTURE_BYTES = 20 * 1024 * 1024  # a tool's inline image above this is not sent
PICTURE_READY = (
    "(A picture to go with your message is ready and will be sent with it. "
    "Now write only the message text.)"
)


class ToolRun:
    """The tools of one proactive message and what they did, across attempts."""

    def __init__(self, context: Any, umo: str, settings: SessionSettings) -> None:
        self._context = context
        self._umo = umo
        self._settings = settings
        self.toolset, self.image_tools = _toolset(context, settings)
        self.calls: list[dict[str, Any]] = []  # journaled: name, ms, ok, provider
        self.pictures: list[str] = []  # of the last attempt
        self.picture_tool = ""

    @property
    def active(self) -> bool:
        return bool(self.toolset)

    def system_prompt(self, base: str) -> str:
        mode = self._settings.pictures.mode
        if mode == "off" or not self.image_tools:
            return base
        return base + picture_instruction(mode, self.image_tools)

    async def write(
        self,
        provider_id: str,
        prompt: str,
        system_prompt: str,
        contexts: list[dict],
        seconds: float,
    ) -> Any:
        """One run of the agent loop with ``provider_id``; its final LLM response.
        Raises what the provider or AstrBot raises, TimeoutError after ``seconds``."""
        event = silent_event(self._umo, prompt)
        self.pictures, self.picture_tool = [], ""
        hooks = _hooks_class()(self, provider_id)
        deadline = asyncio.get_running_loop().time() + seconds
        try:
            response = await asyncio.wait_for(
                self._context.tool_loop_agent(
                    event=event,
                    chat_provider_id=provider_id,
                    prompt=prompt,
                    system_prompt=self.system_prompt(system_prompt) or None,
                    contexts=contexts,
                    tools=self.toolset,
                    max_steps=self._settings.tools.max_steps,
                    tool_call_timeout=max(1, int(seconds)),
                    agent_hooks=hooks,
                ),
                seconds,
            )
        except TimeoutError:
            raise
        except Exception:
            # "no final response": the loop ended on a tool that sent (a picture)
            self._keep_pictures(pictures_in(event.collected), "")
            if not self.pictures:
                raise
            response = None
        finally:
            hooks.close_open_calls()
        self._keep_pictures(pictures_in(event.collected), "")
        if self.pictures and not (getattr(response, "completion_text", "") or "").strip():
            # AstrBot ends the loop when a tool "sends" on its own (as an image tool
            # yielding its picture does): the text is still to be written.
            left = deadline - asyncio.get_running_loop().time()
            response = await asyncio.wait_for(
                self._context.llm_generate(
                    chat_provider_id=provider_id,
                    prompt=f"{prompt}\n\n{PICTURE_READY}",
                    system_prompt=system_prompt or None,
                    contexts=contexts,
                ),
                max(left, 0.01),
            )
        return response

    def _keep_pictures(self, refs: list[str], tool: str) -> None:
        if refs and not self.pictures:
            self.pictures = refs[:1]  # one picture per message
            self.picture_tool = tool or self.picture_tool

    def journal_detail(self) -> dict[str, Any]:
        """What the journal says about tools and pictures (no arguments, no data)."""
        detail: dict[str, Any] = {}
        if self.calls:
            detail["tools"] = self.calls
        if self._settings.pictures.mode != "off" or self.pictures:
            detail["picture"] = {
                "mode": self._settings.pictures.mode,
                "tool": self.picture_tool,
                "ref": _shown_ref(self.pictures[0]) if self.pictures else "",
                "image_tools": self.image_tools,
            }
        return detail


def _toolset(context: Any, settings: SessionSettings) -> tuple[Any, list[str]]:
    """(the ToolSet for this session or None, the image tools in it)."""
    tools, pictures = settings.tools, settings.pictures
    if not tools.enabled and not pictures.enabled:
        return None, []
    full = context.get_llm_tool_manager().get_full_tool_set()
    registered = [tool for tool in full.tools if getattr(tool, "active", True)]
    chosen: dict[str, Any] = {}
    if tools.mode == "whitelist":
        allowed = set(tools.whitelist)
        chosen = {t.name: t for t in registered if t.name in allowed}
    elif tools.mode == "all":
        blocked = set(tools.blacklist)
        chosen = {t.name: t for t in registered if t.name not in blocked}
    image_names: list[str] = []
    if pictures.enabled:
        image_names = image_tool_names(registered, pictures)
        for tool in registered:
            if tool.name in image_names:
                chosen.setdefault(tool.name, tool)
    if not chosen:
        return None, image_names
    from astrbot.core.agent.tool import ToolSet

    toolset = ToolSet()
    for tool in chosen.values():
        toolset.add_tool(tool)
    return toolset, image_names


@functools.cache
def _hooks_class() -> type:
    from astrbot.core.agent.hooks import BaseAgentRunHooks

    class _Recorder(BaseAgentRunHooks):
        """Records each tool call (name, duration, success) and images it returns."""

        def __init__(self, run: ToolRun, provider_id: str) -> None:
            self._run = run
            self._provider_id = provider_id
            self._open: dict[int, tuple[dict[str, Any], float]] = {}

        async def on_tool_start(self, run_context: Any, tool: Any, tool_args: Any) -> None:
            # Tools run one after another: one still open raised (no on_tool_end then).
            self.close_open_calls()
            call = {"name": str(tool.name), "provider": self._provider_id, "ms": 0, "ok": False}
            self._run.calls.append(call)
            self._open[id(tool)] = (call, time.monotonic())

        async def on_tool_end(
            self, run_context: Any, tool: Any, tool_args: Any, tool_result: Any
        ) -> None:
            call, started = self._open.pop(id(tool), (None, 0.0))
            if call is None:
                return
            call["ms"] = round((time.monotonic() - started) * 1000)
            call["ok"] = not _is_error(tool_result)
            refs = _inline_images(tool_result)
            if refs:
                self._run._keep_pictures(refs, call["name"])
            elif self._run.pictures == [] and call["name"] in self._run.image_tools:
                self._run.picture_tool = call["name"]

        def close_open_calls(self) -> None:
            """Calls that never ended raised or were cut off by the time limit."""
            for call, started in self._open.values():
                call["ms"] = round((time.monotonic() - started) * 1000)
                call["ok"] = False
            self._open.clear()

    return _Recorder


def _is_error(result: Any) -> bool:
    if result is None:
        return False
    if getattr(result, "isError", False):
        return True
    contents = getattr(result, "content", None) or []
    first = getattr(contents[0], "text", "") if contents else ""
    return isinstance(first, str) and first.lstrip().lower().startswith("error")


def _inline_images(result: Any) -> list[str]:
    """``base64://`` references of the images a tool returned as its result."""
    refs: list[str] = []
    for item in getattr(result, "content", None) or []:
        data = getattr(item, "data", None)
        if getattr(item, "type", "") != "image" or not isinstance(data, str):
            continue
        try:
            size = len(base64.b64decode(data, validate=True))
        except (binascii.Error, ValueError):
            continue
        if 0 < size <= MAX_PICTURE_BYTES:
            refs.append(f"base64://{data}")
    return refs


def _shown_ref(ref: str) -> str:
    """A picture reference as the journal keeps it (never the image data itself)."""
    return "(inline image)" if ref.startswith("base64://") else ref[:500]
