"""Leaders' compiled loops: members per leader, unserved households, join and recruit candidates.
"""

from __future__ import annotations

import numpy as np

from sim.jit import jit

__all__ = [
    "join_candidates",
    "member_counts",
    "recruit_candidates",
    "unserved",
]


@jit
def member_counts(leader_col, n_leaders):
    """``np.bincount(leader_col[leader_col >= 0], minlength=n_leaders)``: each leader's
    members on one platform (``leader_col``: each household's leader there, -1 none)."""
    out = np.zeros(n_leaders, np.int64)
    for i in range(leader_col.shape[0]):
        if leader_col[i] >= 0:
            out[leader_col[i]] += 1
    return out


@jit
def unserved(leader_col, room, neighbourhood):
    """Households without a leader on the platform whose neighbourhood has room in some
    group: ``flatnonzero((leader_col < 0) & (room[neighbourhood] > 0))``."""
    n = leader_col.shape[0]
    out = np.empty(n, np.int64)
    m = 0
    for i in range(n):
        if leader_col[i] < 0 and room[neighbourhood[i]] > 0:
            out[m] = i
            m += 1
    return out[:m].copy()


@jit
def join_candidates(share, neighbourhood, leader_col, is_new):
    """Households that may join one of their neighbourhood's new leaders (``GroupBuyingMarket.
    _form_groups``): the new leaders' share of the neighbourhood is positive and they are not
    already in a new leader's group, ``flatnonzero((share[nb] > 0) & ~(is_new[max(col, 0)] &
    (col >= 0)))``. Those whose uniform is below the share join."""
    n = neighbourhood.shape[0]
    out = np.empty(n, np.int64)
    m = 0
    for i in range(n):
        if share[neighbourhood[i]] > 0.0 and not (leader_col[i] >= 0
                                                  and is_new[leader_col[i]]):
            out[m] = i
            m += 1
    return out[:m].copy()


@jit
def recruit_candidates(leader_candidate, is_leader, available_day, d, deficit, neighbourhood):
    """Households a platform can recruit today: candidates, not leading a group, available
    (a former leader waits), in a neighbourhood short of leaders (``sim.leaders.
    pick_recruits``'s ``flatnonzero(eligible & (deficit[nb] > 0))``)."""
    n = leader_candidate.shape[0]
    out = np.empty(n, np.int64)
    m = 0
    for i in range(n):
        if (leader_candidate[i] and not is_leader[i] and available_day[i] <= d
                and deficit[neighbourhood[i]] > 0):
            out[m] = i
            m += 1
    return out[:m].copy()
