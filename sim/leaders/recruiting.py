"""Recruiting leaders, forming their groups, and re-homing households without a pickup point.

Part of the leaders' phase (:mod:`sim.leaders.phase`, ODD 7.3). A platform wants enough leaders
in each neighbourhood it covers for its density target and for every household to find a place
in some leader's WeChat groups; it recruits among the neighbourhood's candidates (corner shops,
active residents) who are not leading and not cooling off after quitting. A new leader draws its
group from its neighbourhood, so that groups are even in expectation; households that lost
their pickup point join one in their neighbourhood, up to the leaders' member cap.
"""

from __future__ import annotations

import numpy as np

from sim.leaders import kernels
from sim.leaders.table import (
    Leader,
    assign_members,
    lognormal_income,
    pick_recruits,
    recruitment_targets,
)

__all__ = ["Recruiting"]


class Recruiting:
    """Recruitment, group formation and re-homing for one market."""

    OWNS = ("member_cap",)

    def __init__(self, market, member_cap: int):
        self.m = market
        self.member_cap = member_cap  # most members of one leader for one platform

    def recruit(self, p, d: int, only: np.ndarray | None = None) -> int:
        """Platform ``p`` recruits where it has fewer leaders than it wants (in the
        neighbourhoods flagged by ``only``, if given); returns the number recruited."""
        m = self.m
        t, c, lc, net = m.leaders, m.consumers, m.cfg.leaders, m.network
        k = net.n_neighbourhoods
        households = m.households_per_neighbourhood
        # Enough leaders for the platform's density target, and for every household to find a
        # place in some leader's WeChat groups (at most 500 a group).
        want = np.maximum(recruitment_targets(households, p.cfg.households_per_leader),
                          recruitment_targets(households, self.member_cap)) * p.covered
        act = np.flatnonzero(t.view("active") & (t.view("platform") == p.index))
        have = np.bincount(t.neighbourhood[act], minlength=k)
        deficit = np.maximum(want - have, 0)
        if only is not None:
            deficit = deficit * only
        if deficit.sum() == 0:
            return 0
        # Candidates, not leading, available, where leaders are wanted (one compiled pass).
        cand = kernels.recruit_candidates(c.leader_candidate, c.is_leader, c.leader_available_day,
                                          d, deficit, c.neighbourhood)
        name = f"leaders.recruit.{p.name}"
        homes = pick_recruits(deficit, None, c.neighbourhood,
                              lambda idx: m.streams.uniform_of(name, d, idx),  # theirs alone
                              candidates=cand)
        k = len(homes)
        if k == 0:
            return 0
        village = c.in_village[homes]
        u = m.streams.generator(f"leaders.traits.{p.name}", d).random((5, k))
        fridge_p = np.where(village, m.cfg.coldchain.fridge_share_village,
                            m.cfg.coldchain.fridge_share_town)
        median = np.where(village, lc.reservation_income_village_yuan,
                          lc.reservation_income_town_yuan)
        res = lognormal_income(median, lc.reservation_income_sigma, u[1])
        mpo = lognormal_income(np.where(village, lc.minutes_per_order_village,
                                        lc.minutes_per_order), lc.minutes_sigma, u[3])
        mpc = lognormal_income(np.where(village, lc.minutes_per_complaint_village,
                                        lc.minutes_per_complaint), lc.minutes_sigma, u[4])
        idx = t.append(
            home=homes, neighbourhood=c.neighbourhood[homes], platform=np.full(k, p.index),
            active=np.ones(k, bool), day_joined=np.full(k, d), day_left=np.full(k, -1),
            fridge=u[0] < fridge_p, village=village, reservation_income_yuan=res,
            wage_yuan_per_hour=np.where(village, lc.wage_yuan_per_hour_village,
                                        lc.wage_yuan_per_hour_town),
            minutes_per_order=mpo, minutes_per_complaint=mpc,
            smoothed_net_income_yuan=res,  # a new leader expects to earn its reservation income
        )
        t.person[idx] = idx
        Leader.create_agents(m, k, index=idx)
        c.is_leader[homes] = True
        c.aware[homes, p.index] = True
        if m.cfg.wom.leaders_adopt and not c.adopted[homes].all():
            new = homes[~c.adopted[homes]]
            c.adopted[new] = True
            c.day_adopted[new] = d
        c.leader_of[homes, p.index] = idx  # a leader is a member of its own group
        self._form_groups(p, idx, d)
        m.ledger.post(p.index, "recruit_yuan", k * p.cfg.recruit_cost_yuan)
        m.recorder.leader_events(d, idx, np.full(k, p.index), "recruited", "coverage_gap")
        return k

    def _form_groups(self, p, new: np.ndarray, d: int) -> None:
        """New leaders draw their groups from their neighbourhood (ODD 2).

        In a neighbourhood where ``a`` of the platform's ``L`` leaders are new, each household
        (served by an older leader of the platform or not) joins one of the new leaders with
        probability ``a / L``, so that groups are even in expectation; no group passes the cap.
        """
        m = self.m
        t, c = m.leaders, m.consumers
        j, k = p.index, m.network.n_neighbourhoods
        act = np.flatnonzero(t.view("active") & (t.view("platform") == j))
        total = np.bincount(t.neighbourhood[act], minlength=k)
        nb_new = t.neighbourhood[new]
        n_new = np.bincount(nb_new, minlength=k)
        order = np.argsort(nb_new, kind="stable")
        sorted_new = new[order]
        start = np.concatenate([[0], np.cumsum(n_new)[:-1]])
        share = np.divide(n_new, total, out=np.zeros(k), where=total > 0)
        col = c.leader_of[:, j]
        nb = c.neighbourhood
        is_new = np.zeros(t.n, bool)
        is_new[new] = True
        # Households of the new leaders' neighbourhoods not already with one of them; only they
        # draw (RandomStreams.uniform_of: the full-length stream's numbers).
        cand = kernels.join_candidates(share, nb, col, is_new)
        u = m.streams.uniform_of(f"leaders.join.{p.name}", d, cand)
        joins = u < share[nb[cand]]
        h, u = cand[joins], u[joins]
        if len(h) == 0:
            return
        pick = start[nb[h]] + np.minimum(np.floor(u / share[nb[h]] * n_new[nb[h]]),
                                         n_new[nb[h]] - 1).astype(np.int64)
        r = sorted_new[pick]
        # Each new group takes its first member_cap - 1 joiners in the order of their uniforms;
        # when no group has more joiners than that, all join (no need to sort them).
        if np.bincount(r).max() - 1 < self.member_cap - 1:
            keep = np.ones(len(h), bool)
        else:
            srt = np.lexsort((u, r))
            first = np.searchsorted(r[srt], r[srt], side="left")
            keep = np.zeros(len(h), bool)
            keep[srt] = (np.arange(len(srt)) - first) < self.member_cap - 1
        col[h[keep]] = r[keep]

    def rehome(self, j: int, d: int) -> None:
        """Households without a pickup point of platform j join one in their neighbourhood.

        A leader's members are capped at :attr:`member_cap` (its WeChat groups, 500 each).
        """
        m = self.m
        t, c = m.leaders, m.consumers
        act = np.flatnonzero(t.view("active") & (t.view("platform") == j))
        col = c.leader_of[:, j]
        members = kernels.member_counts(col, t.n)
        name = f"leaders.assign.{m.platform_names[j]}"
        assign_members(col, c.neighbourhood, act, t.neighbourhood[act],
                       m.network.n_neighbourhoods,
                       lambda idx: m.streams.uniform_of(name, d, idx),  # the unserved only
                       capacity=self.member_cap - members[act])

