"""What the engine does with how a message was written: the model, the models tried
before, the tools called and the picture go in the journal; a picture goes to the
sender with the text; without one the sender is called exactly as before."""

from __future__ import annotations

import sys
import types

from harness.engine_rig import FRIEND
from proactive_chat.core.adapters import sender as sender_module
from proactive_chat.core.adapters.sender import MessageSender
from proactive_chat.core.engine.models import SessionSettings, TtsSettings
from proactive_chat.core.engine.ports import ComposeError, ComposeResult

NO_VOICE = SessionSettings(kind="friend", tts=TtsSettings(enable_tts=False))
DETAIL = {
    "model": "gpt-x",
    "tried": [{"provider": "main", "kind": "llm_failed", "reason": "timed out after 60 s"}],
    "tools": [{"name": "draw_image", "provider": "backup", "ms": 812, "ok": True}],
    "picture": {"mode": "auto", "tool": "draw_image", "ref": "https://x/cat.png"},
}


async def entries(rig, kind):
    found = await rig.store.query_journal(umo=FRIEND, limit=100)
    return [e for e in found if e.kind == kind]


async def test_the_sent_entry_says_which_model_wrote_it_and_what_ran(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND)
    rig.composer.script = [
        ComposeResult(
            "Look!", "backup", None, "cid", 2, detail=DETAIL, pictures=("https://x/cat.png",)
        )
    ]
    await rig.advance(3601)
    assert rig.sender.sent == [(FRIEND, "Look!")]
    assert rig.sender.pictures == [("https://x/cat.png",)]
    (sent,) = await entries(rig, "sent")
    assert sent.detail["provider"] == "backup" and sent.detail["model"] == "gpt-x"
    assert sent.detail["tried"] == DETAIL["tried"] and sent.detail["tools"] == DETAIL["tools"]
    assert sent.detail["picture"]["tool"] == "draw_image"


async def test_without_a_picture_the_sender_gets_no_pictures_argument(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND)
    await rig.advance(3601)
    assert rig.sender.pictures == [()]  # the default: the call as before pictures


async def test_a_failure_journals_every_model_tried(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND)
    tried = [{"provider": "main", "kind": "llm_empty", "reason": "empty"}]
    rig.composer.script = [
        ComposeError(
            "llm_failed", "backup: timed out", provider_id="backup", detail={"tried": tried}
        )
    ]
    await rig.advance(3601)
    (failed,) = await entries(rig, "llm_failed")
    assert failed.detail["tried"] == tried


class _Platform:
    def __init__(self, refuse_pictures: bool) -> None:
        self.refuse_pictures = refuse_pictures
        self.chains: list[list] = []

    async def send_message(self, umo, chain):
        kinds = [type(c).__name__ for c in chain.chain]
        if self.refuse_pictures and "Image" in kinds:
            if len(kinds) > 1:
                raise RuntimeError("this platform cannot mix text and pictures")
            raise RuntimeError("picture upload failed")
        self.chains.append(kinds)
        return True


def _fake_astrbot(monkeypatch):
    class MessageChain:
        def __init__(self, chain=None):
            self.chain = list(chain or [])

        def message(self, text):
            self.chain.append(Plain(text))
            return self

    class Plain:
        def __init__(self, text):
            self.text = text

    class Image:
        def __init__(self, file=None, **kw):
            self.file = file

    event_mod = types.ModuleType("astrbot.api.event")
    event_mod.MessageChain = MessageChain
    components_mod = types.ModuleType("astrbot.api.message_components")
    components_mod.Plain, components_mod.Image = Plain, Image
    monkeypatch.setitem(sys.modules, "astrbot.api.event", event_mod)
    monkeypatch.setitem(sys.modules, "astrbot.api.message_components", components_mod)
    monkeypatch.setattr(sender_module, "platform_meta_of", lambda ctx, umo: object())


async def test_text_and_picture_go_in_one_message(monkeypatch):
    _fake_astrbot(monkeypatch)
    platform = _Platform(refuse_pictures=False)
    settings = SessionSettings(
        kind="friend", tts=SessionSettings(kind="friend").tts.__class__(False)
    )
    result = await MessageSender(platform).send(
        FRIEND, "hi", settings, pictures=("https://x/a.png",)
    )
    assert result.ok and result.pictures == 1
    assert platform.chains == [["Plain", "Image"]]


async def test_a_failed_picture_never_stops_the_text(monkeypatch):
    _fake_astrbot(monkeypatch)
    platform = _Platform(refuse_pictures=True)
    settings = SessionSettings(
        kind="friend", tts=SessionSettings(kind="friend").tts.__class__(False)
    )
    result = await MessageSender(platform).send(
        FRIEND, "hi", settings, pictures=("https://x/a.png",)
    )
    assert result.ok and result.parts == 1 and result.pictures == 0
    assert platform.chains == [["Plain"]]  # text first, alone; the picture failed after it
