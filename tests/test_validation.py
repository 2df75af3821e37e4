"""The criteria of the validation scorecard (sim/validation.py; ODD 8, issue 23): each on a
synthetic table that meets it and one that misses it, so that every criterion can fail; and the
scorecard's quick run end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import validation as v

ROOT = Path(__file__).resolve().parent.parent
DAYS = 365


def daily(orders=100, quits=None, leaders=100, gmv=1000.0, overlap=0.5, pickups=100,
          on_time=0.96, complaints=10, scandal=0, days=DAYS) -> pd.DataFrame:
    q = np.zeros(days) if quits is None else np.asarray(quits, float)
    return pd.DataFrame({
        "day": np.arange(days), "orders": np.full(days, orders), "leader_quits": q,
        "active_leaders": np.full(days, leaders), "gmv_yuan": np.full(days, gmv),
        "user_overlap": np.full(days, overlap), "pickups": np.full(days, pickups),
        "on_time_pickup_rate": np.full(days, on_time), "complaints": np.full(days, complaints),
        "scandal_complaints": np.full(days, scandal)})


def quits_at(rate_per_month: float, leaders=100, days=DAYS, spike=None) -> np.ndarray:
    """Daily quits giving ``rate_per_month`` quits per leader-month (leaders constant)."""
    q = np.full(days, rate_per_month * leaders / 30.0)
    if spike is not None:
        start, rate = spike
        q[start:start + 30] = rate * leaders / 30.0
    return q


def platforms(rows: dict[str, dict], days=DAYS) -> pd.DataFrame:
    """A platforms table: per platform a dict of constant daily columns."""
    out = []
    for name, cols in rows.items():
        base = {"active": True, "gmv_yuan": 100.0, "subsidy_yuan": 0.0, "refunds_yuan": 0.0,
                "cogs_yuan": 85.0, "profit_yuan": 3.0, "commission_rate": 0.10,
                "repurchase_rate": 0.8}
        base.update(cols)
        df = pd.DataFrame({"day": np.arange(days), "platform": name})
        for k, x in base.items():
            df[k] = x(df["day"]) if callable(x) else x
        out.append(df)
    return pd.concat(out, ignore_index=True)


def reviews(income, hours, orders_per_day) -> pd.DataFrame:
    return pd.DataFrame({"income_yuan": np.asarray(income, float),
                         "work_minutes": np.asarray(hours, float) * 60 * 30,
                         "orders": np.asarray(orders_per_day, float) * 30})


def test_fact_holds_is_four_of_five():
    assert v.fact_holds([True, True, True, True, False])
    assert not v.fact_holds([True, True, True, False, False])
    assert v.fact_holds([None] * 5) is None
    assert v.fact_holds([True, True]) and not v.fact_holds([True, False])  # 80% of 2 is 2


def test_leader_commission():
    ls = pd.DataFrame({"commission_yuan": [100.0], "bonus_yuan": [0.0]})
    assert v.leader_commission({"leader_stats": ls, "daily": daily(gmv=1000 / DAYS)}).holds
    ls = pd.DataFrame({"commission_yuan": [30.0], "bonus_yuan": [0.0]})  # 3%
    assert not v.leader_commission({"leader_stats": ls, "daily": daily(gmv=1000 / DAYS)}).holds


def test_commission_after_launch():
    decay = platforms({"a": {"commission_rate": lambda d: np.where(d < 100, 0.10, 0.05)}})
    flat = platforms({"a": {}})
    assert v.commission_after_launch({"platforms": decay}, {"a": 0}, True).holds
    assert not v.commission_after_launch({"platforms": flat}, {"a": 0}, True).holds
    assert v.commission_after_launch({"platforms": flat}, {"a": 0}, False).holds is None


def test_leader_earnings_and_pickup_income():
    good = reviews([4000] * 10 + [1000] * 90, [2.5] * 10 + [0.5] * 90, [80] * 2 + [10] * 98)
    assert v.leader_earnings({"leader_reviews": good}).holds
    assert v.pickup_point_income({"leader_reviews": good}).holds
    small = reviews([2000] * 10 + [300] * 90, [2.5] * 10 + [0.5] * 90, [30] * 100)
    assert not v.leader_earnings({"leader_reviews": small}).holds
    assert not v.pickup_point_income({"leader_reviews": small}).holds


def test_leader_churn_band_and_spike():
    assert v.leader_churn({"daily": daily(quits=quits_at(0.30))}).holds
    assert not v.leader_churn({"daily": daily(quits=quits_at(0.15))}).holds
    # a 60% month on days 40-69 breaks the spike rule whatever the window's mean
    spiky = v.leader_churn({"daily": daily(quits=quits_at(0.30, spike=(40, 0.60)))})
    assert not spiky.holds and spiky.parts["max_30_day_churn"] == pytest.approx(0.60)
    # a spike before day 30 is allowed
    assert v.leader_churn({"daily": daily(quits=quits_at(0.30, spike=(0, 0.60)))}).holds


def test_multi_source_churn():
    flat = {"daily": daily(quits=quits_at(0.30))}
    assert v.multi_source_churn(flat, {"daily": daily(quits=quits_at(0.12))}).holds  # -60%
    assert not v.multi_source_churn(flat, {"daily": daily(quits=quits_at(0.25))}).holds


def households(orders, lost) -> pd.DataFrame:
    return pd.DataFrame({"household": np.arange(len(orders)),
                         "orders_from_split_day": np.asarray(orders),
                         "usual_leaders_lost": np.asarray(lost),
                         "leaders_lost": np.ones(len(orders), int)})


def test_commission_cut():
    base = {"daily": daily(orders=100), "households": households([10, 10, 10, 10], [0] * 4)}
    # 10% fewer orders, 3 of the 4 lost orders from households that lost a leader
    cut = {"daily": daily(orders=90), "households": households([7, 10, 10, 9], [1, 0, 0, 0])}
    m = v.commission_cut(base, cut)
    assert m.holds and m.parts["lost_leader_share_of_fall"] == pytest.approx(0.75)
    # the same fall, but from households that kept their leaders
    cut2 = {"daily": daily(orders=90), "households": households([7, 10, 10, 9], [0, 0, 0, 1])}
    assert not v.commission_cut(base, cut2).holds
    # too small a fall
    assert not v.commission_cut(base, {"daily": daily(orders=98), "households":
                                       households([7, 10, 10, 9], [1, 0, 0, 0])}).holds


def test_price_war_margin_weights_the_platforms_trading_on_day_180():
    good = platforms({"a": {"cogs_yuan": 88.0}, "b": {"cogs_yuan": 86.0}})
    assert v.price_war_margin({"platforms": good}).value == pytest.approx(0.13)
    assert v.price_war_margin({"platforms": good}).holds
    # a platform that exited before day 180 does not count
    gone = platforms({"a": {"cogs_yuan": 88.0},
                      "b": {"cogs_yuan": 99.0, "active": lambda d: d < 150}})
    assert v.price_war_margin({"platforms": gone}).holds
    bad = platforms({"a": {"cogs_yuan": 97.0}})
    assert not v.price_war_margin({"platforms": bad}).holds


def test_user_overlap_and_on_time_pickup():
    assert v.user_overlap({"daily": daily(overlap=0.75)}).holds
    assert not v.user_overlap({"daily": daily(overlap=0.40)}).holds
    assert v.on_time_pickup({"daily": daily(on_time=0.96)}).holds
    assert not v.on_time_pickup({"daily": daily(on_time=0.90)}).holds


def test_subsidy_withdrawal_reads_days_d_plus_20_to_40():
    kept = {"platforms": platforms({"entrant": {"repurchase_rate": 0.8}})}
    cliff = {"platforms": platforms({"entrant": {
        "repurchase_rate": lambda d: np.where((d >= 170) & (d <= 190), 0.6, 0.8)}})}
    m = v.subsidy_withdrawal(cliff, kept, "entrant", 150)
    assert m.holds and m.value == pytest.approx(-0.25)
    late = {"platforms": platforms({"entrant": {
        "repurchase_rate": lambda d: np.where(d > 190, 0.5, 0.75)}})}
    assert not v.subsidy_withdrawal(late, kept, "entrant", 150).holds


def spoilage(rate: float) -> pd.DataFrame:
    return pd.DataFrame({"category": ["fruit", "daily"], "units_shipped": [100, 100],
                         "units_spoiled": [100 * rate, 50], "units_delivered": [100 * (1 - rate),
                                                                               50]})


def test_fresh_losses():
    assert v.fresh_losses({"spoilage": spoilage(0.25)}, {"spoilage": spoilage(0.02)},
                          ["fruit"]).holds
    assert not v.fresh_losses({"spoilage": spoilage(0.10)}, {"spoilage": spoilage(0.02)},
                              ["fruit"]).holds
    assert not v.fresh_losses({"spoilage": spoilage(0.25)}, {"spoilage": spoilage(0.06)},
                              ["fruit"]).holds


def test_market_end_state():
    three = platforms({"a": {"gmv_yuan": 48.0}, "b": {"gmv_yuan": 33.0},
                       "c": {"gmv_yuan": 19.0}, "d": {"active": lambda d: d < 300}}, days=730)
    m = v.market_end_state({"platforms": three})
    assert m.holds and m.parts["survivors"] == 3
    lopsided = platforms({"a": {"gmv_yuan": 80.0}, "b": {"gmv_yuan": 20.0}}, days=730)
    assert not v.market_end_state({"platforms": lopsided}).holds
    one = platforms({"a": {}}, days=730)
    assert not v.market_end_state({"platforms": one}).holds


def test_incumbent_margins():
    good = platforms({"incumbent": {"cogs_yuan": 83.0, "profit_yuan": 3.0}})
    assert v.incumbent_margins({"platforms": good}).holds
    losing = platforms({"incumbent": {"cogs_yuan": 83.0, "profit_yuan": -2.0}})
    assert not v.incumbent_margins({"platforms": losing}).holds


def test_complaint_rates_exclude_scandals():
    r = v.complaint_rates({"daily": daily(orders=100, complaints=12, scandal=2),
                           "spoilage": spoilage(0.2)}, ["fruit"])
    assert r["complaints_per_order"] == pytest.approx(0.10)
    assert r["complaints_per_fresh_unit"] == pytest.approx(10 * DAYS / 80)


@pytest.mark.slow
def test_quick_scorecard_runs_and_writes_its_files(tmp_path):
    """The scorecard end to end on the small market (a smoke test of the pipeline, not a
    measurement): it prints the score and writes the report, the CSVs and the figure."""
    out = subprocess.run([sys.executable, str(ROOT / "experiments" / "validation.py"),
                          "--quick", "--out", str(tmp_path)], capture_output=True, text=True,
                         cwd=ROOT, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "score: emergent held" in out.stdout
    for name in ("report.md", "scorecard.csv", "seeds.csv", "facts_by_seed.png"):
        assert (tmp_path / name).exists(), name
    card = pd.read_csv(tmp_path / "scorecard.csv")
    assert list(card["row"]) == list(range(1, 15))


def test_household_table_adds_up():
    """The end-of-run household table (sim/records, issue 23) agrees with the daily table: its
    orders sum to the run's, those from day 120 to the days from 120, and a household's usual
    leader is one of the pickup points it lost."""
    from sim.api import run_one
    from sim.records.recorder import HOUSEHOLD_COLUMNS, HOUSEHOLD_SPLIT_DAY

    _, t = run_one(["experiment=smoke", "days=150"], 2)
    h, d = t["households"], t["daily"]
    assert list(h.columns) == HOUSEHOLD_COLUMNS and len(h) == 2000
    assert h["orders"].sum() == d["orders"].sum()
    assert h["orders_from_split_day"].sum() == d.loc[d["day"] >= HOUSEHOLD_SPLIT_DAY,
                                                     "orders"].sum()
    assert (h["usual_leaders_lost"] <= h["leaders_lost"]).all()
    assert (h["leaders_lost"] > 0).any(), "some leader quit in 150 days (churn ~30% a month)"
    lost = h["leaders_lost"] > 0
    assert (h.loc[lost, "day_first_leader_lost"] <= h.loc[lost, "day_last_leader_lost"]).all()
    assert (h.loc[~lost, "day_first_leader_lost"] == -1).all()
