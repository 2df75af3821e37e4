"""Every lever per platform (docs/ODD.md §6, 7.3-7.5): each platform's own incentive scheme with
its commission decay from its own entry, commission by category, coupon programme, cold routes,
procurement; route costs; funding rounds and exit when cash runs out."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim import strategy
from sim.api import compose
from sim.coldchain.routes import route_costs
from sim.incentives import Incentives
from sim.model import GroupBuyingMarket
from tests.helpers import group_config, run_model

SEEDS = (1, 2, 3)


def _model(overrides, days=None):
    m = GroupBuyingMarket(compose(["experiment=smoke", *overrides]))
    m.run(days)
    return m


# ---------------------------------------------------------------------------------------------
# incentives per platform


def _incentive(**kw):
    return group_config("incentive", "flat", **kw)


def test_each_platforms_decay_counts_from_its_own_entry():
    cfg = _incentive(commission_rate=0.10, decay_start_day=10, decay_to_rate=0.05, decay_days=0)
    inc = Incentives([cfg, cfg], [0, 60], ["a", "b"])
    assert list(inc.rates(9)) == [0.10, 0.10]
    assert list(inc.rates(10)) == [0.05, 0.10]  # the incumbent's cut, 10 days after day 0
    assert list(inc.rates(69)) == [0.05, 0.10]
    assert list(inc.rates(70)) == [0.05, 0.05]  # the entrant's, 10 days after its day 60
    lin = _incentive(commission_rate=0.10, decay_start_day=0, decay_to_rate=0.05,
                     decay_days=100)
    inc = Incentives([lin, lin], [0, 60], ["a"])
    assert inc.rates(60) == pytest.approx([0.07, 0.10])  # 60 of 100 days vs its first day


def test_commission_by_category_is_the_rate_times_the_categorys_multiplier():
    plain = _incentive(commission_rate=0.10)
    cats = _incentive(commission_rate=0.10, category_rate_multiplier={"fresh": 0.5, "dry": 2.0})
    inc = Incentives([plain, cats], [0, 0], ["fresh", "dry", "other"])
    prices = np.array([[10.0, 4.0, 6.0], [10.0, 4.0, 6.0]])
    got = inc.order_commission(0, np.array([0, 1]), prices)
    assert got == pytest.approx([0.10 * 20.0, 0.05 * 10.0 + 0.20 * 4.0 + 0.10 * 6.0])
    assert inc.category_rates(0)[1] == pytest.approx([0.05, 0.20, 0.10])


def test_one_command_runs_the_entrant_on_multi_source_while_the_incumbent_stays_flat():
    cfg = compose(["+playbook@platforms.entrant.strategy=multi_source"])
    s = strategy.strategies(cfg)
    assert s["entrant"].incentive.scheme == "multi_source"
    assert s["incumbent"].incentive.scheme == s["discounter"].incentive.scheme == "flat"
    m = _model(["+playbook@platforms.entrant.strategy=multi_source",
                "platforms.entrant.entry_day=0"], days=75)
    assert [x.name for x in m.incentives.schemes] == ["flat", "multi_source", "flat"]
    ls = m.recorder.tables()["leader_stats"].groupby("platform")["service_fees_yuan"].sum()
    assert ls["entrant"] > 0, "the entrant's leaders earn service fees"
    assert ls["incumbent"] == ls["discounter"] == 0, "flat platforms' leaders earn none"


def test_a_platforms_group_option_is_one_command_too_and_the_short_form_says_how():
    from sim.api import check_overrides
    from sim.config import ConfigError

    cfg = compose(["+incentive@platforms.entrant.strategy.incentive=multi_source"])
    s = strategy.strategies(cfg)
    assert (s["entrant"].incentive.scheme, s["incumbent"].incentive.scheme) == (
        "multi_source", "flat")
    with pytest.raises(ConfigError) as e:
        check_overrides(["platforms.entrant.strategy.incentive=multi_source"])
    assert str(e.value) == (
        "platforms.entrant.strategy.incentive=multi_source: choose a platform's incentive "
        "option with +incentive@platforms.entrant.strategy.incentive=multi_source, or a "
        "playbook with +playbook@platforms.entrant.strategy=<name> (configs/playbook/)")


def test_the_entrants_commission_decay_starts_at_its_entry_in_a_run():
    m = _model(["incentive=flat", "incentive.decay_start_day=5", "incentive.decay_days=0",
                "platforms.entrant.entry_day=30"], days=40)
    p = m.recorder.tables()["platforms"].pivot(index="day", columns="platform",
                                               values="commission_rate")
    assert p.loc[4, "incumbent"] == 0.10 and p.loc[5, "incumbent"] == 0.05
    assert p.loc[34, "entrant"] == 0.10 and p.loc[35, "entrant"] == 0.05


def test_row_2_holds_for_every_platform_under_a_decay_from_entry():
    # the scorecard's criterion (sim.validation): 9-11% at each platform's entry, <= 6% by its
    # entry + 180 days; the entrant enters on day 60, so a market clock would fail it
    from sim import validation as v

    m = _model(["incentive.decay_start_day=30", "incentive.decay_days=120", "days=250"])
    tables = m.recorder.tables()
    entries = {p.name: p.cfg.entry_day for p in m.platform_list}
    got = v.commission_after_launch(tables, entries, decay_configured=True)
    assert got.holds, got.parts


def _churn(model, platform):
    ls = model.recorder.tables()["leader_stats"]
    ls = ls[(ls["platform"] == platform) & (ls["day"] >= 30)]
    return ls["quits"].sum() / (ls["active_leaders"].sum() / 30.0)


@pytest.mark.slow
def test_the_entrants_multi_source_scheme_cuts_its_own_leaders_churn():
    # Outside income (800 yuan a month, configs/incentive/multi_source.yaml) lifts nearly every
    # leader above its reservation income: the scorecard measures -87% at 20,000 households
    # (row 6). The small market's 150 days are mostly launch months, whose first reviews quit
    # many leaders under any scheme, so the test asks for the direction in every seed (a
    # fall of a third or more in the seeds tried), not the size.
    base = ["platforms.entrant.entry_day=0", "days=150"]
    for seed in SEEDS:
        flat = _model([*base, f"seed={seed}"])
        ms = _model([*base, f"seed={seed}", "+playbook@platforms.entrant.strategy=multi_source"])
        assert _churn(ms, "entrant") < _churn(flat, "entrant"), (
            f"seed {seed}: the entrant's churn {_churn(ms, 'entrant'):.3f} on multi_source vs "
            f"{_churn(flat, 'entrant'):.3f} flat")
        assert ms.recorder.tables()["leader_stats"].query("platform == 'incumbent'")[
            "service_fees_yuan"].sum() == 0


def test_an_entrants_strategy_leaves_the_days_before_its_entry_identical():
    # common random numbers: the entrant's own levers act from its entry (day 60) only
    base = _model(["days=64"])
    own = _model(["days=64", "+playbook@platforms.entrant.strategy=multi_source",
                  "platforms.entrant.strategy.subsidy.coupon_yuan_per_order=1.0",
                  "platforms.entrant.strategy.coldchain.coverage_last_mile=1.0"])
    for name in ("daily", "platforms", "spoilage"):
        a, b = base.recorder.tables()[name], own.recorder.tables()[name]
        before = a["day"] < 60
        assert a[before].equals(b[b["day"] < 60]), name
        assert not a[~before].equals(b[b["day"] >= 60]), f"{name}: the levers act from entry"


def test_titles_go_only_to_a_recognition_platforms_leaders():
    m = _model(["platforms.discounter.strategy.incentive.scheme=recognition",
                "platforms.discounter.strategy.incentive.title_prize_yuan=100"], days=61)
    t = m.leaders
    titled = t.platform[: t.n][t.recognised[: t.n]]
    assert len(titled) > 0
    assert set(titled.tolist()) == {2}


# ---------------------------------------------------------------------------------------------
# coupons, procurement, cold routes per platform


def test_a_platform_joins_the_coupon_war_with_its_own_programme():
    m = _model(["platforms.incumbent.strategy.subsidy.schedule=launch_war",
                "platforms.incumbent.strategy.subsidy.coupon_yuan_per_order=2.0"], days=5)
    p = m.recorder.tables()["platforms"]
    first = p[p["day"] == 1].set_index("platform")
    assert 0 < first.loc["incumbent", "coupon_yuan"] <= 2.0
    assert first.loc["discounter", "coupon_yuan"] == 0.0


def test_a_playbook_equals_the_market_wide_option_for_its_platform():
    # the scorecard's row 11 runs subsidy=withdrawal, which the entrant inherits
    via_group = strategy.strategies(compose(["subsidy=withdrawal"]))
    via_playbook = strategy.strategies(compose(["+playbook@platforms.entrant.strategy=withdrawal"]))
    assert via_playbook["entrant"].subsidy == via_group["entrant"].subsidy
    assert via_playbook["incumbent"].subsidy.schedule == "none"


def test_procurement_mode_per_platform():
    m = _model(["platforms.discounter.strategy.procurement.mode=stock"], days=10)
    assert m.supply.proc_mode == ["presale", "presale", "stock"]
    assert sum(len(lots) for lots in m.supply.stock[2]) > 0
    assert sum(len(lots) for lots in m.supply.stock[0]) == 0


def _launch_share(extra: list[str], seed: int) -> float:
    """The entrant's share of orders over its first 60 days (it enters on day 60)."""
    m = GroupBuyingMarket(compose(["market.consumers=5000", "days=120", f"seed={seed}", *extra]))
    m.run()
    p = m.recorder.tables()["platforms"]
    w = p[p["day"] >= 60].groupby("platform")["orders"].sum()
    return float(w["entrant"] / w.sum())


@pytest.mark.slow
def test_own_marketing_speeds_a_launch_where_leaders_have_not_yet_made_households_aware():
    """An entrant's own marketing (awareness_rate_per_day, raised while it hands out coupons by
    wom.subsidy_marketing_boost) reaches households its leaders have not yet told: its share of
    orders in its first 60 days rises with either key in every seed. Measured with 5,000
    households, seeds 1-3: awareness 0 vs 0.02 moves it by 3.0-6.8 points, boost 0 vs 5 by
    3.0-5.2; the check is the sign in each seed, not a size (later in the year every member is
    aware through its leaders and the effect fades into the runs' own variation)."""
    for seed in SEEDS:
        none, own = (_launch_share([f"platforms.entrant.awareness_rate_per_day={r}"], seed)
                     for r in (0.0, 0.02))
        assert own > none, f"seed {seed}: share {own:.3f} with marketing, {none:.3f} without"
        flat, boosted = (_launch_share([f"wom.subsidy_marketing_boost={b}"], seed)
                         for b in (0.0, 5.0))
        assert boosted > flat, f"seed {seed}: share {boosted:.3f} boosted, {flat:.3f} not"


def test_a_platforms_recruiting_pace_is_its_own():
    """The entrant signs leaders at its own pace (30 a day per 20,000 households against the
    market's 3: 3 a day against 1 in the smoke market): five days after its entry it has more
    leaders than at the market's pace; the days before its entry are identical."""
    fast = ["platforms.entrant.strategy.leaders.recruits_per_day=30"]
    for seed in SEEDS:
        base, own = (GroupBuyingMarket(compose(["experiment=smoke", "days=90", f"seed={seed}",
                                                *extra]))
                     for extra in ([], fast))
        # 3 (30) a day per 20,000 households: 1 (3) a day in the smoke market's 2,000
        assert base.leadership.recruiting.per_day.tolist() == [1, 1, 1]
        assert own.leadership.recruiting.per_day.tolist() == [1, 3, 1]
        entry = base.platform_list[1].cfg.entry_day
        base.run(entry), own.run(entry)
        assert base.recorder.tables()["daily"].equals(own.recorder.tables()["daily"])
        base.run(5), own.run(5)

        def leaders(m):
            t = m.leaders
            return int((t.view("active") & (t.view("platform") == 1)).sum())

        assert leaders(own) > leaders(base), f"seed {seed}: {leaders(own)} <= {leaders(base)}"


def test_cold_routes_are_drawn_once_and_more_coverage_only_adds_cold_routes():
    lo = GroupBuyingMarket(compose(["experiment=smoke"]))
    hi = GroupBuyingMarket(compose(["experiment=smoke",
                                    "platforms.entrant.strategy.coldchain.coverage_grid=0.9"]))
    a, b = lo.coldchain.routes, hi.coldchain.routes
    assert (b.cold_grid[1] >= a.cold_grid[1]).all() and b.cold_grid[1].sum() > a.cold_grid[1].sum()
    assert (b.cold_grid[[0, 2]] == a.cold_grid[[0, 2]]).all()  # other platforms untouched
    assert (b.cold_last_mile == a.cold_last_mile).all()
    # a neighbourhood's legs are the same on every order of every day
    nb = np.array([0, 0, 3, 3])
    j = np.array([1, 1, 1, 1])
    legs = a.legs_cold(j, nb)
    assert (legs[0] == legs[1]).all() and (legs[2] == legs[3]).all()


def test_route_costs_split_each_served_routes_day_over_its_orders():
    village = np.array([False, True])
    cold = np.array([[False, True]])
    per_order, cost, routes, orders = route_costs(
        np.zeros(5, np.int64), np.array([0, 0, 0, 0, 1]), village, cold,
        np.array([12.0]), np.array([30.0]), np.array([0.5]), 1, 2)
    assert per_order == pytest.approx([3.0, 3.0, 3.0, 3.0, 45.0])
    assert cost.tolist() == [[12.0, 45.0]]
    assert routes.tolist() == [[1, 1]] and orders.tolist() == [[4, 1]]


@pytest.mark.slow
def test_village_orders_cost_more_logistics_per_order_from_route_costs_alone():
    # The same route cost a day in town and village, no cold premium: villages cost more per
    # order only because their routes carry fewer orders (economies of density).
    same = ["coldchain.route_cost_yuan_per_day_village=14.0", "coldchain.cold_route_premium=0",
            *[f"platforms.{n}.strategy.coldchain.route_cost_yuan_per_day_village=14.0"
              for n in ("incumbent", "entrant", "discounter")]]
    # A whole year: in the smoke market's 60 launch days a route carries ~1 order a day in town
    # and village alike (households reach platforms only through the groups they have joined).
    for seed in SEEDS:
        p = run_model([*same, f"seed={seed}", "days=365"]).recorder.tables()["platforms"]
        town = p["route_cost_town_yuan"].sum() / p["route_orders_town"].sum()
        vil = p["route_cost_village_yuan"].sum() / p["route_orders_village"].sum()
        # the gap is structural (villages of 150 vs compounds of 200 households, fewer orders
        # per village route), not noise: every seed shows it
        assert vil > town, f"seed {seed}: village {vil:.2f} <= town {town:.2f} yuan per order"


# ---------------------------------------------------------------------------------------------
# cash, funding and exit


def test_a_loss_making_platform_with_no_cash_and_no_funding_exits():
    m = _model(["platforms.discounter.initial_cash_yuan=0",
                "platforms.discounter.funding_rounds=0",
                "platforms.discounter.patience_yuan=1e12"], days=20)
    disc = m.platform_list[2]
    assert disc.exited and disc.exit_reason == "cash"
    assert disc.day_exited == 0  # its first day's fixed and recruiting costs are a loss
    assert m.recorder.platform_events[0]["reason"] == "cash"
    assert m.platform_list[0].active


def test_funding_rounds_keep_it_in_until_they_run_out():
    rounds = ["platforms.discounter.initial_cash_yuan=0", "platforms.discounter.funding_rounds=3",
              "platforms.discounter.funding_yuan=20000", "platforms.discounter.patience_yuan=1e12"]
    # 100 days: its losses (~80 yuan a day at money scale 0.1) use the third round up by ~day 75
    m = _model(rounds, days=100)
    disc = m.platform_list[2]
    p = m.recorder.tables()["platforms"]
    d = p[p["platform"] == "discounter"].set_index("day")
    drawn = d.index[d["funding_yuan"] > 0]
    # a round each time cash went below zero (day 0's loss first), one at a time
    assert drawn[0] == 0 and len(drawn) == 3 and (d.loc[drawn, "funding_yuan"] ==
                                                  20000 * disc.money_scale).all()
    assert disc.funding_rounds_left == 0
    assert disc.funding_drawn_yuan == pytest.approx(3 * 20000 * disc.money_scale)
    # out of cash with no round left: it exits, after its last round
    assert disc.exited and disc.exit_reason == "cash" and disc.day_exited > drawn[-1]
    assert (d.loc[:disc.day_exited - 1, "cash_yuan"] >= 0).all()
    assert d.loc[disc.day_exited, "cash_yuan"] < 0


def test_patience_stays_a_second_rule():
    m = _model(["platforms.discounter.initial_cash_yuan=1e9",
                "platforms.discounter.patience_yuan=1"], days=5)
    disc = m.platform_list[2]
    assert disc.exited and disc.exit_reason == "patience" and disc.cash_yuan > 0


# ---------------------------------------------------------------------------------------------
# every wired lever reaches the platform's mechanism


_VALUES = {"scheme": "tiered", "decay_start_day": 7, "tier_sales_yuan": [0.0, 123.0],
           "tier_extra_rates": [0.0, 0.07], "category_rate_multiplier": {"fruit": 1.5},
           "schedule": "withdrawal", "mode": "stock", "replace_on_quit": False,
           "response": "coupon_match", "target": ["lapsed", "village"], "route_costs": "expected"}


def _reached(m, j: int, group: str, key: str):
    """The value platform ``j``'s mechanism holds for ``group.key``."""
    if group == "incentive":
        if key == "category_rate_multiplier":
            return {"fruit": float(m.incentives.category_multiplier[j, 1])}
        return getattr(m.incentives.schemes[j].cfg, key)
    if group == "subsidy":
        if key == "target":  # as sim.coupons holds it: its bit mask (lapsed 2, village 4)
            return ["lapsed", "village"] if m.coupons.own_mask[j] == 2 | 4 else \
                list(m.platform_list[j].strategy.subsidy.target)
        return getattr(m.platform_list[j].strategy.subsidy, key)
    if group == "rivalry":  # read by sim.pricing and Poaching
        return getattr(m.platform_list[j].strategy.rivalry, key)
    if group == "procurement":
        if key == "mode":
            return m.supply.proc_mode[j]
        if key == "forecast_smoothing":
            return m.supply.forecasts[j].alpha
        return getattr(m.supply.proc[j], key)
    if group == "services":
        s = m.services
        return {"share_of_points": s.share, "parcels_per_day": s.parcels,
                "yuan_per_parcel": s.fee, "minutes_per_parcel": s.minutes,
                "government_subsidy_yuan_per_month": s.subsidy,
                "cost_yuan_per_point_per_month": s.cost, "visits_per_month_without":
                s.visits_without, "visits_per_month_with": s.visits_with,
                "order_chance_per_visit": s.chance}[key][j]
    if group == "referral":
        return {"reward_yuan": m.referrals.reward,
                "uplift_per_yuan": m.referrals.uplift}[key][j]
    if group == "training":
        tr = m.training
        return {"share_of_leaders": tr.share, "cost_yuan_per_leader": tr.cost,
                "minutes_cut": tr.minutes_cut, "resolution_cut": tr.resolution_cut,
                "promotion_uplift": tr.uplift}[key][j]
    if group == "aftersales":
        return {"resolution_hours": m.aftersales.hours,
                "yuan_per_complaint_hour": m.aftersales.yuan}[key][j]
    if group == "qc":
        q = m.qc
        return {"share_inspected": q.share, "cost_yuan_per_unit": q.cost,
                "detection_prob": q.detect, "volume_cut": q.cut}[key][j]
    if group == "leaders":
        r = m.leadership.recruiting
        return {"recruits_per_day": r.recruits_per_day, "recruit_interval_days": r.interval_days,
                "replace_on_quit": r.replace_on_quit}[key][j]
    r = m.coldchain.routes
    return {"coverage_central": lambda: r.coverage[j, 0], "coverage_grid": lambda: r.coverage[j, 1],
            "coverage_last_mile": lambda: r.coverage[j, 2],
            "route_cost_yuan_per_day_town": lambda: r.cost_town[j],
            "route_cost_yuan_per_day_village": lambda: r.cost_village[j],
            "cold_route_premium": lambda: r.premium[j],
            "grid_hold_hours": lambda: m.supply.grid_hold_hours[j]}[key]()


@pytest.mark.parametrize("lever", sorted(strategy.WIRED))
def test_every_wired_lever_reaches_only_its_platform(lever):
    group, key = lever.split(".")
    cls = {f.name: f for f in dataclasses.fields(
        __import__("sim.config.schema", fromlist=["x"]).LEVER_OVERRIDES[group])}[key]
    meta = cls.metadata
    value = _VALUES.get(key)
    if value is None:
        lo, hi = meta["lo"], meta["hi"]
        value = lo + 0.37 * (min(hi, 1.0) - lo) if isinstance(lo, float) else int(lo) + 3
    if key == "tier_sales_yuan":
        extra = ["platforms.discounter.strategy.incentive.tier_extra_rates=[0.0,0.07]"]
    elif key == "tier_extra_rates":
        extra = ["platforms.discounter.strategy.incentive.tier_sales_yuan=[0.0,123.0]"]
    else:
        extra = []
    where = f"platforms.discounter.strategy.{group}.{key}"
    # a mapping's keys are added with a plus, as for every mapping of the config
    given = ([f"+{where}.{k}={v}" for k, v in value.items()] if isinstance(value, dict)
             else [f"{where}={str(value).replace(' ', '')}"])
    m = GroupBuyingMarket(compose(["experiment=smoke", *extra, *given]))
    got = _reached(m, 2, group, key)
    assert got == pytest.approx(value) if not isinstance(value, str | list) else got == value
    base = GroupBuyingMarket(compose(["experiment=smoke"]))
    assert _reached(m, 0, group, key) == _reached(base, 0, group, key)  # the incumbent's own
