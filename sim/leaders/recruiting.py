"""Recruiting leaders: coverage surveys, successors after a search, business-development capacity.

Part of the leaders' phase (:mod:`sim.leaders.phase`, ODD 7.3). A platform wants enough leaders
in each neighbourhood it covers for its density target and for every household to find a place
in some leader's WeChat groups. Every ``recruit_interval_days`` from its entry it surveys its
gaps; where a leader quit it first searches for a successor, which takes
``successor_search_days_town`` / ``_village`` (few suitable candidates are left in villages,
seed 000 §3.2.1), and with ``replace_on_quit`` signs one as soon as the search ends (else at its
next survey). It signs at most ``recruits_per_day`` leaders a day (its business-development
capacity, stated for ``market.platform_money_households`` households and scaled with the
market), so a launch takes weeks (each of these three is a platform's lever:
``platforms.<name>.strategy.leaders.recruits_per_day``, ``recruit_interval_days``,
``replace_on_quit``); the gaps with most adopters come first, and every gap gets
its first leader before any gets a second. A recruit comes from the neighbourhood's candidates
(corner shops, active residents) who are not leading and not cooling off after quitting, and
starts with an empty group that fills by joining (:mod:`sim.leaders.groups`): its members, and
their loyalty, do not pass from the leader it replaces.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from sim.leaders import kernels
from sim.leaders.table import (
    Leader,
    lognormal_income,
    pick_recruits,
    recruitment_targets,
)

__all__ = ["Recruiting", "daily_recruits"]


def daily_recruits(recruits_per_day: float, households: int, money_households: int) -> int:
    """Leaders a platform can sign a day: ``recruits_per_day`` per ``money_households``
    households, scaled to the market and rounded up (a small market still signs one a day);
    0 if the capacity is 0."""
    if recruits_per_day <= 0:
        return 0
    return int(math.ceil(recruits_per_day * households / money_households))


class Recruiting:
    """Surveys, successor searches and recruitment for one market."""

    OWNS = ("member_cap", "groups", "backlog", "search_until_nb", "recruits_per_day",
            "interval_days", "replace_on_quit", "per_day", "_candidates")

    def __init__(self, market, member_cap: int, groups):
        self.m = market
        self.member_cap = member_cap  # most members of one leader's groups
        self.groups = groups  # the followed groups (a recruit's own household joins its group)
        k, n_p = market.network.n_neighbourhoods, len(market.platform_names)
        self.backlog = np.zeros((k, n_p), np.int64)  # leaders still to sign, per neighbourhood
        self._candidates: np.ndarray | None = None  # households that could lead (ascending)
        self.search_until_nb = np.full((k, n_p), -1, np.int64)  # successor search ends then
        # Each platform's recruiting levers (its strategy over the market-wide leaders keys).
        own = [s.leaders for s in market.strategies]
        self.recruits_per_day = np.array([s.recruits_per_day for s in own], float)
        self.interval_days = np.array([s.recruit_interval_days for s in own], np.int64)
        self.replace_on_quit = np.array([s.replace_on_quit for s in own], bool)
        self.per_day = np.array([daily_recruits(r, market.consumers.n,
                                                market.cfg.market.platform_money_households)
                                 for r in self.recruits_per_day], np.int64)

    def leaders_quit(self, lost: np.ndarray, d: int) -> None:
        """A leader of platform j quit in neighbourhood k (``lost[k, j]``): the search for a
        successor there starts today and ends after ``successor_search_days`` (ODD 7.3)."""
        lc = self.m.cfg.leaders
        days = np.where(self.m.network.is_village, lc.successor_search_days_village,
                        lc.successor_search_days_town)
        k, j = np.nonzero(lost)
        self.search_until_nb[k, j] = d + days[k]

    def run(self, d: int) -> np.ndarray:
        """Each active platform's survey, successors and recruits of the day (per platform)."""
        m = self.m
        out = np.zeros(len(m.platform_list), np.int64)
        counted: list[np.ndarray] = []  # adopters per neighbourhood, once a day if needed

        def adopters() -> np.ndarray:
            if not counted:
                c = m.consumers
                counted.append(np.bincount(c.neighbourhood[c.adopted],
                                           minlength=m.network.n_neighbourhoods))
            return counted[0]

        for j, p in enumerate(m.platform_list):
            if not p.active:
                continue
            deficit = self._deficit(p) * (self.search_until_nb[:, j] <= d)
            if (d - p.cfg.entry_day) % self.interval_days[j] == 0:
                self.backlog[:, j] = deficit
            elif self.replace_on_quit[j]:
                due = self.search_until_nb[:, j] == d
                self.backlog[due, j] = deficit[due]
            todo = np.minimum(self.backlog[:, j], deficit)
            if todo.sum() == 0:
                self.backlog[:, j] = todo
                continue
            signed, left = self.recruit(p, d, todo, adopters)
            # where no candidate is left the search waits for the next survey; where the day's
            # capacity ran out first, the rest are signed on the next days
            self.backlog[:, j] = np.maximum(todo - signed, 0) * (left > 0)
            out[j] = signed.sum()
        return out

    def _deficit(self, p) -> np.ndarray:
        """Leaders platform ``p`` lacks per neighbourhood: enough for its density target and for
        every household to find a place in some leader's groups (the member cap)."""
        m = self.m
        t, k = m.leaders, m.network.n_neighbourhoods
        households = m.households_per_neighbourhood
        want = np.maximum(recruitment_targets(households, p.cfg.households_per_leader),
                          recruitment_targets(households, self.member_cap)) * p.covered
        act = np.flatnonzero(t.view("active") & (t.view("platform") == p.index))
        have = np.bincount(t.neighbourhood[act], minlength=k)
        return np.maximum(want - have, 0)

    def recruit(self, p, d: int, todo: np.ndarray,
                adopters: Callable[[], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Platform ``p`` signs up to ``todo[k]`` leaders in each neighbourhood k, at most
        :attr:`per_day` in all: each gap's first leader before any second, then the gaps with
        most adopters (``adopters()``: per neighbourhood; a daily draw per neighbourhood breaks
        ties). Returns the leaders signed and the candidates left, per neighbourhood."""
        m = self.m
        t, c, lc, k = m.leaders, m.consumers, m.cfg.leaders, m.network.n_neighbourhoods
        signed = np.zeros(k, np.int64)
        per_day = int(self.per_day[p.index])
        if per_day == 0:
            return signed, np.ones(k, np.int64)  # no capacity: the candidates are untouched
        # Candidates, not leading, available, where leaders are wanted (one compiled pass).
        if self._candidates is None:  # the households that could lead: fixed at set-up
            self._candidates = np.flatnonzero(c.leader_candidate)
        cand = kernels.recruit_candidates(self._candidates, c.is_leader, c.leader_available_day,
                                          d, todo, c.neighbourhood)
        pool = np.bincount(c.neighbourhood[cand], minlength=k)
        name = f"leaders.recruit.{p.name}"
        homes = pick_recruits(todo, None, c.neighbourhood,
                              lambda idx: m.streams.uniform_of(name, d, idx),  # theirs alone
                              candidates=cand)  # by neighbourhood, then the draw
        if len(homes) > per_day:
            nbh = c.neighbourhood[homes]
            rank = np.arange(len(homes)) - np.searchsorted(nbh, nbh, side="left")
            tie = m.streams.uniform(f"leaders.recruit.order.{p.name}", d, k)
            order = np.lexsort((tie[nbh], -adopters()[nbh], rank))
            homes = np.sort(homes[order[:per_day]])
        k = len(homes)
        if k == 0:
            return signed, pool
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
        self.groups.follow_own(homes, idx, d)  # a leader is the first member of its group
        m.ledger.post(p.index, "recruit_yuan", k * p.cfg.recruit_cost_yuan)
        m.recorder.leader_events(d, idx, np.full(k, p.index), "recruited", "coverage_gap")
        signed = np.bincount(c.neighbourhood[homes], minlength=m.network.n_neighbourhoods)
        return signed, pool - signed
