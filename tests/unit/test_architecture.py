"""The import rules of the house, as a test: which part of the plugin may import which.

Read the table below first: it is the architecture (docs/ and DESIGN.md's "Layout"
describe it; this test referees it). Arrows run one way:

    main.py -> panel.py -> web -> core.service / engine's public modules
    main.py -> core.service -> core.engine, core.store, core.adapters
    panel.py -> core.server, core.logs
    main.py -> core.early_messages, core.server.port_hold (while the plugin starts)

The engine imports neither web nor server; the server knows no chats and no routes;
web reaches the engine through its public modules only; HTTP (fastapi, starlette,
pydantic) lives in web. Every import counts: module level, inside functions, under
``if TYPE_CHECKING:``. A failure names the file, the line and the arrow. Adding a
folder or a top-level module? Give it a line here.

The checker (tests/harness/import_rules.py) is tested at the bottom on a tiny fake
plugin, so that a rule that can never fail is caught too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.import_rules import Rule, imports_of, judge, plugin_files, rule_for
from harness.roots import REPO_ROOT

HTTP = ("fastapi", "starlette", "pydantic")
WEB_ONLY = (*HTTP, "uvicorn", "jinja2", "markupsafe")

# The engine's public modules: all that web and main.py may name of the engine. Its
# inner workings (planning, scheduler, failure_log) stay private.
ENGINE_PUBLIC = (
    "core.engine.engine",
    "core.engine.errors",
    "core.engine.models",
    "core.engine.config",
    "core.engine.prompt_template",
    "core.engine.quiet_hours",
    "core.engine.event_hub",  # engine.events.subscribe() hands out its Subscription
)
SHARED = ("core.umo", "core.constants", "core.config_checks", "core.plugin_log")

# area (a module, or a package and everything under it) -> what it may import.
# The most specific area wins: "core.engine" judges core/engine/*.py.
RULES: dict[str, Rule] = {
    rule.area: rule
    for rule in (
        Rule("__init__", (), why="the package marker imports nothing"),
        Rule("core", (), HTTP, why="core/__init__.py; a new core.* module needs its own line"),
        Rule("core.constants", (), HTTP, why="a leaf everyone may import"),
        Rule("core.umo", ("core.constants",), HTTP, why="a leaf everyone may import"),
        Rule(
            "core.plugin_log",
            ("core.constants",),
            (*HTTP, "astrbot"),
            why="the one logging seam: names AstrBot's per-plugin logger without importing"
            " AstrBot, so every part (the server and live logs too) logs under the plugin's"
            " name and level",
        ),
        Rule(
            "core.config_checks",
            (),
            HTTP,
            why="the value checks every config reader shares (engine and panel settings)",
        ),
        Rule(
            "core.engine",
            ("core.engine", *SHARED),
            WEB_ONLY,
            why="the engine reaches AstrBot through its ports, never the adapters",
        ),
        Rule(
            "core.engine.cues",
            ("core.engine.cues",),
            WEB_ONLY,
            why="the cue parser is pure: the standard library and itself, nothing of the engine",
        ),
        Rule(
            "core.store",
            ("core.store", "core.engine.models", *SHARED),
            HTTP,
            why="the store persists the engine's models and knows nothing else",
        ),
        Rule(
            "core.adapters",
            (
                "core.adapters",
                "core.engine.ports",
                "core.engine.models",
                "core.engine.errors",
                *SHARED,
            ),
            HTTP,
            why="adapters implement the engine's ports",
        ),
        Rule(
            "core.server",
            ("core.server", "core.constants", "core.plugin_log"),
            HTTP,
            why="the server knows no chats, no store and no routes",
        ),
        Rule("core.logs", ("core.logs", "core.constants", "core.plugin_log"), HTTP),
        Rule(
            "core.service",
            ("core.service", "core.engine", "core.store", "core.adapters", *SHARED),
            HTTP,
            why="the service wires store, engine and adapters; the panel is not its business",
        ),
        Rule(
            "core.early_messages",
            ("core.early_messages", "core.engine.engine"),
            HTTP,
            why="messages kept while the plugin starts, noted on the engine once it runs",
        ),
        Rule(
            "core.command_texts",
            ("core.command_texts", "core.service", *ENGINE_PUBLIC, *SHARED),
            HTTP,
            why="the /proactive answers: text over the engine's views",
        ),
        Rule(
            "web",
            (
                "web",
                *SHARED,
                "core.logs",
                "core.service",
                "core.store.session_store",
                *ENGINE_PUBLIC,
            ),
            why="web reaches the engine and the store through their public modules",
        ),
        Rule(
            "panel",
            (
                "panel",
                "web",
                "core.server",
                "core.logs",
                "core.constants",
                "core.plugin_log",
                "core.service",
            ),
            why="the panel's composition root: app, server and live logs",
        ),
        Rule(
            "main",
            (
                "main",
                "panel",
                "web.settings",
                "core.service",
                "core.command_texts",
                "core.adapters.lookups",  # "are platforms loaded?", asked as the adapters ask
                "core.early_messages",  # kept while the start runs (initialize() returned)
                "core.server.port_hold",  # the panel's address, held before initialize() returns
                *ENGINE_PUBLIC,
                *SHARED,
            ),
            WEB_ONLY,
            why="the Star wires the service and the panel; HTTP stays in web",
        ),
    )
}


def test_the_plugin_follows_the_import_rules() -> None:
    verdict = judge(REPO_ROOT, RULES)
    if verdict.uncovered:
        pytest.fail(
            "plugin modules with no rule in RULES:\n" + "\n".join(verdict.uncovered), pytrace=False
        )
    if verdict.violations:
        pytest.fail("imports against the rules:\n" + "\n".join(verdict.violations), pytrace=False)


def test_nothing_under_core_imports_http() -> None:
    # Also enforced per area above; this line holds even if a rule is loosened by mistake.
    wrong = [
        f"{arrow.path}:{arrow.line}: {arrow.source} -> {arrow.target}"
        for arrow in imports_of(REPO_ROOT)
        if arrow.source.startswith("core")
        and not arrow.plugin
        and arrow.target.split(".")[0] in HTTP
    ]
    assert not wrong, "HTTP lives in web:\n" + "\n".join(wrong)


def test_the_checker_sees_the_whole_plugin() -> None:
    files = {path.relative_to(REPO_ROOT).as_posix() for path in plugin_files(REPO_ROOT)}
    assert {"main.py", "panel.py", "core/engine/engine.py", "web/app.py"} <= files
    assert not any(name.startswith(("tests/", "bench/", "scripts/")) for name in files)
    arrows = {(a.source, a.target) for a in imports_of(REPO_ROOT) if a.plugin}
    # A relative import, a function-level one and a ``from . import x`` one.
    assert ("core.service", "core.engine.engine") in arrows
    assert ("web.app", "web.api.engine") in arrows
    assert ("web.pages.routes", "web.pages.config") in arrows


# --- the checker itself, on a tiny fake plugin -------------------------------------


def _fake_plugin(root: Path, files: dict[str, str]) -> Path:
    for name, text in {"__init__.py": "", "main.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for package in {p.parent for p in root.rglob("*.py")} - {root}:
        (package / "__init__.py").touch()
    return root


FAKE_RULES = {
    rule.area: rule
    for rule in (
        Rule("__init__", ()),
        Rule("main", ("core",)),
        Rule("core", ()),
        Rule("core.engine", ("core.engine", "core.umo"), WEB_ONLY),
        Rule("core.umo", ()),
        Rule("web", ("web", "core.engine.models")),
    )
}


def test_the_checker_reports_a_wrong_arrow_with_file_and_line(tmp_path: Path) -> None:
    root = _fake_plugin(
        tmp_path,
        {
            "core/umo.py": "X = 1\n",
            "core/engine/models.py": "from ..umo import X\n",
            "core/engine/engine.py": "from __future__ import annotations\n\n"
            "from .models import X\n"
            "from ...web.app import app\n",
            "web/app.py": "app = 1\n",
        },
    )
    verdict = judge(root, FAKE_RULES)
    assert verdict.uncovered == []
    assert len(verdict.violations) == 1, verdict.violations
    assert verdict.violations[0].startswith(
        "core/engine/engine.py:4: core.engine.engine -> web.app is not allowed"
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # function level
        ("def f():\n    from ...web import app\n", "core.engine.engine -> web.app"),
        # under TYPE_CHECKING
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ...web.app import A\n",
            "core.engine.engine -> web.app",
        ),
        # absolute, through the name AstrBot gives the plugin
        (
            "import data.plugins.astrbot_plugin_proactive_chat.web.app\n",
            "core.engine.engine -> web.app",
        ),
        # a package's sub-module named by ``from .. import``
        ("from .. import web\n", "core.engine.engine -> core.web"),
        # a third-party package the area never imports
        ("from fastapi.responses import JSONResponse\n", "core.engine.engine -> fastapi.responses"),
    ],
)
def test_the_checker_reads_every_kind_of_import(tmp_path: Path, source: str, expected: str) -> None:
    root = _fake_plugin(
        tmp_path, {"core/engine/engine.py": source, "web/app.py": "", "core/web.py": ""}
    )
    rules = {**FAKE_RULES, "core.web": Rule("core.web", ())}
    violations = judge(root, rules).violations
    assert len(violations) == 1, violations
    assert expected in violations[0]


def test_the_checker_allows_what_the_rules_allow(tmp_path: Path) -> None:
    root = _fake_plugin(
        tmp_path,
        {
            "core/umo.py": "import re\n",
            "core/engine/models.py": "from ..umo import X\nfrom . import engine\n",
            "core/engine/engine.py": "def f():\n    from .models import X\n",
            "web/app.py": "from fastapi import FastAPI\nfrom ..core.engine.models import X\n",
            "main.py": "from .core.engine import engine\n",
        },
    )
    assert judge(root, FAKE_RULES).violations == []


def test_a_module_without_a_rule_is_reported(tmp_path: Path) -> None:
    root = _fake_plugin(tmp_path, {"core/engine/engine.py": "", "panel.py": ""})
    assert judge(root, FAKE_RULES).uncovered == ["panel.py: panel"]


def test_the_most_specific_rule_wins() -> None:
    assert rule_for("core.engine.engine", RULES).area == "core.engine"
    assert rule_for("core.engine", RULES).area == "core.engine"
    assert rule_for("core.enginex", RULES).area == "core"
    assert rule_for("web.api.engine", RULES).area == "web"
    assert rule_for("bench.x", RULES) is None
