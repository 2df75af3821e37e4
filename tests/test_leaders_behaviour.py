"""Behaviour tests of leaders and incentive schemes (STYLE.md §9b), over several seeds.

Every comparison pairs the same seeds (common random numbers), so a difference comes from the
scheme, not from noise; we require it in the mean and in most seeds.
"""

from functools import cache

import numpy as np
import pytest

from sim.api import compose
from sim.model import GroupBuyingMarket
from sim.records import summarise

pytestmark = pytest.mark.slow  # whole markets over seeds: the quick tier leaves them out

SEEDS = [1, 2, 3, 4]
BASE = ["experiment=smoke", "days=120"]


def _runs(extra):
    return _cached_runs(tuple(extra))


@cache  # the flat baseline serves several tests
def _cached_runs(extra):
    extra = list(extra)
    out = []
    for s in SEEDS:
        model = GroupBuyingMarket(compose(BASE + [f"seed={s}"] + extra))
        model.run()
        tables = model.recorder.tables()
        out.append((summarise(model, tables), tables))
    return out


def test_multi_source_lowers_churn_versus_flat_at_equal_spend():
    flat = _runs([])
    multi = _runs(["incentive=multi_source"])
    # Equal platform spend: both pay 10% of sales; multi_source's extra income is from outside.
    for (a, _), (b, _) in zip(flat, multi, strict=True):
        # Commission is paid on the delivered units (ODD 7.3): pay / GMV is 10% less the
        # spoiled share of the value, which differs a little between the two runs' deliveries.
        for s in (a, b):
            assert 0.09 < s["leader_pay_share_of_gmv"] <= 0.1
        assert b["leader_outside_income_total_yuan"] > 0
    c_flat = np.array([s["leader_monthly_churn_rate"] for s, _ in flat])
    c_multi = np.array([s["leader_monthly_churn_rate"] for s, _ in multi])
    assert np.all(c_multi < c_flat), f"multi-source income lowers churn: {c_multi} vs {c_flat}"


def _small_village_quits(tables) -> int:
    rv = tables["leader_reviews"]
    small = rv["village"].astype(bool) & (rv["potential_ratio"] < 1.0)
    return int(rv.loc[small, "quit"].sum())


def test_uniform_target_drives_out_more_small_village_leaders_than_differentiated():
    # The target must be one the smoke market's leaders can reach: with baskets (issue 27) its
    # leader-months sell a median of ~140-370 yuan (upper quartile ~450-720; ~2,200-3,500
    # before), so the target is set there (one target 500 yuan, a 400-yuan bonus, a 7% base
    # rate) for both schemes.
    terms = ["incentive.target_sales_yuan=500", "incentive.target_bonus_yuan=400",
             "incentive.commission_rate=0.07"]
    uniform = np.array([_small_village_quits(t) for _, t in _runs(["incentive=target_bonus"]
                                                                    + terms)])
    scaled = np.array([_small_village_quits(t) for _, t in _runs(
        ["incentive=differentiated_target"] + terms)])
    assert uniform.sum() > scaled.sum() and (uniform >= scaled).sum() >= 3, (
        f"a uniform target drives out more small village leaders: {uniform} vs {scaled}")


def test_leaders_multi_home_more_when_a_smaller_gain_is_enough():
    base = np.array([s["multi_platform_leader_share"] for s, _ in _runs([])])
    eager = np.array([s["multi_platform_leader_share"] for s, _ in _runs(
        ["leaders.add_margin=0.0", "leaders.add_prob=0.6"])])
    assert base.mean() > 0, "some leaders serve several platforms by default (seed 003 l.75)"
    assert eager.mean() > base.mean() and (eager >= base).sum() >= 3, (
        f"leaders who add a platform for any gain multi-home more: {eager} vs {base}")


def test_members_of_leaders_who_leave_rehome_or_lapse_and_none_are_lost():
    for _summary, tables in _runs([]):
        ls = tables["leader_stats"]
        assert ls["orphaned_members"].sum() > 0, "some leaders quit and leave members"
        np.testing.assert_array_equal(
            ls["orphaned_members"],
            ls["rehomed_members"] + ls["other_platform_members"] + ls["unserved_members"])
        assert ls["rehomed_members"].sum() > 0
        assert (ls["quits"] + ls["drops"]).sum() > 0
