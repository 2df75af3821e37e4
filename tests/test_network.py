"""Network presets (ODD 7.1)."""

import numpy as np
import pytest

from sim.api import compose
from sim.network import NeighbourCounts, build_network


def _market(*overrides):
    return compose(list(overrides)).market


def _net(seed=0, *overrides):
    return build_network(_market(*overrides), np.random.default_rng(seed))


def test_complete_is_implicit_and_exact():
    net = _net(0, "market=complete", "market.consumers=50")
    assert net.adjacency is None
    x = np.arange(50, dtype=float)
    np.testing.assert_allclose(net.neighbour_sum(x), x.sum() - x)
    assert net.n_edges == 50 * 49 // 2
    assert net.to_networkx().number_of_edges() == net.n_edges


def test_ring_lattice_when_rewire_is_zero():
    net = _net(0, "market=small_world", "market.consumers=100", "market.small_world.neighbors=6",
               "market.small_world.rewire_prob=0")
    assert np.all(net.degree == 6)
    a = net.adjacency
    for d in (1, 2, 3):
        assert a[0, d] == 1 and a[0, 100 - d] == 1
    assert a[0, 4] == 0


@pytest.mark.parametrize("preset", ["county", "small_world", "village_cluster"])
def test_sparse_presets_are_symmetric_simple_and_seeded(preset):
    m = [f"market={preset}", "market.consumers=3000"]
    a = _net(1, *m).adjacency
    assert (a != a.T).nnz == 0
    assert a.diagonal().sum() == 0
    assert set(np.unique(a.data)) == {1.0}
    assert (_net(1, *m).adjacency != a).nnz == 0
    assert (_net(2, *m).adjacency != a).nnz > 0


def test_small_world_has_the_countys_town_and_village_households():
    # Same population as county (configs/market/small_world.yaml): the blocks of the ring after
    # the first town_share of households are villages (within one block of 300).
    net = _net(0, "market=small_world", "market.consumers=20000")
    town = ~net.household_in_village
    assert abs(town.mean() - 0.35) <= 300 / 20000
    assert net.is_village.sum() > 0 and (~net.is_village).sum() > 0


def test_county_is_clustered_inside_neighbourhoods_with_a_town_hub():
    net = _net(0, "market.consumers=5000")
    a = net.adjacency.tocoo()
    same = net.neighbourhood[a.row] == net.neighbourhood[a.col]
    assert same.mean() > 0.8, "most ties are inside the neighbourhood"
    assert (~same).sum() > 0, "some ties cross neighbourhoods"
    town = ~net.household_in_village
    assert town.mean() == pytest.approx(0.35, abs=0.01)
    cross_dst_town = town[a.col[~same]]
    assert cross_dst_town.mean() > town.mean(), "cross ties land in the town more than its share"
    assert net.is_village.sum() > 0 and (~net.is_village).sum() > 0


@pytest.mark.parametrize("kind", ["county", "complete"])
def test_neighbour_counts_follow_row_changes_exactly(kind):
    """Kept-up counts equal the full product A @ X after any sequence of row changes."""
    market = compose([f"market={kind}", "market.consumers=1500"]).market
    net = build_network(market, np.random.default_rng(3))
    rng = np.random.default_rng(4)
    counts = NeighbourCounts(net, 3)
    x = np.zeros((net.n, 3), np.float32)
    for _ in range(5):
        rows = np.flatnonzero(rng.random(net.n) < 0.1)
        new = (rng.random((len(rows), 3)) < 0.5).astype(np.float32)
        got = counts.add(rows, new - x[rows])
        x[rows] = new
        np.testing.assert_array_equal(got, net.neighbour_sum(x))
    rows = np.array([0, 7, 40])
    only = np.where(np.isin(np.arange(net.n), rows)[:, None], x, 0)
    np.testing.assert_array_equal(net.neighbour_sum_of_rows(rows, x[rows]), net.neighbour_sum(only))
