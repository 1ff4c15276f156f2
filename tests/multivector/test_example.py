"""``examples/multivector.py`` runs offline and does what it says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.local
def test_example_runs_offline() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "multivector.py")],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "local  query: (32, 128)" in out
    assert "remote input_type per request: ['document', 'query', 'document'], dimensions 96" in out
    assert out.count("local  rerank #") == 2
