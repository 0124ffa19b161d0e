"""The dashboard page's files keep the "one front-end" promise: page scripts reach the
network and the address bar only through the transport, the dashboard's transport has every
export of the own port's, and the page is declared where AstrBot looks for it."""

from __future__ import annotations

import json
import re

import yaml

from harness.roots import REPO_ROOT

STATIC_JS = REPO_ROOT / "static" / "js"
VIEW = REPO_ROOT / "views" / "panel"
# The login page exists on the own port only (the dashboard has its own login).
OWN_PORT_ONLY = {"login.js", "transport.js"}
DIRECT = re.compile(r"\bfetch\(|new WebSocket\(|location\.(assign|reload|replace)\(|history\.")
EXPORT = re.compile(r"^export (?:async )?(?:function|const|class) (\w+)", re.MULTILINE)


def test_page_scripts_use_the_transport_only() -> None:
    offenders = [
        f"{path.name}:{n}: {line.strip()}"
        for path in sorted(STATIC_JS.glob("*.js"))
        if path.name not in OWN_PORT_ONLY
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if DIRECT.search(line) and not line.lstrip().startswith("//")
    ]
    assert offenders == [], "use common.js (api, openSocket, goTo, ...):\n" + "\n".join(offenders)


def test_the_bridge_transport_has_every_export_of_the_own_ports() -> None:
    own = set(EXPORT.findall((STATIC_JS / "transport.js").read_text(encoding="utf-8")))
    bridge = set(EXPORT.findall((VIEW / "bridge_transport.js").read_text(encoding="utf-8")))
    assert own and own <= bridge, own - bridge


def test_the_page_is_declared_where_astrbot_looks() -> None:
    html = (VIEW / "index.html").read_text(encoding="utf-8")
    assert '<script src="/api/plugin/page/bridge-sdk.js"></script>' in html
    assert 'src="./shell.js"' in html
    assert "http://" not in html and "https://" not in html  # no CDN
    metadata = yaml.safe_load((REPO_ROOT / "metadata.yaml").read_text(encoding="utf-8"))
    assert metadata["views"] == ["panel"]
    for locale in ("zh-CN", "en-US"):
        texts = json.loads(
            (REPO_ROOT / ".astrbot-plugin" / "i18n" / f"{locale}.json").read_text("utf-8")
        )
        assert texts["views"]["panel"]["title"]
