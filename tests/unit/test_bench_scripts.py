"""Every benchmark in bench/ still starts: its imports (the plugin's modules and the test
harness, both of which move) resolve and its options parse. The benches are opt-in and
slow, so nothing else in the default run would notice a broken one."""

from __future__ import annotations

import subprocess
import sys

import pytest

from harness.roots import REPO_ROOT

BENCHES = sorted(
    path.name for path in (REPO_ROOT / "bench").glob("*.py") if not path.name.startswith("_")
)


def test_every_bench_is_listed() -> None:
    assert {"reload.py", "message_hook.py", "soak.py"} <= set(BENCHES)


@pytest.mark.parametrize("name", BENCHES)
def test_the_bench_starts(name: str) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / name), "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"bench/{name} --help failed:\n{done.stderr[-2000:]}"
    assert "usage:" in done.stdout
