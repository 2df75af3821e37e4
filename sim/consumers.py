"""Consumers (households): state as arrays, one Mesa agent per row, whole-array phases.

Consumers are many and alike in structure, so their state lives in numpy arrays with one row per
household (:class:`ConsumerState`) and every phase updates all of them at once (DESIGN §5.2).
Each household is still a Mesa agent (:class:`Consumer`) that reads and writes its own row, so
``model.agents_by_type[Consumer]``, the dashboard and per-agent inspection work.

The rules, as whole-array functions:

* :func:`adoption_probability`: Bass diffusion on the network (DESIGN §4.1; Bass 1969),
  ``P_i = p * reach_i + q * A_i / k_i`` plus ``leader_boost`` with a leader among i's
  neighbours, clipped to [0, 1].
* :func:`neighbourhood_reach`: the platforms' marketing reach in each neighbourhood, from where
  they have pickup points, lower in villages.
* :func:`decay_complaints`: complaints heard from neighbours fade with a half-life; each one
  still remembered cuts the chance to adopt (negative word of mouth, seed 004 §4.2.1).
* :func:`choice_utilities` / :func:`choose`: multinomial logit over reachable platforms and the
  outside option with price, trust, habit and quality (DESIGN §4.2), and the consumer surplus as
  the logsum in yuan (Small & Rosen 1981).
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from sim.views import row_property

__all__ = [
    "Consumer",
    "ConsumerState",
    "adoption_probability",
    "awareness_probability",
    "choice_utilities",
    "choose",
    "decay_complaints",
    "logsum_surplus_yuan",
    "neighbourhood_reach",
]

NONE = -1  # "no platform" / "no leader" / "never"


@dataclass
class ConsumerState:
    """One row per household. Platform-indexed arrays have one column per platform.

    Timers are days (``day_adopted``, ``day_last_order``), compared with today; -1 means never.
    """

    neighbourhood: np.ndarray  # int32, the household's neighbourhood
    in_village: np.ndarray  # bool
    segment: np.ndarray  # int8, index into the segment list
    price_sensitivity: np.ndarray  # float64, beta_i of DESIGN §4.2
    p_scale: np.ndarray  # float64, segment multiplier of p_external
    order_rate: np.ndarray  # float64, order occasions per day
    adopted: np.ndarray  # bool, has adopted group buying
    day_adopted: np.ndarray  # int32
    aware: np.ndarray  # bool (n, P)
    trust: np.ndarray  # float64 (n, P), in [0, 1]
    leader_of: np.ndarray  # int32 (n, P), leader index serving the household, or -1
    last_platform: np.ndarray  # int16, or -1
    day_last_order: np.ndarray  # int32, or -1
    day_last_order_p: np.ndarray  # int32 (n, P), day of last order from each platform, or -1
    orders: np.ndarray  # int64, orders to date
    spend_yuan: np.ndarray  # float64, paid to date net of refunds
    leader_candidate: np.ndarray  # bool, could run a pickup point (often a corner shop)
    leader_available_day: np.ndarray  # int32, first day the household may be recruited
    is_leader: np.ndarray  # bool, runs a pickup point now
    complaints_heard: np.ndarray | None = None  # float64, complaints heard, fading (half-life)

    def __post_init__(self):
        if self.complaints_heard is None:
            self.complaints_heard = np.zeros(len(self.adopted))

    @classmethod
    def empty(cls, n: int, n_platforms: int) -> ConsumerState:
        return cls(
            neighbourhood=np.zeros(n, np.int32),
            in_village=np.zeros(n, bool),
            segment=np.zeros(n, np.int8),
            price_sensitivity=np.zeros(n),
            p_scale=np.ones(n),
            order_rate=np.zeros(n),
            adopted=np.zeros(n, bool),
            day_adopted=np.full(n, NONE, np.int32),
            aware=np.zeros((n, n_platforms), bool),
            trust=np.zeros((n, n_platforms)),
            leader_of=np.full((n, n_platforms), NONE, np.int32),
            last_platform=np.full(n, NONE, np.int16),
            day_last_order=np.full(n, NONE, np.int32),
            day_last_order_p=np.full((n, n_platforms), NONE, np.int32),
            orders=np.zeros(n, np.int64),
            spend_yuan=np.zeros(n),
            leader_candidate=np.zeros(n, bool),
            leader_available_day=np.zeros(n, np.int32),
            is_leader=np.zeros(n, bool),
            complaints_heard=np.zeros(n),
        )

    @property
    def n(self) -> int:
        return len(self.adopted)


def adoption_probability(p_external: float, q_imitation: float, reach: np.ndarray,
                         adopted_neighbours: np.ndarray, degree: np.ndarray,
                         leader_neighbour: np.ndarray | None = None,
                         leader_boost: float = 0.0, p_scale: np.ndarray | float = 1.0,
                         complaints_heard: np.ndarray | None = None,
                         complaint_adoption_loss: float = 0.0):
    """Daily adoption probability of each household (DESIGN §4.1; Bass 1969).

    ``P_i = p * p_scale_i * reach_i + q * A_i / k_i (+ leader_boost if a leader neighbour)``,
    times ``(1 - complaint_adoption_loss) ** H_i`` for ``H_i`` complaints heard (negative word
    of mouth: bad news deters, seed 004 §4.2.1), clipped to [0, 1]; the imitation term is 0
    where ``k_i = 0``. On the complete graph with reach 1, no boost and no complaints the
    adopted fraction follows ``F(t+1) = F + (p + q F)(1 - F)`` in expectation (Rand & Rust 2011).

    Args:
        p_external: innovation rate, per day.
        q_imitation: imitation rate, per day.
        reach: marketing reach in each household's neighbourhood, in [0, 1].
        adopted_neighbours: A_i, the number of i's neighbours who have adopted.
        degree: k_i, the number of i's neighbours.
        leader_neighbour: whether an active leader is among i's neighbours.
        leader_boost: added probability with a leader neighbour, per day.
        p_scale: segment multiplier of ``p_external``.
        complaints_heard: H_i, complaints heard from neighbours (fading, may be fractional).
        complaint_adoption_loss: share of the probability lost per complaint heard.
    """
    frac = np.divide(adopted_neighbours, degree, out=np.zeros(len(degree)), where=degree > 0)
    prob = p_external * p_scale * reach + q_imitation * frac
    if leader_neighbour is not None and leader_boost:
        prob = prob + leader_boost * leader_neighbour
    if complaints_heard is not None and complaint_adoption_loss:
        prob = prob * np.power(1.0 - complaint_adoption_loss, complaints_heard)
    return np.clip(prob, 0.0, 1.0)


def awareness_probability(own_rate: float, imitation: float, users_neighbours: np.ndarray,
                          degree: np.ndarray, from_leader: float,
                          has_leader: np.ndarray) -> np.ndarray:
    """Daily probability that a household not yet aware of a platform becomes aware (DESIGN §4.1).

    ``P_ij = own_j + imitation * U_ij / k_i + from_leader * [i has a leader of j]``: the
    platform's own marketing (doubled on coupon days by the caller), its users among the
    household's ``k_i`` neighbours (``U_ij``; the term is 0 where ``k_i = 0``), and the household's
    leader joining it. Compared with uniform draws, so values above 1 mean "surely".
    """
    frac = np.divide(users_neighbours, degree, out=np.zeros(len(degree)), where=degree > 0)
    return own_rate + imitation * frac + from_leader * has_leader


def neighbourhood_reach(presence: np.ndarray, marketing_reach: np.ndarray, active: np.ndarray,
                        is_village: np.ndarray, reach_without_leader: float = 0.0,
                        village_scale: float = 1.0) -> np.ndarray:
    """Marketing reach ``reach_k`` of DESIGN §4.1 in each neighbourhood k, in [0, 1].

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


def choice_utilities(price_index: np.ndarray, coupon_index: np.ndarray, beta: np.ndarray,
                     trust: np.ndarray, last_platform: np.ndarray, quality: np.ndarray,
                     reachable: np.ndarray, trust_weight: float, habit: float,
                     outside_utility: float) -> np.ndarray:
    """Utilities ``V`` of the outside option (column 0) and each platform (DESIGN §4.2).

    ``V_ij = -beta_i (price_j - subsidy_ij) / reference_price + theta trust_ij
    + kappa [j == last_i] + alpha_j`` and ``V_i0 = u_outside``; unreachable platforms get -inf.

    Args:
        price_index: platform basket price / reference basket price, shape (P,).
        coupon_index: subsidy per order / reference basket price, shape (P,) or (m, P).
        beta: price sensitivity of each chooser, shape (m,).
        trust: trust of each chooser in each platform, shape (m, P).
        last_platform: last platform each chooser used (-1 none), shape (m,).
        quality: alpha_j, shape (P,).
        reachable: whether each chooser can order from each platform, shape (m, P).
    """
    m, n_p = trust.shape
    v = np.empty((m, n_p + 1))
    v[:, 0] = outside_utility
    net = price_index[None, :] - coupon_index
    v[:, 1:] = -beta[:, None] * net + trust_weight * trust + quality[None, :]
    if habit:
        rows = np.flatnonzero(last_platform >= 0)
        v[rows, 1 + last_platform[rows]] += habit
    v[:, 1:][~reachable] = -np.inf
    return v


def choose(v: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Logit choice by inversion: option index (0 = outside, j+1 = platform j) per row.

    ``P(k) = exp(V_k) / sum exp(V)``; the chooser takes the first option whose cumulative
    probability exceeds its own uniform ``u`` (common random numbers across scenarios).
    """
    vmax = v.max(axis=1, keepdims=True)
    w = np.exp(v - vmax)
    cum = np.cumsum(w, axis=1)
    cum /= cum[:, -1:]
    k = (cum <= u[:, None]).sum(axis=1)
    return np.minimum(k, v.shape[1] - 1)


def logsum_surplus_yuan(v: np.ndarray, beta: np.ndarray, reference_price_yuan: float,
                        outside_utility: float) -> np.ndarray:
    """Consumer surplus of each choice occasion, yuan (Small & Rosen 1981).

    ``CS_i = (reference_price / beta_i) * (ln sum_k exp(V_ik) - V_i0)``: the logsum, measured
    from the outside option alone so that a household with no reachable platform has 0.
    """
    vmax = v.max(axis=1)
    ls = vmax + np.log(np.exp(v - vmax[:, None]).sum(axis=1))
    scale = np.divide(reference_price_yuan, beta, out=np.zeros(len(beta)), where=beta > 0)
    return scale * (ls - outside_utility)


class Consumer(mesa.Agent):
    """A household: a Mesa agent whose state is its row of the model's consumer arrays.

    Reading ``agent.trust`` gives a copy of the row; assigning writes it back, so per-agent
    inspection and the dashboard see exactly what the vectorised phases see.
    """

    def __init__(self, model, index: int):
        super().__init__(model)
        self.index = index

    neighbourhood = row_property("consumers", "neighbourhood", "neighbourhood index")
    in_village = row_property("consumers", "in_village", "lives in a village (else the town)")
    segment = row_property("consumers", "segment", "segment index")
    price_sensitivity = row_property("consumers", "price_sensitivity", "beta_i")
    adopted = row_property("consumers", "adopted", "has adopted group buying")
    day_adopted = row_property("consumers", "day_adopted", "day of adoption, -1 never")
    aware = row_property("consumers", "aware", "aware of each platform")
    trust = row_property("consumers", "trust", "trust in each platform, [0, 1]")
    leader_of = row_property("consumers", "leader_of", "leader index per platform, -1 none")
    last_platform = row_property("consumers", "last_platform", "last platform used, -1 none")
    day_last_order = row_property("consumers", "day_last_order", "day of last order, -1 never")
    day_last_order_p = row_property("consumers", "day_last_order_p",
                                    "day of last order from each platform, -1 never")
    orders = row_property("consumers", "orders", "orders to date")
    spend_yuan = row_property("consumers", "spend_yuan", "paid to date net of refunds, yuan")
    is_leader = row_property("consumers", "is_leader", "runs a pickup point now")
    complaints_heard = row_property("consumers", "complaints_heard", "complaints heard, fading")

    @property
    def segment_name(self) -> str:
        return self.model.segment_names[self.segment]

    @property
    def neighbours(self) -> np.ndarray:
        """Indices of the household's neighbours in the social network."""
        a = self.model.network.adjacency
        if a is None:
            return np.delete(np.arange(self.model.network.n), self.index)
        return a.indices[a.indptr[self.index]:a.indptr[self.index + 1]].copy()
