"""Lay out a throwaway AstrBot root with our plugin linked in.

What ``astrbot init`` makes is only ``.astrbot`` (the marker ``astrbot run`` checks) plus
``data/{config,plugins,temp}``; AstrBot fills in everything else on first start. We also
pre-write a *partial* ``data/cmd_config.json``: AstrBot adds every missing key with its
default, and the few keys we set keep it offline, quick and bound to 127.0.0.1.

This module must not import astrbot: importing ``astrbot.core`` fixes the root for the
whole process (module-level paths, config and database).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

PLUGIN_NAME = "astrbot_plugin_proactive_chat"
REPO_ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens, refused at once

# Keys of data/cmd_config.json that keep AstrBot offline and fast. Each one is a knob
# found in astrbot/core: see the comments.
OFFLINE_CORE_CONFIG: dict[str, Any] = {
    # A non-default endpoint stops NetworkRenderStrategy.initialize() from fetching the
    # official t2i endpoint list (api.soulter.top) in a background task at boot.
    "t2i_endpoint": f"{UNREACHABLE}/text2img",
    # Metric.upload() is skipped (also ASTRBOT_DISABLE_METRICS=1 in the environment).
    "disable_metrics": True,
    # A plugin whose import fails with ModuleNotFoundError makes AstrBot pip-install its
    # requirements.txt: point pip at nothing so it fails at once instead of hanging.
    "pypi_index_url": f"{UNREACHABLE}/simple/",
    "dashboard": {"host": "127.0.0.1"},
}

# Environment for any AstrBot we start (in-process or subprocess).
OFFLINE_ENV: dict[str, str] = {
    "ASTRBOT_DISABLE_METRICS": "1",
    "PIP_NO_INDEX": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
}


# Top-level entries of the repo that are not part of the installed plugin.
NOT_PLUGIN_FILES = frozenset(
    {
        ".git",
        ".venv",
        ".ci",
        ".github",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
        ".astrbot-dev",
        "bench",
        "data",
        "docs",
        "scripts",
        "tests",
        "test-artifacts",
        "pyproject.toml",
        "requirements-dev.txt",
    }
)


def copy_plugin(dest: Path, src: Path | None = None) -> Path:
    """Copy the plugin's own files (no tests, venv, caches) from ``src`` (the repo by
    default) to ``dest``, as a user's install would hold them. Returns ``dest``.

    For anything that deletes the plugin folder (uninstall, update): AstrBot must
    never be pointed at the repo itself then.
    """
    src = Path(src or REPO_ROOT).resolve()

    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n == "__pycache__" or n.endswith(".pyc")}
        if Path(folder).resolve() == src:
            skipped |= NOT_PLUGIN_FILES.intersection(names)
        return skipped

    shutil.copytree(src, dest, ignore=ignore, symlinks=False)
    return Path(dest).resolve()


def plugin_data_dir(root: Path) -> Path:
    """``<root>/data/plugin_data/<name>``: the store, panel_auth.json."""
    return Path(root) / "data" / "plugin_data" / PLUGIN_NAME


def plugin_config_path(root: Path) -> Path:
    return Path(root) / "data" / "config" / f"{PLUGIN_NAME}_config.json"


def write_plugin_config(root: Path, plugin_config: dict | None) -> None:
    """Write (or with None, remove) the plugin's config file as AstrBot would find it.

    AstrBot completes a partial file from ``_conf_schema.json`` defaults at load time.
    """
    path = plugin_config_path(root)
    if plugin_config is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(plugin_config, ensure_ascii=False, indent=2), encoding="utf-8")


def read_plugin_config(root: Path) -> dict:
    """The plugin config as saved by AstrBot (it writes a UTF-8 BOM)."""
    return json.loads(plugin_config_path(root).read_text(encoding="utf-8-sig"))


def make_astrbot_root(
    base: Path,
    plugin_src: Path | None = None,
    plugin_config: dict | None = None,
    *,
    core_config: dict | None = None,
    copy: bool = False,
) -> Path:
    """Create ``base`` as a fresh AstrBot root with the plugin symlinked into it.

    Args:
        base: Directory to become the root (created; may already exist but be empty).
        plugin_src: Plugin source directory (main.py, metadata.yaml, ...); repo root
            by default. Linked as ``data/plugins/astrbot_plugin_proactive_chat``.
        plugin_config: Written to ``data/config/astrbot_plugin_proactive_chat_config.json``.
        core_config: Extra top-level keys merged over ``OFFLINE_CORE_CONFIG``
            (one level deep for dict values) into ``data/cmd_config.json``.
        copy: Copy the plugin's files (``copy_plugin``) instead of linking them: for
            tests that uninstall or update the plugin, which delete its folder.

    Returns:
        The root path (resolved).
    """
    root = Path(base).resolve()
    plugin_src = Path(plugin_src or REPO_ROOT).resolve()
    if not (plugin_src / "metadata.yaml").is_file():
        raise FileNotFoundError(f"{plugin_src} has no metadata.yaml: not a plugin folder")
    for sub in ("data/config", "data/plugins", "data/temp", "data/plugin_data"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / ".astrbot").touch()

    config = json.loads(json.dumps(OFFLINE_CORE_CONFIG))
    for key, value in (core_config or {}).items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key].update(value)
        else:
            config[key] = value
    (root / "data" / "cmd_config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")

    place_plugin(root, plugin_src, copy=copy)

    if plugin_config is not None:
        write_plugin_config(root, plugin_config)
    return root


def place_plugin(root: Path, src: Path | None = None, *, copy: bool = False) -> Path:
    """Put the plugin into ``<root>/data/plugins/<name>``: a symlink to ``src`` (the
    repo by default), or with ``copy`` a copy of its files, replacing what is there.
    Returns the plugin folder inside the root."""
    src = Path(src or REPO_ROOT).resolve()
    target = Path(root) / "data" / "plugins" / PLUGIN_NAME
    if target.is_symlink() or target.is_file():
        target.unlink()  # removes the link only, never what it points to
    elif target.exists():
        shutil.rmtree(target)  # an earlier copy inside this root
    if copy:
        copy_plugin(target, src)
    else:
        os.symlink(src, target, target_is_directory=True)
    return target


FAKE_PROVIDER_ID = "fake_llm"


def openai_provider_core_config(
    base_url: str,
    *,
    provider_id: str = FAKE_PROVIDER_ID,
    model: str = "fake-model",
    api_key: str = "sk-fake-key",
    streaming: bool = False,
    request_max_retries: int | None = None,
    timeout: int = 30,
) -> dict[str, Any]:
    """``cmd_config.json`` keys for AstrBot's own OpenAI-compatible provider at
    ``base_url`` (``http://127.0.0.1:PORT/v1``), set as the default chat provider.

    AstrBot 4.29 splits a provider in two: a *source* in ``provider_sources`` (type,
    endpoint, keys) and a *model* entry in ``provider`` pointing at it with
    ``provider_source_id`` (ProviderManager merges them, the model entry winning).
    The default chat provider is ``agent_runner.config.model.provider_id`` with
    ``agent_runner.runner_type == "local"`` (``provider_settings.default_provider_id``
    is a legacy key that the config migration removes). ``agent_runner.config`` is
    kept as written and completed from defaults by ``normalize_agent_runner`` at use.

    Args:
        streaming: ``provider_settings.streaming_response``, the default for
            platforms; webchat requests carry their own ``enable_streaming`` flag.
        request_max_retries: Attempts per LLM request (AstrBot's default is 5,
            with exponential back-off from 0.2 s, on 5xx/429/connection errors).

    Pass the result as ``make_astrbot_root(..., core_config=...)``. The webchat
    platform needs no config: PlatformManager always starts one (id ``webchat``).
    """
    source_id = f"{provider_id}_source"
    model_cfg: dict[str, Any] = {"provider_id": provider_id}
    if request_max_retries is not None:
        model_cfg["request_max_retries"] = request_max_retries
    return {
        "provider_sources": [
            {
                "id": source_id,
                "provider": "openai",
                "type": "openai_chat_completion",
                "provider_type": "chat_completion",
                "enable": True,
                "key": [api_key],
                "api_base": base_url,
                "timeout": timeout,
                "proxy": "",
                "custom_headers": {},
            }
        ],
        "provider": [
            {
                "id": provider_id,
                "provider_source_id": source_id,
                "model": model,
                "modalities": ["text"],
                "custom_extra_body": {},
                "enable": True,
            }
        ],
        "agent_runner": {"runner_type": "local", "config": {"model": model_cfg}},
        "provider_settings": {"streaming_response": streaming},
    }


def add_core_config(root: Path, core_config: dict[str, Any]) -> dict[str, Any]:
    """Merge ``core_config`` into ``<root>/data/cmd_config.json`` as ``make_astrbot_root``
    does (top-level keys, dict values one level deep); returns the written config.

    For a root laid out but not yet started (e.g. ``process_host(start=False)``).
    """
    path = Path(root) / "data" / "cmd_config.json"
    config = json.loads(path.read_text(encoding="utf-8-sig")) if path.exists() else {}
    for key, value in core_config.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key].update(value)
        else:
            config[key] = value
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return config
