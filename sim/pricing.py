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
                             - sum_c B_ic mc_jc] - route costs,   s_ij = exp V_ij / sum_k exp V_ik

with ``r_jc`` its commission rate on category c today and ``mc_jc`` its unit cost of goods. The
marginal cost of ODD 7.5 is goods, logistics and expected refunds; the last two enter as the
model books them:

* **refunds**: a spoiled unit is refunded at the paid share of its price and earns no commission
  (commission is booked on delivered units), so with ``rho_jc`` the platform's spoiled share of
  category c's units shipped over the window the margin is

      sum_c B_ic f_jc p_c (1 - r_jc (1 - rho_jc)) - min(coupon_ij, P_ij)
      - (1 - min(coupon_ij, P_ij) / P_ij) sum_c B_ic f_jc p_c rho_jc - sum_c B_ic mc_jc

  (for one category and no coupon, ``p (1 - r)(1 - rho) - c``: the cost ``c / (1 - rho)`` of
  the design's first-order condition);
* **logistics** (``rivalry.route_costs``): with ``coverage`` (the default) the routes are the
  coverage the platform chose, its leaders and its vans, paid whatever it charges: the
  short-run rule prices on the cost an order adds, and an order on a route that runs anyway
  adds none. With ``expected``, a route costs ``R_jk`` on a day it carries an order
  (:mod:`sim.coldchain.routes`), whatever their number. With Poisson orders at
  ``lambda_jk(p) = w S_jk(p)`` a day on the route to neighbourhood k (``S_jk``: the expected
  orders of the window's choosers of k, by their home, the few who pick up through a tie
  elsewhere aside; ``w``: the orders a day one recorded chooser stands for) the window's
  expected route cost is ``sum_k R_jk (1 - exp(-w S_jk)) / w`` per recorded chooser's unit,
  subtracted from the sum above. An order's marginal route cost is then ``R_jk
  exp(-lambda_jk)``: nothing on a route that runs anyway, the whole route for one that opens
  it, and the volume a lower price brings spreads it. Holding ``lambda`` at its current value
  instead would spiral: a platform priced out of a route sees each order cost the whole route
  and prices higher still. Where most routes are thin (a launch, a small market, a small
  platform) nearly every order opens a route and the rule prices the platform out of its
  market.

It maximises ``pi_j`` numerically (L-BFGS-B on the analytic gradient, each price between its
unit cost and 10 times the reference price, from its current prices and from the reference
prices: with route costs the objective need not be concave, and a platform priced out of its
market has no gradient to come back by) and moves ``rivalry.reprice_damping`` of the way there:
``p <- p + damping (p* - p)``.

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
        nb: (m,) the chooser's neighbourhood (the route of its orders); None: all in 0.
        per_day: orders a day one recorded chooser's choice stands for (the record's stride
            over the window's days).
    """

    k: np.ndarray
    v0: np.ndarray
    a: np.ndarray
    basket: np.ndarray
    coupon: np.ndarray
    deal: np.ndarray
    nb: np.ndarray | None = None
    per_day: float = 1.0

    FIELDS = ("k", "v0", "a", "basket", "coupon", "deal", "nb")

    def __post_init__(self):
        if self.nb is None:
            self.nb = np.zeros(len(self.k), np.int64)

    @staticmethod
    def concat(parts: list[Choosers]) -> Choosers:
        return Choosers(*(np.concatenate([getattr(p, f) for p in parts])
                          for f in Choosers.FIELDS))


def _basket_prices(ch: Choosers, list_prices: np.ndarray) -> np.ndarray:
    """(m, P) each chooser's basket price at each platform: sum_c B_ic f_jc L_jc."""
    return np.einsum("mc,mjc->mj", ch.basket, ch.deal * list_prices[None, :, :])


def expected_contribution(ch: Choosers, j: int, p: np.ndarray, list_prices: np.ndarray,
                          mc: np.ndarray, rate: np.ndarray, spoil: np.ndarray | None = None,
                          route: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Platform ``j``'s expected contribution at its prices ``p`` (C,), the rivals at
    ``list_prices`` (P, C), summed over the choosers ``ch``, and its gradient in ``p`` (module
    docstring).

    Args:
        mc: (C,) unit cost of goods, yuan; rate: (C,) commission rate on each category.
        spoil: (C,) share of units spoiled (refunded, no commission); None: none.
        route: (K,) a day's cost of the platform's route to each neighbourhood, yuan; None:
            no route costs.
    """
    return contribution_of(ch, j, list_prices, mc, rate, spoil, route)(p)


def contribution_of(ch: Choosers, j: int, list_prices: np.ndarray, mc: np.ndarray,
                    rate: np.ndarray, spoil: np.ndarray | None = None,
                    route: np.ndarray | None = None):
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
    routes = route is not None and bool(np.any(np.asarray(route) > 0))
    if routes:
        nb, per_day = ch.nb, ch.per_day
        rk = np.asarray(route, float)
        n_k = len(rk)
    refunds = spoil is not None and bool(np.any(spoil > 0))
    keep = 1.0 - rate * (1.0 - spoil) if refunds else 1.0 - rate  # commission on delivered units
    wt = np.ascontiguousarray(w.T)  # (C, m): the products below run along rows
    base = a_j - top  # -inf where unreachable: exp gives 0

    def f(p: np.ndarray) -> tuple[float, np.ndarray]:
        price = p @ wt
        coupon = np.minimum(cy, price)
        e = np.exp(base - k * (price - coupon))
        s = e / (rest + e)
        g = cy < price  # the price moves the utility
        margin = (p * keep) @ wt - coupon - cost
        if refunds:  # the paid share of the spoiled units' prices
            paid = np.divide(price - coupon, price, out=np.zeros_like(price), where=g)
            lost = (p * spoil) @ wt
            margin = margin - paid * lost
        ds = np.where(g, -k * s * (1.0 - s), 0.0)  # ds_ij / dP_ij
        total = float((s * margin).sum())
        if routes:  # expected route-days: the marginal route cost of an order, R exp(-w S)
            lam = per_day * np.bincount(nb, weights=s, minlength=n_k)
            total -= float((rk * -np.expm1(-lam)).sum()) / per_day
            margin = margin - (rk * np.exp(-lam))[nb]
        grad = wt @ (ds * margin) + (wt @ s) * keep - wt @ np.where(g, 0.0, s)
        if refunds:  # d(paid x lost)/dp_c = [g] (cy lost / P^2 + paid spoil_c) w_ic
            dpaid = np.divide(cy * lost, price * price, out=np.zeros_like(price), where=g)
            grad = grad - wt @ (s * dpaid) - spoil * (wt @ (s * paid))
        # a sum, not s @ margin: BLAS's dot of long vectors is slow on a busy machine (11 ms)
        return total, grad

    return f


def optimal_prices(ch: Choosers, j: int, list_prices: np.ndarray, mc: np.ndarray,
                   rate: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                   spoil: np.ndarray | None = None, route: np.ndarray | None = None,
                   also_from: np.ndarray | None = None) -> np.ndarray:
    """The prices that maximise platform ``j``'s expected contribution over ``ch``, the rivals'
    held at ``list_prices``: L-BFGS-B on the analytic gradient within ``[lo, hi]``, from its
    current prices and, if given, from ``also_from`` (each clipped into the bounds; the better
    answer, the first on a tie). Categories no chooser's basket holds keep their current price.
    ``spoil``, ``route``: as :func:`expected_contribution`."""
    n = max(1, len(ch.k))
    scale = 1.0 / n

    contribution = contribution_of(ch, j, list_prices, mc, rate, spoil, route)

    def neg(x):
        f, gr = contribution(x)
        return -f * scale, -gr * scale

    best = None
    for start in [list_prices[j]] + ([] if also_from is None else [also_from]):
        res = minimize(neg, np.clip(start, lo, hi), jac=True, method="L-BFGS-B",
                       bounds=list(zip(lo, hi, strict=True)),
                       options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 500})
        if best is None or res.fun < best.fun:
            best = res
    res = best
    held = ch.basket.any(axis=0)
    return np.where(held, res.x, list_prices[j])


def damped(old: np.ndarray, target: np.ndarray, damping: float) -> np.ndarray:
    """``old + damping (target - old)``: a share of the way to the best response."""
    return old + damping * (target - old)


def iterate_best_responses(ch: Choosers, prices: np.ndarray, mc: np.ndarray, rate: np.ndarray,
                           lo: np.ndarray, hi: np.ndarray, damping: float, rounds: int,
                           spoil: np.ndarray | None = None,
                           route: np.ndarray | None = None) -> np.ndarray:
    """``rounds`` of simultaneous damped best responses of every platform to the others'
    prices (as the terms phase sets them: every target from the prices that stand, then all
    move), from ``prices`` (P, C). ``mc``, ``rate``, ``lo``, ``hi``, ``spoil``: (P, C);
    ``route``: (P, K) (:func:`expected_contribution`). Returns (rounds + 1, P, C), the path."""
    path = [np.asarray(prices, float)]
    for _ in range(rounds):
        now = path[-1]
        target = np.stack([optimal_prices(ch, j, now, mc[j], rate[j], lo[j], hi[j],
                                          None if spoil is None else spoil[j],
                                          None if route is None else route[j])
                           for j in range(len(now))])
        path.append(damped(now, target, damping))
    return np.array(path)


class ChooserRecord:
    """The choosers of the last days, as the orders phase saw them (only while some platform
    prices by best response)."""

    def __init__(self, keep_days: int):
        self.days: deque[tuple[int, Choosers]] = deque()
        self.keep_days = keep_days

    def observe(self, d: int, k, z, vmax, coupon, basket, deal_prices, list_prices,
                nb=None) -> None:
        """Record day ``d``'s choosers from the orders phase's utilities ``z = V - vmax`` (m,
        1 + P), coupons (m, P), baskets (m, C), the day's deal prices and list prices (P, C)
        and each chooser's neighbourhood (None: all in 0)."""
        basket = basket.astype(float)
        v = z + vmax[:, None]
        deal = np.divide(deal_prices, list_prices, out=np.ones_like(deal_prices),
                         where=list_prices > 0)
        price = basket @ deal_prices.T
        a = v[:, 1:] + k[:, None] * (price - np.minimum(coupon, price))
        self.days.append((d, Choosers(k, v[:, 0], a, basket, np.asarray(coupon, float),
                                      np.broadcast_to(deal, (len(k), *deal.shape)), nb)))
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
            ch = Choosers(*(getattr(ch, f)[::stride] for f in Choosers.FIELDS))
        ch.a = np.where(active[None, :], ch.a, -np.inf)
        ch.per_day = stride / len(parts)
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
        # (day, units shipped (P, C), units spoiled (P, C)): the expected refunds
        self.deliveries: deque[tuple[int, np.ndarray, np.ndarray]] = deque()

    def observe(self, d: int, idx, z, vmax, coupon, basket, basket_ref, deal_prices) -> None:
        """The orders phase's choosers of day ``d`` (:meth:`ChooserRecord.observe`), and the
        day's deliveries (logistics and pickup ran before the orders): units shipped and
        spoiled per platform and category."""
        m = self.m
        c = m.consumers
        beta = c.price_sensitivity[idx]
        list_prices = np.stack([p.prices for p in m.platform_list])
        self.record.observe(d, beta / basket_ref, z, vmax, coupon, basket, deal_prices,
                            list_prices, c.neighbourhood[idx].astype(np.int64))
        t = m.today
        self.deliveries.append((d, t.shipped.astype(float), t.spoiled.astype(float)))
        while self.deliveries and self.deliveries[0][0] <= d - self.record.keep_days:
            self.deliveries.popleft()

    def costs(self, d: int, days: int, j: int) -> tuple[np.ndarray, np.ndarray]:
        """Platform ``j``'s costs for days ``d - days`` to ``d - 1`` (module docstring): the
        spoiled share of each category's units shipped (C,), 0 where none shipped, and a day's
        cost of its route to each neighbourhood (K,)."""
        m = self.m
        rows = [x for x in self.deliveries if d - days <= x[0] < d]
        shipped = sum((x[1][j] for x in rows), np.zeros(len(m.reference_prices)))
        spoiled = sum((x[2][j] for x in rows), np.zeros(len(m.reference_prices)))
        spoil = np.divide(spoiled, shipped, out=np.zeros_like(shipped), where=shipped > 0)
        return spoil, m.coldchain.routes.daily_costs()[j]


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
    spoil, route = model.pricing.costs(d, cfg.reprice_window_days, j)
    if cfg.route_costs == "coverage":
        route = None
    lo = platform.unit_cost
    hi = np.maximum(model.reference_prices * PRICE_CAP_X_REFERENCE, lo)
    target = optimal_prices(ch, j, list_prices, platform.unit_cost, rate, lo, hi, spoil, route,
                            also_from=model.reference_prices)
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
