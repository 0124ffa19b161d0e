"""No file the repository tracks carries a merge's conflict markers: a template renders
them as text (the Overview once showed "<<<<<<< HEAD" above its cards)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^(<{7} |={7}$|>{7} )", re.MULTILINE)
BINARY = (".png", ".jpg", ".jpeg", ".ico", ".woff", ".woff2", ".db", ".zip", ".gz")


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    return [ROOT / name.decode() for name in listed if name]


def test_no_tracked_file_has_conflict_markers():
    found = []
    for path in tracked_files():
        if path.suffix.lower() in BINARY or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in MARKER.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"{path.relative_to(ROOT)}:{line}: {match.group(0).strip()}")
    assert not found, "conflict markers left by a merge:\n" + "\n".join(found)


def test_the_check_finds_a_marker(tmp_path):
    sample = "a\n<<<<<<< HEAD\nb\n=======\nc\n>>>>>>> other\n"
    assert len(MARKER.findall(sample)) == 3
    assert not MARKER.findall("a ======= b\n== heading ==\n")
