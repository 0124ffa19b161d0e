"""Measure the plugin's Python files and functions with ``ast`` (nothing is imported).

Used by tests/unit/test_module_size.py. A file is measured in lines; a function from its
``def`` line to its last line (decorators excluded, nested functions included in their
parent and also measured on their own). An oversized piece is excused only by a line
starting ``One piece:`` in its own docstring or its module's, saying why it cannot split.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from .import_rules import plugin_files

EXCUSE = "One piece:"


@dataclass(frozen=True)
class Oversize:
    """One file or function over its limit."""

    path: Path  # relative to the plugin root
    line: int
    what: str  # "file" or the function's dotted name
    lines: int
    limit: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what} has {self.lines} lines (limit {self.limit})"


def excused(docstring: str | None) -> bool:
    """True if a line of the docstring starts with ``One piece:``."""
    return any(line.strip().startswith(EXCUSE) for line in (docstring or "").splitlines())


def _functions(tree: ast.AST, prefix: str = ""):
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            name = f"{prefix}{node.name}"
            yield name, node
            yield from _functions(node, f"{name}.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, f"{prefix}{node.name}.")
        else:
            yield from _functions(node, prefix)


def oversized(root: Path, *, max_file: int, max_function: int) -> list[Oversize]:
    """Every plugin file over ``max_file`` lines and function over ``max_function``."""
    found: list[Oversize] = []
    for path in plugin_files(root):
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text, filename=str(path))
        rel = path.relative_to(root)
        module_excused = excused(ast.get_docstring(tree))
        length = len(text.splitlines())
        if length > max_file and not module_excused:
            found.append(Oversize(rel, 1, "file", length, max_file))
        for name, node in _functions(tree):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length <= max_function or module_excused or excused(ast.get_docstring(node)):
                continue
            found.append(Oversize(rel, node.lineno, f"{name}()", length, max_function))
    return found
