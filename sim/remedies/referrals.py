"""Referral rewards (邀请有礼, 拼团; ODD 7.7): a platform pays the inviter and the invitee.

Seed 003 l.37 ("拼团、优惠券等机制激励用户分享") and seed 000 §4.3.3
("设置奖励机制,鼓励用户分享活动内容和邀请好友参与"): a platform rewards each successful
invitation. It is a lever of each platform (``platforms.<name>.strategy.referral.*`` over the
market-wide ``referral`` group; off by default, ``reward_yuan`` 0).

* **Invitations.** A reward of r yuan raises the invitations to platform j's groups by the
  factor ``w_j = 1 + uplift_per_yuan x r`` (an elasticity the seeds do not give: an assumption
  to sweep). It weights the ties' part of the joining chance of ODD 7.3 for a leader of j,
  ``h_tie c_iL w_L / k_i`` (``w_L``: the largest of its platforms' factors; drawn exactly by
  thinning, :func:`sim.leaders.kernels.join_exact`), and the imitation term of awareness of j
  through neighbours who use it (:mod:`sim.wom.phase`).
* **Payment.** A household that joins a group through a tie's invitation, to a leader whose
  platform runs the programme, earns that platform's reward for itself and for the inviter:
  ``2 r`` yuan, the ledger account ``referral_yuan`` (counted in ``referrals``), on the day.
"""

from __future__ import annotations

import numpy as np

from sim.leaders.table import person_of

__all__ = ["Referrals"]


class Referrals:
    """The referral programmes of one market (one per platform)."""

    OWNS = ("reward", "uplift", "factor", "_weight", "_platform")
    WRITES = ("ledger (referral_yuan, referrals)",)

    def __init__(self, market):
        self.m = market
        own = [s.referral for s in market.strategies]
        self.reward = np.array([s.reward_yuan for s in own], float)
        self.uplift = np.array([s.uplift_per_yuan for s in own], float)
        self.factor = 1.0 + self.uplift * self.reward  # w_j: the weight of an invitation to j
        self._weight = np.ones(0)
        self._platform = np.zeros(0, np.int64)

    @property
    def on(self) -> bool:
        return bool((self.reward > 0).any())

    def awareness_factor(self, j: int) -> float:
        """The factor of the imitation term of awareness of platform ``j`` (its neighbours who
        use it invite it)."""
        return float(self.factor[j])

    def tie_weights(self) -> tuple[np.ndarray, float]:
        """Each leader's invitation weight (its primary row: the largest factor among the
        platforms it serves today; 1 elsewhere) and the largest, for the day's joining."""
        t = self.m.leaders
        w = np.ones(t.n)
        platform = np.full(t.n, -1, np.int64)
        if self.on:
            act = np.flatnonzero(t.view("active"))
            j = t.platform[act].astype(np.int64)
            per = person_of(t)[act]
            order = np.argsort(self.factor[j], kind="stable")  # the largest factor last
            w[per[order]] = self.factor[j[order]]
            platform[per[order]] = np.where(self.reward[j[order]] > 0, j[order], -1)
        self._weight, self._platform = w, platform
        return w, float(w.max(initial=1.0))

    def rewarded(self, leaders: np.ndarray) -> None:
        """The day's joins through a tie's invitation, by the leader joined: each pays its
        programme's reward to the invitee and to the inviter."""
        if not self.on or len(leaders) == 0:
            return
        j = self._platform[leaders]
        j = j[j >= 0]
        n = np.bincount(j, minlength=len(self.reward))
        for p in self.m.platform_list:
            if n[p.index]:
                self.m.ledger.post(p.index, "referrals", float(n[p.index]))
                self.m.ledger.post(p.index, "referral_yuan",
                                   float(2.0 * self.reward[p.index] * n[p.index]))
