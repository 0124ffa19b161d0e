"""Writing with tools, pictures and fallback models: MessageComposer over AstrBot's real
agent loop (``Context.tool_loop_agent``) with scripted models and tools
(tests/harness/scripted_agent.py)."""

from __future__ import annotations

import asyncio
import base64
import time

import pytest

from proactive_chat.core.adapters.composer import MessageComposer
from proactive_chat.core.engine.config import parse_plugin_config
from proactive_chat.core.engine.ports import ComposeError

UMO = "test:FriendMessage:42"


def settings(**friend):
    parsed, problems = parse_plugin_config({"friend_settings": friend})
    assert problems == []
    return parsed.friend


def composer(ctx, timeout=5.0, retries=1) -> MessageComposer:
    return MessageComposer(ctx, timeout_seconds=timeout, retries=retries)


@pytest.fixture
def agent():
    from harness import scripted_agent

    return scripted_agent


async def test_with_everything_off_one_plain_call_as_before(agent):
    model = agent.ScriptedModel("main", "hello")
    ctx = agent.AgentContext(model)
    ctx.add_tool("get_weather", _weather, city="string")
    result = await composer(ctx).compose(UMO, settings(), "PROMPT")
    assert result.text == "hello" and result.provider_id == "main"
    assert result.detail == {"model": "model-of-main"} and result.pictures == ()
    assert model.requests[0]["func_tool"] is None  # no tools offered


async def test_a_tool_loop_of_several_steps_is_journaled_without_arguments(agent):
    model = agent.ScriptedModel(
        "main",
        agent.call("get_weather", city="SECRET-CITY"),
        agent.call("get_weather", city="Paris"),
        "It is sunny, fancy a walk?",
    )
    ctx = agent.AgentContext(model)
    ctx.add_tool("get_weather", _weather, city="string")
    ctx.add_tool("not_allowed", _weather, city="string")
    tools = {"mode": "whitelist", "whitelist": ["get_weather"]}
    result = await composer(ctx).compose(UMO, settings(tool_settings=tools), "PROMPT")
    assert result.text == "It is sunny, fancy a walk?"
    assert [c["name"] for c in result.detail["tools"]] == ["get_weather", "get_weather"]
    assert all(c["ok"] and c["provider"] == "main" for c in result.detail["tools"])
    assert "SECRET-CITY" not in repr(result.detail)
    offered = model.requests[0]["func_tool"].names()
    assert offered == ["get_weather"]  # the whitelist, nothing else


async def test_all_tools_but_the_blacklist(agent):
    model = agent.ScriptedModel("main", "hi")
    ctx = agent.AgentContext(model)
    for name in ("a_tool", "b_tool", "c_tool"):
        ctx.add_tool(name, _weather, city="string")
    tools = {"mode": "all", "blacklist": ["b_tool"]}
    await composer(ctx).compose(UMO, settings(tool_settings=tools), "PROMPT")
    assert sorted(model.requests[0]["func_tool"].names()) == ["a_tool", "c_tool"]


async def test_a_tool_that_sends_on_its_own_reaches_nobody(agent):
    """At most once: the tools' event collects what they send, the platform gets nothing."""
    from astrbot.core.message.message_event_result import MessageChain

    async def chatty(event, city: str = ""):
        await event.send(MessageChain().message("a second message!"))
        return "sent a note"

    model = agent.ScriptedModel("main", agent.call("chatty"), "The one message.")
    ctx = agent.AgentContext(model)
    ctx.add_tool("chatty", chatty, city="string")
    result = await composer(ctx).compose(UMO, settings(tool_settings={"mode": "all"}), "P")
    assert result.text == "The one message." and result.pictures == ()
    assert ctx.delivered == []


async def test_a_failing_tool_is_journaled_and_the_message_still_written(agent):
    model = agent.ScriptedModel("main", agent.call("broken"), "Still here!")
    ctx = agent.AgentContext(model)
    ctx.add_tool("broken", _broken, city="string")
    result = await composer(ctx).compose(UMO, settings(tool_settings={"mode": "all"}), "P")
    assert result.text == "Still here!"
    assert [(c["name"], c["ok"]) for c in result.detail["tools"]] == [("broken", False)]


async def test_the_step_limit_forces_a_final_answer(agent):
    endless = [agent.call("get_weather", city="x") for _ in range(10)]
    model = agent.ScriptedModel("main", *endless, "final words")
    ctx = agent.AgentContext(model)
    ctx.add_tool("get_weather", _weather, city="string")
    tools = {"mode": "all", "max_steps": 2}
    result = await composer(ctx).compose(UMO, settings(tool_settings=tools), "P")
    assert result.text == "final words"
    assert len(result.detail["tools"]) == 2
    # two steps with tools, then AstrBot's forced last step without them
    assert [bool(r["func_tool"]) for r in model.requests] == [True, True, False]


async def test_the_time_limit_stops_a_slow_tool_and_journals_it(agent):
    model = agent.ScriptedModel("main", agent.call("slow"), "never")
    ctx = agent.AgentContext(model)
    ctx.add_tool("slow", _slow, city="string")
    started = time.monotonic()
    with pytest.raises(ComposeError) as caught:
        await composer(ctx, timeout=1.0, retries=0).compose(
            UMO, settings(tool_settings={"mode": "all"}), "P"
        )
    assert time.monotonic() - started < 4
    assert caught.value.kind == "llm_failed" and "timed out" in caught.value.reason
    assert [(c["name"], c["ok"]) for c in caught.value.detail["tools"]] == [("slow", False)]


async def test_an_image_tool_yielding_a_picture_sends_it_with_the_text(agent):
    model = agent.ScriptedModel("main", agent.call("draw_image", prompt="cat"), "Look!")
    ctx = agent.AgentContext(model)
    ctx.add_tool("draw_image", _draw, "Draws a picture from a prompt", prompt="string")
    ctx.add_tool("get_weather", _weather, city="string")
    result = await composer(ctx).compose(UMO, settings(picture_settings={"mode": "always"}), "P")
    assert result.text == "Look!" and result.attempts == 1
    assert result.pictures == ("https://example.com/cat.png",)
    picture = result.detail["picture"]
    assert picture["tool"] == "draw_image" and picture["image_tools"] == ["draw_image"]
    # picture mode alone offers the image tools only, and asks for one
    assert model.requests[0]["func_tool"].names() == ["draw_image"]
    assert "# Picture" in repr(model.requests[0])  # the system prompt asks for one


async def test_an_image_tool_returning_image_data(agent):
    import io

    import mcp
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), "teal").save(buffer, "PNG")
    png = base64.b64encode(buffer.getvalue()).decode()

    async def paint(event, prompt: str):
        return mcp.types.CallToolResult(
            content=[mcp.types.ImageContent(type="image", data=png, mimeType="image/png")]
        )

    model = agent.ScriptedModel("main", agent.call("paint", prompt="sea"), "The sea today")
    ctx = agent.AgentContext(model)
    ctx.add_tool("paint", paint, "paint an image", prompt="string")
    result = await composer(ctx).compose(UMO, settings(picture_settings={"mode": "auto"}), "P")
    assert result.pictures == (f"base64://{png}",)
    assert result.detail["picture"]["ref"] == "(inline image)"  # never the data
    thumb = result.detail["picture"]["thumb"]  # small enough for the journal
    assert thumb.startswith("data:image/jpeg;base64,") and len(thumb) < 8000


async def test_excluded_image_tools_are_not_offered(agent):
    model = agent.ScriptedModel("main", "plain")
    ctx = agent.AgentContext(model)
    ctx.add_tool("draw_image", _draw, "Draws a picture", prompt="string")
    pictures = {"mode": "auto", "exclude_tools": ["draw_image"]}
    result = await composer(ctx).compose(UMO, settings(picture_settings=pictures), "P")
    assert result.pictures == () and model.requests[0]["func_tool"] is None


async def test_fallback_after_a_time_out_then_an_empty_answer(agent):
    first = agent.ScriptedModel("main", agent.HANG)
    second = agent.ScriptedModel("backup-1", "")
    third = agent.ScriptedModel("backup-2", "from the third")
    ctx = agent.AgentContext(first, second, third)
    model = {"fallback_mode": "custom", "fallback_provider_ids": ["backup-1", "gone", "backup-2"]}
    result = await composer(ctx, timeout=1.0).compose(UMO, settings(model_settings=model), "P")
    assert result.text == "from the third" and result.provider_id == "backup-2"
    assert result.detail["model"] == "model-of-backup-2"
    assert [(t["provider"], t["kind"]) for t in result.detail["tried"]] == [
        ("main", "llm_failed"),
        ("backup-1", "llm_empty"),
    ]
    assert result.detail["missing"] == ["gone"]


async def test_fallback_uses_astrbots_own_list(agent):
    first = agent.ScriptedModel("main", RuntimeError("429 rate limited"))
    second = agent.ScriptedModel("backup", "saved")
    config = {"agent_runner": {"config": {"model": {"fallback_provider_ids": ["backup"]}}}}
    ctx = agent.AgentContext(first, second, config=config)
    model = {"fallback_mode": "astrbot"}
    result = await composer(ctx).compose(UMO, settings(model_settings=model), "P")
    assert result.provider_id == "backup"
    assert "429" in result.detail["tried"][0]["reason"]


async def test_all_models_inside_one_overall_time_limit(agent):
    models = [agent.ScriptedModel(f"m{i}", agent.HANG) for i in range(4)]
    ctx = agent.AgentContext(*models)
    model = {"fallback_mode": "custom", "fallback_provider_ids": ["m1", "m2", "m3"]}
    started = time.monotonic()
    with pytest.raises(ComposeError) as caught:
        await composer(ctx, timeout=1.0, retries=1).compose(
            UMO, settings(model_settings=model), "P"
        )
    assert time.monotonic() - started < 2.8  # 1 s x (retries + 1), not 4 s
    assert caught.value.detail["tried"][0]["provider"] == "m0"


async def test_a_chosen_model_for_proactive_messages(agent):
    own = agent.ScriptedModel("own", "from own")
    chosen = agent.ScriptedModel("chosen", "from chosen")
    ctx = agent.AgentContext(own, chosen)
    result = await composer(ctx).compose(
        UMO, settings(model_settings={"provider_id": "chosen"}), "P"
    )
    assert result.provider_id == "chosen" and own.requests == []


async def test_without_fallbacks_the_one_model_is_retried_as_before(agent):
    model = agent.ScriptedModel("main", RuntimeError("boom"), "second try")
    ctx = agent.AgentContext(model)
    result = await composer(ctx).compose(UMO, settings(), "P")
    assert result.text == "second try" and result.attempts == 2


async def _weather(event, city: str):
    return f"sunny in {city}"


async def _broken(event, city: str = ""):
    raise RuntimeError("tool exploded")


async def _slow(event, city: str = ""):
    await asyncio.sleep(30)
    return "late"


async def _draw(event, prompt: str):
    return event.image_result("https://example.com/cat.png")


@pytest.mark.parametrize(
    ("name", "description", "expected"),
    [
        ("draw_image", "", True),
        ("text2img", "", True),
        ("gen", "根据描述生成图片", True),
        ("flux_generate", "", True),
        ("describe_image", "describe the picture the user sent", False),
        ("image_ocr", "read the text in an image", False),
        ("get_weather", "the weather in a city", False),
    ],
)
def test_image_tools_are_found_by_name_and_description(name, description, expected):
    from proactive_chat.core.adapters.pictures import looks_like_image_tool

    assert looks_like_image_tool(name, description) is expected


async def test_the_preview_is_the_request_compose_sends(agent):
    """One builder: what ``prepare`` shows is what the model is sent (persona, history,
    prompt, tools, models)."""
    model = agent.ScriptedModel("main", "hello")
    ctx = agent.AgentContext(model)
    ctx.add_tool("get_weather", _weather, city="string")
    chosen = settings(
        persona_settings={"mode": "custom", "custom_persona": "You are Kiki."},
        tool_settings={"mode": "whitelist", "whitelist": ["get_weather"]},
    )
    writer = composer(ctx)
    prepared = await writer.prepare(UMO, chosen, "PROMPT")
    await writer.compose(UMO, chosen, "PROMPT")
    sent = model.requests[0]
    assert "You are Kiki." in prepared.system_prompt
    assert prepared.prompt == "PROMPT"
    assert prepared.providers == ["main"] and prepared.model == "model-of-main"
    assert prepared.tools == sent["func_tool"].names() == ["get_weather"]
    sent_text = repr(sent)
    assert prepared.system_prompt.strip() in sent_text or "You are Kiki." in sent_text
    assert "PROMPT" in sent_text
