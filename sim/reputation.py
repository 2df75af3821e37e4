"""Platform reputation: the name a platform has in the county, shared by every household.

A quality scandal leaves a lasting mark on a platform's name: "销售不合格产品只有零次与无数次
的区别" (selling bad produce has no "only once", seed 004 §4.2.1), while every household also
keeps its own experience of the platform (:mod:`sim.consumers`: trust, bounded in [0, 1]). The
choice weighs the two (ODD 7.2): ``rep_ij = w R_j + (1 - w) e_ij`` with ``w`` the
``choice.reputation_weight``.

Platform j's reputation ``R_j`` in [0, 1] moves each day toward its target

    R*_j = 1 - c x (j's complaints per order collected over the last 30 days)     (clipped)

with half-life ``choice.reputation_half_life_days`` h: ``R_j <- R_j + (1 - 2^(-1/h)) (R*_j -
R_j)``; c is ``choice.reputation_complaint_scale``, the complaints are the cold chain's (an
order with a spoiled or nearly spent unit), scandal complaints left out (the scandal acts
through its cut). On the day a scandal breaks (``wom.scandals``) the platform's reputation is
cut by the scandal's severity, ``R_j <- max(0, R_j - severity)``, then recovers at the same
half-life. A platform with no collections in the window keeps its reputation (a platform not
yet in the market has no record). It starts at the platform's ``initial_trust``.

Phase "reputation" of the day (ODD 3), after word of mouth: it reads today's collections and
complaints (:class:`sim.day.Day`, from the cold chain) and leaves ``level`` for the orders.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Reputation", "reputation_step"]

WINDOW_DAYS = 30  # ODD 7.2: "j's complaint rate over the last 30 days"


def reputation_step(level: np.ndarray, complaints: np.ndarray, orders: np.ndarray,
                    scale: float, half_life_days: float) -> np.ndarray:
    """One day's move of the reputations ``level`` (P,) toward ``1 - scale x complaints /
    orders`` (the window's sums, (P,)), clipped to [0, 1], with half-life ``half_life_days``;
    a platform with no orders in the window keeps its level."""
    rate = np.divide(complaints, orders, out=np.zeros(len(level)), where=orders > 0)
    target = np.clip(1.0 - scale * rate, 0.0, 1.0)
    pull = 1.0 - 2.0 ** (-1.0 / half_life_days)
    return np.where(orders > 0, level + pull * (target - level), level)


class Reputation:
    """The platforms' reputations and the 30-day window of their complaints and orders."""

    OWNS = ("level", "window_complaints", "window_orders")
    WRITES = ()

    def __init__(self, market):
        self.m = market
        cfg = market.cfg
        n_p = len(market.platform_names)
        self.level = np.array([cfg.platforms[p].initial_trust for p in market.platform_names],
                              float)
        # Today's row is day % 30: the window is the last 30 days, today included.
        self.window_complaints = np.zeros((WINDOW_DAYS, n_p), np.int64)
        self.window_orders = np.zeros((WINDOW_DAYS, n_p), np.int64)

    def run(self, d: int) -> None:
        """Today's complaints and collections into the window, the move toward the target, and
        the cut of a scandal that breaks today (ODD 7.2)."""
        m = self.m
        t, ch = m.today, m.cfg.choice
        row = d % WINDOW_DAYS
        self.window_complaints[row] = t.order_complaints_p
        self.window_orders[row] = t.pickups
        self.level = reputation_step(
            self.level, self.window_complaints.sum(axis=0), self.window_orders.sum(axis=0),
            float(ch.reputation_complaint_scale), float(ch.reputation_half_life_days))
        for sc in m.cfg.wom.scandals:
            if int(sc.day) == d:
                j = m.platform_names.index(sc.platform)
                if m.platform_list[j].active:
                    self.level[j] = max(0.0, self.level[j] - float(sc.severity))
