"""The competition experiments run end to end with --quick and write their figures."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # whole markets over seeds: the quick tier leaves them out

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name,needle", [
    ("subsidy_war", "entrant repurchase rate"),
    ("price_war", "regional incumbent gross margin"),
    ("consolidation", "platforms active at the end"),
])
def test_experiment_runs_quick_and_writes_png_and_pdf(name, needle, tmp_path):
    r = subprocess.run([sys.executable, f"experiments/{name}.py", "--quick", "--out",
                        str(tmp_path)], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert needle in r.stdout, r.stdout
    for ext in ("png", "pdf"):
        assert (tmp_path / f"{name}.{ext}").stat().st_size > 0
