"""Choice and orders' compiled loops: today's occasions and choosers, their baskets, logit
utilities and choices, and the recording of each order on the household's row (ODD 7.2).
"""

from __future__ import annotations

import numpy as np

from sim.coupons import eligible
from sim.jit import GATHER_AHEAD, ahead, flag_buffer, flagged, jit, prefetch

__all__ = [
    "choice_probabilities",
    "choice_utilities_rows",
    "loyalty_and_travel",
    "occasion_choosers",
    "record_choices",
]


@jit
def occasion_choosers(adopted, order_rate, in_village, demand_town, demand_village,
                      leader_of, promotion, u_occ, aware, active, usual, extra_of, extra_max):
    """Today's order occasions and the households that can act on them (ODD 7.2).

    Rate ``order_rate_i * demand_i * (1 + promotion * [i has a leader]) + extra_of[usual_i]``
    (``extra_of``: the occasions a usual leader's community services add, per leader, at most
    ``extra_max``; ODD 7.7); an adopter has an occasion when its uniform is below it. A chooser
    is a household with an occasion and at least one reachable platform (aware of it, a leader
    of it, the platform active). Returns (number of occasions, choosers' indices, their
    reachable platforms (m, P) bool).
    """
    n, n_p = leader_of.shape
    # The adopters with an occasion even at the promoted rate (rounding is monotone), flagged
    # in one pass without branches; the leader lookup and the rest are done for them alone.
    ad = adopted.view(np.uint8)
    flags = flag_buffer(n)
    if promotion >= 0.0:
        for i in range(n):
            demand = demand_village if in_village[i] else demand_town
            flags[i] = ad[i] & np.uint8(u_occ[i] < order_rate[i] * demand * (1.0 + promotion)
                                        + extra_max)
    else:
        flags[:n] = ad
    cand = flagged(flags)
    idx = np.empty(cand.shape[0], np.int64)
    reach = np.empty((cand.shape[0], n_p), np.bool_)
    n_occ = 0
    m = 0
    for r in range(cand.shape[0]):
        ia = ahead(cand, r, GATHER_AHEAD)
        prefetch(leader_of, ia)
        prefetch(aware, ia)
        i = cand[r]
        demand = demand_village if in_village[i] else demand_town
        base = order_rate[i] * demand
        has_leader = False
        for j in range(n_p):
            if leader_of[i, j] >= 0:
                has_leader = True
        rate = base * (1.0 + promotion * (1.0 if has_leader else 0.0))
        if extra_max > 0.0 and usual[i] >= 0:
            rate += extra_of[usual[i]]
        if not u_occ[i] < rate:
            continue
        n_occ += 1
        can = False
        for j in range(n_p):
            ok = aware[i, j] and leader_of[i, j] >= 0 and active[j]
            reach[m, j] = ok
            can = can or ok
        if can:
            idx[m] = i
            m += 1
    return n_occ, idx[:m].copy(), reach[:m].copy()


@jit
def choice_utilities_rows(idx, prices, reference_prices, u_basket, purchase_frequency,
                          coupon_of, target_mask, target_segment, lapsed_days, d, in_village,
                          segment, sensitive, keep_free, reference_basket_yuan,
                          day_last_order_p, beta_all, trust_all, last_platform, quality, reach,
                          trust_weight, habit, outside_utility, extra, reputation,
                          reputation_weight):
    """Utilities of the choosers ``idx`` less each row's maximum, their coupons and baskets.

    Each chooser first draws its basket (:func:`sim.choice.baskets.basket_mask`, its uniforms
    ``u_basket`` (m, C) against the purchase frequencies); then, with ``P_ij`` the basket at
    platform j's ``prices`` (P, C; today's deal prices) and ``P_i,ref`` at the
    ``reference_prices``, and platform j's coupon ``coupon_of[j]`` where its target reaches
    household i (:func:`sim.coupons.eligible`: ``target_mask``, ``target_segment``,
    ``lapsed_days`` per platform, on day ``d``), at most the basket's price:

        V_ij = -beta_i (P_ij - coupon_ij) / P_i,ref + theta rep_ij + kappa_P [j == last_i]
               + alpha_j + extra_ij,   rep_ij = w R_j + (1 - w) e_ij
        V_i0 = u_outside P_i,ref / P_ref

    (ODD 7.2; ``extra``, (m, P): loyalty to the usual leader and travel; ``e_ij`` the
    household's trust, ``R_j`` the platform's reputation), ``-inf`` where unreachable. With the
    full basket, no deals, w = 0 this is ODD 4.2's logit. Returns ``(V - max_k V_ik, max_k V_ik,
    coupon_yuan, eligible, basket, P_i,ref, V, V_free)``, to be exponentiated by NumPy; with
    ``keep_free`` (a coupon is paid today), ``V`` (m, P + 1) and ``V_free`` (m, P), each
    platform's utility computed by the same operations with a zero coupon (the wasted coupon
    share, :func:`sim.coupons.wasted_orders`), else both with no rows.
    """
    m, n_p = idx.shape[0], prices.shape[0]
    n_c = prices.shape[1]
    z = np.empty((m, n_p + 1))
    vmax = np.empty(m)
    coupon = np.empty((m, n_p))
    elig = np.empty((m, n_p), np.bool_)
    m_free = m if keep_free else 0
    v_raw = np.empty((m_free, n_p + 1))
    v_free = np.empty((m_free, n_p))
    basket = np.empty((m, n_c), np.bool_)
    basket_ref = np.empty(m)
    weight = np.empty(n_c)  # 1.0 for the current basket's categories, else 0.0
    own = 1.0 - reputation_weight
    for r in range(m):
        ia = ahead(idx, r, GATHER_AHEAD)
        prefetch(day_last_order_p, ia)
        prefetch(beta_all, ia)
        prefetch(trust_all, ia)
        prefetch(last_platform, ia)
        i = idx[r]
        b = -beta_all[i]
        last = last_platform[i]
        # The basket (sim.choice.baskets.basket_mask, written out here: as a call it cost ~50
        # ns a chooser, a third of the loop): c in it when u_c < b_c; if none is, the smallest
        # u_c / b_c. weight[c] is 1.0 in it, else 0.0: a 0.0 term leaves a sum of non-negative
        # prices exactly as it was, so the sums need no branches.
        k_in = 0
        for c in range(n_c):
            x = u_basket[r, c] < purchase_frequency[c]
            basket[r, c] = x
            weight[c] = np.float64(x)
            k_in += x
        if k_in == 0:
            best, low = -1, np.inf
            for c in range(n_c):
                if purchase_frequency[c] > 0.0:
                    q = u_basket[r, c] / purchase_frequency[c]
                    if q < low:
                        best, low = c, q
            if best >= 0:
                basket[r, best] = True
                weight[best] = 1.0
        # the basket's sums, categories ascending (as NumPy sums a row masked to zeros)
        pref = 0.0
        for c in range(n_c):
            pref = pref + weight[c] * reference_prices[c]
        basket_ref[r] = pref
        z[r, 0] = outside_utility * (pref / reference_basket_yuan)
        for j in range(n_p):
            price = 0.0
            for c in range(n_c):
                price = price + weight[c] * prices[j, c]
            ok = target_mask[j] == 0 or eligible(target_mask[j], lapsed_days[j],
                                                 target_segment[j], i, j, d, day_last_order_p,
                                                 in_village, segment, sensitive)
            elig[r, j] = ok
            cy = coupon_of[j] if ok else 0.0
            coupon[r, j] = cy
            rep = reputation_weight * reputation[j] + own * trust_all[i, j]
            v = b * ((price - min(cy, price)) / pref) + trust_weight * rep + quality[j]
            if habit != 0.0 and last == j:
                v = v + habit
            v = v + extra[r, j]
            z[r, j + 1] = v if reach[r, j] else -np.inf
            if keep_free:
                # the same operations with a zero coupon: equal to v where it has none
                v0 = b * ((price - min(0.0, price)) / pref) + trust_weight * rep + quality[j]
                if habit != 0.0 and last == j:
                    v0 = v0 + habit
                v0 = v0 + extra[r, j]
                v_free[r, j] = v0 if reach[r, j] else -np.inf
        top = z[r, 0]
        for k in range(1, n_p + 1):
            if z[r, k] > top:
                top = z[r, k]
        vmax[r] = top
        if keep_free:
            for k in range(n_p + 1):
                v_raw[r, k] = z[r, k]
        for k in range(n_p + 1):
            z[r, k] = z[r, k] - top
    return z, vmax, coupon, elig, basket, basket_ref, v_raw, v_free


@jit
def choice_probabilities(w, u):
    """Logit choice by inversion on ``w = exp(V - max V)``, and each row's sum of ``w``.

    The option of :func:`sim.consumers.choose`: the number of cumulative probabilities
    ``cumsum(w) / sum(w)`` at or below the chooser's uniform ``u`` (capped at the last option);
    the sum, left to right as NumPy sums a short row, feeds the logsum
    (:func:`sim.consumers.logsum_surplus_yuan`).
    """
    m, n_o = w.shape
    k_out = np.empty(m, np.int64)
    total_out = np.empty(m)
    for r in range(m):
        s = w[r, 0]
        for k in range(1, n_o):
            s = s + w[r, k]
        # The partial sums again, in the same order (equal to the first pass's). As w >= 0 they
        # never decrease, nor do their quotients by s: the last, s / s, cannot count below the
        # cap, and is left out (a division each).
        cum = w[r, 0]
        count = 0
        for k in range(n_o - 1):
            if k > 0:
                cum = cum + w[r, k]
            count += cum / s <= u[r]
        k_out[r] = min(count, n_o - 1)
        total_out[r] = s
    return k_out, total_out


@jit
def record_choices(idx, k, d, coupon_yuan, eligible_of, leader_of, last_platform,
                   day_last_order, day_last_order_p, orders, by_day):
    """Today's buyers (choosers whose option ``k`` is a platform) and their order records.

    Updates each buyer's last platform, day of last order (overall and from the platform) and
    order count, and the counts of households by day of last order that the records read
    (``by_day``, :class:`sim.records.LastOrderDays`: per platform, then the latest and the
    second-latest over the platforms; its days must reach ``d``). Returns the buyers, their
    platform, leader and coupon, the number of first orders per platform (buyers who never
    ordered from it before today) and of its coupon's takers (buyers its target reached,
    ``eligible_of``, whatever the coupon).
    """
    n_p = day_last_order_p.shape[1]
    if d < 0 or d >= by_day.shape[1] or by_day.shape[0] != n_p + 2:
        raise ValueError("record_choices: by_day does not cover today or the platforms")
    m = 0
    for r in range(k.shape[0]):
        if k[r] > 0:
            m += 1
    who = np.empty(m, np.int64)
    plat = np.empty(m, np.int64)
    leader = np.empty(m, np.int64)
    coupon = np.empty(m)
    first = np.zeros(n_p, np.int64)
    takers = np.zeros(n_p, np.int64)
    b = 0
    for r in range(k.shape[0]):
        if k[r] <= 0:
            continue
        ia = ahead(idx, r, GATHER_AHEAD)
        prefetch(leader_of, ia)
        prefetch(last_platform, ia)
        prefetch(day_last_order, ia)
        prefetch(day_last_order_p, ia)
        prefetch(orders, ia)
        i, j = idx[r], k[r] - 1
        who[b], plat[b] = i, j
        leader[b] = leader_of[i, j]
        coupon[b] = coupon_yuan[r, j]
        takers[j] += eligible_of[r, j]
        old = day_last_order_p[i, j]
        if old < 0:
            first[j] += 1
        a1, a2 = _latest_two(day_last_order_p, i)
        last_platform[i] = j
        day_last_order[i] = d
        day_last_order_p[i, j] = d
        orders[i] += 1
        b += 1
        # The household moves from the count of its old day to today's (-1: counted nowhere).
        b1, b2 = _latest_two(day_last_order_p, i)
        if old >= 0:
            by_day[j, old] -= 1
        by_day[j, d] += 1
        if a1 >= 0:
            by_day[n_p, a1] -= 1
        by_day[n_p, b1] += 1
        if a2 >= 0:
            by_day[n_p + 1, a2] -= 1
        if b2 >= 0:
            by_day[n_p + 1, b2] += 1
    return who, plat, leader, coupon, first, takers


@jit
def _latest_two(day_last_order_p, i):
    """The latest and the second latest of household ``i``'s days of last order over the
    platforms, -1 where it has fewer (equal days count twice: the second of ``[5, 5]`` is 5)."""
    a = b = -1
    for j in range(day_last_order_p.shape[1]):
        v = day_last_order_p[i, j]
        if v > a:
            a, b = v, a
        elif v > b:
            b = v
    return a, b


@jit
def loyalty_and_travel(idx, leader_of, leader_nb, neighbourhood, usual, service_of, loyalty,
                       travel):
    """The choosers' utility terms from their groups (ODD 7.2), (m, P): ``travel`` where the
    pickup point of platform j (``leader_of[i, j]``) is in another neighbourhood, plus
    ``loyalty`` (kappa_L) where i's usual leader (a person, -1 none) serves j
    (``service_of[usual, j] >= 0``)."""
    m, n_p = idx.shape[0], leader_of.shape[1]
    out = np.zeros((m, n_p))
    for r in range(m):
        i = idx[r]
        us = usual[i]
        for j in range(n_p):
            v = 0.0
            if travel != 0.0:
                lo = leader_of[i, j]
                if lo >= 0 and leader_nb[lo] != neighbourhood[i]:
                    v = v + travel
            if loyalty != 0.0 and us >= 0 and service_of[us, j] >= 0:
                v = v + loyalty
            out[r, j] = v
    return out
