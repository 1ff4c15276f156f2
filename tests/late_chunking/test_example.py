"""``examples/late_chunking.py`` runs offline and late chunking beats naive chunking on its corpus."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.local


def test_late_chunking_example_ranks_the_right_chunk_first_more_often() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("JINA_API_KEY", "JINAAI_API_KEY")}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "late_chunking.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = dict(re.findall(r"^(naive|late) chunking\s+(top-1 [\d.]+\s+MRR [\d.]+)$", proc.stdout, re.M))
    assert set(rows) == {"naive", "late"}, proc.stdout
    naive = [float(x) for x in re.findall(r"[\d.]+", rows["naive"].replace("top-1", ""))]
    late = [float(x) for x in re.findall(r"[\d.]+", rows["late"].replace("top-1", ""))]
    assert late[0] > naive[0] + 0.2 and late[1] > naive[1], proc.stdout  # top-1 and MRR
