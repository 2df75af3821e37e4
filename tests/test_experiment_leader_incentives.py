"""The leader incentives experiment runs end to end in its quick mode and writes its figures."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # whole markets over seeds: the quick tier leaves them out

ROOT = Path(__file__).resolve().parent.parent


def test_leader_incentives_quick(tmp_path):
    out = subprocess.run(
        [sys.executable, str(ROOT / "experiments" / "leader_incentives.py"), "--quick",
         "--out", str(tmp_path)], capture_output=True, text=True, check=True, cwd=ROOT)
    assert "multi_source vs flat: leader churn" in out.stdout
    assert "reports 60%" in out.stdout
    for stem in ("schemes_vs_flat", "leaders_over_time"):
        for ext in (".png", ".pdf"):
            assert (tmp_path / f"{stem}{ext}").stat().st_size > 0
