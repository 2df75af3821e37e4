"""The word-of-mouth experiment runs end to end (``--quick``) and writes its figures."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # whole markets over seeds: the quick tier leaves them out

ROOT = Path(__file__).resolve().parent.parent


def test_word_of_mouth_quick_writes_its_figures(tmp_path):
    # Figures go to a temporary directory so the committed full-run figures stay untouched.
    out = subprocess.run([sys.executable, str(ROOT / "experiments" / "word_of_mouth.py"),
                          "--quick", "--out", str(tmp_path)], capture_output=True, text=True,
                         timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Bass recursion" in out.stdout and "Quality scandal" in out.stdout
    fig_dir = tmp_path
    for stem in ("adoption_dock", "adoption_model", "scandal"):
        for ext in (".png", ".pdf"):
            assert (fig_dir / (stem + ext)).stat().st_size > 0, stem + ext
