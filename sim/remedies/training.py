"""Leader training (ODD 7.7; seed 000 §3.2.2, §4.2.1; seed 004 §5.3).

Seed 000 §3.2.2 finds the platforms' training of leaders one-size-fits-all and online only;
§4.2.1 proposes local content (consumption habits, promotion skills, "商品推广技巧"), offline
courses and site visits; seed 004 §5.3 proposes regular training so that leaders master storage
and serve the customers who complain through them. A platform may train its leaders: a lever
of each platform (``platforms.<name>.strategy.training.*`` over the market-wide ``training``
group; off by default, ``share_of_leaders`` 0).

* **Who.** A leader's service row of platform j is trained on the first day it is active when
  the leader's own draw (stream ``training.leader``, one uniform per leader for the whole run)
  is below j's ``share_of_leaders``; j pays ``cost_yuan_per_leader`` that day (the ledger
  account ``training_yuan``; the platforms table counts its active ``trained_leaders``).
* **Time** (the state it changes: ``leaders.minutes_per_order`` and
  ``leaders.minutes_per_complaint`` of the row): both x ``(1 - minutes_cut)``, so its work at
  the monthly review (ODD 7.3) and so its net income and churn; the leaders' reviews record the
  month's work minutes and orders.
* **Complaints.** A complaint at a trained row's point is resolved in ``resolution_hours x (1
  - resolution_cut)`` hours (:mod:`sim.remedies.aftersales`).
* **Promotion.** Its members' order occasions: the promoted rate ``r_i (1 + p)`` of ODD 7.2
  (``p``: ``choice.leader_promotion``) becomes ``r_i (1 + p (1 + u))`` for ``u`` its
  ``promotion_uplift``, added as the leader's extra occasions ``p u mean_i(r_i)`` over the
  households whose usual leader it is (:meth:`extra_occasions`: the channel the community
  services use, one rate per leader, so a member gets its group's mean rather than its own).
"""

from __future__ import annotations

import numpy as np

from sim.leaders.table import person_of

__all__ = ["LeaderTraining"]


class LeaderTraining:
    """The training programmes of one market (one per platform)."""

    OWNS = ("share", "cost", "minutes_cut", "resolution_cut", "uplift", "trained")
    WRITES = ("leaders (minutes_per_order, minutes_per_complaint of a row, once, when trained)",
              "ledger (training_yuan)")

    def __init__(self, market):
        self.m = market
        own = [s.training for s in market.strategies]
        self.share = np.array([s.share_of_leaders for s in own], float)
        self.cost = np.array([s.cost_yuan_per_leader for s in own], float)
        self.minutes_cut = np.array([s.minutes_cut for s in own], float)
        self.resolution_cut = np.array([s.resolution_cut for s in own], float)
        self.uplift = np.array([s.promotion_uplift for s in own], float)
        self.trained = np.zeros(0, bool)  # per leader service row (the table only grows)

    @property
    def on(self) -> bool:
        return bool((self.share > 0).any())

    def _rows(self) -> np.ndarray:
        """``trained`` as long as the leader table."""
        n = self.m.leaders.n
        if len(self.trained) < n:
            self.trained = np.concatenate([self.trained, np.zeros(n - len(self.trained), bool)])
        return self.trained

    def run(self, d: int) -> None:
        """Train today's new rows (the leaders phase, after recruiting and quits)."""
        if not self.on:
            return
        m, t = self.m, self.m.leaders
        trained = self._rows()
        act = np.flatnonzero(t.view("active"))
        act = act[~trained[act]]
        j = t.platform[act].astype(np.int64)
        u = m.streams.uniform_of("training.leader", 0, person_of(t)[act])
        new = act[u < self.share[j]]
        if len(new) == 0:
            return
        lc = m.cfg.leaders
        jn = t.platform[new].astype(np.int64)
        keep = 1.0 - self.minutes_cut[jn]
        for name, default in (("minutes_per_order", lc.minutes_per_order),
                              ("minutes_per_complaint", lc.minutes_per_complaint)):
            col = getattr(t, name)
            col[new] = np.where(np.isnan(col[new]), default, col[new]) * keep
        trained[new] = True
        n = np.bincount(jn, minlength=len(self.share))
        for p in m.platform_list:
            if n[p.index]:
                m.ledger.post(p.index, "training_yuan", float(n[p.index] * self.cost[p.index]))

    def counts(self) -> np.ndarray:
        """Active trained rows per platform today."""
        t = self.m.leaders
        if not self.on:
            return np.zeros(len(self.share), np.int64)
        act = np.flatnonzero(t.view("active"))
        act = act[self._rows()[act]]
        return np.bincount(t.platform[act].astype(np.int64), minlength=len(self.share))

    def resolution_factor(self, rows: np.ndarray) -> np.ndarray:
        """Hours to resolve a complaint at each leader row's point x this (1 untrained)."""
        if not self.on or len(rows) == 0:
            return np.ones(len(rows))
        trained = self._rows()[rows]
        j = self.m.leaders.platform[rows].astype(np.int64)
        return np.where(trained, 1.0 - self.resolution_cut[j], 1.0)

    def extra_occasions(self, extra_of: np.ndarray, extra_max: float) -> tuple[np.ndarray, float]:
        """The orders phase's added occasion rate per leader (its primary row), with a trained
        leader's promotion added: ``p u mean r_i`` over its usual members (``r_i``: order rate
        x today's demand multiplier), ``u`` the largest uplift among its trained rows."""
        m = self.m
        if not self.on or not self.uplift.any():
            return extra_of, extra_max
        t = m.leaders
        act = np.flatnonzero(t.view("active"))
        act = act[self._rows()[act]]
        if len(act) == 0:
            return extra_of, extra_max
        u = np.zeros(t.n)
        np.maximum.at(u, person_of(t)[act], self.uplift[t.platform[act].astype(np.int64)])
        c, cond = m.consumers, m.today.conditions
        usual = m.leadership.groups.usual
        member = np.flatnonzero(usual >= 0)
        rate = c.order_rate[member] * np.where(c.in_village[member],
                                               float(cond.demand_multiplier_village),
                                               float(cond.demand_multiplier_town))
        total = np.bincount(usual[member], weights=rate, minlength=t.n)[: t.n]
        n = np.bincount(usual[member], minlength=t.n)[: t.n]
        mean = np.divide(total, n, out=np.zeros(t.n), where=n > 0)
        add = float(m.cfg.choice.leader_promotion) * u * mean
        if len(extra_of) < t.n:
            extra_of = np.concatenate([extra_of, np.zeros(t.n - len(extra_of))])
        extra = extra_of + add[: len(extra_of)]
        return extra, float(extra.max(initial=0.0))
