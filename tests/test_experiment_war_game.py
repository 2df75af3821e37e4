"""The war-game experiment (issue 28; outside make figures): its measures on a hand-made run,
its cells paired under the same response, and responses a build lacks left out by name."""

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _experiment():
    spec = importlib.util.spec_from_file_location("war_game", ROOT / "experiments" / "war_game.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _tables(our_orders, rival_orders, profit=10.0, quits=3):
    days = [100, 130, 160]
    rows = []
    for d, o, r in zip(days, our_orders, rival_orders, strict=True):
        rows.append({"day": d, "platform": "incumbent", "orders": o, "gmv_yuan": 100.0,
                     "subsidy_yuan": 10.0, "refunds_yuan": 5.0, "profit_yuan": profit,
                     "cash_yuan": 1000.0 + d})
        rows.append({"day": d, "platform": "entrant", "orders": r, "gmv_yuan": 50.0,
                     "subsidy_yuan": 0.0, "refunds_yuan": 0.0, "profit_yuan": -1.0,
                     "cash_yuan": 0.0})
    ls = pd.DataFrame({"day": days, "platform": "incumbent", "active_leaders": [30, 30, 30],
                       "quits": [9, quits, quits]})
    return {"platforms": pd.DataFrame(rows), "leader_stats": ls}


def test_measures_read_our_platform_over_the_window_only():
    ex = _experiment()
    m = ex.measures(_tables([100, 30, 10], [0, 10, 30], quits=2), from_day=120)
    assert m["order_share"] == pytest.approx(40 / 80)  # days 130 and 160: ours 40 of 80
    assert m["net_margin"] == pytest.approx(20 / 170)  # profit / (GMV - coupons - refunds)
    assert m["cash"] == 1160.0  # the last day's cash
    assert m["churn"] == pytest.approx(4 / 2.0)  # 4 quits over 60 leader-days / 30


def test_each_cell_is_paired_against_the_status_quo_under_the_same_response(monkeypatch):
    ex = _experiment()

    def fake_runs(overrides, seeds, workers=None):  # our share rises by 0.1 with the policy
        share = 0.3 + (0.1 if "P" in overrides else 0.0) - (0.05 if "R" in overrides else 0.0)
        return [({}, _tables([share * 100] * 3, [(1 - share) * 100] * 3)) for _ in seeds]

    monkeypatch.setattr(ex, "run_seeds", fake_runs)
    table = ex.play([], [1, 2, 3], 120, 1, {"p": ("policy", ["P"])},
                    {"none": ("none", []), "r": ("response", ["R"])})
    cell = table.set_index(["policy", "response"])
    assert cell.loc[("p", "none"), "order_share_diff"] == pytest.approx(0.1)
    assert cell.loc[("p", "r"), "order_share_diff"] == pytest.approx(0.1)  # not 0.05
    assert cell.loc[("status_quo", "r"), "order_share_diff"] == pytest.approx(-0.05)


def test_a_response_this_build_lacks_is_left_out_by_name(capsys):
    ex = _experiment()
    got = ex.available({"none": ("none", []),
                        "nonsense": ("no such rule", ["platforms.entrant.pricing=no_such_rule"])},
                       ["experiment=smoke"])
    assert list(got) == ["none"]
    assert "left out 'nonsense'" in capsys.readouterr().out
