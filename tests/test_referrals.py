"""Referral rewards (ODD 7.7, sim.remedies.referrals): payment in a small market, and the
behaviour over seeds. The exact weighting of invitations is tested on hand-built tables
(tests/test_groups.py)."""

import numpy as np
import pytest

from sim.api import compose
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
    on day 60 more households know it and more can order from it (aware of it, and a followed
    leader serves it), in each of seeds 1-3 (4,000 households; the runs share every other
    draw). Its orders are not asserted: in a 120-day market the paired runs drift apart."""
    for seed in (1, 2, 3):
        reach = []
        for extra in ([], [f"{REWARD}=5"]):
            m = GroupBuyingMarket(compose([f"seed={seed}", "market.consumers=4000", "days=60",
                                           *extra]))
            m.run()
            c, j = m.consumers, list(m.platform_names).index("incumbent")
            reach.append(((c.leader_of[:, j] >= 0) & c.aware[:, j]).sum())
            if extra:
                assert m.recorder.tables()["platforms"]["referrals"].sum() > 0
        assert reach[1] > reach[0], f"seed {seed}: households reaching it {reach}"
