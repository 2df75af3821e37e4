"""Supply's compiled loops: the suppliers' allocation (split by weights, rationing) and the
pre-sale queue that fills today's orders unit by unit (ODD 7.6).
"""

from __future__ import annotations

import numpy as np

from sim.arrays import block_sum
from sim.jit import jit

__all__ = [
    "allocate_units",
    "presale_fill",
]


@jit
def _split_by_weights(total, w, out):
    """``sim.supply.suppliers.split_by_weights`` into ``out``: ``floor(total * w / sum(w))``,
    then one more unit to the largest remainders (ties: the first), as the NumPy version
    computes it."""
    out[:] = 0
    k = w.shape[0]
    w_sum = block_sum(w, 0, k)  # NumPy's sum of a short row (k <= 128)
    if total <= 0 or w_sum <= 0:
        return
    exact = np.empty(k)
    given = 0
    for i in range(k):
        exact[i] = np.float64(total) * w[i] / w_sum
        out[i] = np.int64(np.floor(exact[i]))
        given += out[i]
    rest = total - given
    taken = np.zeros(k, np.bool_)
    for _ in range(rest):  # the largest remainder not yet taken; the first of equals
        best = -1
        for i in range(k):
            if not taken[i] and (best < 0 or exact[i] - out[i] > exact[best] - out[best]):
                best = i
        taken[best] = True
    for i in range(k):
        if taken[i]:
            out[i] += 1


@jit
def _ration(requests, capacity, out):
    """``sim.supply.suppliers.ration`` into ``out``: the requests in full if they fit, else split
    pro rata to them (and never above them)."""
    total = 0
    for i in range(requests.shape[0]):
        total += requests[i]
    if total <= capacity:
        out[:] = requests
        return
    _split_by_weights(max(capacity, 0), requests.astype(np.float64), out)
    for i in range(out.shape[0]):
        out[i] = min(out[i], requests[i])


@jit
def allocate_units(demand, share, capacity):
    """:func:`sim.supply.suppliers.allocate` (its docstring has the rule): units each supplier
    delivers to each platform, (P, C, S), in integers, with the NumPy version's arithmetic."""
    n_p, n_c, n_s = share.shape
    alloc = np.zeros((n_p, n_c, n_s), np.int64)
    want = np.empty((n_p, n_s), np.int64)
    row = np.empty(n_s, np.int64)
    col = np.empty(n_p, np.int64)
    granted = np.empty(n_p, np.int64)
    requests = np.zeros((n_p, n_s), np.int64)
    short = np.empty(n_p, np.int64)
    spare = np.empty(n_s, np.int64)
    w = np.empty(n_s)
    for c in range(n_c):
        for p in range(n_p):
            _split_by_weights(demand[p, c], share[p, c], row)
            want[p] = row
        for s in range(n_s):
            col[:] = want[:, s]
            _ration(col, capacity[c, s], granted)
            alloc[:, c, s] = granted
        any_short = 0
        for p in range(n_p):
            short[p] = demand[p, c] - alloc[p, c].sum()
            any_short += short[p]
        if any_short == 0:
            continue
        for s in range(n_s):
            spare[s] = capacity[c, s] - alloc[:, c, s].sum()
        requests[:] = 0
        for p in range(n_p):
            if short[p] <= 0:
                continue
            for s in range(n_s):
                w[s] = share[p, c, s] * (1.0 if spare[s] > 0 else 0.0)
            _split_by_weights(short[p], w, row)
            requests[p] = row
        for s in range(n_s):
            col[:] = requests[:, s]
            _ration(col, spare[s], granted)
            alloc[:, c, s] += granted
    return alloc


@jit
def presale_fill(sel, ordered, u_supplier, u_life, u_relabel, u_defect, alloc, life_min,
                 life_max, relabel_prob, relabel_age, defect_prob, unit_cost_ref, cost_mult,
                 supplier, life0, defect, cost_yuan, filled):
    """Pre-sale: a platform's orders ``sel`` take the units its suppliers deliver, in place.

    For each category the orders holding it (``ordered[r, c]``, the basket) queue by their own
    uniform (a stable sort, as NumPy's); the
    ``alloc[c, s]`` units of supplier ``s`` go to the next places in the queue, suppliers in
    order; the orders past the last unit stay unfilled. A filled unit's life at dispatch is
    uniform in the category's range, less the relabel age if its supplier relabels old stock
    (``GroupBuyingMarket._initial_life``); it is defective with the supplier's probability and
    costs the category's reference cost times the supplier's multiplier.

    The queue is not sorted: an order's supplier depends only on which suppliers' last places
    it comes after, so only the orders at those few places are found (a bucket count by
    uniform, then a count within the bucket holding the place), and each order is compared
    with them. The order at place ``e`` is the one with ``e`` orders before it by (uniform,
    position in ``sel``), the stable sort's order.
    """
    m = sel.shape[0]
    n_c, n_s = alloc.shape
    # the orders holding each category: a category's queue holds these only
    m_c = np.zeros(n_c, np.int64)
    for p in range(m):
        for c in range(n_c):
            m_c[c] += ordered[sel[p], c]
    # Supplier s serves the places below ends[c, s] not served before: the running maximum of
    # the cumulative units, so that an order's supplier is the number of ends at or below its
    # place (equal to the first s with place < cumulative units, and branch-free).
    ends = np.empty((n_c, n_s), np.int64)
    for c in range(n_c):
        total = 0
        top = 0
        for s in range(n_s):
            total += alloc[c, s]
            top = max(top, total)
            ends[c, s] = top
    # Buckets of the uniforms (x in bucket floor(x * n_b), monotone in x, ~8 orders each):
    # counts, and each bucket's orders as a list (head, next), for each category.
    n_b = m // 8 + 1
    count = np.zeros((n_c, n_b + 1), np.int64)
    head = np.full((n_c, n_b), -1, np.int64)
    nxt = np.empty((m, n_c), np.int64)
    for p in range(m):
        r = sel[p]
        for c in range(n_c):
            if not ordered[r, c]:
                continue
            b = min(np.int64(u_supplier[r, c] * n_b), n_b - 1)
            count[c, b + 1] += 1
            nxt[p, c] = head[c, b]
            head[c, b] = p
    # The order at each end's place, as its (uniform, position): an order is at or past the end
    # when it is not before it. An end at 0 has every order past it, one at m or more none.
    at_u = np.empty((n_c, n_s))
    at_p = np.empty((n_c, n_s), np.int64)
    for c in range(n_c):
        for b in range(n_b):
            count[c, b + 1] += count[c, b]  # count[c, b]: the orders in buckets below b
        b = 0
        for s in range(n_s):
            e = ends[c, s]
            at_p[c, s] = 0
            if e <= 0:
                at_u[c, s] = -np.inf
                continue
            if e >= m_c[c]:
                at_u[c, s] = np.inf
                continue
            while count[c, b + 1] <= e:  # the bucket holding place e (ends never decrease)
                b += 1
            k = e - count[c, b]  # its place within the bucket
            q = head[c, b]
            while q >= 0:
                uq = u_supplier[sel[q], c]
                before = 0
                t = head[c, b]
                while t >= 0:
                    ut = u_supplier[sel[t], c]
                    before += (ut < uq) | ((ut == uq) & (t < q))
                    t = nxt[t, c]
                if before == k:
                    at_u[c, s] = uq
                    at_p[c, s] = q
                    break
                q = nxt[q, c]
    for p in range(m):  # the orders in row order (the book's arrays are read front to back)
        r = sel[p]
        for c in range(n_c):
            if not ordered[r, c]:
                continue  # not in the basket: not ordered, not filled
            x = u_supplier[r, c]
            s = 0
            for t in range(n_s):
                a = at_u[c, t]
                s += x >= a
                if x == a and p < at_p[c, t]:  # rare: the same uniform, earlier in sel
                    s -= 1
            if s >= n_s:
                continue  # past the last unit: unfilled
            life = life_min[c] + (life_max[c] - life_min[c]) * u_life[r, c]
            if u_relabel[r, c] < relabel_prob[s]:
                life = life - relabel_age[s]
            supplier[r, c] = s
            life0[r, c] = life
            defect[r, c] = u_defect[r, c] < defect_prob[s]
            cost_yuan[r, c] = unit_cost_ref[c] * cost_mult[s]
            filled[r, c] = True
