"""Behaviour tests of the supply side (STYLE.md §9b, issue 9), over several seeds.

Each comparison pairs the same seeds (common random numbers: the same households order, draw the
same unit lives and the same cold legs), so a difference comes from the mechanism. The effects
are large, so we ask for the direction in every seed. (Full cold chain < none is in
tests/test_behaviour.py.)
"""

from functools import cache

import numpy as np
import pytest

from sim.api import compose
from sim.model import GroupBuyingMarket
from sim.records import summarise

pytestmark = pytest.mark.slow  # whole markets over seeds: the quick tier leaves them out

SEEDS = (1, 2, 3)
SUMMER = ("experiment=smoke", "days=100", "calendar.start_day_of_year=150")  # June-September
WINTER = ("experiment=smoke", "days=100", "calendar.start_day_of_year=305")  # November-February


@cache
def _run(*overrides: str):
    """Summary and tables of one run (cached: scenarios are shared between tests)."""
    model = GroupBuyingMarket(compose(list(overrides)))
    model.run()
    tables = model.recorder.tables()
    return summarise(model, tables), tables


def _each(base, extra, metric):
    return np.array([metric(*_run(*base, *extra, f"seed={s}")) for s in SEEDS])


def _spoilage(summary, tables):
    return summary["produce_spoilage_rate"]


def test_summer_spoils_more_than_winter():
    summer = _each(SUMMER, (), _spoilage)
    winter = _each(WINTER, (), _spoilage)
    assert np.all(summer > winter), f"summer spoils more than winter: {summer} vs {winter}"


def test_presale_spoils_less_than_stock_mode():
    presale = _each(SUMMER, (), _spoilage)  # every platform is pre-sale by default
    stock = _each(SUMMER, ("procurement=stock",), _spoilage)
    assert np.all(presale < stock), f"pre-sale spoils less than stock mode: {presale} vs {stock}"


def _complaints_per_order(summary, tables):
    return summary["complaints_total"] / summary["orders_total"]


def test_a_relabelling_supplier_raises_complaints():
    honest = _each(SUMMER, (), _complaints_per_order)  # default: 5% relabelled
    relabel = _each(SUMMER, ("suppliers.regional_wholesale.relabel_prob=0.5",),
                    _complaints_per_order)
    assert np.all(relabel > honest), \
        f"relabelling old stock raises complaints per order: {relabel} vs {honest}"


def _pickup_stage_rate(summary, tables):
    loss, spo = tables["losses"], tables["spoilage"]
    return loss.loc[loss["stage"] == "pickup_dwell", "units_spoiled"].sum() / \
        spo["units_shipped"].sum()


def test_a_fridge_at_the_pickup_point_lowers_pickup_stage_spoilage():
    fridge = _each(SUMMER, (), _pickup_stage_rate)  # default: 50% of town, 20% of village points
    none = _each(SUMMER, ("coldchain.fridge_share_town=0", "coldchain.fridge_share_village=0"),
                 _pickup_stage_rate)
    assert np.all(fridge < none), \
        f"fridges at pickup points lower pickup-stage spoilage: {fridge} vs {none}"


def test_stock_mode_loses_goods_in_the_grid_warehouse_and_runs_short():
    # The newsvendor trade-off: leftovers age and spoil in storage; below-forecast days run out.
    stock = [_run(*SUMMER, "procurement=stock", f"seed={s}") for s in SEEDS]
    for summary, _ in stock:
        assert summary["produce_spoilage_rate_by_stage"]["grid_storage"] > 0, summary
        assert summary["fill_rate"] < 1.0, "stock mode sometimes runs out"
