"""A plugin market on 127.0.0.1, so that AstrBot's real update path runs offline.

What AstrBot 4.29.3 does on the dashboard's Update button (dashboard/services/
plugin_service.py ``update_plugin``, core/star/star_manager.py, core/star/updater.py):
look up the plugin's install source (bound with ``POST /plugins/<name>/source``:
``install_method: market``, a registry URL and the market id ``<author>/<name>``),
fetch the registry JSON, download the entry's ``download_url`` (a zip) next to the
plugin folder, check it, delete the folder, extract the zip in its place, check the
requirements, ``reload(name)``; then the dashboard service reloads once more.

``LocalPluginMarket`` serves ``/registry.json`` (one entry: this plugin) and
``/plugin.zip`` (the plugin's files under one top folder, as GitHub zips them), and
records the paths asked for.
"""

from __future__ import annotations

import json
import re
import threading
import zipfile
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from .roots import PLUGIN_NAME

ZIP_NAME = "plugin.zip"
REGISTRY_NAME = "registry.json"


class LocalPluginMarket:
    """Serves one plugin folder as a market entry with the given ``version``.

    Args:
        plugin_dir: The plugin's files (e.g. ``harness.roots.copy_plugin`` output).
        workdir: Where the zip and the registry are written (created).
        version: Written into the zipped metadata.yaml, so that the updated plugin
            shows it (AstrBot reads the version from there).
    """

    def __init__(self, plugin_dir: Path, workdir: Path, *, version: str) -> None:
        self.plugin_dir = Path(plugin_dir)
        self.workdir = Path(workdir)
        self.version = version
        self.requested: list[str] = []
        self.metadata: dict[str, Any] = yaml.safe_load(
            (self.plugin_dir / "metadata.yaml").read_text(encoding="utf-8")
        )
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def market_plugin_id(self) -> str:
        """``<author>/<name>``, the id AstrBot matches a market entry by."""
        return f"{self.metadata['author']}/{self.metadata['name']}"

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "start() first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def registry_url(self) -> str:
        return f"{self.base_url}/{REGISTRY_NAME}"

    @property
    def zip_url(self) -> str:
        return f"{self.base_url}/{ZIP_NAME}"

    def start(self) -> LocalPluginMarket:
        self.workdir.mkdir(parents=True, exist_ok=True)
        handler = partial(_QuietHandler, self, directory=str(self.workdir))
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._build_zip()
        self._write_registry()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="local-plugin-market",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(10)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> LocalPluginMarket:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _build_zip(self) -> None:
        top = f"{PLUGIN_NAME}-main"
        metadata_text = (self.plugin_dir / "metadata.yaml").read_text(encoding="utf-8")
        metadata_text = re.sub(
            r"(?m)^version:.*$", f'version: "{self.version}"', metadata_text, count=1
        )
        with zipfile.ZipFile(self.workdir / ZIP_NAME, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(self.plugin_dir.rglob("*")):
                if path.is_dir() or "__pycache__" in path.parts:
                    continue
                name = f"{top}/{path.relative_to(self.plugin_dir).as_posix()}"
                if path.relative_to(self.plugin_dir).as_posix() == "metadata.yaml":
                    archive.writestr(name, metadata_text)
                else:
                    archive.write(path, name)

    def _write_registry(self) -> None:
        entry = {
            "name": self.metadata["name"],
            "author": self.metadata["author"],
            "desc": self.metadata.get("desc", ""),
            "repo": self.metadata["repo"],
            "version": self.version,
            "download_url": self.zip_url,
        }
        (self.workdir / REGISTRY_NAME).write_text(
            json.dumps({self.metadata["name"]: entry}, ensure_ascii=False), encoding="utf-8"
        )


class _QuietHandler(SimpleHTTPRequestHandler):
    def __init__(self, market: LocalPluginMarket, *args: Any, **kwargs: Any) -> None:
        self.market = market
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        self.market.requested.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass
