"""The compiled kernels (each mechanism's ``kernels`` module) equal the NumPy formulas they stand
for, bit for bit.

Each test draws a random state (several seeds: a different mix of adopters, ties, complaints
and choosers each time), runs a kernel and the readable NumPy formula (tests/reference.py,
sim.network; or, where the model used to inline it, that NumPy code, written out here) on
copies, and asserts exact equality (``assert_array_equal``, no tolerance): the model's tables
stayed identical when the kernels replaced the NumPy code, and these tests keep it so.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from sim import network
from sim.choice import kernels as choice_k
from sim.choice.baskets import basket_mask
from sim.coldchain import kernels as cold_k
from sim.leaders import kernels as leaders_k
from sim.records import LastOrderDays
from sim.records import kernels as records_k
from sim.streams import RandomStreams, pcg64, stable_hash
from sim.supply import kernels as supply_k
from sim.wom import kernels as wom_k
from sim.wom.phase import decay_complaints
from tests.reference import (
    adoption_probability,
    awareness_probability,
    basket_utilities,
    choice_utilities,
    choose,
    logsum_surplus_yuan,
)

SEEDS = [0, 1, 2, 3]
# Every module that holds compiled kernels (each mechanism's beside its phase code).
KERNEL_MODULES = ["sim.arrays", "sim.jit", "sim.network", "sim.streams.pcg64", "sim.wom.kernels",
                  "sim.choice.kernels", "sim.leaders.kernels", "sim.supply.kernels",
                  "sim.coldchain.kernels", "sim.records.kernels"]


def _network(rng, n=400, ties=6):
    """A random symmetric 0/1 CSR adjacency, as sim.network builds it (int32, float32 ones)."""
    src = rng.integers(0, n, n * ties // 2)
    dst = rng.integers(0, n, n * ties // 2)
    keep = src != dst
    a = sp.csr_matrix((np.ones(2 * keep.sum(), np.float32),
                       (np.r_[src[keep], dst[keep]], np.r_[dst[keep], src[keep]])), shape=(n, n))
    a.sum_duplicates()
    a.data[:] = 1.0
    return a


def _splitmix_numpy(key, index):
    """The NumPy SplitMix64 that RandomStreams.uniform_at used before the kernel."""
    z = np.asarray(index, np.uint64) + np.uint64(1)
    z *= np.uint64(0x9E3779B97F4A7C15)
    z += key
    z ^= z >> np.uint64(30)
    z *= np.uint64(0xBF58476D1CE4E5B9)
    z ^= z >> np.uint64(27)
    z *= np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return (z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@pytest.mark.parametrize("seed", SEEDS)
def test_splitmix_uniforms_equal_the_numpy_generator(seed):
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, 2**63, 5, dtype=np.uint64) * np.uint64(2)  # full 64-bit range
    index = rng.integers(0, 10**7, 1000)
    out = pcg64.splitmix_uniforms(keys, index)
    for k, key in enumerate(keys):
        np.testing.assert_array_equal(out[:, k], _splitmix_numpy(key, index))
    s = RandomStreams(seed)
    names = ["supply.veg.life", "supply.fruit.life"]
    many = s.uniform_at_streams(names, 7, index)
    for k, name in enumerate(names):
        np.testing.assert_array_equal(many[:, k], s.uniform_at(name, 7, index))
        np.testing.assert_array_equal(many[:, k], _splitmix_numpy(s._keys([name], 7)[0], index))


@pytest.mark.parametrize("seed", SEEDS)
def test_scatter_rows_equals_the_sparse_product(seed):
    rng = np.random.default_rng(seed)
    a = _network(rng)
    counts = (a @ (rng.random((a.shape[0], 5)) < 0.3)).astype(np.float32)
    rows = np.sort(rng.choice(a.shape[0], 60, replace=False)).astype(np.int64)
    delta = rng.integers(-1, 2, (60, 5)).astype(np.float32)
    expected = counts + np.asarray(a[rows].T @ delta)
    network.scatter_rows(a.indptr, a.indices, a.data, rows, delta, counts)
    np.testing.assert_array_equal(counts, expected)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("loss", [0.0, 0.07])
def test_spread_complaints_equals_the_formulas(seed, loss):
    rng = np.random.default_rng(seed)
    a = _network(rng)
    n, n_p = a.shape[0], 3
    trust, heard = rng.random((n, n_p)), rng.random(n) * 3 * (rng.random(n) < 0.5)
    rows = np.sort(rng.choice(n, 50, replace=False)).astype(np.int64)
    x = np.zeros((50, n_p), np.float32)
    x[np.arange(50), rng.integers(0, n_p, 50)] = 1.0
    x[rng.random(50) < 0.2, 0] = 1.0  # some complain about two platforms
    # The NumPy code the kernel replaced (GroupBuyingMarket._spread_complaints).
    h_all = np.asarray(a[rows].T @ x)
    hit = np.flatnonzero(h_all.any(axis=1))
    h = h_all[hit]
    trust_np, new_heard = trust.copy(), np.zeros(n)
    if loss > 0:
        trust_np[hit] *= np.power(1.0 - loss, h)
    new_heard[hit] = np.asarray(h, np.float64).sum(axis=1)
    heard_np = decay_complaints(heard, new_heard, 10.0)

    table = (np.power(1.0 - loss, np.arange(int(a.sum(axis=1).max()) + 1, dtype=np.float32))
             if loss > 0 else np.zeros(0, np.float32))
    scratch = np.zeros((n, n_p), np.float32)
    k_trust, k_heard = trust.copy(), heard.copy()
    n_hit = wom_k.spread_complaints(a.indptr, a.indices, a.data, rows, x, k_trust, k_heard,
                                      2.0 ** (-1.0 / 10.0), table, scratch)
    assert n_hit == len(hit) > 0
    np.testing.assert_array_equal(k_trust, trust_np)
    np.testing.assert_array_equal(k_heard, heard_np)
    assert not scratch.any()  # left zero for the next day


def _consumers(rng, n=500, n_p=3):
    return dict(
        adopted=rng.random(n) < 0.6,
        is_leader=rng.random(n) < 0.05,
        day_last_order=np.where(rng.random(n) < 0.7, rng.integers(0, 60, n), -1).astype(np.int32),
        day_adopted=rng.integers(0, 30, n).astype(np.int32),
        last_platform=rng.integers(-1, n_p, n).astype(np.int16),
        day_last_order_p=np.where(rng.random((n, n_p)) < 0.5, rng.integers(0, 60, (n, n_p)),
                                  -1).astype(np.int32),
        leader_of=np.where(rng.random((n, n_p)) < 0.6, rng.integers(0, 40, (n, n_p)),
                           -1).astype(np.int32),
        aware=rng.random((n, n_p)) < 0.5,
        trust=rng.random((n, n_p)),
        in_village=rng.random(n) < 0.4,
        order_rate=rng.random(n) * 0.3,
        price_sensitivity=np.where(rng.random(n) < 0.05, 0.0, rng.random(n) * 3),
        p_scale=rng.random(n) * 2,
        complaints_heard=rng.random(n) * 2 * (rng.random(n) < 0.3),
        orders=rng.integers(0, 9, n).astype(np.int64),
    )


def _neighbour_counts(rng, n):
    """Degrees and neighbour counts (adopters, leaders, users of 3 platforms) up to the degree."""
    degree = rng.integers(0, 12, n).astype(np.float32)
    return degree, np.floor(rng.random((n, 5)) * (degree[:, None] + 1)).astype(np.float32)


@pytest.mark.parametrize("seed", SEEDS)
def test_changed_state_rows_gives_the_change_of_the_counted_matrix(seed):
    rng = np.random.default_rng(seed)
    c, d, recent_days, n_cols = _consumers(rng), 70, 30, 5
    last_p = c["day_last_order_p"] + 10  # days 10-69: some within 30 days of day 70, some not

    def x_of(adopted, leader, recent):
        x = np.zeros((len(adopted), n_cols), np.float32)
        x[:, 0], x[:, 1], x[:, 2:] = adopted, leader, recent
        return x

    # Every platform the household ordered from in the window counts, not only its last one
    # (ODD 7.1: "neighbours who ordered from j in the last 30 days").
    recent_now = (c["day_last_order_p"] >= 0) & (d - last_p <= recent_days)
    assert (recent_now.sum(axis=1) >= 2).any(), "some households should count for two platforms"
    old = (c["adopted"] ^ (rng.random(500) < 0.1), c["is_leader"] ^ (rng.random(500) < 0.1),
           recent_now ^ (rng.random(recent_now.shape) < 0.1))
    state = tuple(s.copy() for s in old)
    last_p = np.where(c["day_last_order_p"] >= 0, last_p, -1).astype(np.int32)
    rows, delta = wom_k.changed_state_rows(c["adopted"], c["is_leader"], last_p, d,
                                             recent_days, *state, n_cols)
    x_new = x_of(c["adopted"], c["is_leader"], recent_now)
    x_old = x_of(*old)
    changed = np.flatnonzero((x_new != x_old).any(axis=1))
    np.testing.assert_array_equal(rows, changed)
    np.testing.assert_array_equal(delta, x_new[rows] - x_old[rows])
    for s, now in zip(state, (c["adopted"], c["is_leader"], recent_now), strict=True):
        np.testing.assert_array_equal(s, now)  # brought up to date


@pytest.mark.parametrize("seed", SEEDS)
def test_adoption_candidates_and_lapse_equal_the_formulas(seed):
    rng = np.random.default_rng(seed)
    c, n = _consumers(rng), 500
    degree, nb = _neighbour_counts(rng, n)
    neighbourhood = rng.integers(0, 7, n).astype(np.int32)
    reach_k = rng.random(7)
    cand, prob = wom_k.adoption_candidates(c["adopted"], reach_k, neighbourhood, nb[:, 0],
                                             nb[:, 1], degree, c["p_scale"], 0.01, 0.3, 0.02)
    expected_cand = np.flatnonzero(~c["adopted"])
    np.testing.assert_array_equal(cand, expected_cand)
    loss = 0.2  # the caller applies the complaints factor and the clip
    prob = np.clip(prob * np.power(1.0 - loss, c["complaints_heard"][cand]), 0.0, 1.0)
    expected = adoption_probability(0.01, 0.3, reach_k[neighbourhood[cand]],
                                    nb[cand, 0].astype(np.float64), degree[cand],
                                    nb[cand, 1] > 0, 0.02, c["p_scale"][cand],
                                    c["complaints_heard"][cand], loss)
    np.testing.assert_array_equal(prob, expected)

    d, lapse_days, lapse_trust = 60, 20, 0.4
    # The wait runs from the later of the last order and the adoption (ODD 7.1: "not ordered
    # (or adopted) for lapse_days"): some households here adopted (again) after their last
    # order, and for some of them only that adoption keeps them from lapsing.
    c["day_adopted"] = rng.integers(0, d, n).astype(np.int32)
    last = np.maximum(c["day_last_order"], c["day_adopted"])
    stale = c["adopted"] & ~c["is_leader"] & (d - last > lapse_days)
    drop = stale & (c["trust"].max(axis=1) < lapse_trust)
    readopted = c["adopted"] & ~c["is_leader"] & (c["trust"].max(axis=1) < lapse_trust) & (
        c["day_last_order"] >= 0) & (d - c["day_last_order"] > lapse_days) & ~stale
    assert readopted.any(), "the state should hold re-adopters for the check to bite"
    adopted = c["adopted"].copy()
    k = wom_k.lapse(adopted, c["is_leader"], c["day_last_order"], c["day_adopted"],
                      c["trust"], d, lapse_days, lapse_trust)
    assert k == drop.sum() > 0
    np.testing.assert_array_equal(adopted, c["adopted"] & ~drop)


@pytest.mark.parametrize("seed", SEEDS)
def test_become_aware_equals_the_formula(seed):
    rng = np.random.default_rng(seed)
    c, n = _consumers(rng), 500
    degree, nb = _neighbour_counts(rng, n)
    for j in range(3):
        cand = np.flatnonzero(~c["aware"][:, j])
        p = awareness_probability(0.02, 0.4, nb[cand, 2 + j], degree[cand], 0.3,
                                  c["leader_of"][cand, j] >= 0)
        # Uniforms on the probabilities themselves and one step below: an ulp of difference in
        # the kernel's probability changes the outcome.
        u = rng.random(n)
        u[cand] = np.where(rng.random(len(cand)) < 0.5, p, np.nextafter(p, -1.0))
        expected = c["aware"].copy()
        expected[cand[u[cand] < p], j] = True
        aware = c["aware"].copy()
        np.testing.assert_array_equal(wom_k.unaware(aware, j), cand)
        k = wom_k.become_aware(aware, j, 0.02, 0.4, nb[:, 2 + j], degree, 0.3,
                                 c["leader_of"], cand, u[cand])
        assert k == (expected != c["aware"]).sum() > 0
        np.testing.assert_array_equal(aware, expected)


@pytest.mark.parametrize("seed", SEEDS)
def test_orders_kernels_equal_occasion_choice_and_logsum(seed):
    rng = np.random.default_rng(seed)
    c, n, n_p, d = _consumers(rng), 500, 3, 61
    active = np.array([True, True, seed % 2 == 0])
    promotion, dem_town, dem_village = 0.3, 1.1, 0.9
    # Uniforms on the occasion rates themselves (with and without the leader's promotion) and
    # one step below: an ulp of difference in the kernel's rate changes the outcome.
    demand = np.where(c["in_village"], dem_village, dem_town)
    has_leader = (c["leader_of"] >= 0).any(axis=1)
    # usual leaders (some none), half of whose points run community services (ODD 7.7)
    usual = np.where(rng.random(n) < 0.7, rng.integers(0, 12, n), -1)
    extra_of = np.where(rng.random(12) < 0.5, rng.random(12) * 0.05, 0.0)
    rate = (c["order_rate"] * demand * (1.0 + promotion * has_leader)
            + np.where(usual >= 0, extra_of[np.maximum(usual, 0)], 0.0))
    u_occ = np.where(rng.random(n) < 0.5, rate, np.nextafter(rate, -1.0))
    u_occ = np.where(rng.random(n) < 0.5, u_occ, rng.random(n))
    n_occ, idx, reach = choice_k.occasion_choosers(
        c["adopted"], c["order_rate"], c["in_village"], dem_town, dem_village, c["leader_of"],
        promotion, u_occ, c["aware"], active, usual, extra_of, float(extra_of.max()))
    # The NumPy code of phase_orders before the kernels (rate as above).
    occasion = c["adopted"] & (u_occ < rate)
    cand = np.flatnonzero(occasion)
    reach_cand = c["aware"][cand] & (c["leader_of"][cand] >= 0) & active[None, :]
    can = reach_cand.any(axis=1)
    assert n_occ == occasion.sum()
    np.testing.assert_array_equal(idx, cand[can])
    np.testing.assert_array_equal(reach, reach_cand[can])
    assert len(idx) > 20

    n_c = 5
    ref_prices = rng.random(n_c) * 8 + 1
    # today's prices at the deals (some categories discounted) and the purchase frequencies
    prices = ref_prices[None, :] * (rng.random((n_p, n_c)) + 0.5) \
        * np.where(rng.random((n_p, n_c)) < 0.3, 0.8, 1.0)
    b = np.array([0.7, 0.5, 0.0, 0.2, 0.3])  # one category never drawn on its own
    u_basket = rng.random((len(idx), n_c))
    # each platform's coupon and target (sim.coupons.BITS): all, new_users, lapsed in 5 days +
    # village, segment 1 + price_sensitive, town, cycled over the platforms (by seed)
    coupon_of = rng.random(n_p) * 8
    kinds = (np.arange(n_p) + seed) % 5
    masks = np.array([0, 1, 2 | 4, 16 | 32, 8], np.int64)[kinds]
    segs = np.where(masks & 16, 1, -1).astype(np.int64)
    lapsed = np.full(n_p, 5, np.int64)
    segment = (rng.random(n) * 3).astype(np.int8)
    sensitive = rng.random(n) < 0.5
    quality, ref = rng.random(n_p) * 0.5, float(ref_prices.sum())
    tw, habit, outside = 1.5, 0.8, -0.3
    reputation, w = rng.random(n_p), 0.4
    # loyalty to the usual leader (0.7 where it serves the platform) and a trip (-1) for some
    extra = (0.7 * (rng.random((len(idx), n_p)) < 0.4)
             - 1.0 * (rng.random((len(idx), n_p)) < 0.2))
    z, vmax, coupon_yuan, elig, basket, basket_ref, v_raw, v_free = \
        choice_k.choice_utilities_rows(
            idx, prices, ref_prices, u_basket, b, coupon_of, masks, segs, lapsed, d,
            c["in_village"], segment, sensitive, True, ref, c["day_last_order_p"],
            c["price_sensitivity"], c["trust"], c["last_platform"], quality, reach, tw, habit,
            outside, extra, reputation, w)
    np.testing.assert_array_equal(basket, basket_mask(u_basket, b))
    assert not basket[:, 2].any() and (basket.sum(axis=1) >= 1).all()
    # the targets, written out (sim.coupons' module docstring)
    last = c["day_last_order_p"][idx]
    vil, seg_i, sens = c["in_village"][idx], segment[idx], sensitive[idx]
    ok = np.stack([[np.ones(len(idx), bool), last[:, j] < 0,
                    (last[:, j] >= 0) & (d - last[:, j] > 5) & vil,
                    (seg_i == 1) & sens, ~vil][kinds[j]] for j in range(n_p)], axis=1)
    np.testing.assert_array_equal(elig, ok)
    assert elig.any(axis=0).all() and not elig.all()
    expected_coupon = np.where(ok, coupon_of[None, :], 0.0)
    np.testing.assert_array_equal(coupon_yuan, expected_coupon)
    beta = c["price_sensitivity"][idx]
    v, pref = basket_utilities(basket, prices, ref_prices, expected_coupon, beta,
                               c["trust"][idx], reputation, w,
                               c["last_platform"][idx].astype(np.int64), quality, reach, tw,
                               habit, outside, extra)
    np.testing.assert_array_equal(basket_ref, pref)
    np.testing.assert_array_equal(vmax, v.max(axis=1))
    np.testing.assert_array_equal(z, v - v.max(axis=1, keepdims=True))
    np.testing.assert_array_equal(v_raw, v)
    v0, _ = basket_utilities(basket, prices, ref_prices, 0.0 * expected_coupon, beta,
                             c["trust"][idx], reputation, w,
                             c["last_platform"][idx].astype(np.int64), quality, reach, tw,
                             habit, outside, extra)
    np.testing.assert_array_equal(v_free, v0[:, 1:])
    # The special case of ODD 4.2: the full basket, no deals, w = 0 is the logit of
    # choice_utilities (price index and coupon over the reference basket), to rounding.
    full = np.ones((len(idx), n_c))
    z1, vmax1, *_ = choice_k.choice_utilities_rows(
        idx, prices, ref_prices, full * 0.0, np.ones(n_c), coupon_of, masks, segs, lapsed, d,
        c["in_village"], segment, sensitive, False, ref, c["day_last_order_p"],
        c["price_sensitivity"], c["trust"], c["last_platform"], quality, reach, tw, habit,
        outside, extra, reputation, 0.0)
    v1 = choice_utilities(prices.sum(axis=1) / ref, expected_coupon / ref, beta, c["trust"][idx],
                          c["last_platform"][idx].astype(np.int64), quality, reach, tw, habit,
                          outside, extra)
    np.testing.assert_allclose(z1 + vmax1[:, None], v1, rtol=1e-12, atol=1e-12)
    # from here on, the check of the logit draw and logsum as before, on the utilities v
    ref = pref
    u = rng.random(len(idx))
    k, total = choice_k.choice_probabilities(np.exp(z), u)
    np.testing.assert_array_equal(k, choose(v, u))
    surplus = (np.divide(ref, beta, out=np.zeros(len(beta)), where=beta > 0)
               * (vmax + np.log(total) - v[:, 0]))
    np.testing.assert_array_equal(surplus, logsum_surplus_yuan(v, beta, ref, v[:, 0]))
    assert (k > 0).any() and (k == 0).any()

    # The order records of today's buyers.
    c2 = {key: c[key].copy() for key in ("last_platform", "day_last_order", "day_last_order_p",
                                         "orders")}
    days = LastOrderDays(c["day_last_order_p"])
    with pytest.raises(ValueError, match="by_day"):  # no room for day d: nothing is written
        choice_k.record_choices(idx, k, d, coupon_yuan, elig, c["leader_of"], c2["last_platform"],
                               c2["day_last_order"], c2["day_last_order_p"], c2["orders"],
                               np.ascontiguousarray(days.by_day[:, :d]))
    who, j, leader, coupon, first, takers = choice_k.record_choices(
        idx, k, d, coupon_yuan, elig, c["leader_of"], c2["last_platform"], c2["day_last_order"],
        c2["day_last_order_p"], c2["orders"], days.reserve(d))
    buy = k > 0
    np.testing.assert_array_equal(who, idx[buy])
    np.testing.assert_array_equal(j, k[buy] - 1)
    np.testing.assert_array_equal(leader, c["leader_of"][who, j])
    np.testing.assert_array_equal(coupon, coupon_yuan[np.flatnonzero(buy), j])
    was_first = c["day_last_order_p"][who, j] < 0
    np.testing.assert_array_equal(first, np.bincount(j[was_first], minlength=n_p))
    np.testing.assert_array_equal(takers, np.bincount(j[elig[np.flatnonzero(buy), j]],
                                                      minlength=n_p))
    assert (c2["day_last_order_p"][who, j] == d).all() and (c2["day_last_order"][who] == d).all()
    np.testing.assert_array_equal(c2["last_platform"][who], j)
    np.testing.assert_array_equal(c2["orders"], c["orders"] + np.bincount(who, minlength=n))
    # The counts by day of last order moved with the buyers: as if counted afresh.
    np.testing.assert_array_equal(days.by_day[:, :d + 1],
                                  LastOrderDays(c2["day_last_order_p"]).by_day[:, :d + 1])


@pytest.mark.parametrize("seed", SEEDS)
def test_chain_losses_and_records_equal_the_numpy_code(seed):
    from sim import coldchain

    rng = np.random.default_rng(seed)
    m, n_c, n_p, n_s = 300, 6, 3, 4
    life0 = rng.uniform(0.05, 1.0, (m, n_c))
    filled = rng.random((m, n_c)) < 0.9
    defect = filled & (rng.random((m, n_c)) < 0.05)
    from_stock = rng.random(m) < 0.3
    supplier = np.where(filled, rng.integers(0, n_s, (m, n_c)), -1)
    transit = rng.uniform(2, 30, n_s)
    c2g, to_pickup, dwell, extra = 8.0, np.array([3.0, 6.0]), np.array([10.0, 20.0]), 24.0
    village, late = rng.random(m) < 0.4, rng.random(m) < 0.2
    cold = rng.random((m, 4)) < 0.5
    life_cold, life_amb = rng.uniform(2, 15, n_c), rng.uniform(0.5, 4, n_c)
    frac = 0.3
    # The NumPy code of phase_logistics_and_pickup before the kernel.
    stocked = from_stock[:, None]
    hours = np.empty((m, n_c, 4))
    hours[:, :, 0] = np.where(stocked, 0.0, transit[np.maximum(supplier, 0)])
    hours[:, :, 1] = np.where(stocked, 0.0, c2g)
    hours[:, :, 2] = np.where(village, to_pickup[1], to_pickup[0])[:, None]
    hours[:, :, 3] = (np.where(village, dwell[1], dwell[0]) + late * extra)[:, None]
    life_days = np.where(cold[:, None, :], life_cold[None, :, None], life_amb[None, :, None])
    used = hours / 24.0 / life_days
    leg = coldchain.leg_of_loss(life0, used)
    spoiled = filled & (defect | (leg >= 0))
    remaining = life0 - used.sum(axis=2)
    low_life = filled & ~spoiled & (remaining < frac)
    stage = np.where(defect, 0, coldchain.LEG_LOSS_STAGE[leg])
    k_spoiled, k_low, k_stage = cold_k.chain_losses(
        life0, filled, defect, from_stock, supplier, transit, c2g, to_pickup, dwell, extra,
        village, late, cold, life_cold, life_amb, frac, coldchain.LEG_LOSS_STAGE.astype(np.int64))
    np.testing.assert_array_equal(k_spoiled, spoiled)
    np.testing.assert_array_equal(k_low, low_life)
    np.testing.assert_array_equal(k_stage[spoiled], stage[spoiled])
    assert spoiled.any() and low_life.any() and (leg >= 0).any() and (leg < 0).any()

    # The records: counts with bincount, yuan with np.add.at (in row order).
    platform = rng.integers(0, n_p, m)
    refund_units = rng.random((m, n_c)) * spoiled
    cost = rng.random((m, n_c)) * spoiled
    shape4 = (n_p, n_c, 3, len(coldchain.LOSS_STAGES))
    counts = np.zeros((n_p, n_c), np.int64)
    expected = {"shipped": counts.copy(), "spoiled": counts.copy(), "low_life": counts.copy(),
                "refunds": np.zeros((n_p, n_c)),
                "losses": np.zeros(shape4, np.int64), "loss_yuan": np.zeros(shape4),
                "spoil_cost": np.zeros((n_p, n_c))}
    got = {k: v.copy() for k, v in expected.items()}
    jj = np.broadcast_to(platform[:, None], (m, n_c))
    cc = np.broadcast_to(np.arange(n_c)[None, :], (m, n_c))
    area = np.broadcast_to(village.astype(np.int64)[:, None], (m, n_c))
    np.add.at(expected["shipped"], (jj[filled], cc[filled]), 1)
    np.add.at(expected["spoiled"], (jj[spoiled], cc[spoiled]), 1)
    np.add.at(expected["low_life"], (jj[low_life], cc[low_life]), 1)
    np.add.at(expected["refunds"], (jj, cc), refund_units)
    sel = (jj[spoiled], cc[spoiled], area[spoiled], stage[spoiled])
    np.add.at(expected["losses"], sel, 1)
    np.add.at(expected["loss_yuan"], sel, cost[spoiled])
    np.add.at(expected["spoil_cost"], (jj, cc), cost)
    cold_k.record_units(platform, village, filled, spoiled, low_life, stage, refund_units, cost,
                         *got.values())
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key], err_msg=key)


@pytest.mark.parametrize("seed", SEEDS)
def test_presale_fill_equals_the_numpy_queue(seed):
    rng = np.random.default_rng(seed)
    m, n_c, n_s = 400, 5, 3
    platform = rng.integers(0, 2, m)
    u = {key: rng.random((m, n_c)) for key in ("supplier", "life", "relabel", "defect")}
    if seed % 2:  # many equal uniforms: the queue keeps their order in sel (a stable sort)
        u["supplier"] = rng.integers(0, 20, (m, n_c)) / 20.0
    sel = np.flatnonzero(platform == 0)
    # the orders' baskets: every category (seeds 0, 1) or a random mask (a category's queue
    # holds the orders that hold it, sim.choice.baskets)
    ordered = np.ones((m, n_c), bool) if seed < 2 else rng.random((m, n_c)) < 0.6
    alloc = rng.integers(0, len(sel) // 2, (n_c, n_s))  # some categories run short
    alloc[0] = [len(sel), 0, 0]  # one filled by a single supplier
    life_min, life_max = rng.uniform(0.3, 0.6, n_c), rng.uniform(0.7, 1.0, n_c)
    relabel_prob, relabel_age = np.array([0.0, 0.3, 0.6]), np.array([0.0, 0.2, 0.4])
    defect_prob, cost_ref, cost_mult = np.array([0.01, 0.05, 0.1]), rng.random(n_c) * 9, \
        np.array([1.0, 0.9, 0.8])

    def book():
        return (np.full((m, n_c), -1, np.int64), np.zeros((m, n_c)), np.zeros((m, n_c), bool),
                np.zeros((m, n_c)), np.zeros((m, n_c), bool))

    expected, got = book(), book()
    supplier, life0, defect, cost, filled = expected
    for ci in range(n_c):  # the NumPy code of phase_procurement before the kernel
        sel_c = sel[ordered[sel, ci]]
        pos = np.empty(len(sel_c), np.int64)
        pos[np.argsort(u["supplier"][sel_c, ci], kind="stable")] = np.arange(len(sel_c))
        s = np.searchsorted(np.cumsum(alloc[ci]), pos, side="right")
        ok = s < n_s
        rows, s = sel_c[ok], s[ok]
        life = life_min[ci] + (life_max[ci] - life_min[ci]) * u["life"][rows, ci]
        life = np.where(u["relabel"][rows, ci] < relabel_prob[s], life - relabel_age[s], life)
        supplier[rows, ci], life0[rows, ci] = s, life
        defect[rows, ci] = u["defect"][rows, ci] < defect_prob[s]
        cost[rows, ci] = cost_ref[ci] * cost_mult[s]
        filled[rows, ci] = True
    supply_k.presale_fill(sel, ordered, u["supplier"], u["life"], u["relabel"], u["defect"], alloc,
                         life_min, life_max, relabel_prob, relabel_age, defect_prob, cost_ref,
                         cost_mult, *got)
    for name, e, g in zip(("supplier", "life0", "defect", "cost", "filled"), expected, got,
                          strict=True):
        np.testing.assert_array_equal(g, e, err_msg=name)
    assert filled[:, 0].sum() == ordered[sel, 0].sum()
    assert 0 < filled[:, 1:].sum() < ordered[sel, 1:].sum()
    assert not (filled & ~ordered).any(), "a unit outside the basket is never filled"


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n_p", [3, 2, 4])  # three platforms have a loop of their own
def test_record_counts_equal_the_numpy_counts(seed, n_p):
    rng = np.random.default_rng(seed)
    c = _consumers(rng, n_p=n_p)
    active = np.array([True, seed % 2 == 0, True, False][:n_p])
    (adopters, adopters_town, n_town, adopters_village, n_village, aware_any, aware_p, leader_p,
     covered) = records_k.household_counts(c["adopted"], c["in_village"], c["aware"],
                                         c["leader_of"], active)
    town = ~c["in_village"]
    assert (adopters, adopters_town, n_town, adopters_village, n_village) == (
        c["adopted"].sum(), c["adopted"][town].sum(), town.sum(),
        c["adopted"][~town].sum(), (~town).sum())
    assert aware_any == c["aware"].any(axis=1).sum()
    np.testing.assert_array_equal(aware_p, c["aware"].sum(axis=0))
    np.testing.assert_array_equal(leader_p, (c["leader_of"] >= 0).sum(axis=0))
    assert covered == ((c["leader_of"] >= 0) & active[None, :]).any(axis=1).sum()


@pytest.mark.parametrize("seed", [0, 1, 3, 2**31 - 1, 2**32, 2**40 + 5, 2**70 + 3])
def test_stream_keys_equal_numpys_seed_sequence(seed):
    s = RandomStreams(seed)
    names = ["supply.veg.life", "orders.choice", "coldchain.leg.to_grid", "", "x" * 40]
    days = [0, 1, 59, 364, 2**31 - 1]
    for day in days:
        keys = s._keys(names, day)
        for name, key in zip(names, keys, strict=True):
            ss = np.random.SeedSequence(entropy=seed, spawn_key=(stable_hash(name), day))
            assert key == ss.generate_state(1, np.uint64)[0], (name, day)


@pytest.mark.parametrize("seed", SEEDS)
def test_group_sums_equal_numpy_masked_sums(seed):
    """The per-platform totals of the order book (sim.arrays.sums_by) are NumPy's own sums of
    the masked selection, bit for bit: the same pairwise order for runs shorter than 8, up to
    128 (eight accumulators) and longer (halved recursively). Values span nine orders of
    magnitude so that any other order of the additions rounds differently."""
    from sim.arrays import sums_by

    rng = np.random.default_rng(seed)
    for m in (0, 1, 7, 8, 9, 64, 129, 300, 5000):
        for k in (1, 3, 15):
            v = rng.standard_normal((m, k)) * 10.0 ** rng.uniform(-3, 6, (m, k))
            rows = rng.integers(-1, 3, m)  # -1: a row in no group
            cells = rng.integers(-1, 4, (m, k))
            got_rows, got_cells = sums_by(v, rows, 3), sums_by(v, cells, 4)
            got_1d = sums_by(v[:, 0], rows, 3)
            for g in range(3):
                assert got_rows[g] == v[rows == g].sum()
                assert got_1d[g] == v[rows == g, 0].sum()
            for g in range(4):
                assert got_cells[g] == v[cells == g].sum()


@pytest.mark.parametrize("seed", SEEDS)
def test_row_sums_equal_numpy(seed):
    """sim.arrays.row_sums is ``a.sum(axis=1)`` bit for bit, for rows shorter than NumPy's
    pairwise block (added column by column) and longer (left to NumPy). Values span nine
    orders of magnitude and include signed zeros, so that another order of the additions, or
    another start than the first column, would round (or sign a zero) differently."""
    from sim.arrays import row_sums

    rng = np.random.default_rng(seed)
    for m in (0, 1, 7, 1000):
        for k in range(0, 13):
            a = rng.standard_normal((m, k)) * 10.0 ** rng.uniform(-3, 6, (m, k))
            a[rng.random((m, k)) < 0.1] = -0.0
            a[rng.random((m, k)) < 0.1] = 0.0
            got, want = row_sums(a), a.sum(axis=1)
            assert got.dtype == want.dtype and got.shape == want.shape
            assert np.array_equal(got.view(np.uint64), want.view(np.uint64)), (m, k)


@pytest.mark.parametrize("seed", SEEDS)
def test_deliveries_equal_the_numpy_code(seed):
    """Refunds, complaints and trust after delivery (sim.coldchain.kernels.deliveries) equal the
    NumPy code of the logistics and pickup phase before the kernel, bit for bit. Prices span
    four orders of magnitude (a refund row's sum is order-sensitive); some orders are worth
    nothing (paid share 0), some arrive empty (no experience: trust unchanged)."""
    rng = np.random.default_rng(seed)
    m, n_c, n, n_p, n_leaders = 500, 15, 800, 3, 40
    prices = rng.uniform(0.01, 100.0, (m, n_c)) * (rng.random((m, n_c)) < 0.7)
    prices[:10] = 0.0  # orders of no value
    filled = prices > 0
    filled[10:20] = False  # nothing came
    spoiled = filled & (rng.random((m, n_c)) < 0.1)
    low_life = filled & ~spoiled & (rng.random((m, n_c)) < 0.1)
    value = prices.sum(axis=1)
    paid = value - np.minimum(rng.uniform(0, 20, m), value)
    consumer = rng.permutation(n)[:m]  # a household orders at most once a day
    platform = rng.integers(0, n_p, m)
    leader = rng.integers(0, n_leaders, m)
    spend = rng.uniform(0, 1000, n)
    trust = rng.random((n, n_p))
    month_complaints = rng.integers(0, 5, n_leaders)
    rate, loss = 0.1, 0.3

    # The NumPy code before the kernel.
    e_spend, e_trust, e_mc = spend.copy(), trust.copy(), month_complaints.copy()
    paid_share = np.divide(paid, value, out=np.zeros(m), where=value > 0)
    e_refund_units = prices * spoiled * paid_share[:, None]
    e_refund = e_refund_units.sum(axis=1)
    e_spend[consumer] -= e_refund
    any_spoiled = spoiled.any(axis=1)
    e_quality = ~any_spoiled & low_life.any(axis=1)
    e_complaint = any_spoiled | e_quality
    e_picked = filled.any(axis=1)
    np.add.at(e_mc, leader[e_complaint], 1)
    tr = e_trust[consumer, platform]
    good = tr + rate * (1.0 - tr)
    e_trust[consumer, platform] = np.where(e_complaint, tr * (1.0 - loss),
                                           np.where(e_picked, good, tr))

    refund_units, refund, complaint, quality, picked = cold_k.deliveries(
        prices, paid, value, filled, spoiled, low_life, consumer, platform, leader, spend, trust,
        month_complaints, rate, loss)
    np.testing.assert_array_equal(refund_units, e_refund_units)
    np.testing.assert_array_equal(refund, e_refund)
    np.testing.assert_array_equal(complaint, e_complaint)
    np.testing.assert_array_equal(quality, e_quality)
    np.testing.assert_array_equal(picked, e_picked)
    np.testing.assert_array_equal(spend, e_spend)
    np.testing.assert_array_equal(trust, e_trust)
    np.testing.assert_array_equal(month_complaints, e_mc)
    assert e_quality.any() and any_spoiled.any() and (e_refund > 0).any()


@pytest.mark.slow
def test_each_kernel_is_compiled_once_whatever_the_scenario():
    """Every kernel sees the same argument types in every scenario, so a process compiles one
    version of it. numba's cache keeps one index per kernel; two processes compiling different
    versions at once on a fresh machine (a sweep over scenarios) could leave an index that
    points at the other's code. Run in a fresh process: the tests above call the kernels with
    their own types."""
    import json
    import subprocess
    import sys

    script = (
        "import json\n"
        "from sim.api import compose\n"
        "from sim.model import GroupBuyingMarket\n"
        "import importlib\n"
        "for extra in ([], ['market=complete'], ['procurement=stock'], ['coldchain=none'],\n"
        "              ['market=small_world', 'coldchain=full', 'incentive=multi_source'],\n"
        "              ['market=village_cluster', \"wom.scandals=[{day:20,platform:incumbent,"
        "severity:0.5}]\"]):\n"
        "    GroupBuyingMarket(compose(['market.consumers=600', 'days=40'] + extra)).run()\n"
        f"mods = [importlib.import_module(m) for m in {KERNEL_MODULES!r}]\n"
        "print(json.dumps({k: len(getattr(m, k).signatures) for m in mods for k in m.__all__\n"
        "                  if hasattr(getattr(m, k), 'signatures')}))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)
    versions = json.loads(out.stdout.strip().splitlines()[-1])
    assert versions["deliveries"] == 1 and versions["group_sums"] == 1
    assert {k: v for k, v in versions.items() if v > 1} == {}


@pytest.mark.parametrize("seed", SEEDS)
def test_leader_selections_equal_the_numpy_code(seed):
    """The recruiting phase's candidates (sim.leaders.kernels.recruit_candidates) equal the
    NumPy expression they replaced."""
    rng = np.random.default_rng(seed)
    n, k = 3000, 40
    nb = rng.integers(0, k, n).astype(np.int32)
    cand, is_leader = rng.random(n) < 0.3, rng.random(n) < 0.05
    available = rng.integers(0, 60, n).astype(np.int32)
    deficit = rng.integers(0, 3, k)
    d = 30
    eligible = cand & ~is_leader & (available <= d)
    np.testing.assert_array_equal(
        leaders_k.recruit_candidates(np.flatnonzero(cand), is_leader, available, d, deficit, nb),
        np.flatnonzero(eligible & (deficit[nb] > 0)))


def _allocate_numpy(demand, share, capacity):
    """sim.suppliers.allocate as NumPy code, before the kernel: split, ration, offer the
    shortfall to the other suppliers, ration again."""
    from sim.supply.suppliers import ration, split_by_weights

    n_p, n_c, n_s = share.shape
    alloc = np.zeros((n_p, n_c, n_s), np.int64)
    for c in range(n_c):
        want = np.stack([split_by_weights(int(demand[p, c]), share[p, c]) for p in range(n_p)])
        for s in range(n_s):
            alloc[:, c, s] = ration(want[:, s], int(capacity[c, s]))
        short = demand[:, c] - alloc[:, c].sum(axis=1)
        if short.sum() == 0:
            continue
        spare = capacity[c] - alloc[:, c].sum(axis=0)
        requests = np.zeros((n_p, n_s), np.int64)
        for p in range(n_p):
            if short[p] <= 0:
                continue
            w = share[p, c] * (spare > 0)  # its own suppliers with room left
            requests[p] = split_by_weights(int(short[p]), w)
        for s in range(n_s):
            alloc[:, c, s] += ration(requests[:, s], int(spare[s]))
    return alloc


@pytest.mark.parametrize("seed", SEEDS)
def test_allocate_units_equals_the_numpy_rule(seed):
    """The suppliers' allocation (sim.supply.kernels.allocate_units) equals the NumPy rule unit for
    unit: plenty, shortages at some suppliers (rationing and the second offer), suppliers that
    do not carry a category, weights with equal remainders (ties go to the first)."""
    from sim.supply.suppliers import allocate

    rng = np.random.default_rng(seed)
    n_p, n_c, n_s = 3, 15, 4
    for trial in range(30):
        carries = rng.random((n_c, n_s)) < 0.7
        carries[:, 0] = True
        weights = rng.integers(0, 4, (n_p, n_c, n_s)) * carries  # small integers: ties
        weights[:, :, 0] += 1
        share = weights / weights.sum(axis=2, keepdims=True)
        demand = rng.integers(0, 400, (n_p, n_c))
        demand[:, :2] = 0
        scale = [10_000, 150, 40][trial % 3]  # plenty, some short, most short
        capacity = rng.integers(0, scale, (n_c, n_s)) * carries
        expected = _allocate_numpy(demand, share, capacity)
        np.testing.assert_array_equal(allocate(demand, share, capacity), expected)
        if trial % 3 == 2:
            assert (expected.sum(axis=2) < demand).any()  # shortages were exercised


def test_loyalty_and_travel_equal_the_numpy_code():
    """The choosers' group terms (sim.choice.kernels.loyalty_and_travel) equal the NumPy of
    ODD 7.2: travel where the pickup point is in another neighbourhood, kappa_L where the usual
    leader serves the platform."""
    rng = np.random.default_rng(3)
    n, n_p, n_rows = 500, 3, 40
    leader_of = np.where(rng.random((n, n_p)) < 0.7, rng.integers(0, n_rows, (n, n_p)),
                         -1).astype(np.int32)
    leader_nb = rng.integers(0, 5, n_rows).astype(np.int32)
    nb = rng.integers(0, 5, n).astype(np.int32)
    usual = np.where(rng.random(n) < 0.6, rng.integers(0, n_rows, n), -1)
    service_of = np.where(rng.random((n_rows, n_p)) < 0.5, rng.integers(0, n_rows, (n_rows, n_p)),
                          -1)
    idx = np.sort(rng.choice(n, 200, replace=False))
    got = choice_k.loyalty_and_travel(idx, leader_of, leader_nb, nb, usual, service_of, 0.7, -1.0)
    lo = leader_of[idx]
    want = np.zeros((len(idx), n_p))
    want += -1.0 * ((lo >= 0) & (leader_nb[np.maximum(lo, 0)] != nb[idx][:, None]))
    us = usual[idx]
    has = us >= 0
    want[has] += 0.7 * (service_of[us[has]] >= 0)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("seed", SEEDS)
def test_served_by_equals_the_numpy_code(seed):
    """The households that lose a pickup point when service rows stop (sim.leaders.kernels.
    served_by) equal ``flatnonzero(stopped[leader_of[:, j]])`` for every platform, -1 (none)
    reading the last entry."""
    rng = np.random.default_rng(seed)
    n, n_p, rows = 2000, 3, 60
    leader_of = rng.integers(-1, rows, (n, n_p)).astype(np.int32)
    stopped = np.zeros(rows + 1, bool)
    stopped[rng.choice(rows, 7, replace=False)] = True
    hit, ptr = leaders_k.served_by(leader_of, stopped)
    for j in range(n_p):
        want = np.flatnonzero(stopped[leader_of[:, j]])
        assert len(want) > 0
        np.testing.assert_array_equal(hit[ptr[j]:ptr[j + 1]], want)
