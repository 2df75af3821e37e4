"""The model's formulas as readable whole-array NumPy: the references the compiled kernels are
checked against, bit for bit (tests/test_kernels.py) and by rule (tests/test_rules.py).

The model runs the kernels of each mechanism (``sim/wom/kernels.py``, ``sim/choice/kernels.py``);
these functions state the same formulas of docs/ODD.md (7.1, 7.2) plainly.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "adoption_probability",
    "awareness_probability",
    "choice_utilities",
    "choose",
    "logsum_surplus_yuan",
]


def adoption_probability(p_external: float, q_imitation: float, reach: np.ndarray,
                         adopted_neighbours: np.ndarray, degree: np.ndarray,
                         leader_neighbour: np.ndarray | None = None,
                         leader_boost: float = 0.0, p_scale: np.ndarray | float = 1.0,
                         complaints_heard: np.ndarray | None = None,
                         complaint_adoption_loss: float = 0.0):
    """Daily adoption probability of each household (ODD 7.1; Bass 1969).

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
    """Daily probability that a household not yet aware of a platform becomes aware (ODD 7.1).

    ``P_ij = own_j + imitation * U_ij / k_i + from_leader * [i has a leader of j]``: the
    platform's own marketing (doubled on coupon days by the caller), its users among the
    household's ``k_i`` neighbours (``U_ij``; the term is 0 where ``k_i = 0``), and the household's
    leader joining it. Compared with uniform draws, so values above 1 mean "surely".
    """
    frac = np.divide(users_neighbours, degree, out=np.zeros(len(degree)), where=degree > 0)
    return own_rate + imitation * frac + from_leader * has_leader


def choice_utilities(price_index: np.ndarray, coupon_index: np.ndarray, beta: np.ndarray,
                     trust: np.ndarray, last_platform: np.ndarray, quality: np.ndarray,
                     reachable: np.ndarray, trust_weight: float, habit: float,
                     outside_utility: float, extra: np.ndarray | None = None) -> np.ndarray:
    """Utilities ``V`` of the outside option (column 0) and each platform (ODD 7.2).

    ``V_ij = -beta_i (price_j - subsidy_ij) / reference_price + theta trust_ij
    + kappa_P [j == last_i] + alpha_j + extra_ij`` and ``V_i0 = u_outside``; unreachable
    platforms get -inf. ``extra`` (m, P): loyalty to the usual leader (kappa_L on the platforms
    it serves) and the travel utility of a pickup point in another neighbourhood.

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
    if extra is not None:
        v[:, 1:] += extra
    v[:, 1:][~reachable] = -np.inf
    return v


def basket_utilities(basket: np.ndarray, prices: np.ndarray, reference_prices: np.ndarray,
                     coupon: np.ndarray, beta: np.ndarray, trust: np.ndarray,
                     reputation: np.ndarray, reputation_weight: float,
                     last_platform: np.ndarray, quality: np.ndarray, reachable: np.ndarray,
                     trust_weight: float, habit: float, outside_utility: float,
                     extra: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Utilities ``V`` of an occasion with a basket and daily deals (ODD 7.2), and ``P_i,ref``.

    ``P_ij = sum_{c in basket} prices_jc`` (prices at the day's deals), ``P_i,ref`` the same at
    the reference prices, ``V_ij = -beta_i (P_ij - min(coupon_ij, P_ij)) / P_i,ref + theta
    (w R_j + (1 - w) e_ij) + kappa_P [j == last_i] + alpha_j + extra_ij`` and ``V_i0 =
    u_outside P_i,ref / P_ref`` (``P_ref`` the reference prices' sum); -inf where unreachable.

    Args:
        basket: (m, C) bool, each occasion's categories.
        prices: (P, C) today's prices at the deals; reference_prices (C,).
        coupon: (m, P) yuan; trust (m, P) the households' own experience e_ij;
        reputation: (P,) R_j.
    """
    pref = (basket * reference_prices[None, :]).sum(axis=1)
    price = (basket[:, None, :] * prices[None, :, :]).sum(axis=2)  # (m, P)
    m, n_p = price.shape
    v = np.empty((m, n_p + 1))
    v[:, 0] = outside_utility * (pref / reference_prices.sum())
    rep = reputation_weight * reputation[None, :] + (1.0 - reputation_weight) * trust
    v[:, 1:] = (-beta[:, None] * ((price - np.minimum(coupon, price)) / pref[:, None])
                + trust_weight * rep + quality[None, :])
    if habit:
        rows = np.flatnonzero(last_platform >= 0)
        v[rows, 1 + last_platform[rows]] += habit
    v[:, 1:] += extra
    v[:, 1:][~reachable] = -np.inf
    return v, pref


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
