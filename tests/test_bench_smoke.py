"""CI runs every benchmark in its --quick smoke mode to prove the scripts still work.

The quick sizes say nothing about the targets (those are for `python bench/run_all.py`
on a quiet machine); this checks each script runs and reports a figure and a baseline.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.slow
def test_every_benchmark_runs_in_quick_mode(tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    result = subprocess.run([sys.executable, str(BENCH / "run_all.py"), "--quick"],
                            capture_output=True, text=True, timeout=900, check=False,
                            env={**os.environ, "PYTHONPATH": str(BENCH.parent),
                                 "TMPDIR": str(scratch)})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "ERROR" not in result.stdout
    for script in _scripts():
        assert (BENCH / script).exists(), script
    rows = [line for line in result.stdout.splitlines() if line.rstrip().endswith(
        ("pass", "FAIL"))]
    assert len(rows) >= len(_scripts())
    # Each script removes its temporary databases and modules when it ends.
    assert sorted(p.name for p in scratch.iterdir()) == []


def _scripts() -> list[str]:
    sys.path.insert(0, str(BENCH))
    try:
        from run_all import SCRIPTS
    finally:
        sys.path.remove(str(BENCH))
    return SCRIPTS
