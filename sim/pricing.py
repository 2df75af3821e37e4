"""Best-response pricing: a platform sets its prices to maximise its expected contribution over
its recent choosers' logit probabilities, given its rivals' current prices (ODD 7.4).

The pricing rule ``best_response`` (registered in :data:`sim.platforms.PRICING_RULES`). Every
``rivalry.reprice_days`` from its entry a platform looks at the households that chose among the
platforms over the last ``rivalry.reprice_window_days`` (the orders phase hands each day's
choosers to :meth:`ChooserRecord.observe`): for each, what the orders phase knew of it, its
basket, its coupons, its price sensitivity over its basket's reference price ``k_i = beta_i /
P_i,ref`` and the utility of each option net of price, ``a_ij = V_ij + k_i (P_ij -
coupon_ij)`` and ``V_i0``. At list prices ``L`` (the rivals' as they stand, its own ``p``) the
basket price is ``P_ij = sum_c B_ic f_jc L_jc`` (``f``: that day's deal factors, 1 - delta), the
utility ``V_ij = a_ij - k_i (P_ij - min(coupon_ij, P_ij))`` (ODD 7.2's logit: the model's own
demand), and the platform's expected contribution

    pi_j(p) = sum_i s_ij(p) [sum_c B_ic f_jc p_c (1 - r_jc) - min(coupon_ij, P_ij)
                             - sum_c B_ic mc_jc],     s_ij = exp V_ij / sum_k exp V_ik

with ``r_jc`` its commission rate on category c today and ``mc_jc`` its unit cost of goods (the
marginal cost of a unit: route costs are a daily cost per served route, not per unit; refunds
are not anticipated, an assumption). It maximises ``pi_j`` numerically (L-BFGS-B on the
analytic gradient, each price between its unit cost and 10 times the reference price) and moves
``rivalry.reprice_damping`` of the way there: ``p <- p + damping (p* - p)``.

For one category, homogeneous ``b = k``, no habit, fixed trust, no deals and no coupons the
fixed point of these damped best responses is the logit-Bertrand equilibrium
``p_j - c_j / (1 - r_j) = 1 / (b (1 - s_j))`` (Anderson, de Palma & Thisse 1992): the dock of
:func:`iterate_best_responses` against :func:`sim.validation.logit_bertrand_prices`, which is
solved independently (tests/test_pricing.py, the scorecard).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

__all__ = ["BestResponse", "ChooserRecord", "Choosers", "best_response", "damped",
           "contribution_of", "expected_contribution", "iterate_best_responses",
           "optimal_prices", "CHOOSERS_MAX",
           "static_market_choosers"]

PRICE_CAP_X_REFERENCE = 10.0  # a price above 10x the wet market's sells nothing (search bound)
# At most this many recent choosers enter an optimisation, every n-th of the window's (a fixed
# stride, no draw): the expected contribution of 20,000 choosers is known to ~1% (its
# sampling error, ~1/sqrt(n) per unit of spread), and a 100k-household market's window holds
# ~10x more. An assumption of speed, not of behaviour.
CHOOSERS_MAX = 20_000


@dataclass
class Choosers:
    """Recent choosers as a best-responding platform sees them (rows: choosers).

    Attributes:
        k: (m,) price sensitivity per yuan, beta_i / P_i,ref.
        v0: (m,) utility of the outside option.
        a: (m, P) utility of each platform net of price (-inf: unreachable).
        basket: (m, C) 1.0 for the categories in the chooser's basket, else 0.0.
        coupon: (m, P) the coupon the chooser had from each platform, yuan.
        deal: (m, P, C) that day's deal factors (1 - discount), or (P, C) for every row.
    """

    k: np.ndarray
    v0: np.ndarray
    a: np.ndarray
    basket: np.ndarray
    coupon: np.ndarray
    deal: np.ndarray

    @staticmethod
    def concat(parts: list[Choosers]) -> Choosers:
        return Choosers(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                          ("k", "v0", "a", "basket", "coupon", "deal")))


def _basket_prices(ch: Choosers, list_prices: np.ndarray) -> np.ndarray:
    """(m, P) each chooser's basket price at each platform: sum_c B_ic f_jc L_jc."""
    return np.einsum("mc,mjc->mj", ch.basket, ch.deal * list_prices[None, :, :])


def expected_contribution(ch: Choosers, j: int, p: np.ndarray, list_prices: np.ndarray,
                          mc: np.ndarray, rate: np.ndarray) -> tuple[float, np.ndarray]:
    """Platform ``j``'s expected contribution at its prices ``p`` (C,), the rivals at
    ``list_prices`` (P, C), summed over the choosers ``ch``, and its gradient in ``p`` (module
    docstring).

    Args:
        mc: (C,) marginal cost per unit, yuan; rate: (C,) commission rate on each category.
    """
    return contribution_of(ch, j, list_prices, mc, rate)(p)


def contribution_of(ch: Choosers, j: int, list_prices: np.ndarray, mc: np.ndarray,
                    rate: np.ndarray):
    """:func:`expected_contribution` as a function of platform ``j``'s prices alone, the
    rivals' part (their utilities at ``list_prices`` and the outside option's) computed once:
    each call then costs O(choosers x categories)."""
    w = ch.basket * ch.deal[:, j, :]  # (m, C): dP_ij / dp_c
    others = np.delete(np.arange(ch.a.shape[1]), j)
    basket = _basket_prices(ch, list_prices)[:, others]
    v = ch.a[:, others] - ch.k[:, None] * (basket - np.minimum(ch.coupon[:, others], basket))
    a_j, k, cy = ch.a[:, j], ch.k, ch.coupon[:, j]
    # a shift that keeps every exponential <= 1: V_ij <= a_ij at any price
    top = np.max(np.column_stack([ch.v0, v, a_j]), axis=1)
    top = np.where(np.isfinite(top), top, 0.0)
    rest = np.exp(ch.v0 - top) + np.exp(v - top[:, None]).sum(axis=1)  # outside + rivals
    cost = ch.basket @ mc
    keep = 1.0 - rate
    wt = np.ascontiguousarray(w.T)  # (C, m): the products below run along rows
    base = a_j - top  # -inf where unreachable: exp gives 0

    def f(p: np.ndarray) -> tuple[float, np.ndarray]:
        price = p @ wt
        coupon = np.minimum(cy, price)
        e = np.exp(base - k * (price - coupon))
        s = e / (rest + e)
        g = cy < price  # the price moves the utility
        margin = (p * keep) @ wt - coupon - cost
        ds = np.where(g, -k * s * (1.0 - s), 0.0)  # ds_ij / dP_ij
        grad = wt @ (ds * margin) + (wt @ s) * keep - wt @ np.where(g, 0.0, s)
        # a sum, not s @ margin: BLAS's dot of long vectors is slow on a busy machine (11 ms)
        return float((s * margin).sum()), grad

    return f


def optimal_prices(ch: Choosers, j: int, list_prices: np.ndarray, mc: np.ndarray,
                   rate: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The prices that maximise platform ``j``'s expected contribution over ``ch``, the rivals'
    held at ``list_prices``: L-BFGS-B on the analytic gradient within ``[lo, hi]``, from its
    current prices (clipped into the bounds). Categories no chooser's basket holds keep their
    current price."""
    start = np.clip(list_prices[j], lo, hi)
    n = max(1, len(ch.k))
    scale = 1.0 / n

    contribution = contribution_of(ch, j, list_prices, mc, rate)

    def neg(x):
        f, gr = contribution(x)
        return -f * scale, -gr * scale

    res = minimize(neg, start, jac=True, method="L-BFGS-B", bounds=list(zip(lo, hi, strict=True)),
                   options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 500})
    held = ch.basket.any(axis=0)
    return np.where(held, res.x, list_prices[j])


def damped(old: np.ndarray, target: np.ndarray, damping: float) -> np.ndarray:
    """``old + damping (target - old)``: a share of the way to the best response."""
    return old + damping * (target - old)


def iterate_best_responses(ch: Choosers, prices: np.ndarray, mc: np.ndarray, rate: np.ndarray,
                           lo: np.ndarray, hi: np.ndarray, damping: float,
                           rounds: int) -> np.ndarray:
    """``rounds`` of simultaneous damped best responses of every platform to the others'
    prices (as the terms phase sets them: every target from the prices that stand, then all
    move), from ``prices`` (P, C). ``mc``, ``rate``, ``lo``, ``hi``: (P, C). Returns (rounds +
    1, P, C), the path."""
    path = [np.asarray(prices, float)]
    for _ in range(rounds):
        now = path[-1]
        target = np.stack([optimal_prices(ch, j, now, mc[j], rate[j], lo[j], hi[j])
                           for j in range(len(now))])
        path.append(damped(now, target, damping))
    return np.array(path)


class ChooserRecord:
    """The choosers of the last days, as the orders phase saw them (only while some platform
    prices by best response)."""

    def __init__(self, keep_days: int):
        self.days: deque[tuple[int, Choosers]] = deque()
        self.keep_days = keep_days

    def observe(self, d: int, k, z, vmax, coupon, basket, deal_prices, list_prices) -> None:
        """Record day ``d``'s choosers from the orders phase's utilities ``z = V - vmax`` (m,
        1 + P), coupons (m, P), baskets (m, C), the day's deal prices and list prices (P, C)."""
        basket = basket.astype(float)
        v = z + vmax[:, None]
        deal = np.divide(deal_prices, list_prices, out=np.ones_like(deal_prices),
                         where=list_prices > 0)
        price = basket @ deal_prices.T
        a = v[:, 1:] + k[:, None] * (price - np.minimum(coupon, price))
        self.days.append((d, Choosers(k, v[:, 0], a, basket, np.asarray(coupon, float),
                                      np.broadcast_to(deal, (len(k), *deal.shape)))))
        while self.days and self.days[0][0] <= d - self.keep_days:
            self.days.popleft()

    def window(self, d: int, days: int, active: np.ndarray) -> Choosers | None:
        """The choosers of days ``d - days`` to ``d - 1`` (every n-th, at most
        :data:`CHOOSERS_MAX`); inactive platforms unreachable."""
        parts = [c for day, c in self.days if d - days <= day < d]
        if not parts:
            return None
        ch = Choosers.concat(parts)
        stride = -(-len(ch.k) // CHOOSERS_MAX)  # ceil
        if stride > 1:
            ch = Choosers(*(getattr(ch, f)[::stride] for f in (
                "k", "v0", "a", "basket", "coupon", "deal")))
        ch.a = np.where(active[None, :], ch.a, -np.inf)
        return ch


class BestResponse:
    """The market's record of recent choosers, kept while any platform prices by best response
    (ODD 7.4); the orders phase hands it each day's choosers."""

    def __init__(self, market):
        self.m = market
        users = [s.rivalry for s, name in zip(market.strategies, market.platform_names,
                                              strict=True)
                 if market.cfg.platforms[name].pricing == "best_response"]
        self.watching = bool(users)
        self.record = ChooserRecord(max((u.reprice_window_days for u in users), default=1))

    def observe(self, d: int, idx, z, vmax, coupon, basket, basket_ref, deal_prices) -> None:
        """The orders phase's choosers of day ``d`` (:meth:`ChooserRecord.observe`)."""
        m = self.m
        beta = m.consumers.price_sensitivity[idx]
        list_prices = np.stack([p.prices for p in m.platform_list])
        self.record.observe(d, beta / basket_ref, z, vmax, coupon, basket, deal_prices,
                            list_prices)


def best_response(platform, model) -> np.ndarray:
    """The ``best_response`` pricing rule (module docstring): on its re-pricing days, damped
    toward the prices that maximise its expected contribution over its recent choosers given
    the rivals' current prices; otherwise, and before it has choosers, its prices stand."""
    cfg = platform.strategy.rivalry
    d = model.day
    since = d - platform.cfg.entry_day
    if since <= 0 or since % cfg.reprice_days:
        return platform.prices
    active = np.array([p.active for p in model.platform_list])
    ch = model.pricing.record.window(d, cfg.reprice_window_days, active)
    if ch is None or not np.isfinite(ch.a[:, platform.index]).any():
        return platform.prices
    j = platform.index
    list_prices = np.stack([p.prices for p in model.platform_list])
    rate = model.incentives.category_rates(d)[j]
    lo = platform.unit_cost
    hi = np.maximum(model.reference_prices * PRICE_CAP_X_REFERENCE, lo)
    target = optimal_prices(ch, j, list_prices, platform.unit_cost, rate, lo, hi)
    return damped(platform.prices, target, cfg.reprice_damping)


def static_market_choosers(beta: float, ref_yuan: float, quality, trust: float, theta: float,
                           u0: float, prices, m: int = 40) -> Choosers:
    """The logit-Bertrand dock's static market: ``m`` alike choosers of one category (the
    reference basket of ``ref_yuan``) with one beta, no habit, fixed trust, no deals, no
    coupons, reputation weight 0 and every platform reachable, run through the orders phase's
    own utility kernel (:func:`sim.choice.kernels.choice_utilities_rows`) at list ``prices``
    (P,) and recorded as the orders phase records its choosers (:meth:`ChooserRecord.observe`).
    Per yuan, ``b = beta / ref_yuan``; against an outside option of 0 a platform's non-price
    utility is ``quality_j + theta trust - u0``."""
    from sim.choice.kernels import choice_utilities_rows

    n_p = len(quality)
    one = np.ones(1)
    idx = np.arange(m, dtype=np.int64)
    list_prices = np.asarray(prices, float)[:, None]
    none = np.zeros(n_p, np.int64)  # no coupon, no target (sim.coupons)
    z, vmax, coupon, _, basket, basket_ref, _, _ = choice_utilities_rows(
        idx, list_prices, one * ref_yuan, np.zeros((m, 1)), one, np.zeros(n_p), none, none,
        none, 0, np.zeros(m, bool), np.zeros(m, np.int8), np.zeros(m, bool), False, ref_yuan,
        np.ones((m, n_p), np.int32), np.full(m, beta), np.full((m, n_p), trust),
        np.full(m, -1, np.int16), np.asarray(quality, float), np.ones((m, n_p), bool), theta,
        0.0, u0, np.zeros((m, n_p)), np.zeros(n_p), 0.0)
    rec = ChooserRecord(1)
    rec.observe(0, np.full(m, beta) / basket_ref, z, vmax, coupon, basket, list_prices,
                list_prices)
    return rec.window(1, 1, np.ones(n_p, bool))
