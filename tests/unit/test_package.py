"""What a user's install downloads: AstrBot's plugin market installs a GitHub archive of
the repository (``git archive``), and .gitattributes ``export-ignore`` leaves out what
running the plugin does not need."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What AstrBot loads at run time, and what a user reads.
RUNTIME = {
    "__init__.py",
    "main.py",
    "panel.py",
    "metadata.yaml",
    "_conf_schema.json",
    "logo.png",
    "requirements.txt",
    ".astrbot-plugin/i18n/zh-CN.json",
    ".astrbot-plugin/i18n/en-US.json",
    "README.md",
    "LICENSE",
    "CHANGELOG.md",
    "SECURITY.md",
}
RUNTIME_FOLDERS = {"core", "web", "templates", "static", "views", ".astrbot-plugin"}
DEVELOPMENT = {"tests", "bench", "scripts", ".ci", "docs"}


def _git(*args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, input=stdin, capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture(scope="module")
def shipped() -> set[str]:
    """The tracked files a ``git archive`` keeps (by the working tree's .gitattributes)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    files = _git("ls-files", "-z").split("\0")
    report = _git("check-attr", "--stdin", "export-ignore", stdin="\n".join(f for f in files if f))
    return {
        line.rsplit(": export-ignore: ", 1)[0]
        for line in report.splitlines()
        if not line.endswith(": set")
    }


def test_an_install_gets_what_running_needs(shipped: set[str]) -> None:
    assert shipped >= RUNTIME, RUNTIME - shipped
    folders = {path.split("/")[0] for path in shipped if "/" in path}
    assert folders == RUNTIME_FOLDERS
    assert any(path.startswith("core/engine/") for path in shipped)


def test_an_install_leaves_out_tests_bench_and_scripts(shipped: set[str]) -> None:
    assert not {path for path in shipped if path.split("/")[0] in DEVELOPMENT}
    top_files = {path for path in shipped if "/" not in path}
    assert top_files <= RUNTIME, top_files - RUNTIME
