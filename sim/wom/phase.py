"""Word of mouth: adoption of group buying, awareness of platforms, complaints that travel.

Phase 4 of the day (ODD 3, ODD 7.1). Today's complaints (spoiled orders from the cold chain and
any quality scandal) reach the complainers' neighbours first, cutting their trust and their
chance to adopt; then households adopt group buying (Bass diffusion on the network: marketing
reach plus imitation of adopting neighbours, a boost from a leader among them), adopters who
stopped ordering and trust no platform lapse, and households become aware of each platform
(its own marketing, doubled on coupon days, its users among the neighbours, the household's
leader). This module owns the neighbour counts that imitation reads and the complaint
spreading's tables; it writes the households' ``adopted``, ``aware``, ``trust`` and
``complaints_heard``. The formulas run as compiled loops (:mod:`sim.wom.kernels`), checked bit
for bit against the readable NumPy of ``tests/reference.py``.
"""

from __future__ import annotations

import numpy as np

from sim.arrays import any_rows
from sim.network import NeighbourCounts
from sim.wom import kernels

__all__ = ["RECENT_USE_DAYS", "WordOfMouth", "decay_complaints", "neighbourhood_reach"]

RECENT_USE_DAYS = 30  # "neighbours who use it": ordered from the platform within 30 days


def neighbourhood_reach(presence: np.ndarray, marketing_reach: np.ndarray, active: np.ndarray,
                        is_village: np.ndarray, reach_without_leader: float = 0.0,
                        village_scale: float = 1.0) -> np.ndarray:
    """Marketing reach ``reach_k`` of ODD 7.1 in each neighbourhood k, in [0, 1].

    ``reach_k = s_k * max_j active_j * r_j * (1 if j has a leader in k else r_0)``: a platform
    promotes mainly through its pickup points and WeChat groups (seed 000 §4.3.3), so where it
    has no leader its reach falls to ``reach_without_leader`` (``r_0``) of its own. ``s_k`` is
    ``village_scale`` in villages (thinner promotion where households are scattered), else 1.

    Args:
        presence: whether platform j has an active leader in neighbourhood k, shape (K, P).
        marketing_reach: r_j, each platform's reach where it is present, shape (P,).
        active: whether each platform is in the market today, shape (P,).
        is_village: whether each neighbourhood is a village, shape (K,).
        reach_without_leader: r_0, share of its reach a platform keeps without a leader.
        village_scale: s_k in villages.
    """
    r = np.where(presence, 1.0, reach_without_leader) * (marketing_reach * active)[None, :]
    reach = r.max(axis=1) if r.shape[1] else np.zeros(len(is_village))
    return reach * np.where(is_village, village_scale, 1.0)


def decay_complaints(heard: np.ndarray, new: np.ndarray, half_life_days: float) -> np.ndarray:
    """Complaints heard, fading: ``H <- H * 2 ** (-1 / half_life) + new`` (one day)."""
    return heard * 2.0 ** (-1.0 / half_life_days) + new



class WordOfMouth:
    """Word of mouth's state and phase for one market."""

    OWNS = ("neighbour_counts", "_nb_state", "_complaint_loss_table", "_complaint_scratch",
            "_complainers_today")
    WRITES = ("consumers (adopted, day_adopted, aware, trust, complaints_heard)",
              "leaders.month_complaints (scandals)", "today (adopters, lapsed, scandal)",
              "ledger (scandal complaints)")

    def __init__(self, market):
        self.m = market
        c, net, w = market.consumers, market.network, market.cfg.wom
        n, n_p = c.n, len(market.platform_names)
        # Neighbour counts read by word of mouth (adopters, leaders, recent users of each
        # platform), kept up to date for the households whose state changed since the last day
        # (``_neighbour_counts``); ``_nb_state`` is the state they count (adopted, leader, and
        # for each platform: ordered from it in the last RECENT_USE_DAYS).
        self.neighbour_counts = NeighbourCounts(net, 2 + n_p)
        self._nb_state = (np.zeros(n, bool), np.zeros(n, bool), np.zeros((n, n_p), bool))
        # Complaint spreading (``_spread_complaints``): the trust factor ``(1 - loss) ** h`` for
        # h complaints heard about a platform in a day (h is at most a household's degree), as
        # NumPy computes it; and the compiled kernel's zeroed work array.
        if net.adjacency is not None:
            max_h = int(net.degree.max(initial=0))
            loss = w.complaint_trust_loss
            self._complaint_loss_table = (
                np.power(1.0 - loss, np.arange(max_h + 1, dtype=np.float32)) if loss > 0
                else np.zeros(0, np.float32))
            self._complaint_scratch = np.zeros((n, n_p), np.float32)
        self._complainers_today = None

    def run(self, d: int) -> None:
        """Complaints spread; adoption (Bass on the network, ODD 7.1); lapse; awareness.

        Order within the phase: today's complaints (spoiled orders and any quality scandal) reach
        the neighbours first, so that bad news heard today already weighs on today's adoption.
        """
        m = self.m
        c, net, w = m.consumers, m.network, m.cfg.wom
        self._todays_complainers(d)
        self._spread_complaints(d)
        nb = self._neighbour_counts(d)
        reach_k = self.neighbourhood_reach_today()
        # Only households that have not adopted can adopt: the probability is computed, and the
        # full-length stream's numbers drawn (RandomStreams.uniform_of), for them alone.
        # tests/reference.py adoption_probability: the terms in one compiled call over the
        # households (sim.wom.kernels.adoption_candidates), the complaints factor and the clip here.
        cand, prob = kernels.adoption_candidates(
            c.adopted, reach_k, c.neighbourhood, nb[:, 0], nb[:, 1], net.degree, c.p_scale,
            float(w.p_external), float(w.q_imitation), float(w.leader_boost))
        if w.complaint_adoption_loss:
            # x ** 0 == 1 and p * 1 == p: only candidates who heard a complaint change (few in
            # the first months, when the candidates are many; NumPy's pow takes ~5 ns each).
            heard = c.complaints_heard[cand]
            some = np.flatnonzero(heard != 0.0)
            prob[some] = prob[some] * np.power(1.0 - w.complaint_adoption_loss, heard[some])
        prob = np.clip(prob, 0.0, 1.0)
        u = m.streams.uniform_of("wom.adopt", d, cand)
        new = cand[u < prob]
        c.adopted[new] = True
        c.day_adopted[new] = d
        m.today.new_adopters = len(new)

        lapsed = 0
        if w.lapse:  # adopters who stopped ordering and trust no platform (sim.wom.kernels.lapse)
            lapsed = kernels.lapse(c.adopted, c.is_leader, c.day_last_order, c.day_adopted,
                                   c.trust, d, int(w.lapse_days), float(w.lapse_trust))
        m.today.lapsed = int(lapsed)

        for j, p in enumerate(m.platform_list):
            if not p.active:
                continue
            # A platform handing out coupons today markets harder (coupons are how platforms
            # bought users: seed 000 §3.3.1 "大规模补贴用户").
            coupons = p.coupon_yuan > 0  # to its target (sim.coupons)
            own = p.cfg.awareness_rate_per_day * (1.0 + w.subsidy_marketing_boost * coupons)
            # Awareness only grows: only households not yet aware need the computation and
            # their numbers of the stream (tests/reference.py awareness_probability, compiled:
            # sim.wom.kernels.become_aware).
            cand = kernels.unaware(c.aware, j)
            u = m.streams.uniform_of(f"wom.aware.{p.name}", d, cand)
            # its users among the neighbours invite more with a referral reward (ODD 7.7)
            imitation = float(w.awareness_imitation) * m.referrals.awareness_factor(j)
            kernels.become_aware(c.aware, j, float(own), imitation,
                                 nb[:, 2 + j], net.degree, float(w.awareness_from_leader),
                                 c.leader_of, cand, u)

    def _neighbour_counts(self, d: int) -> np.ndarray:
        """Each household's neighbours who adopted, lead a group, recently used each platform.

        Columns: adopters, leaders, then one per platform the households whose last order from
        that platform is at most ``RECENT_USE_DAYS`` old (a household counts for every platform
        it ordered from in that window, ODD 7.1). Only the rows of households whose
        state changed since the last call are recomputed (:class:`sim.network.NeighbourCounts`):
        the counts equal the full product ``A @ X`` exactly.
        """
        m = self.m
        c = m.consumers
        rows, delta = kernels.changed_state_rows(
            c.adopted, c.is_leader, c.day_last_order_p, d, RECENT_USE_DAYS,
            *self._nb_state, self.neighbour_counts.counts.shape[1])
        return self.neighbour_counts.add(rows, delta)

    def _todays_complainers(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        """Today's complainers and the platforms they complain about (orders and scandals)."""
        m = self.m
        none = np.zeros(0, np.int64)
        who, plat = m.today.complainers  # handed over by the cold chain, read once
        m.today.complainers = (none, none)
        s_who, s_plat = self._scandal_complainers(d)
        m.today.scandal_complaints = len(s_who)
        m.today.complaints = m.today.complaints + len(s_who)
        self._complainers_today = (np.concatenate([who, s_who]), np.concatenate([plat, s_plat]))
        return self._complainers_today

    def _spread_complaints(self, d: int) -> None:
        """Today's complaints reach the complainers' neighbours (negative word of mouth).

        Each complaining neighbour cuts a household's trust in that platform by the factor
        ``1 - complaint_trust_loss`` and adds one to the complaints it has heard, which fade with
        half-life ``complaint_memory_days`` and lower its chance to adopt
        (ODD 7.1). A quality scandal adds many complainers at
        once (:meth:`_scandal_complainers`). Seed 004 §4.2.1: bad news travels.
        """
        m = self.m
        c, w = m.consumers, m.cfg.wom
        n_p = len(m.platform_list)
        if self._complainers_today is None:
            self._todays_complainers(d)  # called on its own (not from phase_word_of_mouth)
        who, plat = self._complainers_today
        self._complainers_today = None
        spread = len(who) and (w.complaint_trust_loss > 0 or w.complaint_adoption_loss > 0)
        rows, inv = np.unique(who, return_inverse=True)
        x = np.zeros((len(rows), n_p), np.float32)
        x[inv, plat] = 1.0  # one complaint per household and platform a day
        a = m.network.adjacency
        if a is not None:
            # The complainers' ties only, in one compiled pass (sim.wom.kernels.spread_complaints:
            # the formulas below, bit for bit).
            if not spread:
                rows, x = rows[:0], x[:0]
            kernels.spread_complaints(
                a.indptr, a.indices, a.data, np.asarray(rows, np.int64), x, c.trust,
                c.complaints_heard, 2.0 ** (-1.0 / w.complaint_memory_days),
                self._complaint_loss_table, self._complaint_scratch)
            return
        new_heard = np.zeros(c.n)
        if spread:
            heard = m.network.neighbour_sum_of_rows(rows, x)
            # Only households that heard something change (x**0 == 1 leaves the rest as is).
            hit = np.flatnonzero(any_rows(heard))
            h = heard[hit]
            if w.complaint_trust_loss > 0:
                c.trust[hit] *= np.power(1.0 - w.complaint_trust_loss, h)
            new_heard[hit] = np.asarray(h, np.float64).sum(axis=1)
        c.complaints_heard = decay_complaints(c.complaints_heard, new_heard,
                                              w.complaint_memory_days)

    def _scandal_complainers(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        """Households who complain because a quality scandal breaks today (``wom.scandals``).

        A scandal (seed 004 §4.2.1: rotten produce sorted for sale at a central warehouse,
        exposed by the press) makes each recent user of the platform (last order from it within
        ``RECENT_USE_DAYS``) complain with probability ``severity``: the complainer's own trust
        drops as after a spoiled order, the complaint lands on its leader's desk, and it spreads
        to the neighbours like any other.
        """
        m = self.m
        c, w = m.consumers, m.cfg.wom
        who_parts, plat_parts = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        for sc in w.scandals:
            if int(sc.day) != d:
                continue
            j = m.platform_names.index(sc.platform)
            p = m.platform_list[j]
            u = m.streams.uniform(f"wom.scandal.{p.name}", d, c.n)
            if not p.active:
                continue
            last_j = c.day_last_order_p[:, j]  # its last order from this platform
            recent = (last_j >= 0) & (d - last_j <= RECENT_USE_DAYS)
            idx = np.flatnonzero(recent & (u < sc.severity))
            c.trust[idx, j] *= 1.0 - w.trust_loss_spoiled
            m.ledger.post(p.index, "complaints", len(idx))
            lead = c.leader_of[idx, j]
            np.add.at(m.leaders.month_complaints, lead[lead >= 0], 1)
            who_parts.append(idx.astype(np.int64))
            plat_parts.append(np.full(len(idx), j, np.int64))
        return np.concatenate(who_parts), np.concatenate(plat_parts)

    def neighbourhood_reach_today(self) -> np.ndarray:
        """The platforms' marketing reach in each neighbourhood today (ODD 7.1)."""
        m = self.m
        w = m.cfg.wom
        return neighbourhood_reach(
            self.leader_presence(), np.array([p.cfg.marketing_reach for p in m.platform_list]),
            np.array([p.active for p in m.platform_list]), m.network.is_village,
            w.reach_without_leader, w.reach_village_scale)

    def leader_presence(self) -> np.ndarray:
        """Whether each platform has an active leader in each neighbourhood, shape (K, P)."""
        m = self.m
        t = m.leaders
        k, n_p = m.network.n_neighbourhoods, len(m.platform_list)
        out = np.zeros((k, n_p), bool)
        act = np.flatnonzero(t.view("active"))
        out[t.neighbourhood[act], t.platform[act]] = True
        return out

