"""Tools and pictures in the real core: the scripted chat model asks for a real tool
that a small test plugin registered with ``@filter.llm_tool``; AstrBot's agent loop
runs it, and the platform receives the text and the picture in one message (and
nothing from the tool on its own)."""

from __future__ import annotations

import shutil
import textwrap

import pytest

from harness.ports import free_port
from harness.waiting import async_wait_for

TOOL_PLUGIN = "pc_test_picture_tool"
PICTURE_URL = "https://example.com/pc-test-picture.png"
MAIN_PY = textwrap.dedent(
    f'''
    from astrbot.api.event import AstrMessageEvent, filter
    from astrbot.api.star import Context, Star


    class PictureTool(Star):
        def __init__(self, context: Context, config=None):
            super().__init__(context)

        @filter.llm_tool(name="pc_test_draw_image")
        async def draw_image(self, event: AstrMessageEvent, prompt: str):
            """Draws a picture for a prompt.

            Args:
                prompt(string): what to draw
            """
            yield event.image_result("{PICTURE_URL}")
    '''
)


def config(umo: str, **friend) -> dict:
    return {
        "web_admin": {"port": free_port(), "password": "Tools-Host-Passw0rd"},
        "friend_settings": {
            "enable": True,
            "session_list": [umo],
            "proactive_prompt": "SAY SOMETHING",
            "schedule_settings": {"quiet_hours": "", "max_unanswered_times": 0},
            **friend,
        },
        "engine_settings": {"llm_timeout_seconds": 10},
    }


@pytest.fixture
def tool_plugin(inprocess_root):
    folder = inprocess_root / "data" / "plugins" / TOOL_PLUGIN
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "main.py").write_text(MAIN_PY, encoding="utf-8")
    (folder / "metadata.yaml").write_text(
        f"name: {TOOL_PLUGIN}\ndesc: a picture tool for tests\nauthor: tests\nversion: 0.0.1\n",
        encoding="utf-8",
    )
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


async def test_a_real_tool_makes_the_picture_sent_with_the_text(chat_host_factory, tool_plugin):
    from harness import stand_ins

    umo = f"{stand_ins.PLATFORM_ID}:FriendMessage:{stand_ins.unique_id()}"
    plugin_config = config(
        umo,
        picture_settings={"mode": "always"},
        tts_settings={"enable_tts": False, "always_send_text": True},
    )
    async with chat_host_factory(plugin_config=plugin_config) as host:
        im, llm = stand_ins.platform(host), stand_ins.provider(host)
        engine = host.plugin_instance().service.engine
        llm.then(
            stand_ins.Reply(tool=("pc_test_draw_image", {"prompt": "a lighthouse"})),
            "Here is the sea today.",
        )
        engine.request_trigger(umo)
        await async_wait_for(lambda: im.proactive, 20, 0.01, "the proactive message")
        (message,) = im.proactive  # one message: the tool sent nothing on its own
        kinds = [type(c).__name__ for c in message.chain.chain]
        assert kinds == ["Plain", "Image"], kinds
        assert message.text == "Here is the sea today."
        assert message.chain.chain[1].file == PICTURE_URL
        (sent,) = [
            e for e in await engine.store.query_journal(umo=umo, limit=50) if e.kind == "sent"
        ]
        assert [c["name"] for c in sent.detail["tools"]] == ["pc_test_draw_image"]
        assert sent.detail["tools"][0]["ok"] is True
        assert sent.detail["picture"]["ref"] == PICTURE_URL
        assert sent.detail["model"]
