"""``examples/images.py`` runs offline and does what it says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.local
def test_images_example_runs_offline() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "images.py")], capture_output=True, text=True, timeout=240
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "local  mixed list -> (2, 8)" in out
    assert "remote v4: (5, 256), 1 request, task='retrieval.passage', 5 image items" in out
    assert "remote m0: [(1, " in out
