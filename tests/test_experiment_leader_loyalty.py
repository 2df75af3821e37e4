"""The leader loyalty experiment runs end to end in its quick mode and writes its figure; the
split of a fall in orders between households that lost a group to a quit and the rest."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _experiment():
    spec = importlib.util.spec_from_file_location("leader_loyalty",
                                                  ROOT / "experiments" / "leader_loyalty.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_orders_lost_to_quits_are_the_fall_among_households_that_lost_a_group():
    base = pd.DataFrame({"orders_from_split_day": [10, 8, 5, 0],
                         "groups_lost_to_quits": [0, 1, 0, 0]})
    cut = pd.DataFrame({"orders_from_split_day": [9, 2, 5, 1],
                        "groups_lost_to_quits": [0, 0, 0, 2]})
    # fall 1 + 6 + 0 - 1 = 6; households 1 and 3 lost a group in one run or the other: 6 - 1
    assert _experiment().lost_to_quits(base, cut) == (6.0, 5.0)


@pytest.mark.slow
def test_leader_loyalty_quick(tmp_path):
    out = subprocess.run(
        [sys.executable, str(ROOT / "experiments" / "leader_loyalty.py"), "--quick",
         "--out", str(tmp_path)], capture_output=True, text=True, check=True, cwd=ROOT)
    assert "flat: churn" in out.stdout and "multi_source: churn" in out.stdout
    assert "orders lost to quits" in out.stdout
    for ext in (".png", ".pdf"):
        assert (tmp_path / f"commission_cut{ext}").stat().st_size > 0
