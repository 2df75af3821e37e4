"""The remedies experiment (ODD 7.7): its cost arithmetic on a hand-made pair, and its quick mode
end to end with the figure."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _experiment():
    spec = importlib.util.spec_from_file_location("remedies", ROOT / "experiments" / "remedies.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cost_per_retained_leader_and_customer_divide_the_added_money():
    ex = _experiment()
    base = pd.DataFrame({k: [1.0, 1.0, 1.0] for k in ex.METRICS}
                        | {"quits": [10.0, 12.0, 14.0], "buyers": [100.0, 110.0, 120.0],
                           "cost": [0.0, 0.0, 0.0]})
    remedy = base.copy()
    remedy["quits"] = [8.0, 9.0, 10.0]  # 3 fewer quits a run on average
    remedy["buyers"] = [110.0, 120.0, 130.0]  # 10 more buyers
    remedy["cost"] = [3000.0, 3000.0, 3000.0]
    remedy["orders"] = [301.0, 301.0, 301.0]  # 300 more orders
    row = ex.compare(base, remedy)
    assert row["cost"] == 3000.0
    assert row["cost_per_retained_leader"] == pytest.approx(1000.0)
    assert row["cost_per_retained_customer"] == pytest.approx(300.0)
    assert row["orders_per_10k_yuan"] == pytest.approx(1000.0)
    assert row["quits_avoided_per_10k_yuan"] == pytest.approx(10.0)


@pytest.mark.slow
def test_remedies_quick(tmp_path):
    out = subprocess.run(
        [sys.executable, str(ROOT / "experiments" / "remedies.py"), "--quick",
         "--out", str(tmp_path)], capture_output=True, text=True, check=True, cwd=ROOT)
    assert "services: community services" in out.stdout and "per retained leader" in out.stdout
    for name in ("referral:", "training:", "aftersales:", "qc:"):
        assert f"\n{name} " in out.stdout, name
    for ext in (".png", ".pdf"):
        assert (tmp_path / f"remedies_per_yuan{ext}").stat().st_size > 0
