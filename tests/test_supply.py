"""Unit tests of the supply rules (issue 9): allocation under capacity, the newsvendor, stage of
loss, forecasts and weather shocks, plus the goods invariant in both procurement modes."""

from types import SimpleNamespace

import numpy as np
import pytest

from sim.api import compose
from sim.coldchain import LOSS_STAGES, leg_of_loss
from sim.model import GroupBuyingMarket
from sim.supply.procurement import Forecast, critical_ratio, order_up_to
from sim.supply.suppliers import Supplier, allocate, ration, split_by_weights
from tests.helpers import SMALL

# --- allocation (sim.supply.suppliers) ---------------------------------------------------------


def test_split_by_weights_is_exact_and_proportional():
    np.testing.assert_array_equal(split_by_weights(10, [0.6, 0.3, 0.1]), [6, 3, 1])
    np.testing.assert_array_equal(split_by_weights(7, [1, 1, 0]), [4, 3, 0])  # ties: first
    assert split_by_weights(0, [1, 2]).sum() == 0
    assert split_by_weights(5, [0, 0]).sum() == 0


def test_ration_grants_in_full_or_pro_rata():
    np.testing.assert_array_equal(ration([3, 5], 10), [3, 5])
    np.testing.assert_array_equal(ration([30, 10], 20), [15, 5])


def test_allocate_reroutes_shortfall_to_own_suppliers_then_leaves_it_unfilled():
    # One category, two suppliers; platform 0 buys 0.75/0.25, platform 1 only from supplier 0.
    share = np.array([[[0.75, 0.25]], [[1.0, 0.0]]])
    demand = np.array([[80], [40]])
    # Supplier 0 can deliver 60 of the 100 asked (60 + 40): pro rata 36 and 24.
    # Platform 0 is 24 short and offers it to supplier 1 (spare 50 - 20 = 30): granted in full.
    # Platform 1 has no other supplier: 16 unfilled.
    alloc = allocate(demand, share, np.array([[60, 50]]))
    np.testing.assert_array_equal(alloc[:, 0], [[36, 44], [24, 0]])
    # Without a capacity limit everyone gets the weighted split.
    free = allocate(demand, share, np.array([[1000, 1000]]))
    np.testing.assert_array_equal(free[:, 0], [[60, 20], [40, 0]])


def test_allocate_never_exceeds_capacity_or_demand():
    share = np.array([[[0.5, 0.5], [1.0, 0.0]], [[0.2, 0.8], [0.0, 1.0]]])
    demand = np.array([[50, 7], [90, 33]])
    cap = np.array([[40, 30], [5, 0]])
    alloc = allocate(demand, share, cap)
    assert np.all(alloc.sum(axis=0) <= cap)
    assert np.all(alloc.sum(axis=2) <= demand)
    assert alloc[1, 1].sum() == 0  # supplier 1 does not carry category 1 (capacity 0)


def test_a_weather_shock_cuts_capacity_for_its_days():
    cfg = SimpleNamespace(categories=[], local=True, transit_hours=4.0, cost_multiplier=1.0,
                          defect_rate=0.0, relabel_prob=0.0, relabel_age=0.4,
                          capacity_units_per_household_day=0.1, shock_prob_per_day=0.5,
                          shock_days=3, shock_capacity_share=0.3)
    model = GroupBuyingMarket(compose(SMALL + ["days=1"]))
    sup = Supplier(model, "test", cfg, {})
    sup.update_shock(10, 0.9)  # no shock
    assert sup.capacity_units(10, 1000) == 100
    sup.update_shock(11, 0.1)  # starts: days 11, 12, 13
    assert [sup.capacity_units(d, 1000) for d in (11, 13, 14)] == [30, 30, 100]
    assert sup.shock_days_total == 1


# --- newsvendor (sim.supply.procurement) -------------------------------------------------------


def test_critical_ratio_is_the_newsvendor_formula():
    # (p - c)/(p - salvage) with p = 10, c = 6, salvage = 2: 4/8.
    assert critical_ratio(10.0, 6.0, 2.0) == pytest.approx(0.5)
    # goodwill g adds to both: (4 + 2)/(8 + 2).
    assert critical_ratio(10.0, 6.0, 2.0, 2.0) == pytest.approx(0.6)
    np.testing.assert_allclose(critical_ratio([5.0, 12.0], [6.0, 6.0], [3.0, 0.0]), [0.0, 0.5])


def test_order_up_to_uses_the_normal_quantile():
    assert order_up_to(100.0, 10.0, 0.5) == pytest.approx(100.0)
    assert order_up_to(100.0, 10.0, 0.8413447) == pytest.approx(110.0, abs=1e-4)  # z = 1
    assert order_up_to(5.0, 10.0, 0.0228) == pytest.approx(0.0)  # never below zero


def test_forecast_is_exponential_smoothing():
    f = Forecast(alpha=0.5)
    f.update(100)
    assert (f.level, f.variance) == (100.0, 100.0)  # Poisson-like start
    f.update(120)  # error 20
    assert f.level == pytest.approx(110.0)
    assert f.variance == pytest.approx(100 + 0.5 * (400 - 100))


# --- stage of loss (sim.coldchain) ------------------------------------------------------------


def test_leg_of_loss_is_the_first_leg_that_uses_up_the_life():
    life0 = np.array([0.5, 0.5, 0.5, 0.0])
    used = np.array([[0.1, 0.1, 0.1, 0.1], [0.1, 0.45, 0.2, 0.0], [0.6, 0.0, 0.0, 0.0],
                     [0.0, 0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(leg_of_loss(life0, used), [-1, 1, 0, 0])
    assert LOSS_STAGES[0] == "supplier" and "grid_storage" in LOSS_STAGES


# --- the goods invariant in both modes ----------------------------------------------------------


@pytest.mark.parametrize("mode", ["presale", "stock"])
def test_goods_are_conserved_and_tables_agree(mode):
    model = GroupBuyingMarket(compose(SMALL + ["days=70", f"procurement={mode}",
                                               "calendar.start_day_of_year=150"]))
    for _ in range(70):
        model.step()
        g = model.ledger.goods
        # bought = delivered + spoiled + in the chain + in grid-warehouse stock
        assert g["procured"] == g["delivered"] + g["spoiled"] + g["in_chain"] + g["in_stock"]
        assert g["in_stock"] == sum(len(lots) for row in model.supply.stock for lots in row)
        assert min(g.values()) >= 0
    t = model.recorder.tables()
    spo, loss = t["spoilage"], t["losses"]
    assert (spo["units_shipped"] == spo["units_delivered"] + spo["units_spoiled"]).all()
    assert loss["units_spoiled"].sum() == spo["units_spoiled"].sum() == g["spoiled"]
    assert spo["units_delivered"].sum() == g["delivered"]
    assert spo["units_bought"].sum() == g["procured"]
    if mode == "presale":
        assert g["in_stock"] == 0 and loss.loc[loss["stage"] == "grid_storage",
                                               "units_spoiled"].sum() == 0
    else:
        assert loss.loc[loss["stage"] == "grid_storage", "units_spoiled"].sum() > 0
        assert (t["platforms"]["procurement"] == "stock").all()
    rate = t["daily"]["on_time_pickup_rate"].dropna()
    assert ((rate >= 0) & (rate <= 1)).all()


def test_late_pickups_set_the_on_time_rate():
    model = GroupBuyingMarket(compose(SMALL + ["days=40", "coldchain.late_pickup_prob_town=0",
                                               "coldchain.late_pickup_prob_village=1"]))
    model.run()
    daily = model.recorder.tables()["daily"]
    village_share = model.consumers.in_village[model.consumers.orders > 0].mean()
    on_time = (daily["on_time_pickup_rate"] * daily["pickups"]).sum() / daily["pickups"].sum()
    # Every village household collects late and every town household on time.
    assert on_time == pytest.approx(1 - village_share, abs=0.05)  # orders per household vary


@pytest.mark.parametrize("override,needle", [
    ("platforms.incumbent.strategy.procurement.mode=hoard", "choose one of presale, stock"),
    ("procurement.mode=hoard", "choose one of presale, stock"),
    ("+coldchain.late_pickup_segment_multiplier.retired=2.0", "retired: not a segment"),
])
def test_bad_supply_config_fails_in_one_line(override, needle):
    from sim.config import ConfigError, validate

    with pytest.raises(ConfigError, match=needle) as e:
        validate(compose([override]))
    assert "\n" not in str(e.value)
