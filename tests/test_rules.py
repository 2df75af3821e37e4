"""Unit tests of the consumer, leader, incentive and platform rules with exact expectations."""

import numpy as np
import pytest

from sim.incentives import FlatCommission, commission_rate_on
from sim.leaders import LeaderTable, pick_recruits, quit_probability, review
from sim.platforms import launch_war, withdrawal
from tests.helpers import group_config, review_config
from tests.reference import adoption_probability, choice_utilities, choose, logsum_surplus_yuan

# --- adoption (ODD 7.1) -------------------------------------------------------------------


def test_adoption_probability_is_the_bass_formula():
    p = adoption_probability(0.01, 0.3, reach=np.array([1.0, 0.5, 1.0, 1.0]),
                             adopted_neighbours=np.array([2, 2, 0, 3]),
                             degree=np.array([4, 4, 0, 3]),
                             leader_neighbour=np.array([False, False, False, True]),
                             leader_boost=0.05)
    np.testing.assert_allclose(p, [0.01 + 0.3 * 0.5, 0.005 + 0.15, 0.01, 0.01 + 0.3 + 0.05])
    clipped = adoption_probability(0.5, 0.9, np.ones(1), np.array([3]), np.array([3]))
    assert clipped[0] == 1.0


def test_adoption_segment_scale_multiplies_p_only():
    p = adoption_probability(0.02, 0.1, np.ones(2), np.array([1, 1]), np.array([2, 2]),
                             p_scale=np.array([0.5, 2.0]))
    np.testing.assert_allclose(p, [0.01 + 0.05, 0.04 + 0.05])


# --- choice (ODD 7.2) ---------------------------------------------------------------------


def _v(**kw):
    args = dict(price_index=np.array([0.9, 1.0]), coupon_index=np.array([0.0, 0.1]),
                beta=np.array([5.0]), trust=np.array([[0.5, 0.2]]), last_platform=np.array([1]),
                quality=np.array([0.3, 0.0]), reachable=np.array([[True, True]]),
                trust_weight=2.0, habit=1.0, outside_utility=-4.0)
    args.update(kw)
    return choice_utilities(**args)


def test_utilities_follow_the_formula():
    v = _v()
    assert v[0, 0] == -4.0
    assert v[0, 1] == pytest.approx(-5 * 0.9 + 2 * 0.5 + 0.3)
    assert v[0, 2] == pytest.approx(-5 * (1.0 - 0.1) + 2 * 0.2 + 1.0)  # habit on last platform


def test_unreachable_platforms_are_never_chosen():
    v = _v(reachable=np.array([[False, True]]))
    assert v[0, 1] == -np.inf
    k = choose(np.repeat(v, 1000, axis=0), np.linspace(0, 0.999, 1000))
    assert not np.any(k == 1)


def test_choice_frequencies_match_logit_probabilities():
    v = np.array([[0.0, 1.0, -0.5]])
    prob = np.exp(v[0]) / np.exp(v[0]).sum()
    u = (np.arange(100_000) + 0.5) / 100_000  # a stratified grid: frequencies are exact to 1e-5
    freq = np.bincount(choose(np.repeat(v, len(u), axis=0), u), minlength=3) / len(u)
    np.testing.assert_allclose(freq, prob, atol=2e-5)


def test_logsum_surplus_in_yuan():
    v = np.array([[-4.0, -3.0, -np.inf]])
    cs = logsum_surplus_yuan(v, np.array([5.0]), 30.0, -4.0)
    assert cs[0] == pytest.approx(30.0 / 5.0 * (np.log(np.exp(-4.0) + np.exp(-3.0)) + 4.0))
    only_outside = logsum_surplus_yuan(np.array([[-4.0, -np.inf]]), np.array([5.0]), 30.0, -4.0)
    assert only_outside[0] == pytest.approx(0.0)


# --- leaders (ODD 7.3) --------------------------------------------------------------------


def test_quit_probability_is_logistic_and_monotone():
    p0 = quit_probability(0.0, 0.0, 0, -2.0, 3.0, 0.5, 1.0)
    assert p0 == pytest.approx(1 / (1 + np.exp(2.0)))
    p = quit_probability(np.array([-0.5, 0.0, 0.5, 1.0]), 0.0, 0, -2.0, 3.0, 0.5, 1.0)
    assert np.all(np.diff(p) > 0), "more shortfall, more quitting"
    assert quit_probability(0.5, 12, 0, -2, 3, 0.5, 1) < quit_probability(0.5, 0, 0, -2, 3, 0.5, 1)
    assert quit_probability(0.5, 0, 1, -2, 3, 0.5, 1) < quit_probability(0.5, 0, 0, -2, 3, 0.5, 1)


def test_pick_recruits_takes_lowest_priority_up_to_the_deficit():
    nb = np.array([0, 0, 0, 1, 1, 2])
    eligible = np.array([True, True, True, True, False, True])
    prio = np.array([0.9, 0.1, 0.5, 0.3, 0.0, 0.2])
    got = pick_recruits(np.array([2, 2, 0]), eligible, nb, prio)
    assert sorted(got.tolist()) == [1, 2, 3]
    # The priorities as a function of the households (only the candidates are drawn).
    asked = []
    got = pick_recruits(np.array([2, 2, 0]), eligible, nb,
                        lambda idx: asked.append(idx.tolist()) or prio[idx])
    assert sorted(got.tolist()) == [1, 2, 3] and asked == [[0, 1, 2, 3]]


def test_review_smooths_net_income_and_resets_the_month():
    lc = review_config()
    t = LeaderTable()
    t.append(home=np.array([0, 1]), active=np.array([True, True]), day_joined=np.array([0, 5]),
             reservation_income_yuan=np.array([1000.0, 1000.0]),
             smoothed_net_income_yuan=np.array([1000.0, 1000.0]),
             wage_yuan_per_hour=np.array([10.0, 10.0]),
             month_income_yuan=np.array([600.0, 600.0]), month_orders=np.array([100, 100]),
             month_complaints=np.array([2, 2]))
    # Reviews come before the day's orders: leader 0 (joined day 0) is reviewed on day 30 for
    # days 0-29; leader 1 (joined day 5) on day 35.
    reviewed, quit = review(t, 30, np.array([0.99, 0.0]), lc)
    assert reviewed.tolist() == [0]
    net = 600.0 - 10.0 * (6.0 * 100 + 30.0 * 2) / 60.0  # 490 yuan
    assert t.smoothed_net_income_yuan[0] == pytest.approx(0.5 * 1000 + 0.5 * net)
    assert t.month_orders[0] == 0 and t.month_orders[1] == 100
    assert quit.tolist() == []  # u = 0.99 is above any probability here


# --- incentives and platforms -----------------------------------------------------------------


def test_flat_commission_and_decay_schedule():
    cfg = group_config("incentive", "flat", commission_rate=0.10, decay_start_day=40,
                       decay_to_rate=0.05, decay_days=0)
    assert commission_rate_on(39, cfg) == 0.10 and commission_rate_on(40, cfg) == 0.05
    cfg.decay_days = 10
    assert commission_rate_on(45, cfg) == pytest.approx(0.075)
    assert commission_rate_on(60, cfg) == pytest.approx(0.05)
    np.testing.assert_allclose(FlatCommission(cfg).order_commission(0, np.array([30.0, 10.0])),
                               [3.0, 1.0])


def test_subsidy_schedules():
    cfg = group_config("subsidy", "none", days=10, taper_days=4)
    assert [launch_war(d, cfg) for d in (0, 9, 10, 11, 13, 20)] == [1, 1, 0.75, 0.5, 0.0, 0.0]
    assert [withdrawal(d, cfg) for d in (0, 9, 10)] == [1, 1, 0]
