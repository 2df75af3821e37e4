"""Supplier quality control (ODD 7.7, sim.remedies.quality): inspection, the units found and
replaced, a caught supplier's share, the cost, and the behaviour over seeds."""

import numpy as np
import pytest

from sim.api import compose
from sim.model import GroupBuyingMarket
from tests.helpers import SMALL

QC = "platforms.incumbent.strategy.qc"
SUPPLIERS = ("local_coop", "regional_wholesale", "brand_distributor")  # suppliers/standard
RELABEL = [f"suppliers.{s}.relabel_prob=0.5" for s in SUPPLIERS]


def _run(extra, days=60, seed=0):
    m = GroupBuyingMarket(compose(SMALL + [f"days={days}", f"seed={seed}", *RELABEL, *extra]))
    m.run()
    return m


def test_a_full_inspection_that_always_detects_lets_no_bad_unit_through():
    m = GroupBuyingMarket(compose(SMALL + [
        "days=40", *RELABEL, f"{QC}.share_inspected=1", f"{QC}.detection_prob=1",
        f"{QC}.cost_yuan_per_unit=0.5"]))
    inc = list(m.platform_names).index("incumbent")
    share0 = m.supply.supplier_share.copy()
    seen = {"units": 0, "bad": 0, "found": 0}
    inspect = m.qc.inspect

    def check(d, book, u_relabel):
        inspect(d, book, u_relabel)
        rows, cats = np.nonzero(book.filled & ~book.from_stock[:, None]
                                & (book.platform == inc)[:, None])
        s = book.supplier[rows, cats]
        relabelled = u_relabel[rows, cats] < m.supply.sup_relabel_prob[s]
        life_max = m.supply.life_max[cats]
        # no defect left; a relabelled unit's life given back (within the fresh range)
        assert not book.defect[rows, cats].any()
        assert (book.life0[rows, cats][relabelled] >= m.supply.life_min[cats][relabelled]
                - 1e-12).all()
        assert (book.life0[rows, cats] <= life_max + 1e-12).all()
        seen["units"] += len(rows)
        seen["bad"] += int(relabelled.sum())

    m.qc.inspect = check
    m.run()
    p = m.recorder.tables()["platforms"]
    own = p[p["platform"] == "incumbent"]
    assert seen["bad"] > 0
    assert own["qc_yuan"].sum() == pytest.approx(0.5 * seen["units"])
    assert own["qc_rejected"].sum() >= seen["bad"]
    assert (p[p["platform"] != "incumbent"]["qc_yuan"] == 0).all()
    # the relabelling suppliers lost part of their share of the incumbent's purchases, the
    # shares still sum as before; the rivals' shares are untouched
    share = m.supply.supplier_share
    assert not np.allclose(share[inc], share0[inc])
    np.testing.assert_allclose(share[inc].sum(axis=1), share0[inc].sum(axis=1))
    others = [j for j in range(len(m.platform_names)) if j != inc]
    np.testing.assert_array_equal(share[others], share0[others])


def test_off_by_default_no_unit_is_inspected():
    m = GroupBuyingMarket(compose(SMALL + ["days=10"]))
    share0 = m.supply.supplier_share.copy()
    m.run()
    p = m.recorder.tables()["platforms"]
    assert not m.qc.on and (p["qc_yuan"] == 0).all() and (p["qc_rejected"] == 0).all()
    np.testing.assert_array_equal(m.supply.supplier_share, share0)


def test_a_stock_mode_platform_inspects_the_lots_it_buys():
    stock = ["platforms.incumbent.strategy.procurement.mode=stock", *RELABEL]
    base = GroupBuyingMarket(compose(SMALL + ["days=30", *stock]))
    base.run()
    m = GroupBuyingMarket(compose(SMALL + ["days=30", *stock, f"{QC}.share_inspected=1",
                                           f"{QC}.detection_prob=1"]))
    inc = list(m.platform_names).index("incumbent")
    share0 = m.supply.supplier_share.copy()
    m.run()
    p = m.recorder.tables()["platforms"]
    own = p[p["platform"] == "incumbent"]
    assert own["qc_rejected"].sum() > 0
    sp = m.recorder.tables()["spoilage"]
    bought = sp[sp["platform"] == "incumbent"]["units_bought"].sum()
    assert own["qc_yuan"].sum() == pytest.approx(0.2 * bought)  # every unit bought
    assert not np.allclose(m.supply.supplier_share[inc], share0[inc])
    # every lot left in the warehouse is sound (found units were replaced)
    for lots in m.supply.stock[inc]:
        assert not lots.defect.any()
    q = base.recorder.tables()["platforms"]
    assert own["quality_complaints"].sum() < q[q["platform"] == "incumbent"][
        "quality_complaints"].sum()


@pytest.mark.slow
def test_quality_control_lowers_relabelling_complaints():
    """Suppliers relabel half their units (relabel_prob 0.5); the incumbent inspects every unit
    and finds 80% of the bad ones: its quality complaints (a unit collected low on life, the
    mark of relabelled old stock) per order fall to less than half in each of seeds 1-3 (2,000
    households, 120 days). The mechanism removes ~80% of the relabelled units; the paired runs'
    orders drift by a few percent, so a halving leaves a wide margin and still fails if
    inspection found nothing."""
    for seed in (1, 2, 3):
        rate = []
        for extra in ([], [f"{QC}.share_inspected=1"]):
            p = _run(extra, days=120, seed=seed).recorder.tables()["platforms"]
            p = p[p["platform"] == "incumbent"]
            rate.append(p["quality_complaints"].sum() / p["orders"].sum())
        assert rate[1] < 0.5 * rate[0], f"seed {seed}: quality complaints per order {rate}"
