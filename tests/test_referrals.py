"""Referral rewards (ODD 7.7, sim.remedies.referrals): payment in a small market, and the
behaviour over seeds. The exact weighting of invitations is tested on hand-built tables
(tests/test_groups.py)."""

import numpy as np
import pytest

from sim.api import compose, run_seeds
from sim.model import GroupBuyingMarket
from tests.helpers import SMALL

REWARD = "platforms.incumbent.strategy.referral.reward_yuan"


def test_each_invitation_that_joins_pays_the_invitee_and_the_inviter():
    m = GroupBuyingMarket(compose(SMALL + ["days=60", f"{REWARD}=4"]))
    m.run()
    p = m.recorder.tables()["platforms"]
    inc = p[p["platform"] == "incumbent"]
    assert inc["referrals"].sum() >= 5
    np.testing.assert_allclose(inc["referral_yuan"], 2 * 4.0 * inc["referrals"])
    others = p[p["platform"] != "incumbent"]
    assert (others["referrals"] == 0).all() and (others["referral_yuan"] == 0).all()


def test_without_a_reward_nothing_is_paid_and_weights_are_one():
    m = GroupBuyingMarket(compose(SMALL + ["days=20"]))
    m.run()
    w, w_max = m.referrals.tie_weights()
    assert w_max == 1.0 and (w == 1.0).all()
    assert (m.recorder.tables()["platforms"]["referral_yuan"] == 0).all()


@pytest.mark.slow
def test_a_referral_reward_speeds_that_platforms_reach():
    """The incumbent rewards invitations with 5 yuan (x1.5 invitations at the default uplift):
    on day 60 more households know it, and over days 0-119 it sells more, in each of seeds 1-3
    (4,000 households; the runs share every other draw)."""
    seeds = (1, 2, 3)
    common = ["market.consumers=4000", "days=120"]
    off = run_seeds(common, seeds)
    on = run_seeds(common + [f"{REWARD}=5"], seeds)
    for seed, (_, a), (_, b) in zip(seeds, off, on, strict=True):
        pa, pb = (t["platforms"][t["platforms"]["platform"] == "incumbent"] for t in (a, b))
        assert pb["aware_share"].iloc[60] > pa["aware_share"].iloc[60], f"seed {seed}: aware"
        assert pb["orders"].sum() > pa["orders"].sum(), f"seed {seed}: orders"
        assert pb["referrals"].sum() > 0 == pa["referrals"].sum()
