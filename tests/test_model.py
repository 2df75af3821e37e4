"""The whole model: invariants every day, determinism, common random numbers, agents."""

import numpy as np
import pandas as pd
import pytest

from sim.api import compose
from sim.consumers import Consumer
from sim.leaders import Leader, person_of
from sim.model import GroupBuyingMarket
from sim.platforms import Platform
from sim.supply.suppliers import Supplier
from tests.helpers import SMALL, run_model


@pytest.mark.parametrize("extra", [["incentive=flat"], ["incentive=multi_source"],
                                   ["incentive=recognition", "leaders.group_cap=60",
                                    "leaders.wechat_groups_max=2"]])
def test_invariants_hold_every_day(extra):
    model = GroupBuyingMarket(compose(SMALL + ["days=90"] + extra))
    c = model.consumers
    for _ in range(90):
        model.step()
        g, m = model.ledger.goods, model.ledger.money
        # Goods: bought = delivered + spoiled + still in the chain + in grid-warehouse stock
        # (stock mode: tests/test_supply.py).
        assert g["procured"] == g["delivered"] + g["spoiled"] + g["in_chain"] + g["in_stock"]
        # Money: what consumers pay plus subsidies equals platform revenue; all platform pay to
        # leaders (commissions, bonuses, prizes) plus outside income (service fees, government
        # subsidies) equals leader income (and the leaders' own accounts agree).
        assert m["consumer_paid"] + m["subsidy"] == pytest.approx(m["platform_revenue"], rel=1e-12)
        assert m["commission_paid"] + m["service_fees"] + m["government_subsidy"] == \
            pytest.approx(m["leader_income"], rel=1e-12)
        assert model.leaders.view("income_to_date_yuan").sum() == pytest.approx(
            m["leader_income"], rel=1e-9)
        # Pickup points: every household's leader for platform j is an active service row of j
        # whose leader's group it follows (ODD 7.1); the groups' member counts are the
        # followers, and no leader's groups pass the cap.
        t, g = model.leaders, model.leadership.groups
        per = person_of(t)
        for j in range(c.leader_of.shape[1]):
            served = np.flatnonzero(c.leader_of[:, j] >= 0)
            rows = c.leader_of[served, j]
            assert t.active[rows].all() and (t.platform[rows] == j).all()
            assert (g.leader[served] == per[rows][:, None]).any(axis=1).all()
        followers = np.bincount(g.leader[g.leader >= 0], minlength=t.n)
        np.testing.assert_array_equal(followers, g.members[: t.n])
        assert followers.max(initial=0) <= model.leadership.member_cap
        assert c.orders.min() >= 0 and np.all(c.trust >= 0) and np.all(c.trust <= 1)
        assert not np.isnan(c.trust).any()
    tables = model.recorder.tables()
    plat = tables["platforms"]
    sums = plat.groupby("day")["order_share"].sum()
    orders = tables["daily"].set_index("day")["orders"]
    np.testing.assert_allclose(sums[orders > 0], 1.0)
    counts = ["adopters", "orders", "active_leaders", "units_shipped", "units_spoiled",
              "complaints"]
    assert not tables["daily"][counts].isna().any().any()
    assert (tables["daily"][counts] >= 0).all().all()
    spo = tables["spoilage"]
    assert (spo["units_spoiled"] <= spo["units_shipped"]).all()
    # Every order is served by an active leader of the chosen platform, in its neighbourhood.
    assert orders.sum() == int(c.orders.sum())


def _tables(overrides):
    return run_model(overrides).recorder.tables()


def test_same_seed_gives_identical_tables_and_another_seed_differs():
    a, b, c = _tables(["seed=7"]), _tables(["seed=7"]), _tables(["seed=8"])
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    assert not a["daily"].equals(c["daily"])


def test_a_change_from_day_d_leaves_every_table_identical_before_d():
    d = 40
    base = _tables(["seed=3"])
    cut = _tables(["seed=3", f"incentive.decay_start_day={d}", "incentive.decay_to_rate=0.03"])
    for name, df in base.items():
        if "day" not in df:  # the end-of-run household table sums the whole run, after D too
            continue
        before = df[df["day"] < d].reset_index(drop=True)
        other = cut[name][cut[name]["day"] < d].reset_index(drop=True)
        pd.testing.assert_frame_equal(before, other, obj=f"{name} before day {d}")
    assert not base["platforms"].equals(cut["platforms"]), "the cut changes something after D"


def test_agents_are_mesa_agents_and_views_on_the_arrays():
    model = run_model(["days=20"])
    consumers = model.agents_by_type[Consumer]
    assert len(consumers) == model.consumers.n
    assert len(model.agents_by_type[Platform]) == len(model.platform_names)
    assert len(model.agents_by_type[Supplier]) == len(model.supplier_list)
    leaders = model.agents_by_type[Leader]
    # One Mesa agent per leader (its primary row); extra rows are platforms added later.
    assert len(leaders) == int((model.leaders.view("person") == np.arange(model.leaders.n)).sum())
    assert len(leaders) > 0
    agent = next(a for a in consumers if a.index == 123)
    assert agent.adopted == bool(model.consumers.adopted[123])
    agent.trust = np.array([0.9, 0.1, 0.2])
    np.testing.assert_array_equal(model.consumers.trust[123], [0.9, 0.1, 0.2])
    assert len(agent.neighbours) > 0
    ldr = leaders.to_list()[0]
    assert ldr.home >= 0 and ldr.platform_name in model.platform_names
    assert 0.0 <= ldr.quit_probability() <= 1.0
    if ldr.active:
        assert ldr.members >= 1


@pytest.mark.parametrize("network", ["complete", "small_world", "county"])
def test_every_network_preset_runs(network):
    model = run_model([f"market.network={network}", "market.consumers=600", "days=15"])
    assert model.recorder.tables()["daily"]["adopters"].iloc[-1] > 0


@pytest.mark.parametrize("start", [0, 100, 364])
def test_ambient_shelf_lives_are_the_days_temperatures(start):
    # The ambient shelf lives tabled by day of the year at set-up are, bit for bit, those of
    # each day's temperature (ColdChain.shelf_life_at), whatever day of the year the
    # run starts on, through the turn of the year.
    model = GroupBuyingMarket(compose(SMALL + [f"calendar.start_day_of_year={start}"]))
    seen = set()
    for d in range(400):
        model.calendar.run(d)
        cond = model.today.conditions
        expected = model.coldchain.shelf_life_at(cond.ambient_temp_c)
        got = model.coldchain.shelf_life_by_day_of_year[cond.day_of_year]
        assert got.tobytes() == expected.tobytes(), d
        seen.add(cond.day_of_year)
    assert len(seen) == 365
    assert np.ptp(model.coldchain.shelf_life_by_day_of_year[:, 0]) > 0  # the seasons change them
