"""Read the plugin's imports with ``ast`` and judge them against a rules table.

Used by tests/unit/test_architecture.py, which holds the table. Nothing is imported or
executed: every ``.py`` file of the plugin (``main.py``, ``panel.py``, ``__init__.py``,
``core/**``, ``web/**``) is parsed, and every import in it counts, wherever it sits:
module level, inside a function, under ``if TYPE_CHECKING:``. Relative imports are
resolved against the file's package; absolute ones that name the plugin's package
(``data.plugins.astrbot_plugin_proactive_chat.core...``, ``proactive_chat.core...``)
are read as plugin imports too.

Module names are dotted paths from the plugin root: ``core.engine.engine``, ``web.app``,
``panel``. ``__init__.py`` files are named after their package (``core.engine``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

# The plugin's Python code; everything else in the repo (tests, bench, scripts) is tooling.
PLUGIN_TOP_FILES = ("__init__.py", "main.py", "panel.py")
PLUGIN_TOP_PACKAGES = ("core", "web")
# Names under which the plugin folder itself can be imported absolutely.
PLUGIN_PACKAGE_NAMES = ("astrbot_plugin_proactive_chat", "proactive_chat")


@dataclass(frozen=True)
class Rule:
    """What the modules under ``area`` may import.

    ``may_import``: plugin modules (a prefix covers its sub-modules). ``never_import``:
    third-party top-level packages (``fastapi`` covers ``fastapi.responses``).
    """

    area: str
    may_import: tuple[str, ...]
    never_import: tuple[str, ...] = ()
    why: str = ""


@dataclass(frozen=True)
class Import:
    """One import arrow: ``source`` (a plugin module) names ``target``."""

    path: Path  # relative to the plugin root
    line: int
    source: str
    target: str
    plugin: bool  # target is a plugin module (else a third-party or stdlib one)


@dataclass
class Verdict:
    violations: list[str] = field(default_factory=list)
    uncovered: list[str] = field(default_factory=list)


def plugin_files(root: Path) -> list[Path]:
    """The plugin's Python files under ``root``, sorted."""
    files = [root / name for name in PLUGIN_TOP_FILES if (root / name).is_file()]
    for package in PLUGIN_TOP_PACKAGES:
        if (root / package).is_dir():
            files.extend(sorted((root / package).rglob("*.py")))
    return files


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) or "__init__"


def _is_package(root: Path, path: Path) -> bool:
    return path.name == "__init__.py" and path.parent != root


def _plugin_modules(root: Path) -> set[str]:
    return {module_name(root, path) for path in plugin_files(root)}


def _absolute_plugin_name(dotted: str) -> str | None:
    """``...astrbot_plugin_proactive_chat.core.umo`` -> ``core.umo``; None if not ours."""
    parts = dotted.split(".")
    for index, part in enumerate(parts):
        if part in PLUGIN_PACKAGE_NAMES:
            return ".".join(parts[index + 1 :]) or "__init__"
    return None


def _resolve_from(root: Path, path: Path, node: ast.ImportFrom) -> str | None:
    """The dotted module ``from X import ...`` names, as a plugin name if relative."""
    if node.level == 0:
        return node.module
    package = module_name(root, path).split(".")
    if not _is_package(root, path):
        package = package[:-1]  # a module's package is its parent
    if package == ["__init__"]:
        package = []
    drop = node.level - 1
    if drop > len(package):
        return None  # climbs out of the plugin: reported as unknown by the caller
    base = package[: len(package) - drop] if drop else package
    tail = node.module.split(".") if node.module else []
    return ".".join(base + tail) or "__init__"


def _targets(
    root: Path, path: Path, node: ast.AST, modules: set[str]
) -> Iterator[tuple[str, bool]]:
    """(target, is_plugin) for one import statement."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            ours = _absolute_plugin_name(alias.name)
            yield (ours, True) if ours is not None else (alias.name, False)
        return
    assert isinstance(node, ast.ImportFrom)
    base = _resolve_from(root, path, node)
    if base is None:
        yield (f"{'.' * node.level}{node.module or ''} (outside the plugin)", True)
        return
    plugin = node.level > 0
    if not plugin and (ours := _absolute_plugin_name(base)) is not None:
        base, plugin = ours, True
    if not plugin:
        yield base, False
        return
    # ``from . import config`` names the sub-module, not the package.
    for alias in node.names:
        sub = f"{base}.{alias.name}" if base != "__init__" else alias.name
        yield (sub if sub in modules else base), True


def imports_of(root: Path) -> Iterator[Import]:
    """Every import arrow in the plugin under ``root``."""
    modules = _plugin_modules(root)
    for path in plugin_files(root):
        source = module_name(root, path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                continue
            for target, plugin in _targets(root, path, node, modules):
                rel = path.relative_to(root)
                yield Import(rel, node.lineno, source, target, plugin)


def covers(prefix: str, name: str) -> bool:
    """``core.engine`` covers ``core.engine`` and ``core.engine.models``, not ``core.engines``."""
    return name == prefix or name.startswith(prefix + ".")


def rule_for(module: str, rules: Mapping[str, Rule]) -> Rule | None:
    """The most specific rule whose area covers ``module``."""
    matching = [rule for area, rule in rules.items() if covers(area, module)]
    return max(matching, key=lambda rule: len(rule.area), default=None)


def judge(root: Path, rules: Mapping[str, Rule]) -> Verdict:
    """Every arrow the rules forbid, as ``file:line: source -> target (why)``, and
    every plugin module that no rule covers (a new folder needs its line in the table)."""
    verdict = Verdict()
    for path in plugin_files(root):
        if rule_for(module_name(root, path), rules) is None:
            verdict.uncovered.append(f"{path.relative_to(root)}: {module_name(root, path)}")
    for arrow in imports_of(root):
        rule = rule_for(arrow.source, rules)
        if rule is None:
            continue
        if arrow.plugin:
            allowed = any(covers(prefix, arrow.target) for prefix in rule.may_import)
            if allowed:
                continue
            what = f"{rule.area} may import only {', '.join(rule.may_import) or 'nothing'}"
        else:
            top = arrow.target.split(".")[0]
            if top not in rule.never_import:
                continue
            what = f"{rule.area} never imports {', '.join(rule.never_import)}"
        if rule.why:
            what += f": {rule.why}"
        verdict.violations.append(
            f"{arrow.path}:{arrow.line}: {arrow.source} -> {arrow.target} is not allowed ({what})"
        )
    return verdict
