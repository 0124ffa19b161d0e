"""``ProactiveService.update_config``: validated, saved with the config's own
``save_config()`` (off the loop), never interleaved, never touching ``web_admin``."""

from __future__ import annotations

import asyncio
import json
import threading
import time

from proactive_chat.core.service import ProactiveService


class SlowConfig(dict):
    """Stands for AstrBotConfig: a dict whose save_config() writes a file (slowly)."""

    def __init__(self, path, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.path = path
        self.saves: list[dict] = []
        self.threads: set[str] = set()
        self.calls = 0

    def save_config(self) -> None:
        self.threads.add(threading.current_thread().name)
        self.calls += 1
        first = self.calls == 1
        snapshot = json.loads(json.dumps(self))
        # A slow first write: a second save that overtook it would be overwritten by
        # its older snapshot. Saves must wait for each other, not interleave.
        time.sleep(0.15 if first else 0.01)
        self.path.write_text(json.dumps(snapshot), encoding="utf-8")
        self.saves.append(snapshot)


async def test_two_saves_at_once_both_land_in_order(tmp_path):
    config = SlowConfig(tmp_path / "config.json", {"web_admin": {"password": "secret-pw"}})
    service = ProactiveService(None, config, tmp_path)
    first = {"friend_settings": {"session_list": ["a:FriendMessage:1"]}}
    second = {"group_settings": {"session_list": ["a:GroupMessage:2"]}}
    errors = await asyncio.gather(service.update_config(first), service.update_config(second))
    assert errors == [[], []]
    saved = json.loads((tmp_path / "config.json").read_text(encoding="utf-8"))
    assert saved["friend_settings"]["session_list"] == ["a:FriendMessage:1"]
    assert saved["group_settings"]["session_list"] == ["a:GroupMessage:2"]
    assert saved["web_admin"] == {"password": "secret-pw"}
    assert "MainThread" not in config.threads  # the file write happened off the loop


async def test_a_bad_update_changes_nothing(tmp_path):
    config = SlowConfig(tmp_path / "config.json", {"friend_settings": {"enable": True}})
    service = ProactiveService(None, config, tmp_path)
    errors = await service.update_config(
        {"friend_settings": {"schedule_settings": {"quiet_hours": "25:00-99"}}}
    )
    assert errors and "quiet_hours" in errors[0]
    assert config.saves == []
    assert config == {"friend_settings": {"enable": True}}
    errors = await service.update_config({"web_admin": {"password": "x"}})
    assert errors and "dashboard" in errors[0]
    assert config.saves == []
