"""Platform competition (issue 4): pricing, coupons, fines, metrics, the logit check, behaviour.

Unit tests of the rules with exact expectations; the two-platform logit check against its
formula; behaviour tests over several seeds with common random numbers (STYLE.md §9b).
"""

import copy
from types import SimpleNamespace

import numpy as np
import pytest

from sim.api import compose, run_one
from sim.choice import kernels as choice_k
from sim.model import GroupBuyingMarket
from sim.platforms import price_war, withdrawal
from sim.records import Recorder, hhi_points, summarise
from tests.helpers import group_config

# --- rules ------------------------------------------------------------------------------------


def _plat(prices, cost, share, active=True, **cfg):
    c = dict(markup=0.2, min_markup=-0.1, target_share=0.5, undercut_step=0.1,
             price_recovery_rate=0.5)
    c.update(cfg)
    return SimpleNamespace(prices=np.asarray(prices, float), unit_cost=np.asarray(cost, float),
                           order_share_yesterday=share, active=active,
                           cfg=SimpleNamespace(**c))


def test_price_war_undercuts_the_cheapest_rival_down_to_its_floor():
    me = _plat([6.0, 6.0], [5.0, 5.0], share=0.2)
    rival, dear = _plat([5.0, 6.0], [5.0, 5.0], 0.5), _plat([9.0, 9.0], [5.0, 5.0], 0.3)
    model = SimpleNamespace(platform_list=[me, rival, dear])
    # cheapest rival basket 11 -> 11 * 0.9 = 9.9 = 12 * 0.825
    np.testing.assert_allclose(price_war(me, model), [4.95, 4.95])
    rival.prices = np.array([2.0, 2.0])  # far below: the floor 5 * (1 - 0.1) binds
    np.testing.assert_allclose(price_war(me, model), [4.5, 4.5])
    rival.active = dear.active = False  # no active rival: recover half way to cost-plus 6
    np.testing.assert_allclose(price_war(me, model), [6.0, 6.0])
    me.prices = np.array([5.0, 5.0])
    np.testing.assert_allclose(price_war(me, model), [5.5, 5.5])


def test_price_war_recovers_at_or_above_target_share():
    me = _plat([5.0], [5.0], share=0.5)
    rival = _plat([4.0], [5.0], 0.5)
    got = price_war(me, SimpleNamespace(platform_list=[me, rival]))
    np.testing.assert_allclose(got, [5.0 + 0.5 * (6.0 - 5.0)])


def test_new_user_schedule_and_hhi():
    cfg = group_config("subsidy", "none", days=10)
    assert [withdrawal(d, cfg) for d in (0, 9, 10)] == [1.0, 1.0, 0.0]
    assert hhi_points([1, 1]) == pytest.approx(5000.0)
    assert hhi_points([3, 0, 0]) == pytest.approx(10_000.0)
    assert hhi_points([0.44, 0.32, 0.17, 0.07]) == pytest.approx(
        10_000 * (0.44**2 + 0.32**2 + 0.17**2 + 0.07**2))
    assert np.isnan(hhi_points([0, 0]))


def test_fine_only_for_recent_below_cost_pricing():
    from sim.platforms import Platform
    pol = group_config("policy", "none", fine_day=100, fine_yuan=1.5e6,
                       fine_lookback_days=30)
    p = SimpleNamespace(active=True, day_last_below_cost=80, flows={"fine_yuan": 0.0})
    assert Platform.assess_fine(p, 99, pol) == 0.0  # not the fine day
    assert Platform.assess_fine(p, 100, pol) == 1.5e6 and p.flows["fine_yuan"] == 1.5e6
    p.day_last_below_cost = 69  # before the look-back window [70, 100)
    assert Platform.assess_fine(p, 100, pol) == 0.0
    p.day_last_below_cost = -1  # never below cost
    assert Platform.assess_fine(p, 100, pol) == 0.0


@pytest.mark.slow
def test_the_fine_counts_the_days_before_the_fine_day_only():
    # Price war: the entrant prices below cost from soon after its entry (day 60). The fine's
    # window is [fine_day - lookback, fine_day) (ODD 7.4): with lookback 0 it is empty, so
    # below-cost prices on the fine day itself must not be fined; with lookback 1 the day
    # before counts.
    war = ["experiment=price_war", "days=100"]
    ratio = _col(_runs(war, [1]), "price_cost_ratio_min", "entrant")[0]
    day = next(d for d in range(61, 99) if ratio[d - 1] < 1 and ratio[d] < 1)

    def fined(lookback):
        runs = _runs(war + [f"policy.fine_day={day}", f"policy.fine_lookback_days={lookback}",
                            "policy.fine_yuan=1500000"], [1])
        return _col(runs, "fine_yuan", "entrant")[0].sum()

    assert fined(0) == 0.0, f"below cost on the fine day {day} only: not fined"
    assert fined(1) > 0, f"below cost on day {day - 1}: fined"


def test_platforms_set_their_prices_together_whatever_their_order():
    # On the entrant's entry day (60) in a price war, every rule reads the prices that stand
    # at the start of the day, rivals entering today included: listing the platforms in the
    # other order gives the same prices.
    model = GroupBuyingMarket(compose(SMOKE + ["experiment=price_war", "days=61", "seed=1"]))
    model.run(60)
    other = copy.deepcopy(model)
    other.platform_list.reverse()
    model.terms.run(60)
    other.terms.run(60)
    for p in model.platform_list:
        q = next(q for q in other.platform_list if q.name == p.name)
        np.testing.assert_array_equal(p.prices, q.prices, err_msg=p.name)
    assert any(p.cfg.pricing == "price_war" and p.active for p in model.platform_list)


def _order(rec, last, i, j, d):
    """Household ``i`` orders from platform ``j`` on day ``d``, recorded as the orders phase
    records it (sim.choice.kernels.record_choices: its day of last order and the recorder's
    counts)."""
    n, n_p = last.shape
    choice_k.record_choices(
        np.array([i]), np.array([j + 1]), d, np.zeros((1, n_p)), np.ones((1, n_p), bool),
        np.full((n, n_p), -1, np.int32),
        np.full(n, -1, np.int16), np.full(n, -1, np.int32), last, np.zeros(n, np.int64),
        rec.last_order_days.reserve(d))


def test_overlap_and_repurchase_from_last_order_days():
    # 4 households, 2 platforms; the recorder needs only day_last_order_p and the orders.
    last = np.full((4, 2), -1, np.int32)
    model = SimpleNamespace(consumers=SimpleNamespace(day_last_order_p=last, n=len(last)))
    rec = Recorder(model)
    orders = {5: [(0, 0)], 6: [(0, 1)], 10: [(1, 0)], 20: [(2, 1)], 40: [(1, 0)]}
    for d in range(0, 55):
        for i, j in orders.get(d, []):
            _order(rec, last, i, j, d)
        out = rec.competition(d)
        if d == 6:  # h0 on both platforms in (-24, 6]
            assert out["buyers"] == 1 and out["overlap"] == 1.0
            assert out["buyers_p"].tolist() == [1, 1] and np.isnan(out["repurchase"])
        if d == 30:  # the cohort: buyers of (-30, 0], none
            assert np.isnan(out["repurchase"]) and np.isnan(out["repurchase_p"]).all()
    # At day 55 the cohort of day 25 (bought in (-5, 25]): h0 on both, h1 on 0, h2 on 1; h1
    # bought again from 0 (day 40), h0 and h2 did not.
    out = rec.competition(55)
    assert out["buyers"] == 1 and out["buyers_p"].tolist() == [1, 0]
    np.testing.assert_allclose(out["repurchase_p"], [1 / 2, 0 / 2])
    assert out["repurchase"] == pytest.approx(1 / 3)
    assert out["overlap"] == 0.0
    _order(rec, last, 1, 1, 55)  # h1 now used both platforms in (25, 55]
    out = rec.competition(55)
    assert out["overlap"] == 1.0 and out["buyers_p"].tolist() == [1, 1]
    # A recorder made mid-run counts the days of last order already there.
    again = Recorder(model)
    np.testing.assert_array_equal(again.last_order_days.by_day[:, :56],
                                  rec.last_order_days.by_day[:, :56])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_competition_counts_equal_a_pass_over_every_household(seed):
    # The recorder's 30-day buyers, overlap and repurchase (counted by day of last order) equal
    # the definitions counted over every household from day_last_order_p, every day of a
    # three-platform price war with an entrant (platforms gain and lose buyers, households use
    # several) and a platform exit in some seeds.
    model = GroupBuyingMarket(compose(SMOKE + ["experiment=price_war", "days=120",
                                               f"seed={seed}"]))
    w, recents = 30, []
    for d in range(120):
        model.step()
        last = model.consumers.day_last_order_p
        recent = (last >= 0) & (last > d - w)
        recents.append(recent)
        row = model.recorder.daily[-1]
        plat = model.recorder.platforms[-len(model.platform_list):]
        buyers = recent.any(axis=1)
        assert row["buyers_30d"] == buyers.sum()
        assert [p["buyers_30d"] for p in plat] == recent.sum(axis=0).tolist()
        expected = (recent.sum(axis=1) >= 2).sum() / buyers.sum() if buyers.any() else np.nan
        np.testing.assert_equal(row["user_overlap"], expected)
        if d < w:
            assert np.isnan(row["repurchase_rate"])
            continue
        cohort = recents[d - w]
        again = (cohort & recent).sum(axis=0) / np.where(cohort.any(axis=0),
                                                         cohort.sum(axis=0), np.nan)
        np.testing.assert_equal([p["repurchase_rate"] for p in plat], again)
        in_cohort = cohort.any(axis=1)
        np.testing.assert_equal(row["repurchase_rate"],
                                (in_cohort & buyers).sum() / in_cohort.sum()
                                if in_cohort.any() else np.nan)
    assert 0 < model.recorder.daily[-1]["user_overlap"] < 1
    assert 0 < model.recorder.daily[-1]["repurchase_rate"] < 1


# --- the logit check (ODD 7.2) -------------------------------------------------------------

LOGIT = [
    "experiment=smoke", "days=150", "platforms=two_platform", "subsidy=none", "choice.habit=0",
    # one beta for everyone: every segment scales the base by 1
    "market.segments.elderly.price_sensitivity_scale=1",
    "market.segments.working.price_sensitivity_scale=1",
    "market.segments.young_family.price_sensitivity_scale=1",
    # trust stays equal: no learning, no loss from spoilage or complaints
    "wom.trust_learning_rate=0", "wom.trust_loss_spoiled=0", "wom.complaint_trust_loss=0",
    # every household reaches both platforms from day 0: full awareness, no leader churn
    "platforms.incumbent.awareness_rate_per_day=1",
    "platforms.entrant.awareness_rate_per_day=1",
    "leaders.churn_base_logit=-50", "leaders.churn_shortfall_slope=0",
    "market.leader_candidate_rate_town=0.2", "market.leader_candidate_rate_village=0.2",
    # ... and both leaders of its neighbourhood at once (ODD 7.2's special case: reach to all
    # platforms): every gap filled on day 0, groups joined the day after adopting (one a day),
    # never left; no loyalty to a leader
    "leaders.recruits_per_day=100000", "groups.join_own_per_day=1", "groups.join_tie_per_day=0",
    "groups.group_idle_days=100000", "groups.leader_loyalty=0",
    # ODD 7.2's special case: every occasion buys the whole reference basket (one fixed bundle,
    # i.e. one category), no daily deals, trust is the household's own (w = 0)
    *[f"products.{c}.purchase_frequency=1" for c in
      ("leafy_veg", "fruit", "meat_eggs", "chilled_frozen", "dry_goods")],
    "choice.deal_probability=0", "choice.reputation_weight=0",
]


@pytest.mark.slow
def test_summary_overlap_is_over_the_last_30_days():
    # Consolidation to day 280: platforms exit on day 250 and after, so the market of the last
    # 30 days differs from the month before. The summary's user overlap is the share of the
    # buyers of the last 30 days (days 250-279) who bought from two or more platforms in them,
    # recomputed here from each household's last order per platform; the repurchase rate is
    # the last day's (cohort of days 220-249 buying again in 250-279).
    model = GroupBuyingMarket(compose(SMOKE + ["experiment=consolidation", "days=280",
                                               "seed=1"]))
    model.run()
    tables = model.recorder.tables()
    s = summarise(model, tables)
    last_p = model.consumers.day_last_order_p
    recent = (last_p >= 0) & (last_p > 279 - 30)
    buyers = recent.any(axis=1)
    assert buyers.sum() > 100
    want = (recent.sum(axis=1) >= 2)[buyers].mean()
    assert s["user_overlap_last_30_days"] == pytest.approx(want, abs=1e-6)
    last = tables["daily"].iloc[-1]
    assert s["repurchase_rate_last_30_days"] == pytest.approx(last["repurchase_rate"], abs=1e-6)
    assert s["platform_exits"], "the market should change near the end for the check to bite"


def test_two_platform_order_share_matches_the_logit_formula():
    model = GroupBuyingMarket(compose(LOGIT + ["seed=11"]))
    model.run()
    c = model.consumers
    # An adopter joins one group a day: those of the last day may reach one platform so far.
    settled = c.adopted & (c.day_adopted < model.day - 2)
    assert np.all(c.leader_of[settled] >= 0), "precondition: every adopter reaches both"
    a, b = model.platform_list
    beta = model.cfg.choice.price_sensitivity
    # Equal trust and quality, kappa = 0: P(a | a or b) = 1 / (1 + exp(-beta (pi_b - pi_a))).
    p_a = 1.0 / (1.0 + np.exp(-beta * (b.price_index - a.price_index)))
    plat = model.recorder.tables()["platforms"]
    n_a = plat.loc[plat["platform"] == "incumbent", "orders"].sum()
    n = plat["orders"].sum()
    # Each order is an independent draw (the chooser's own uniform) with P(a) = p_a, so n_a is
    # binomial(n, p_a): its share has standard error sqrt(p_a (1 - p_a) / n). Four standard
    # errors: a correct model fails with probability 6e-5; a 20% error in beta moves p_a by
    # ~0.02, five standard errors at n ~ 15,000 orders.
    se = np.sqrt(p_a * (1 - p_a) / n)
    assert n > 10_000
    assert abs(n_a / n - p_a) < 4 * se, (n_a / n, p_a, se, n)


# --- behaviour over seeds (common random numbers) ---------------------------------------------

SEEDS = [1, 2, 3]
SMOKE = ["experiment=smoke"]


def _runs(overrides, seeds=SEEDS):
    return [run_one(SMOKE + overrides, s)[1]["platforms"] for s in seeds]


def _col(runs, col, platform):
    """(seeds, days) array of one platform's column."""
    return np.array([p.loc[p["platform"] == platform, col].to_numpy(float) for p in runs])


def _plat_series(overrides, col, platform, seeds=SEEDS):
    return _col(_runs(overrides, seeds), col, platform)


@pytest.mark.slow
def test_subsidy_raises_the_subsidisers_share():
    base = _plat_series(["days=120", "subsidy=none"], "order_share", "entrant")[:, 70:]
    sub = _plat_series(["days=120", "subsidy=launch_war"], "order_share", "entrant")[:, 70:]
    b, s = base.mean(axis=1), sub.mean(axis=1)
    assert np.all(s > b), f"a coupon raises the entrant's order share in every seed: {s} vs {b}"


@pytest.mark.slow
def test_withdrawing_the_subsidy_lowers_repurchase():
    # Coupon from entry (day 60) for 60 days; withdrawn on day 120 or kept. The cohort that
    # bought with the coupon in (d-60, d-30] buys again less in (d-30, d] once it is gone.
    kept = _plat_series(["days=165", "subsidy=withdrawal", "subsidy.days=100000"],
                        "repurchase_rate", "entrant")[:, 140:165]
    gone = _plat_series(["days=165", "subsidy=withdrawal", "subsidy.days=60"],
                        "repurchase_rate", "entrant")[:, 140:165]
    k, g = np.nanmean(kept, axis=1), np.nanmean(gone, axis=1)
    assert np.all(g < k), f"withdrawal lowers the entrant's repurchase in every seed: {g} vs {k}"


@pytest.mark.slow
def test_price_war_lowers_gross_margin_and_the_ban_ends_below_cost_prices():
    war = ["days=130", "experiment=price_war"]
    war_runs = _runs(war)
    gm_base = _plat_series(["days=130"], "gross_margin", "incumbent")[:, 90:]
    gm_war = _col(war_runs, "gross_margin", "incumbent")[:, 90:]
    b, w = np.nanmean(gm_base, axis=1), np.nanmean(gm_war, axis=1)
    assert np.all(w < b), f"a price war lowers the incumbent's gross margin: {w} vs {b}"
    ratio_war = _col(war_runs, "price_cost_ratio_min", "entrant")[:, 100:]
    ratio_ban = _plat_series(war + ["policy.below_cost_ban_day=100"], "price_cost_ratio_min",
                             "entrant")[:, 100:]
    assert (ratio_war < 1).any(axis=1).all(), "without the ban the entrant prices below cost"
    # Prices are floored at unit cost exactly (np.maximum), so no tolerance is needed.
    assert (ratio_ban >= 1.0).all(), "with the ban in force no price is below unit cost"


@pytest.mark.slow
def test_an_exiting_platform_loses_its_leaders_and_its_households_order_elsewhere():
    for seed in SEEDS[:3]:
        # 4,000 households: since issue 25 households reach a platform through the groups they
        # join, and the smoke market's 2,000 leave too few recent buyers of the discounter
        model = GroupBuyingMarket(compose(
            # patience for ~30 days of the discounter's losses (route costs included), so that it
            # has a month of buyers to lose when it exits
            SMOKE + ["days=150", f"seed={seed}", "platforms.discounter.patience_yuan=40000",
                     "market.consumers=4000"]))
        model.run(100)
        disc = model.platform_list[2]
        assert disc.exited, "the discounter runs out of patience within 100 days"
        d_exit = disc.day_exited
        c = model.consumers
        former = np.flatnonzero((c.day_last_order_p[:, 2] >= 0)
                                & (c.day_last_order_p[:, 2] > d_exit - 30))
        assert len(former) > 20
        model.run(50)
        t = model.leaders
        assert not (t.view("active") & (t.view("platform") == 2)).any(), "its leaders stop"
        assert (c.leader_of[:, 2] == -1).all()
        plat = model.recorder.tables()["platforms"]
        assert plat.loc[(plat["platform"] == "discounter") & (plat["day"] > d_exit),
                        "orders"].sum() == 0
        # Its recent buyers re-home: most order from the remaining platforms within 50 days
        # (in the market ~90% of a month's buyers buy again the next month; stranded
        # households without a reachable platform would order nothing).
        again = (c.day_last_order_p[former][:, :2] > d_exit).any(axis=1).mean()
        assert again > 0.5, f"seed {seed}: {again:.2f} of its buyers order elsewhere"


def test_new_user_coupon_goes_to_first_orders_only():
    # Whole baskets (every category, 30 yuan at reference prices): no coupon exceeds one.
    full = [f"products.{c}.purchase_frequency=1" for c in
            ("leafy_veg", "fruit", "meat_eggs", "chilled_frozen", "dry_goods")]
    _, t = run_one(SMOKE + ["days=100", "subsidy=new_user"] + full, 5)
    p = t["platforms"]
    e = p[(p["platform"] == "entrant") & (p["orders"] > 0)]
    assert (e["coupon_target"] == "new_users").all() and (e["coupon_yuan"] > 0).any()
    # Every new buyer gets today's coupon, nobody else does (coupons are capped by the basket).
    np.testing.assert_allclose(e["subsidy_yuan"], e["new_buyers"] * e["coupon_yuan"])
    np.testing.assert_array_equal(e["coupon_takers"], e["new_buyers"])
    others = p[p["platform"] != "entrant"]
    assert (others["subsidy_yuan"] == 0).all()
    # With the default baskets a coupon above a small basket's value pays that value only.
    _, t = run_one(SMOKE + ["days=100", "subsidy=new_user"], 5)
    p = t["platforms"]
    e = p[(p["platform"] == "entrant") & (p["orders"] > 0)]
    assert (e["subsidy_yuan"] <= e["new_buyers"] * e["coupon_yuan"] + 1e-9).all()
    assert (e["subsidy_yuan"] < e["new_buyers"] * e["coupon_yuan"] - 1e-9).any()
    assert (p.loc[p["platform"] != "entrant", "subsidy_yuan"] == 0).all()


def test_platform_money_scales_with_market_size():
    """Cash, patience and fixed costs are stated per platform_money_households households."""
    cfg = compose(["experiment=smoke", "market.consumers=3000",
                   "market.platform_money_households=1000", "days=1"])
    model = GroupBuyingMarket(cfg)
    model.run()
    for p in model.platform_list:
        pc = cfg.platforms[p.name]
        assert p.money_scale == 3.0
        if p.active:
            assert p.flows["fixed_yuan"] == 3.0 * pc.fixed_cost_yuan_per_day
        p.cumulative_profit_yuan = -2.9 * pc.patience_yuan
        assert not p.out_of_patience() or not p.active
        p.cumulative_profit_yuan = -3.1 * pc.patience_yuan
        assert p.out_of_patience() == p.active


def test_subsidy_budget_scales_with_market_size():
    """The daily subsidy budget is platform money too: 3x the households, 3x the budget."""
    coupons = []
    for ref in (3000, 1000):
        model = GroupBuyingMarket(compose([
            "experiment=smoke", "subsidy=launch_war", "market.consumers=3000",
            f"market.platform_money_households={ref}", "days=1"]))
        p = next(p for p in model.platform_list if p.name == "entrant")
        p.coupon_takers_yesterday = 100_000  # so many takers that the budget, not the cap, binds
        coupons.append(p._coupon(p.cfg.entry_day))
    assert coupons[0] > 0
    assert coupons[1] == pytest.approx(3.0 * coupons[0], rel=1e-12)
