"""Followed groups (ODD 7.3): the leaders whose WeChat groups each household follows.

A household follows at most ``groups.max_groups`` groups (seed 000 §2.2, seed 003 l.75), each
run by one leader: a group is the leader, a person with every platform it serves, not one of
the WeChat groups that leader runs. The table is (households x max_groups) of leaders (their
primary rows of the leader table), filled from the first slot; beside each slot the day the
household joined the group or last ordered through it.

Joining (ODD 7.3). Each day an adopter with a free slot joins leader L with chance

    h_iL = h_own [L lives in i's neighbourhood] + h_tie (ties of i who follow L) / k_i

(an invitation through a relative or colleague, seed 003), over the active leaders it does not
follow. The chances add and a household joins at most one group a day, the leader drawn in
proportion to its chance; a full group (``leaders.group_cap`` x ``leaders.wechat_groups_max``
members) drawn is not joined, so that while the chances sum to at most 1 the chance of joining
an open L is exactly h_iL. The ties' counts are kept up to date incrementally: for each
household the groups its ties follow that it does not (``tie_open``), changed only where a
household joins or leaves a group, for it and its ties. A household's chance is read from
them and its own neighbourhood's leaders, and a joiner that draws the ties' part counts through
its ties' groups to the one drawn (:mod:`sim.leaders.kernels`): never a product over all
households and leaders. A platform's referral reward weights the ties' part of its leaders'
chances (:mod:`sim.remedies.referrals`, ODD 7.7), and the joins through a tie are its
invitations.

Leaving. A group not ordered through for ``group_idle_days`` is left (a leader's own group
never is); when its leader quits every member loses it, searches for ``search_days`` with
``search_hazard_multiplier`` times the joining chances (ODD 7.3), and loses its loyalty to that
leader and its platform habit: neither passes to a successor, who starts with an empty group.

Reading the table. Platform j is reachable when the household is aware of it and a followed
leader serves j; its pickup point (``consumers.leader_of[i, j]``) is that leader's: the one in
the household's own neighbourhood first, else the one it used most recently. The usual leader is
the one it ordered through most recently (ODD 7.3).
"""

from __future__ import annotations

import numpy as np

from sim.leaders import kernels as gk
from sim.leaders.table import person_of

__all__ = ["FollowedGroups"]


class FollowedGroups:
    """The groups households follow, for one market (state of the leaders' mechanism).

    Args:
        market: the model.
        member_cap: most members of one leader's groups.
    """

    def __init__(self, market, member_cap: int):
        self.m = market
        c, g = market.consumers, market.cfg.groups
        n, n_p = c.n, len(market.platform_names)
        self.member_cap = int(member_cap)
        self.leader = np.full((n, g.max_groups), -1, np.int64)  # leader (person) of each slot
        self.day_used = np.full((n, g.max_groups), -1, np.int32)  # joined or last ordered
        # the leader's platforms each member takes up (bit j: platform j): those it served when
        # the member joined, and one it adds if the member follows it there (ODD 7.3)
        self.takes = np.zeros((n, g.max_groups), np.int64)
        self.usual = np.full(n, -1, np.int64)  # leader of the last order (ODD 7.3), -1 none
        self.search_until = np.full(n, -1, np.int32)  # searching (leader quit) before this day
        self.leads = np.full(n, -1, np.int64)  # the leader the household is, -1 none
        self.members = np.zeros(0, np.int64)  # per leader (person)
        self.service_of = np.full((0, n_p), -1, np.int64)  # person x platform: service row
        self.person_nb = np.zeros(0, np.int64)  # each leader row's neighbourhood
        # the groups each household's ties follow that it does not follow (with repeats), kept
        # up to date as households join and leave groups (sim.leaders.kernels.tie_counts)
        self.tie_open = np.zeros(n, np.int64)
        self.lost_groups = np.zeros(n, np.int64)  # groups lost: their leader stopped
        self._gone: list[np.ndarray] = []  # leaders who stopped, their groups left at the pass
        self.orders_via_usual = np.zeros(n, np.int64)  # orders through the previous order's
        a = market.network.adjacency  # the ties, as the joining kernel reads them (once)
        self._ties = ((np.zeros(n + 1, np.int64), np.zeros(0, np.int64)) if a is None else
                      (a.indptr.astype(np.int64), a.indices.astype(np.int64)))

    # -- reading -------------------------------------------------------------------------------

    def followed(self) -> np.ndarray:
        """Groups each household follows now, (n,)."""
        return (self.leader >= 0).sum(axis=1)

    def refresh_services(self) -> None:
        """Which service row serves each platform for each leader, from the leader table."""
        t = self.m.leaders
        n_p = len(self.m.platform_names)
        so = np.full((t.n, n_p), -1, np.int64)
        rows = np.flatnonzero(t.view("active"))
        so[person_of(t)[rows], t.platform[rows]] = rows
        self.service_of = so
        self.person_nb = t.neighbourhood[: t.n].astype(np.int64)
        if len(self.members) < t.n:
            grown = np.zeros(max(t.n, 2 * len(self.members)), np.int64)
            grown[: len(self.members)] = self.members
            self.members = grown

    def refresh_pickups(self, rows: np.ndarray) -> None:
        """Households ``rows``' pickup points (``consumers.leader_of``) from their groups."""
        if len(rows) == 0:
            return
        c = self.m.consumers
        gk.pickup_rows(np.asarray(rows, np.int64), self.leader, self.day_used, self.takes,
                       c.neighbourhood, self.person_nb, self.service_of, c.leader_of)

    # -- changes -------------------------------------------------------------------------------

    def follow_own(self, homes: np.ndarray, persons: np.ndarray, d: int) -> None:
        """New leaders' households follow their own groups (a leader is its first member)."""
        self.refresh_services()
        gk.follow(np.asarray(homes, np.int64), np.asarray(persons, np.int64), self.leader,
                  self.day_used, self.takes, d, self.members, *self._ties, self.tie_open)
        self.leads[homes] = persons
        self.refresh_pickups(np.unique(homes))

    def leaders_left(self, persons: np.ndarray, households: np.ndarray) -> None:
        """Leaders ``persons`` stopped (every service): their groups serve nothing from now
        (``households``, who had a pickup point of theirs, are served by another of their
        groups or by none); at the day's pass (:meth:`run`) their members leave the group,
        search for another (``search_days``) and lose their loyalty to the leader and their
        platform habit, which do not pass to a successor (ODD 7.3)."""
        self.refresh_services()
        self._gone.append(np.asarray(persons, np.int64))
        self.leads[self.m.leaders.home[persons]] = -1
        self.refresh_pickups(households)

    def services_changed(self, persons: np.ndarray, added: np.ndarray | None = None,
                         follows: np.ndarray | None = None) -> np.ndarray:
        """Leaders ``persons`` added or dropped a platform: their members' pickup points change.
        With ``added`` (the platform each of ``persons`` added) and ``follows`` (per household:
        whether it follows its leader to an added platform), the members who follow take the
        added platform up through that leader's group (ODD 7.3). Returns the members."""
        self.refresh_services()
        mark = np.zeros(self.m.leaders.n, bool)
        mark[persons] = True
        rows = gk.followers_of(self.leader, mark)
        if added is not None and len(rows):
            new_j = np.full(self.m.leaders.n, -1, np.int64)
            new_j[persons] = added
            g = self.leader[rows]
            j = np.where(g >= 0, new_j[np.maximum(g, 0)], -1)
            take = (j >= 0) & follows[rows][:, None]
            r, s = np.nonzero(take)
            self.takes[rows[r], s] |= np.left_shift(1, j[r, s])
        self.refresh_pickups(rows)
        return rows

    def ordered(self, who: np.ndarray, leader_rows: np.ndarray, d: int) -> None:
        """Today's buyers ordered through these service rows: their usual leader, the group's
        day of use, and so their pickup points (the most recently used leader first)."""
        if len(who) == 0:
            return
        per = person_of(self.m.leaders)[leader_rows]
        self.orders_via_usual[who[self.usual[who] == per]] += 1  # who: unique (one a day)
        moved = gk.record_use(np.asarray(who, np.int64), per, self.leader, self.day_used,
                              self.usual, d, self.m.consumers.neighbourhood, self.person_nb)
        self.refresh_pickups(moved)

    def run(self, d: int) -> None:
        """The day's groups: the groups of leaders who stopped and idle groups are left, then
        adopters with a free slot join (ODD 7.3)."""
        self.refresh_services()
        left, joined = self.join(d)
        changed = np.zeros(len(self.usual), bool)  # the union of the two, ascending: a mask is
        changed[left] = True  # cheaper than np.union1d's hashing of thousands a day
        changed[joined] = True
        self.refresh_pickups(np.flatnonzero(changed))

    def join(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        """Idle groups are left; adopters with a free slot join a group with the chances h_iL
        (module docstring). Returns (households that left a group, households that joined)."""
        m = self.m
        c, g, t, net = m.consumers, m.cfg.groups, m.leaders, m.network
        per = person_of(t)
        act = np.flatnonzero(t.view("active"))
        persons = np.unique(per[act])
        open_ = np.zeros(t.n, bool)
        open_[persons] = self.members[persons] < self.member_cap
        k = net.n_neighbourhoods
        nb = self.person_nb[persons]
        own_persons = persons[np.argsort(nb, kind="stable")]
        own_ptr = np.concatenate([[0], np.cumsum(np.bincount(nb, minlength=k))]).astype(np.int64)
        # The screen counts every active leader (full or not): a group left in the same pass
        # may open again, and the bound must hold for the exact step after it.
        alive = np.zeros(t.n, bool)
        alive[persons] = True
        gone = np.zeros(t.n, bool)
        for p in self._gone:
            gone[p] = True
        weight, w_max = m.referrals.tie_weights()  # referral rewards (sim.remedies.referrals)
        idle, lost, cand, bound = gk.idle_and_screen(
            self.leader, self.day_used, self.takes, d, int(g.group_idle_days), self.leads,
            self.members, *self._ties, self.tie_open, gone, int(g.search_days), c.adopted,
            c.neighbourhood,
            np.bincount(nb, minlength=k).astype(float), alive, self.person_nb, net.degree,
            float(g.join_own_per_day), float(g.join_tie_per_day), self.search_until,
            float(g.search_hazard_multiplier), net.adjacency is None,
            int(self.members[persons].sum()), w_max)
        if self._gone:  # their members lost the group (searching since the pass)
            hit = idle[lost]
            self.lost_groups[hit] += 1
            us = self.usual[hit]
            lost_usual = hit[(us >= 0) & gone[np.maximum(us, 0)]]
            self.usual[lost_usual] = -1
            c.habit_platform[lost_usual] = -1
            self.members[np.flatnonzero(gone)] = 0
            self._gone = []
        open_[persons] = self.members[persons] < self.member_cap  # with today's leavers
        if len(cand) == 0:
            return idle, cand
        u = m.streams.uniform_at("groups.join", d, cand)
        sel = u < np.minimum(bound, 1.0)
        cand, u = cand[sel], u[sel]
        if len(cand) == 0:
            return idle, cand
        u_pick = m.streams.uniform_at("groups.join.pick", d, cand)
        indptr, indices = self._ties
        joined, joined_to, via_tie = gk.join_exact(
            cand, u, u_pick, self.leader, self.day_used, self.takes, self.service_of,
            c.neighbourhood, own_ptr, own_persons, alive, open_, self.members, self.member_cap,
            indptr, indices, net.adjacency is None, net.degree, float(g.join_own_per_day),
            float(g.join_tie_per_day), self.search_until, d, float(g.search_hazard_multiplier),
            self.tie_open, weight, w_max)
        m.referrals.rewarded(joined_to[via_tie])  # the rewards of the invitations that joined
        return idle, joined
