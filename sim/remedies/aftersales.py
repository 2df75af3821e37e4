"""After-sales speed (ODD 7.7; seed 004 §4.3, seed 000 §4.4.2).

Seed 004 §4.3: a complaint travels customer -> leader -> the platform's after-sales staff ->
inspection -> refund, "环节过多、时效性差", which "严重影响消费者的购物体验" and drives
customers away; seed 000 §4.4.2 proposes a fast-response standard (a reply within one hour).
Each platform resolves a complaint in ``resolution_hours`` (``platforms.<name>.strategy.
aftersales.resolution_hours`` over the market-wide ``aftersales`` group); the household's trust
loss of a complaint (``wom.trust_loss_spoiled``, L) is that of the ``reference_hours`` H_0, so a
platform at H_0 is the default model (the remedy is off).

* **Own experience** (the state it changes: ``consumers.trust`` of the complainer in the
  platform, e_ij of ODD 7.2). A complaint resolved in H hours (H_j, x ``1 - resolution_cut``
  at a trained leader's point, :mod:`sim.remedies.training`) cuts trust by
  ``L_H = min(1, L (H / H_0) ** trust_loss_elasticity)`` instead of L: the cold chain's cut
  (1 - L) is corrected by ``(1 - L_H) / (1 - L)`` (:meth:`complained`).
* **Reach.** An open complaint is told again: a complaint resolved in H hours is retold to
  the complainer's neighbours on each of the next ``x = H / H_0 - 1`` days (the whole part; one
  more day with chance the fraction, stream ``aftersales.retell`` at the complainer), as a
  complaint of that day in word of mouth (ODD 7.1: their trust and adoption fall again). The
  platforms table counts ``complaints_retold``.
* **Cost.** A platform faster than H_0 pays ``yuan_per_complaint_hour x (H_0 - H_j)`` per
  complaint (its after-sales staff), the ledger account ``aftersales_yuan``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["AfterSales"]


class AfterSales:
    """The platforms' after-sales speed and the complaints still open."""

    OWNS = ("hours", "reference", "elasticity", "yuan", "loss", "_open")
    WRITES = ("consumers.trust (a complainer's, beyond the cold chain's cut)",
              "today.complainers (the complaints retold today)",
              "ledger (aftersales_yuan, complaints_retold)")

    def __init__(self, market):
        self.m = market
        own = [s.aftersales for s in market.strategies]
        a = market.cfg.aftersales
        self.hours = np.array([s.resolution_hours for s in own], float)
        self.yuan = np.array([s.yuan_per_complaint_hour for s in own], float)
        self.reference = float(a.reference_hours)
        self.elasticity = float(a.trust_loss_elasticity)
        self.loss = float(market.cfg.wom.trust_loss_spoiled)
        none = np.zeros(0, np.int64)
        self._open = (none, none, none)  # (household, platform, days left to retell)

    @property
    def on(self) -> bool:
        """Whether any complaint can resolve at another speed than the reference."""
        t = self.m.training
        return bool((self.hours != self.reference).any()
                    or (t.on and (t.resolution_cut > 0).any()))

    def complained(self, d: int, leader_rows: np.ndarray) -> None:
        """Today's complaints at pickup (``today.complainers``, and the leader row of each): the
        complainers' trust at their resolution's speed, the cost of fast resolution, the
        complaints retold today (the open ones of earlier days) and those to retell later."""
        if not self.on:
            return
        m = self.m
        who, plat = m.today.complainers
        n_p = len(self.hours)
        # The open complaints of earlier days are retold today.
        o_who, o_plat, o_left = self._open
        retold = np.bincount(o_plat, minlength=n_p)
        if len(who):
            h = self.hours[plat] * m.training.resolution_factor(leader_rows)
            lost = np.minimum(1.0, self.loss * (h / self.reference) ** self.elasticity)
            if self.loss < 1.0:
                trust = m.consumers.trust
                trust[who, plat] = trust[who, plat] * ((1.0 - lost) / (1.0 - self.loss))
            x = np.maximum(h / self.reference - 1.0, 0.0)
            whole = np.floor(x)
            u = m.streams.uniform_at("aftersales.retell", d, who)
            left = (whole + (u < x - whole)).astype(np.int64)
            keep = left > 0
            o_who = np.concatenate([o_who, who[keep]])
            o_plat = np.concatenate([o_plat, plat[keep]])
            o_left = np.concatenate([o_left, left[keep]])
            fast = np.maximum(self.reference - self.hours, 0.0) * self.yuan
            cost = np.bincount(plat, minlength=n_p) * fast
            for p in m.platform_list:
                if cost[p.index]:
                    m.ledger.post(p.index, "aftersales_yuan", float(cost[p.index]))
        told = self._open[0], self._open[1]
        m.today.complainers = (np.concatenate([who, told[0]]), np.concatenate([plat, told[1]]))
        for p in m.platform_list:
            if retold[p.index]:
                m.ledger.post(p.index, "complaints_retold", int(retold[p.index]))
        # Tomorrow's retellings: today's retold less one day, and today's new open ones.
        n_old = len(self._open[0])
        o_left = o_left.copy()
        o_left[:n_old] -= 1
        still = o_left > 0
        self._open = (o_who[still], o_plat[still], o_left[still])
