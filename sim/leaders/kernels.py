"""Leaders' compiled loops: recruit candidates, and the followed groups' (ODD 7.3):
joining, leaving, pickup points, recency.

The groups' table is :class:`sim.leaders.groups.FollowedGroups`: ``leader[i, g]`` the leader (a
person: its primary row of the leader table) of household i's g-th followed group, filled from
slot 0 with no gaps (-1 after the last), ``day_used[i, g]`` the day it joined that group or
last ordered through it, whichever is later, and ``takes[i, g]`` the platforms of that leader it
takes up (bit j: platform j).
"""

from __future__ import annotations

import numpy as np

from sim.jit import flag_buffer, flagged, jit

__all__ = [
    "follow",
    "followers_of",
    "idle_and_screen",
    "join_exact",
    "pickup_rows",
    "record_use",
    "recruit_candidates",
    "served_by",
    "tie_counts",
]


@jit
def served_by(leader_of, stopped):
    """The households whose pickup point for platform j is a stopped service row, per platform:
    ``np.flatnonzero(stopped[leader_of[:, j]])`` for every j in one pass over the rows
    (``stopped`` has one entry more than the rows, False, for ``leader_of`` -1: none). Returns
    (households, ptr): platform j's households, ascending, are ``households[ptr[j]:ptr[j + 1]]``."""
    n, n_p = leader_of.shape
    count = np.zeros(n_p + 1, np.int64)
    for i in range(n):
        for j in range(n_p):
            if stopped[leader_of[i, j]]:
                count[j + 1] += 1
    ptr = np.cumsum(count)
    out = np.empty(ptr[n_p], np.int64)
    fill = ptr[:n_p].copy()
    for i in range(n):
        for j in range(n_p):
            if stopped[leader_of[i, j]]:
                out[fill[j]] = i
                fill[j] += 1
    return out, ptr


@jit
def recruit_candidates(candidates, is_leader, available_day, d, deficit, neighbourhood):
    """Households a platform can recruit today, ascending: of the ``candidates`` (ascending: the
    households that could run a pickup point, a few in a hundred), those not leading a group,
    available (a former leader waits), in a neighbourhood short of leaders (``sim.leaders.
    pick_recruits``'s ``flatnonzero(eligible & (deficit[nb] > 0))``)."""
    out = np.empty(candidates.shape[0], np.int64)
    m = 0
    for r in range(candidates.shape[0]):
        i = candidates[r]
        if not is_leader[i] and available_day[i] <= d and deficit[neighbourhood[i]] > 0:
            out[m] = i
            m += 1
    return out[:m].copy()


@jit
def _follows(leader, i, person):
    for g in range(leader.shape[1]):
        if leader[i, g] == person:
            return True
        if leader[i, g] < 0:
            return False
    return False


@jit
def _serves(service_of, person):
    """The platforms ``person`` serves now, as bits (bit j: platform j): what a member joining
    its group takes up."""
    bits = np.int64(0)
    for j in range(service_of.shape[1]):
        if service_of[person, j] >= 0:
            bits |= np.int64(1) << np.int64(j)
    return bits


@jit
def _tie_event(i, person, sign, leader, indptr, indices, tie_open):
    """Household i started (``sign`` +1) or stopped (-1) following ``person``: the counts
    ``tie_open[k]`` = sum over k's ties t of the groups t follows that k does not follow
    (:func:`tie_counts`) change for i's ties who do not follow that leader, and for i by the
    number of its ties who do. Reads only the ties' rows, so it may run before or after i's own
    row changes."""
    c = 0
    for e in range(indptr[i], indptr[i + 1]):
        t = indices[e]
        if _follows(leader, t, person):
            c += 1
        else:
            tie_open[t] += sign
    tie_open[i] -= sign * c


@jit
def tie_counts(leader, indptr, indices):
    """``tie_open`` from scratch: for each household, the groups its ties follow that it does
    not follow itself, counted with repeats (a set-up and a check; the model keeps it up to date
    with :func:`_tie_event`)."""
    n, n_g = leader.shape
    out = np.zeros(n, np.int64)
    for i in range(n):
        for e in range(indptr[i], indptr[i + 1]):
            t = indices[e]
            for g in range(n_g):
                L = leader[t, g]
                if L < 0:
                    break
                if not _follows(leader, i, L):
                    out[i] += 1
    return out


@jit
def idle_and_screen(leader, day_used, takes, d, idle_days, leads, members, indptr, indices,
                    tie_open, gone, search_days, adopted, neighbourhood, own_alive, alive,
                    person_nb, degree, h_own, h_tie, search_until, search_multiplier, complete,
                    members_total, w_max):
    """The day's pass over the households: groups are left, then the adopters with a free slot
    are screened for joining (one pass: each household's row is read once). ``alive``: the
    active leaders; ``own_alive``: their number per neighbourhood.

    Leaving: every group whose leader stopped (``gone``: its members search from today until
    ``d + search_days``, ``search_until``; the gone leaders' ``members`` are the caller's) and,
    with ``idle_days >= 0``, every group not used for more than ``idle_days`` days except the
    one the household leads itself (``leads[i]``; ``members`` fall by one); slots are
    compacted and ``tie_open`` is kept up to date. Screening: the bound ``h_own * (active
    leaders of i's neighbourhood it does not follow) + h_tie * w_max * T_i / k_i``
    (``w_max``: the largest weight of a leader's invitations, ODD 7.7), with ``T_i`` the
    groups i's ties follow that i does not (``tie_open``; on the complete graph, the members of
    the leaders i does not follow), is at least the exact sum of :func:`join_exact`, which
    also leaves out full groups; times ``search_multiplier`` while i searches after its leader
    quit (``search_until > d``). Returns (households that left a group, whether each lost a
    gone leader's, households screened, their bounds).
    """
    n, n_g = leader.shape
    dropped = np.empty(n, np.int64)
    lost_gone = np.empty(n, np.bool_)
    n_dropped = 0
    out = np.empty(n, np.int64)
    bound = np.empty(n)
    m = 0
    for i in range(n):
        if leader[i, 0] >= 0:
            w = 0
            hit = False
            hit_gone = False
            for g in range(n_g):
                L = leader[i, g]
                if L < 0:
                    break
                if gone[L]:
                    hit = True
                    hit_gone = True
                    _tie_event(i, L, -1, leader, indptr, indices, tie_open)
                elif idle_days >= 0 and d - day_used[i, g] > idle_days and leads[i] != L:
                    hit = True
                    members[L] -= 1
                    _tie_event(i, L, -1, leader, indptr, indices, tie_open)
                else:
                    if w != g:  # compacted past a group left (else the slot is unchanged:
                        leader[i, w] = L  # no write, so untouched rows stay clean in cache)
                        day_used[i, w] = day_used[i, g]
                        takes[i, w] = takes[i, g]
                    w += 1
            if hit:
                for g in range(w, n_g):
                    leader[i, g] = -1
                    day_used[i, g] = -1
                    takes[i, g] = 0
                dropped[n_dropped] = i
                lost_gone[n_dropped] = hit_gone
                n_dropped += 1
                if hit_gone:
                    search_until[i] = d + search_days
        if not adopted[i] or leader[i, n_g - 1] >= 0:
            continue
        k = neighbourhood[i]
        own = own_alive[k]
        ties = np.float64(tie_open[i]) if not complete else np.float64(members_total)
        for g in range(n_g):
            L = leader[i, g]
            if L < 0:
                break
            if alive[L] and person_nb[L] == k:
                own -= 1.0
            if complete:
                ties -= np.float64(members[L])
        p = h_own * own
        if degree[i] > 0:
            p = p + h_tie * w_max * ties / np.float64(degree[i])
        if search_until[i] > d:
            p = p * search_multiplier
        if p > 0.0:
            out[m] = i
            bound[m] = p
            m += 1
    return (dropped[:n_dropped].copy(), lost_gone[:n_dropped].copy(), out[:m].copy(),
            bound[:m].copy())


@jit
def join_exact(cand, u, u_pick, leader, day_used, takes, service_of, neighbourhood, own_ptr,
               own_persons, alive, open_, members, member_cap, indptr, indices, complete, degree,
               h_own, h_tie, search_until, d, search_multiplier, tie_open, tie_weight, w_max):
    """The joining process of ODD 7.3 for the screened households ``cand`` (ascending).

    For household i and each leader L it does not follow, ``h_iL = h_own [L lives in i's
    neighbourhood] + h_tie c_iL / k_i`` with ``c_iL`` the ties of i who follow L (on the
    complete graph, L's members). The chances add (as the terms of the Bass probability do) and
    i joins at most one group a day: with its uniform ``u`` below ``min(B, 1)``, ``B = sum_L
    h_iL`` (times ``search_multiplier`` while it searches), it draws L in proportion to h_iL
    with its uniform ``u_pick``: a leader next door (each h_own) or, past them, one tie's group
    (each h_tie / k_i, so L with probability c_iL h_tie / k_i / B), the ties' groups counted
    in the order of the ties and their slots without listing them beyond the one drawn. A full
    group (``open_`` false) drawn is not joined: while B is at most 1 the chance of joining an
    open L is exactly h_iL. Households are taken in order, each on the table as it stands, so a
    group that fills up closes to those after. ``tie_open`` (the groups i's ties follow that i
    does not) gives the ties' part and is kept up to date.

    Referral rewards (ODD 7.7) weight an invitation to leader L by ``tie_weight[L]`` (1: none),
    so its ties' part is ``h_tie c_iL w_L / k_i``: drawn by thinning, the ties' part is taken
    at the largest weight ``w_max`` and a tie's group drawn is kept with chance ``w_L / w_max``,
    read from where the draw fell within that group's unit (uniform on [0, 1) given the group,
    so no other number is drawn); with every weight 1 the draws are those of no rewards.
    Returns (households that joined, the leaders they joined, whether each came through a
    tie's invitation).
    """
    n_g = leader.shape[1]
    n_persons = alive.shape[0]
    joined = np.empty(cand.shape[0], np.int64)
    joined_to = np.empty(cand.shape[0], np.int64)
    via_tie = np.empty(cand.shape[0], np.bool_)
    n_joined = 0
    for r in range(cand.shape[0]):
        i = cand[r]
        k = neighbourhood[i]
        n_own = 0
        for e in range(own_ptr[k], own_ptr[k + 1]):
            if not _follows(leader, i, own_persons[e]):
                n_own += 1
        own_total = h_own * n_own
        ties = 0.0
        if degree[i] > 0:
            if complete:
                for L in range(n_persons):
                    if alive[L] and not _follows(leader, i, L):
                        ties += np.float64(members[L])
            else:
                ties = np.float64(tie_open[i])
        s = h_tie * w_max / np.float64(degree[i]) if degree[i] > 0 else 0.0
        total = own_total + s * ties
        p = total * (search_multiplier if search_until[i] > d else 1.0)
        if not (total > 0.0 and u[r] < min(p, 1.0)):
            continue
        x = u_pick[r] * total
        pick = -1
        unit = 0.0  # where the draw fell within the drawn tie group's unit, in [0, 1)
        if x < own_total:
            want = min(np.int64(x / h_own), n_own - 1)
            for e in range(own_ptr[k], own_ptr[k + 1]):
                if not _follows(leader, i, own_persons[e]):
                    if want == 0:
                        pick = own_persons[e]
                        break
                    want -= 1
        else:
            y = (x - own_total) / s  # the ties' groups counted so far, in [0, ties)
            cum = 0.0
            if complete:
                for L in range(n_persons):
                    if alive[L] and not _follows(leader, i, L):
                        cum += np.float64(members[L])
                        pick = L
                        if y < cum:
                            unit = (y - (cum - np.float64(members[L]))) / np.float64(members[L])
                            break
            else:
                for e in range(indptr[i], indptr[i + 1]):
                    tie = indices[e]
                    for g in range(n_g):
                        L = leader[tie, g]
                        if L < 0:
                            break
                        if not _follows(leader, i, L):
                            cum += 1.0
                            pick = L
                            if y < cum:
                                unit = y - (cum - 1.0)
                                break
                    if y < cum:
                        break
        if pick < 0 or not open_[pick]:
            continue  # a full group: no join (thinning)
        tie = not x < own_total
        if tie and tie_weight[pick] < w_max and unit * w_max >= tie_weight[pick]:
            continue  # an invitation without the largest reward: kept w_L / w_max of the time
        for g in range(n_g):
            if leader[i, g] < 0:
                leader[i, g] = pick
                day_used[i, g] = d
                takes[i, g] = _serves(service_of, pick)
                break
        _tie_event(i, pick, 1, leader, indptr, indices, tie_open)
        members[pick] += 1
        if members[pick] >= member_cap:
            open_[pick] = False
        joined[n_joined] = i
        joined_to[n_joined] = pick
        via_tie[n_joined] = tie
        n_joined += 1
    return joined[:n_joined].copy(), joined_to[:n_joined].copy(), via_tie[:n_joined].copy()


@jit
def follow(homes, persons, leader, day_used, takes, d, members, indptr, indices, tie_open):
    """Each household ``homes[r]`` follows leader ``persons[r]`` (a new leader its own group):
    in its first free slot, or in place of its least recently used group when all are taken;
    ``tie_open`` is kept up to date."""
    n_g = leader.shape[1]
    for r in range(homes.shape[0]):
        i, L = homes[r], persons[r]
        if _follows(leader, i, L):
            continue
        slot = -1
        for g in range(n_g):
            if leader[i, g] < 0:
                slot = g
                break
        if slot < 0:
            slot = 0
            for g in range(1, n_g):
                if day_used[i, g] < day_used[i, slot]:
                    slot = g
            members[leader[i, slot]] -= 1
            _tie_event(i, leader[i, slot], -1, leader, indptr, indices, tie_open)
        leader[i, slot] = L
        day_used[i, slot] = d
        takes[i, slot] = -1  # a leader takes up every platform it serves
        members[L] += 1
        _tie_event(i, L, 1, leader, indptr, indices, tie_open)


@jit
def pickup_rows(rows, leader, day_used, takes, neighbourhood, person_nb, service_of, leader_of):
    """Each household's pickup point for each platform from its followed groups (ODD 7.3):
    among the followed leaders who serve the platform and whose platform the household took up
    (``takes[i, g]`` bit j: every platform the leader served when it joined, and one the leader
    added if it followed the leader there), one in the household's own neighbourhood first, else
    the one used most recently (first slot on a tie); -1 if none serves it. ``service_of[L,
    j]``: leader L's service row for platform j, -1 if it does not serve j."""
    n_g = leader.shape[1]
    n_p = service_of.shape[1]
    for r in range(rows.shape[0]):
        i = rows[r]
        for j in range(n_p):
            best = -1
            best_own = False
            best_day = -2
            for g in range(n_g):
                L = leader[i, g]
                if L < 0:
                    break
                s = service_of[L, j]
                if s < 0 or not (takes[i, g] >> j) & 1:
                    continue
                own = person_nb[L] == neighbourhood[i]
                dd = day_used[i, g]
                if best < 0 or (own and not best_own) or (own == best_own and dd > best_day):
                    best, best_own, best_day = s, own, dd
            leader_of[i, j] = best


@jit
def record_use(who, person, leader, day_used, usual, d, neighbourhood, person_nb):
    """Today's buyers ordered through leader ``person[r]``: that group's day of use is today
    and it is the household's usual leader (ODD 7.3: the one it ordered through most
    recently). Returns the buyers whose pickup points may change with it: those that follow two
    or more leaders of other neighbourhoods (a pickup point next door never yields to recency)."""
    n_g = leader.shape[1]
    flags = np.zeros(who.shape[0], np.bool_)
    for r in range(who.shape[0]):
        i, L = who[r], person[r]
        far = 0
        for g in range(n_g):
            x = leader[i, g]
            if x < 0:
                break
            if x == L:
                day_used[i, g] = d
            if person_nb[x] != neighbourhood[i]:
                far += 1
        usual[i] = L
        flags[r] = far >= 2
    return who[flags]


@jit
def followers_of(leader, mark):
    """Households that follow a leader marked in ``mark`` (one flag per person), ascending."""
    n, n_g = leader.shape
    flags = flag_buffer(n)
    for i in range(n):
        for g in range(n_g):
            L = leader[i, g]
            if L < 0:
                break
            if mark[L]:
                flags[i] = 1
                break
    return flagged(flags)
