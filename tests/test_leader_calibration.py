"""Calibration check of the default scenario's leaders against ODD 8 (issue 5), over seeds.

ODD 8: leader churn 25-40% a month (vendor figure); leaders who work 2+ hours a day earn
~3,000-5,000 yuan a month and large leaders handle 70-100 orders a day (press reports). The
default run (`make run`: the county market of 20,000 households, three platforms, flat 10%
commission, a year) is what these facts are about, so the check runs it as it is, on four
seeds (~5 s a run). The figures are the summary keys the team reads (`sim.records`:
``leader_monthly_churn_rate``, ``leader_income_median_2h_yuan_per_month``,
``leader_orders_per_day_p99``); rerun them with ``gbsim seed=N`` and read summary.json.
"""

from functools import cache

import numpy as np
import pytest

from sim.api import compose, run_seeds

pytestmark = pytest.mark.slow  # whole markets over seeds: the quick tier leaves them out

SEEDS = [0, 1, 2, 3]


@cache
def _summaries() -> list[dict]:
    return [s for s, _ in run_seeds([], SEEDS, workers=2)]


def test_the_default_scheme_is_flat_commission():
    inc = compose([]).incentive
    assert inc.scheme == "flat" and inc.decay_start_day is None


ISSUE_27 = ("issue 27 moved this fitted fact and it was not re-fitted: with baskets, the "
            "outside option scaled to the basket (ODD 7.2) takes about half the occasions, so "
            "leaders sell and earn less and quit more; ")


@pytest.mark.xfail(strict=True, reason=ISSUE_27 + (
    "flat-commission churn is 61.3-63.1% a month on seeds 0-3 (ODD 8 row 5: 25-40%)"))
def test_flat_churn_is_in_the_vendor_range_on_every_seed():
    churn = np.array([s["leader_monthly_churn_rate"] for s in _summaries()])
    # Churn is quits over ~1,000 leader-months a run; it varies by a few points between seeds
    # (seeds 0-3: 32.6-35.4% with followed groups), so each seed must land in the range itself:
    # no tolerance.
    assert np.all((churn >= 0.25) & (churn <= 0.40)), (
        f"flat-commission monthly churn in ODD 8's 25-40%: {churn}")


@pytest.mark.xfail(strict=True, reason=(
    "issues 25 and 26 moved this fitted fact (ODD 8 row 3) above the range (a median of "
    "4,402-5,953 yuan on seeds 0-3) and " + ISSUE_27 + "the 2+ h leader-months now earn a "
    "median of 1,341-1,766 yuan (scorecard, seeds 1-5); recalibrating is left to a decision "
    "(gbsim-calibrate)"))
def test_leaders_working_two_hours_a_day_earn_3000_to_5000_yuan_a_month():
    full = np.array([s["leader_income_median_2h_yuan_per_month"] for s in _summaries()])
    share = np.array([s["leader_months_2h_share"] for s in _summaries()])
    median_all = np.array([s["leader_income_median_yuan_per_month"] for s in _summaries()])
    # The median of one run is over only ~50-70 leader-months of 2+ h a day, so it moves by
    # several hundred yuan between seeds (seeds 0-3: 4,464-5,252); the fact is about the
    # typical such leader, so the mean over the seeds must lie in the range (no widening).
    assert 3000 <= full.mean() <= 5000, (
        f"leaders working 2+ h a day earn 3,000-5,000 yuan a month (ODD 8): {full}")
    # The fact is conditional: most leaders work less and earn less (part-time pickup points).
    assert np.all(share > 0) and np.all(share < 0.5), f"share of 2+ h leader-months: {share}"
    assert np.all(median_all < 3000), f"the median leader earns less: {median_all}"


@pytest.mark.xfail(strict=True, reason=ISSUE_27 + (
    "the largest leaders handle 54.8-59.3 orders a day on seeds 0-3 (ODD 8 row 3: 70-100)"))
def test_the_largest_leaders_handle_70_to_100_orders_a_day():
    top = np.array([s["leader_orders_per_day_p99"] for s in _summaries()])
    # The 99th percentile of ~1,000 leader-months a run is set by ~10 leader-months, so it moves
    # by ~10 orders a day between seeds (seeds 0-3: 78-95); the mean over seeds must be in the
    # press range (large leaders 70-100 orders a day, ODD 8).
    assert 70 <= top.mean() <= 100, f"the largest leaders' orders a day: {top}"


def test_calibration_summary_on_a_hand_worked_review_table():
    import pandas as pd

    from sim.records import leader_calibration_summary

    # Four leader-months of 30 days: 0.5, 1, 2 and 3 hours a day of work.
    rv = pd.DataFrame({"orders": [300, 600, 1500, 3000],
                       "work_minutes": [900.0, 1800.0, 3600.0, 5400.0],
                       "income_yuan": [750.0, 1500.0, 3750.0, 7500.0]})
    out = leader_calibration_summary(rv, review_days=30)
    assert out["leader_orders_per_day_median"] == 35.0  # (20 + 50) / 2
    assert out["leader_orders_per_day_max"] == 100.0
    assert out["leader_work_hours_per_day_median"] == 1.5
    assert out["leader_months_2h_share"] == 0.5  # exactly 2 h a day counts
    assert out["leader_income_median_2h_yuan_per_month"] == 5625.0  # (3,750 + 7,500) / 2
    # 13,500 yuan over 11,700 minutes = 195 hours (the summary rounds to 6 decimals)
    assert out["leader_income_per_work_hour_yuan"] == pytest.approx(13500.0 / 195.0, abs=1e-6)


def test_a_leader_runs_several_wechat_groups_up_to_its_cap():
    from sim.model import GroupBuyingMarket

    # Groups of at most 60: with two groups a leader may serve 120 households of a compound of
    # 200 (the smoke market), never more. Households join groups once they adopt (ODD 7.3):
    # here nearly all adopt within weeks and join every leader next door within days.
    model = GroupBuyingMarket(compose(["experiment=smoke", "days=45", "leaders.group_cap=60",
                                       "leaders.wechat_groups_max=2", "wom.p_external=0.05",
                                       "groups.join_own_per_day=1"]))
    model.run()
    g = model.leadership.groups
    sizes = np.bincount(g.leader[g.leader >= 0])
    assert model.leadership.member_cap == 120
    assert sizes.max() > 60, "some leader needs a second group"
    assert sizes.max() <= 120, "no leader passes its groups' cap"
