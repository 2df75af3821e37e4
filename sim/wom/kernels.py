"""Word of mouth's compiled loops: neighbour counts of changed households, complaints, adoption
candidates, lapse and awareness (the formulas of :mod:`sim.wom.formulas`, bit for bit).
"""

from __future__ import annotations

import numpy as np

from sim.jit import (
    GATHER_AHEAD,
    PREFETCH_AHEAD,
    ahead,
    flag_buffer,
    flagged,
    jit,
    prefetch,
    prefetch_row,
)

__all__ = [
    "adoption_candidates",
    "become_aware",
    "changed_state_rows",
    "lapse",
    "spread_complaints",
    "unaware",
]


@jit
def spread_complaints(indptr, indices, data, rows, x_rows, trust, heard, fade, loss_table,
                      scratch):
    """Complaints reach the complainers' neighbours: trust falls, complaints heard fade and add.

    ``h = A[:, rows] @ x_rows`` (complaints about each platform heard today, per household);
    then ``trust[i, j] *= loss_table[h_ij]`` where ``h_ij > 0`` (``loss_table[h] = (1 -
    complaint_trust_loss) ** h``, computed by NumPy; an empty table leaves trust alone) and
    ``heard <- heard * fade + sum_j h_ij`` for every household (:func:`sim.consumers.
    decay_complaints`). ``scratch`` (n, P) float32 is zero on entry and left zero; each row of
    ``x_rows`` has a complaint. Returns the number of households that heard one today.
    """
    n_p = x_rows.shape[1]
    n_ties = 0
    for r in range(rows.shape[0]):
        n_ties += indptr[rows[r] + 1] - indptr[rows[r]]
    hit = np.empty(n_ties, np.int64)
    n_hit = 0
    for r in range(rows.shape[0]):
        prefetch_row(indptr, indices, data, rows, r, scratch)
        i = rows[r]
        for e in range(indptr[i], indptr[i + 1]):
            k = indices[e]
            w = data[e]
            fresh = True  # first complaint this household hears today: its row is still zero
            for c in range(n_p):
                if scratch[k, c] != 0:
                    fresh = False
                scratch[k, c] += w * x_rows[r, c]
            if fresh:
                hit[n_hit] = k
                n_hit += 1
    for i in range(heard.shape[0]):
        heard[i] = heard[i] * fade
    use_table = loss_table.shape[0] > 0
    hits = hit[:n_hit]
    for t in range(n_hit):
        prefetch(trust, ahead(hits, t, PREFETCH_AHEAD))
        k = hits[t]
        new = 0.0
        for c in range(n_p):
            h = scratch[k, c]
            if h > 0 and use_table:
                trust[k, c] = trust[k, c] * loss_table[np.int64(h)]
            new += np.float64(h)
            scratch[k, c] = 0.0
        heard[k] = heard[k] + new
    return n_hit


@jit
def changed_state_rows(adopted, is_leader, day_last_order_p, d, recent_days, st_adopted,
                       st_leader, st_recent, n_cols):
    """Households whose counted state changed since the last call, and the change of their row.

    The state of word of mouth's neighbour counts (``GroupBuyingMarket._neighbour_counts``):
    adopted, leads a group, and for each platform whether its last order from that platform is
    at most ``recent_days`` old (ODD 7.1: "ordered from j in the last 30 days"). ``st_*`` hold
    the state counted so far (``st_recent`` (n, P) bool) and are brought up to date. Returns the
    rows and ``X_new[rows] - X_old[rows]`` for the 0/1 matrix ``X`` (adopted, leader, one column
    per platform), float32.
    """
    n, n_p = day_last_order_p.shape
    # The changes flagged in passes without branches, over the households and over the (n, P)
    # entries as one flat run; only the few changed rows (~2.5% a day) are visited.
    ad, le = adopted.view(np.uint8), is_leader.view(np.uint8)
    st_ad, st_le = st_adopted.view(np.uint8), st_leader.view(np.uint8)
    flags = flag_buffer(n)
    for i in range(n):
        flags[i] = (ad[i] ^ st_ad[i]) | (le[i] ^ st_le[i])
    last = day_last_order_p.reshape(n * n_p)
    st_rec = st_recent.view(np.uint8).reshape(n * n_p)
    entry = flag_buffer(n * n_p)
    for e in range(n * n_p):
        dlo = last[e]
        entry[e] = np.uint8((dlo >= 0) & (d - dlo <= recent_days)) ^ st_rec[e]
    for e in flagged(entry):
        flags[e // n_p] = 1
    rows = flagged(flags)
    m = rows.shape[0]
    delta = np.zeros((m, n_cols), np.float32)
    for r in range(m):
        i = rows[r]
        delta[r, 0] = np.float32(adopted[i]) - np.float32(st_adopted[i])
        delta[r, 1] = np.float32(is_leader[i]) - np.float32(st_leader[i])
        for j in range(n_p):
            dlo = day_last_order_p[i, j]
            now = dlo >= 0 and d - dlo <= recent_days
            delta[r, 2 + j] = np.float32(now) - np.float32(st_recent[i, j])
            st_recent[i, j] = now
        st_adopted[i] = adopted[i]
        st_leader[i] = is_leader[i]
    return rows, delta


@jit
def lapse(adopted, is_leader, day_last_order, day_adopted, trust, d, lapse_days, lapse_trust):
    """Adopters who have not ordered (or adopted) for ``lapse_days`` and trust no platform above
    ``lapse_trust`` stop using group buying (ODD 7.1, ODD §7.1); leaders never lapse. The
    wait starts at the later of the last order and the adoption, so a household that lapsed and
    adopts again has ``lapse_days`` to order before it can lapse again. Returns how many
    lapsed."""
    n, n_p = trust.shape
    # The adopters who waited long enough (a few percent), flagged in one pass without
    # branches; only their trust is read.
    ad, le = adopted.view(np.uint8), is_leader.view(np.uint8)
    flags = flag_buffer(n)
    for i in range(n):
        last = max(day_last_order[i], day_adopted[i])
        flags[i] = ad[i] & (le[i] ^ np.uint8(1)) & np.uint8(d - last > lapse_days)
    k = 0
    for i in flagged(flags):
        top = trust[i, 0]
        for j in range(1, n_p):
            if trust[i, j] > top:
                top = trust[i, j]
        if top < lapse_trust:
            adopted[i] = False
            k += 1
    return k


@jit
def unaware(aware, j):
    """Households not aware of platform ``j``, ascending: ``flatnonzero(~aware[:, j])``."""
    n = aware.shape[0]
    aw = aware.view(np.uint8)
    flags = flag_buffer(n)
    for i in range(n):  # no branches: the unaware can be anything from none to all
        flags[i] = aw[i, j] ^ np.uint8(1)
    return flagged(flags)


@jit
def become_aware(aware, j, own_rate, imitation, users_neighbours, degree, from_leader,
                 leader_of, cand, u):
    """Households ``cand`` (not yet aware of platform ``j``: :func:`unaware`) become aware with
    the probability of :func:`sim.consumers.awareness_probability`, compared with their
    uniforms ``u`` (``u[r]`` is ``cand[r]``'s):
    ``own + imitation * U_ij / k_i + from_leader * [i has a leader of j]``, the imitation term 0
    where ``k_i = 0``; ``U_ij / k_i`` is a float32 quotient, as NumPy divides the float32
    counts. Returns how many became aware."""
    k = 0
    for r in range(cand.shape[0]):
        ia = ahead(cand, r, GATHER_AHEAD)
        prefetch(users_neighbours, ia)
        prefetch(degree, ia)
        prefetch(leader_of, ia)
        prefetch(aware, ia)
        i = cand[r]
        frac = 0.0
        if degree[i] > 0:
            frac = np.float64(np.float32(np.float64(users_neighbours[i])
                                         / np.float64(degree[i])))
        has_leader = 1.0 if leader_of[i, j] >= 0 else 0.0
        p = own_rate + imitation * frac + from_leader * has_leader
        if u[r] < p:
            aware[i, j] = True
            k += 1
    return k


@jit
def adoption_candidates(adopted, reach_k, neighbourhood, adopted_neighbours, leader_neighbours,
                        degree, p_scale, p_external, q_imitation, leader_boost):
    """Households that have not adopted, and their adoption probability before complaints.

    ``p * p_scale_i * reach_i + q * A_i / k_i + leader_boost * [a leader neighbour]`` of
    :func:`sim.consumers.adoption_probability` (the imitation term 0 where ``k_i = 0``); the
    caller applies the complaints factor (a power, left to NumPy) and the clip to [0, 1].
    """
    n = adopted.shape[0]
    ad = adopted.view(np.uint8)
    flags = flag_buffer(n)
    for i in range(n):  # the households first, without branches (any share can have adopted)
        flags[i] = ad[i] ^ np.uint8(1)
    cand = flagged(flags)
    prob = np.empty(cand.shape[0])
    for r in range(cand.shape[0]):
        ia = ahead(cand, r, GATHER_AHEAD)
        prefetch(degree, ia)
        prefetch(adopted_neighbours, ia)
        prefetch(p_scale, ia)
        prefetch(neighbourhood, ia)
        prefetch(leader_neighbours, ia)
        i = cand[r]
        frac = 0.0
        if degree[i] > 0:
            frac = np.float64(adopted_neighbours[i]) / np.float64(degree[i])
        p = p_external * p_scale[i] * reach_k[neighbourhood[i]] + q_imitation * frac
        if leader_boost != 0.0:
            p = p + leader_boost * (1.0 if leader_neighbours[i] > 0 else 0.0)
        prob[r] = p
    return cand, prob
