"""The cold-chain experiment runs end to end (--quick) and writes its figures as PNG and PDF."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # whole markets over seeds: the quick tier leaves them out

ROOT = Path(__file__).resolve().parent.parent


def test_cold_chain_experiment_quick(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "experiments" / "cold_chain.py"), "--quick",
                        "--out", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Stock minus pre-sale" in r.stdout
    for stem in ("spoilage", "effects", "stages"):
        for ext in ("png", "pdf"):
            assert (tmp_path / f"{stem}.{ext}").stat().st_size > 0, f"{stem}.{ext}"
