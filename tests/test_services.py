"""Community services at pickup points (ODD 7.7, sim.remedies.services): exact rules in a
small market, then the behaviour over seeds."""

import numpy as np
import pytest

from sim.api import compose, run_seeds
from sim.leaders import person_of
from sim.model import GroupBuyingMarket
from tests.helpers import SMALL

SERVED = ["services.share_of_points=1.0"]


def _market(extra, days):
    model = GroupBuyingMarket(compose(SMALL + [f"days={days}", *extra]))
    model.run()
    return model


def test_a_served_point_earns_the_fees_and_subsidy_once_and_spends_its_time():
    """At its first review each leader (one point, whatever it serves) is paid parcels x fee x
    30 days plus the subsidy, and works parcels x minutes x 30 days for them; nothing without
    the programme."""
    extra = ["services.parcels_per_day=40", "services.yuan_per_parcel=0.5",
             "services.minutes_per_parcel=0.75", "services.government_subsidy_yuan_per_month=150",
             "leaders.recruits_per_day=100000"]  # a day-0 cohort, reviewed on day 30
    m = _market(SERVED + extra, 31)
    rv = m.recorder.tables()["leader_reviews"]
    rv = rv[rv["day"] == 30]
    assert len(rv) > 5
    t = m.leaders
    person = person_of(t)[rv["leader_id"].to_numpy()]
    per_point = rv.groupby(person)["outside_yuan"].sum()
    assert per_point.to_numpy() == pytest.approx(40 * 0.5 * 30 + 150)
    assert ((rv["outside_yuan"] == 0) | (rv["outside_yuan"] == 40 * 0.5 * 30 + 150)).all()
    # work: orders and complaints at the leader's own minutes (a new leader's first month: far
    # fewer than 900), plus the parcels' 40 x 0.75 x 30 = 900 minutes where they are paid
    services = np.where(rv["outside_yuan"] > 0, 40 * 0.75 * 30, 0.0)
    assert (rv["work_minutes"].to_numpy() >= services).all()
    without = _market(extra, 31).recorder.tables()["leader_reviews"]
    assert (without["outside_yuan"] == 0).all() and (without["work_minutes"] < 900).all()


def test_more_share_only_adds_points_and_a_point_keeps_its_draw():
    m = GroupBuyingMarket(compose(SMALL + ["days=20"]))
    m.run()
    s = m.services
    rows = np.flatnonzero(m.leaders.view("active"))
    served = []
    for share in (0.0, 0.3, 0.6, 1.0):
        s.share[:] = share
        served.append(s.served_rows(rows))
    assert not served[0].any() and served[-1].all()
    assert (served[1] <= served[2]).all() and 0 < served[1].sum() < served[2].sum()
    np.testing.assert_array_equal(s.served_rows(rows), served[-1])


def test_multi_source_is_flat_with_the_programme_at_every_point():
    """Its leaders' service income, time and members' visits are the programme's: the tables
    of incentive=multi_source equal those of flat with every point served."""
    a = _market(["incentive=multi_source"], 70).recorder.tables()
    b = _market(SERVED, 70).recorder.tables()
    for name in ("daily", "platforms", "leader_stats", "leader_reviews"):
        cols = [c for c in a[name].columns if c != "commission_rate"]
        assert a[name][cols].equals(b[name][cols]), name
    assert b["leader_stats"]["service_fees_yuan"].sum() > 0


def test_the_platform_pays_its_points_cost_every_day():
    cost = 90.0
    m = _market(SERVED + [f"services.cost_yuan_per_point_per_month={cost}",
                          "platforms.incumbent.strategy.services.share_of_points=0.5"], 40)
    p = m.recorder.tables()["platforms"]
    assert p["services_yuan"].to_numpy() == pytest.approx(p["service_points"] * cost / 30)
    pts = p.groupby("platform")["service_points"].max()
    assert pts["discounter"] > 0 and 0 < pts["incumbent"]
    # and its profit carries it
    off = _market(SERVED, 40).recorder.tables()["platforms"]
    assert (off["services_yuan"] == 0).all()


def test_served_members_have_more_occasions():
    """With every added visit an occasion, the households whose usual leader runs the services
    have the rate order_rate x demand x (1 + promotion) + (5.7 - 2.1) / 30: more occasions
    than with the visits adding none, on the same uniforms (common random numbers)."""
    base = SERVED + ["services.order_chance_per_visit=0"]
    a = _market(base, 60).recorder.tables()["daily"]
    b = _market(SERVED + ["services.order_chance_per_visit=1"], 60).recorder.tables()["daily"]
    assert b["occasions"].sum() > a["occasions"].sum()
    assert (b["occasions"] >= a["occasions"]).mean() > 0.9


@pytest.mark.slow
def test_services_raise_a_platforms_orders_and_lower_its_leaders_churn():
    """The incumbent runs the programme at every point (seed 002 Case A): over days 60-149 its
    orders rise and its leaders quit less at their reviews, in each of seeds 1-3 (4,000
    households); the visits alone (order_chance_per_visit 0.2 vs 0, both served) add orders
    too."""
    seeds = (1, 2, 3)
    common = ["market.consumers=4000", "days=150"]
    on = ["platforms.incumbent.strategy.services.share_of_points=1.0"]
    runs = {k: run_seeds(common + v, seeds) for k, v in {
        "off": [], "on": on,
        "no_visits": on + ["platforms.incumbent.strategy.services.order_chance_per_visit=0"],
    }.items()}

    def orders(t):
        p = t["platforms"]
        return p[(p["platform"] == "incumbent") & (p["day"] >= 60)]["orders"].sum()

    def quit_share(t):
        r = t["leader_reviews"]
        r = r[(r["platform"] == "incumbent") & (r["day"] >= 60)]
        return r["quit"].mean()

    for i, seed in enumerate(seeds):
        off, on_, nv = (runs[k][i][1] for k in ("off", "on", "no_visits"))
        assert orders(on_) > orders(off), f"seed {seed}: services raise the incumbent's orders"
        assert quit_share(on_) < quit_share(off), f"seed {seed}: and lower its leaders' quits"
        assert orders(on_) > orders(nv), f"seed {seed}: the added visits add orders"
