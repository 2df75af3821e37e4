"""The social network: households linked inside neighbourhoods and sparsely across (ODD 7.1).

A neighbourhood is a residential compound (小区) of the county town or a village (村). Households
are linked densely inside their neighbourhood (neighbours, relatives, the same WeChat groups) and
sparsely across (relatives in other villages, workplaces in town). Presets:

* ``complete``: every pair linked (for checks against the Bass model). It is kept implicit: the
  number of adopted neighbours is ``total - self``, so no N x N matrix is ever built.
* ``small_world``: Watts-Strogatz (Watts & Strogatz 1998) ring lattice with rewiring; rewire 0
  is the ring lattice. Neighbourhoods are consecutive blocks of the ring.
* ``county``: a county town of compounds plus villages. Inside each neighbourhood a ring lattice
  with local rewiring (clustered, like Watts-Strogatz but closed to the neighbourhood); across
  neighbourhoods a Poisson number of ties per household, most of them landing in the town (the
  town as hub: market, schools, workplaces).
* ``village_cluster``: villages only, grouped into clusters (the villages of one township, 乡镇).
  Dense kin ties inside a village; few ties across, most of them to villages of the same cluster
  (relatives married into the next village, the township market); the county town is outside
  the market, so the hub ties of ``county`` are missing. The weak-tie structure of the
  left-behind countryside (seed 000 §3.2.1: the young work away, the elderly and children stay).

Generators take their random generator from the model (never the global one) and build the
adjacency as a ``scipy.sparse`` CSR matrix with numpy array operations, so they run at a million
households. ``SocialNetwork.to_networkx()`` gives a networkx graph for small markets (dashboard,
analysis).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import scipy.sparse as sp

from sim.jit import jit, prefetch_row

__all__ = ["GENERATORS", "NeighbourCounts", "SocialNetwork", "build_network", "scatter_rows"]


@dataclass
class SocialNetwork:
    """Households, their neighbourhoods and their ties.

    Attributes:
        n: number of households.
        neighbourhood: neighbourhood index of each household, shape (n,).
        is_village: whether each neighbourhood is a village (else a town compound).
        adjacency: symmetric 0/1 CSR matrix, or None for the implicit complete graph.
        degree: number of ties of each household.
    """

    n: int
    neighbourhood: np.ndarray
    is_village: np.ndarray
    adjacency: sp.csr_matrix | None
    degree: np.ndarray

    @property
    def n_neighbourhoods(self) -> int:
        return len(self.is_village)

    @property
    def household_in_village(self) -> np.ndarray:
        return self.is_village[self.neighbourhood]

    def neighbour_sum(self, x: np.ndarray) -> np.ndarray:
        """For each household, the sum of ``x`` over its neighbours (``A @ x``)."""
        if self.adjacency is None:
            return x.sum(axis=0) - x
        return self.adjacency @ x

    def neighbour_sum_of_rows(self, rows: np.ndarray, x_rows: np.ndarray) -> np.ndarray:
        """``A @ X`` for an ``X`` that is zero outside ``rows`` (``x_rows`` = ``X[rows]``).

        The work is the ties of ``rows`` only (``A`` is symmetric: ``A[:, rows] = A[rows].T``),
        not the whole network: a handful of complainers costs their ties, not a product over a
        million households. ``rows`` must not repeat.
        """
        x_rows = np.asarray(x_rows)
        if self.adjacency is None:
            x = np.zeros((self.n, x_rows.shape[1]), x_rows.dtype)
            x[rows] = x_rows
            return self.neighbour_sum(x)
        return np.asarray(self.adjacency[rows].T @ x_rows)

    @property
    def n_edges(self) -> int:
        if self.adjacency is None:
            return self.n * (self.n - 1) // 2
        return int(self.adjacency.nnz // 2)

    def to_networkx(self, max_nodes: int = 20_000) -> nx.Graph:
        """The network as a networkx graph with ``neighbourhood`` and ``village`` attributes."""
        if self.n > max_nodes:
            raise ValueError(f"to_networkx: n={self.n} households is above max_nodes={max_nodes}")
        g = nx.complete_graph(self.n) if self.adjacency is None else nx.from_scipy_sparse_array(
            self.adjacency
        )
        nx.set_node_attributes(g, dict(enumerate(self.neighbourhood.tolist())), "neighbourhood")
        village = self.household_in_village.tolist()
        nx.set_node_attributes(g, dict(enumerate(village)), "village")
        return g


def _symmetric_adjacency(n: int, src: np.ndarray, dst: np.ndarray) -> sp.csr_matrix:
    keep = src != dst
    src, dst = src[keep], dst[keep]
    rows = np.concatenate([src, dst])
    cols = np.concatenate([dst, src])
    a = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, n))
    a.sum_duplicates()
    a.data[:] = 1.0  # duplicate ties collapse to one
    return a


def _block_sizes(n: int, size: int) -> np.ndarray:
    """Split n households into consecutive blocks of about ``size``."""
    k = max(1, round(n / size))
    base, extra = divmod(n, k)
    return np.array([base + (1 if i < extra else 0) for i in range(k)], dtype=np.int64)


def _ring_lattice_edges(starts: np.ndarray, sizes: np.ndarray, half_degree: np.ndarray,
                        rewire_prob: float, rng: np.random.Generator):
    """Ring lattice inside each block, each tie rewired within its block with ``rewire_prob``.

    Household ``i`` at position ``p`` of its block links to positions ``p+1 .. p+h`` (mod size),
    ``h`` the block's half degree; with probability ``rewire_prob`` the far end is replaced by a
    uniformly drawn member of the same block (Watts-Strogatz rewiring kept local).
    """
    n = int(sizes.sum())
    block = np.repeat(np.arange(len(sizes)), sizes)
    pos = np.arange(n) - starts[block]
    size_i = sizes[block]
    h_i = np.minimum(half_degree[block], size_i - 1)  # small blocks: every pair, duplicates merge
    src_parts, dst_parts = [], []
    for d in range(1, int(half_degree.max()) + 1):
        m = h_i >= d
        i = np.flatnonzero(m)
        j = starts[block[i]] + (pos[i] + d) % size_i[i]
        src_parts.append(i)
        dst_parts.append(j)
    src = np.concatenate(src_parts) if src_parts else np.zeros(0, np.int64)
    dst = np.concatenate(dst_parts) if dst_parts else np.zeros(0, np.int64)
    rewire = rng.random(len(src)) < rewire_prob
    b = block[src[rewire]]
    dst = dst.copy()
    dst[rewire] = starts[b] + np.floor(rng.random(int(rewire.sum())) * sizes[b]).astype(np.int64)
    return src, dst


def complete_network(n: int, market, rng: np.random.Generator) -> SocialNetwork:
    """Every pair linked; neighbourhoods are blocks of ``market.neighbourhood_size``."""
    sizes = _block_sizes(n, market.neighbourhood_size)
    nb = np.repeat(np.arange(len(sizes)), sizes).astype(np.int32)
    # float32 like the sparse networks' degrees (exact: n - 1 < 2**24), so the word-of-mouth
    # kernels see the same types whatever the network (compiled kernels: one version each)
    return SocialNetwork(n, nb, np.zeros(len(sizes), bool), None,
                         np.full(n, n - 1, dtype=np.float32))


def small_world_network(n: int, market, rng: np.random.Generator) -> SocialNetwork:
    """Watts-Strogatz small world over all households (rewire 0: ring lattice).

    Each household links to its ``neighbors`` nearest ring neighbours (``neighbors // 2`` each
    side); each tie's far end is rewired to a uniformly drawn household with ``rewire_prob``
    (Watts & Strogatz 1998). Neighbourhoods are consecutive blocks of the ring; the blocks after
    the first ``market.county.town_share`` of the households are villages, so the population
    (segments, leader rates and pay, the farming season) is the county's and against ``county``
    only the network differs.
    """
    sw = market.small_world
    h = sw.neighbors // 2
    starts = np.zeros(1, np.int64)
    src, dst = _ring_lattice_edges(starts, np.array([n]), np.array([h]), sw.rewire_prob, rng)
    a = _symmetric_adjacency(n, src, dst)
    sizes = _block_sizes(n, market.neighbourhood_size)
    nb = np.repeat(np.arange(len(sizes)), sizes).astype(np.int32)
    block_start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    is_village = block_start >= int(round(n * market.county.town_share))
    return SocialNetwork(n, nb, is_village, a, np.asarray(a.sum(axis=1)).ravel())


def county_network(n: int, market, rng: np.random.Generator) -> SocialNetwork:
    """A county town of compounds plus villages (ODD 7.1; parameters in ``market.county``).

    ``town_share`` of households live in town compounds of about ``compound_size``; the rest in
    villages of about ``village_size``. Inside a neighbourhood: a ring lattice of degree
    ``within_degree_town`` / ``within_degree_village`` with local rewiring ``rewire_prob``.
    Across: each household starts Poisson(``cross_ties_town`` / ``cross_ties_village``) ties;
    each lands in the town with probability ``town_hub_bias``, otherwise on a household drawn
    uniformly from the whole county.
    """
    c = market.county
    n_town = int(round(n * c.town_share))
    n_village = n - n_town
    town_sizes = _block_sizes(n_town, c.compound_size) if n_town > 0 else np.zeros(0, np.int64)
    vil_sizes = _block_sizes(n_village, c.village_size) if n_village > 0 else np.zeros(0, np.int64)
    sizes = np.concatenate([town_sizes, vil_sizes])
    is_village = np.concatenate([np.zeros(len(town_sizes), bool), np.ones(len(vil_sizes), bool)])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    half = np.where(is_village, c.within_degree_village // 2, c.within_degree_town // 2)
    src_in, dst_in = _ring_lattice_edges(starts, sizes, half, c.rewire_prob, rng)

    nb = np.repeat(np.arange(len(sizes)), sizes).astype(np.int32)
    in_village = is_village[nb]
    lam = np.where(in_village, c.cross_ties_village, c.cross_ties_town)
    k = rng.poisson(lam)
    src_x = np.repeat(np.arange(n), k)
    m = len(src_x)
    to_town = (rng.random(m) < c.town_hub_bias) & (n_town > 0)
    dst_x = np.where(
        to_town,
        np.floor(rng.random(m) * max(n_town, 1)).astype(np.int64),
        np.floor(rng.random(m) * n).astype(np.int64),
    )
    a = _symmetric_adjacency(n, np.concatenate([src_in, src_x]), np.concatenate([dst_in, dst_x]))
    return SocialNetwork(n, nb, is_village, a, np.asarray(a.sum(axis=1)).ravel())


def village_cluster_network(n: int, market, rng: np.random.Generator) -> SocialNetwork:
    """Villages only, in clusters, with weak ties across (parameters in ``market.village_cluster``).

    Households live in villages of about ``village_size``; consecutive villages form clusters of
    ``villages_per_cluster`` (a township). Inside a village: a ring lattice of degree
    ``within_degree`` with local rewiring ``rewire_prob`` (as in ``county``). Across: each
    household starts Poisson(``cross_ties``) ties; each lands on a household of its own cluster
    with probability ``cluster_bias``, otherwise on one drawn uniformly from all villages.
    Every neighbourhood is a village.
    """
    v = market.village_cluster
    sizes = _block_sizes(n, v.village_size)
    k = len(sizes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    half = np.full(k, v.within_degree // 2)
    src_in, dst_in = _ring_lattice_edges(starts, sizes, half, v.rewire_prob, rng)

    nb = np.repeat(np.arange(k), sizes).astype(np.int32)
    # Clusters are consecutive runs of villages, so a cluster is a contiguous household range.
    cluster_of_village = np.arange(k) // v.villages_per_cluster
    n_clusters = int(cluster_of_village[-1]) + 1
    c_start = starts[np.searchsorted(cluster_of_village, np.arange(n_clusters))]
    c_size = np.bincount(cluster_of_village, weights=sizes, minlength=n_clusters).astype(np.int64)
    n_ties = rng.poisson(v.cross_ties, n)
    src_x = np.repeat(np.arange(n), n_ties)
    m = len(src_x)
    cl = cluster_of_village[nb[src_x]]
    same = rng.random(m) < v.cluster_bias
    u = rng.random(m)
    dst_x = np.where(same, c_start[cl] + np.floor(u * c_size[cl]).astype(np.int64),
                     np.floor(u * n).astype(np.int64))
    a = _symmetric_adjacency(n, np.concatenate([src_in, src_x]), np.concatenate([dst_in, dst_x]))
    return SocialNetwork(n, nb, np.ones(k, bool), a, np.asarray(a.sum(axis=1)).ravel())


# The registry of presets: a config names one of these, never a dotted import path.
GENERATORS = {
    "complete": complete_network,
    "small_world": small_world_network,
    "county": county_network,
    "village_cluster": village_cluster_network,
}


def build_network(market, rng: np.random.Generator) -> SocialNetwork:
    """Build the network preset named by ``market.network`` with generator ``rng``."""
    try:
        gen = GENERATORS[market.network]
    except KeyError:
        raise ValueError(
            f"market.network={market.network!r}: unknown preset; allowed: {', '.join(GENERATORS)}"
        ) from None
    return gen(int(market.consumers), market, rng)


class NeighbourCounts:
    """``A @ X`` kept up to date for a 0/1 state matrix ``X`` of which few rows change a day.

    Word of mouth reads, every day, how many of each household's neighbours have adopted, lead a
    group, or recently used each platform. Recomputing ``A @ X`` is a pass over every tie of the
    network; but from one day to the next only the households who adopted, lapsed, switched
    platform or stopped ordering change their row of ``X``. Adding ``A[:, rows] @ delta`` for
    those rows costs their ties only. The counts are sums of +1 and -1 in float32, so they stay
    exact integers (below 2**24 neighbours) and equal the full product bit for bit. The caller
    keeps ``X`` (in whatever compact form it has) and passes the changes.
    """

    def __init__(self, network: SocialNetwork, n_cols: int):
        self.network = network
        self.counts = np.zeros((network.n, n_cols), np.float32)

    def add(self, rows: np.ndarray, delta: np.ndarray) -> np.ndarray:
        """``X[rows] += delta`` (``rows`` without repeats); returns the updated ``A @ X``."""
        if len(rows):
            delta = np.asarray(delta, np.float32)
            a = self.network.adjacency
            if a is None:  # complete graph: everyone but oneself
                self.counts += delta.sum(axis=0)
                self.counts[rows] -= delta
            else:  # each changed household's ties, in place (scatter_rows, compiled)
                scatter_rows(a.indptr, a.indices, a.data, np.asarray(rows, np.int64), delta,
                             self.counts)
        return self.counts





@jit
def scatter_rows(indptr, indices, data, rows, x_rows, out):
    """``out += A[:, rows] @ x_rows`` for a CSR adjacency ``A`` (symmetric: ``A[rows].T``).

    Each tie of each listed household adds its row of ``x_rows`` to the neighbour's row of
    ``out``. For the 0/1 counts of word of mouth every partial sum is an exact integer in
    float32, so the result equals the sparse product whatever the order of the additions.
    """
    n_cols = x_rows.shape[1]
    for r in range(rows.shape[0]):
        prefetch_row(indptr, indices, data, rows, r, out)
        i = rows[r]
        for e in range(indptr[i], indptr[i + 1]):
            k = indices[e]
            w = data[e]
            for c in range(n_cols):
                out[k, c] += w * x_rows[r, c]
