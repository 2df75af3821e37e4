"""The leader incentives experiment: it compares every scheme, and runs end to end in its quick
mode, writing its figures."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from sim.incentives import SCHEMES as MODEL_SCHEMES

ROOT = Path(__file__).resolve().parent.parent


def _experiment():
    spec = importlib.util.spec_from_file_location(
        "leader_incentives", ROOT / "experiments" / "leader_incentives.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_every_scheme_is_compared_with_flat_first():
    schemes = _experiment().SCHEMES
    assert schemes[0] == "flat"  # the others are matched to its spend
    assert len(set(schemes)) == len(schemes)
    assert set(schemes) == set(MODEL_SCHEMES)
    assert set(schemes) == {p.stem for p in (ROOT / "configs" / "incentive").glob("*.yaml")}
    assert "complaint_evaluation" in schemes


@pytest.mark.slow  # whole markets over seeds: the quick tier leaves it out
def test_leader_incentives_quick(tmp_path):
    out = subprocess.run(
        [sys.executable, str(ROOT / "experiments" / "leader_incentives.py"), "--quick",
         "--out", str(tmp_path)], capture_output=True, text=True, check=True, cwd=ROOT)
    assert "multi_source vs flat: leader churn" in out.stdout
    assert "reports 60%" in out.stdout
    table = out.stdout.split("\n")
    for scheme in MODEL_SCHEMES:
        assert any(line.split()[:1] == [scheme] for line in table), scheme
    assert "complaints per order: complaint_evaluation" in out.stdout
    for stem in ("schemes_vs_flat", "leaders_over_time"):
        for ext in (".png", ".pdf"):
            assert (tmp_path / f"{stem}{ext}").stat().st_size > 0
