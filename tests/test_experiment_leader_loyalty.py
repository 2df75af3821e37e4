"""The leader loyalty experiment runs end to end in its quick mode and writes its figure; the
split of a fall in orders between households that lost a group to a quit and the rest."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
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


def test_the_worst_window_finds_a_launch_spike_and_only_in_its_starts():
    """100 leaders, 1 quit a day, except 10 a day on days 40-44: every window holding days
    40-44 has 5 x 10 + 25 = 75 quits (75 / 100 leader-months = 0.75), the others 30 (0.3)."""
    days = np.arange(240)
    daily = pd.DataFrame({"day": days, "active_leaders": 100,
                          "leader_quits": np.where((days >= 40) & (days <= 44), 10, 1)})
    mod = _experiment()
    assert mod.worst_window(daily, mod.LAUNCH_STARTS) == pytest.approx(0.75)
    assert mod.worst_window(daily, mod.LATER_STARTS) == pytest.approx(0.3)
    assert mod.worst_window(daily, (45, 120)) == pytest.approx(0.3)  # windows after the spike


@pytest.mark.slow
def test_leader_loyalty_quick(tmp_path):
    out = subprocess.run(
        [sys.executable, str(ROOT / "experiments" / "leader_loyalty.py"), "--quick",
         "--out", str(tmp_path)], capture_output=True, text=True, check=True, cwd=ROOT)
    assert "flat: churn" in out.stdout and "multi_source: churn" in out.stdout
    assert "orders lost to quits" in out.stdout
    for ext in (".png", ".pdf"):
        assert (tmp_path / f"commission_cut{ext}").stat().st_size > 0
