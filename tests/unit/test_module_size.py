"""Small modules, short functions: no plugin file over 400 lines, no function over 60.

A piece that must stay whole says so: a line starting ``One piece:`` in its docstring
(the function's, or the module's for the file and all its functions) gives the reason.
The measuring is in tests/harness/module_size.py and is tested below on tiny files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.module_size import excused, oversized
from harness.roots import REPO_ROOT

MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60


def test_no_plugin_file_or_function_is_too_long() -> None:
    found = oversized(REPO_ROOT, max_file=MAX_FILE_LINES, max_function=MAX_FUNCTION_LINES)
    if found:
        pytest.fail(
            "too long (split it, or say why not in a 'One piece:' docstring line):\n"
            + "\n".join(str(item) for item in found),
            pytrace=False,
        )


# --- the measuring itself ------------------------------------------------------------


def _plugin(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _function(name: str, body_lines: int, docstring: str = "", indent: str = "") -> str:
    doc = f'{indent}    """{docstring}"""\n' if docstring else ""
    return f"{indent}def {name}():\n{doc}" + f"{indent}    x = 1\n" * body_lines


def test_a_long_function_and_a_long_file_are_reported(tmp_path: Path) -> None:
    main = "\n" * 3 + _function("short", 4) + "class C:\n" + _function("long", 6, indent="    ")
    root = _plugin(tmp_path, {"main.py": main, "core/big.py": "x = 1\n" * 21})
    found = [str(item) for item in oversized(root, max_file=20, max_function=5)]
    assert found == [
        "main.py:10: C.long() has 7 lines (limit 5)",
        "core/big.py:1: file has 21 lines (limit 20)",
    ]


def test_one_piece_excuses_a_function_or_a_module(tmp_path: Path) -> None:
    big = '"""Big.\n\nOne piece: a table."""\n' + _function("f", 9) + "x = 1\n" * 12
    root = _plugin(
        tmp_path,
        {
            "main.py": _function("long", 8, "Sends.\n\n    One piece: a state machine.\n"),
            "web/big.py": big,
            "web/other.py": _function("g", 9, "Mentions One piece: not at a line start."),
        },
    )
    found = [str(item) for item in oversized(root, max_file=20, max_function=5)]
    assert found == ["web/other.py:1: g() has 11 lines (limit 5)"]


def test_excuse_needs_a_line_that_starts_with_it() -> None:
    assert excused("Why.\n\n  One piece: the handshake is one exchange.")
    assert not excused("not One piece: here")
    assert not excused(None)
