"""The README's demo runs offline and says only true things about the model it used."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.local
def test_quickstart_on_the_offline_minilm() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("JINA_MODEL", "JINA_API_KEY", "JINAAI_API_KEY")}
    env["HF_HUB_CACHE"] = str(ROOT / "no-such-cache")  # no Jina weights: the MiniLM fallback
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "offline fallback: all-MiniLM-L6-v2" in out and "folder: " in out
    assert "(Matryoshka)" not in out and "plain cut: not Matryoshka-trained" in out  # MiniLM is not
    assert "None tokens" not in out and "task None" not in out and "a model without tasks" in out
    assert "top-1 agreement with full float32: float32 x 384: 5/5" in out
