"""Daily deals: each platform's discounts per category and day, common to every household.

Platforms rotate discounted "explosive items" (爆品) and flash sales (秒杀), and users follow the
cheapest: "哪家便宜跟哪家" (seed 002 l.7); they open the app when there is a promotion (seed 002
l.12; 限时折扣, seed 000 l.65). Each day, for each platform j and category c, the platform posts
a discount

    delta_jc,t ~ U(delta_lo, delta_hi) with probability pi_deal, else 0      (ODD 7.2)

drawn from the platform's own named stream ``deals.<platform>`` for the day (two uniforms per
category: whether, then how deep), so every household sees the same deals, a platform added to
the market leaves the others' deals as they were, and a policy from day D leaves the deals of
earlier days alone. The basket's price in the choice is at the deal price
(:func:`sim.choice.kernels.choice_utilities_rows`); orders, GMV and commission are at the deal
price (the order book's ``prices``). The share of GMV sold on a deal is posted as the flow
``deal_gmv_yuan`` (platforms table).
"""

from __future__ import annotations

import numpy as np

__all__ = ["Deals", "daily_discounts"]


def daily_discounts(u_on: np.ndarray, u_depth: np.ndarray, probability: float,
                    lo: float, hi: float) -> np.ndarray:
    """The day's discounts (ODD 7.2): ``lo + (hi - lo) u_depth`` where ``u_on < probability``,
    else 0. ``u_on`` and ``u_depth`` are uniforms in [0, 1), any shape (one per category)."""
    return np.where(u_on < probability, lo + (hi - lo) * u_depth, 0.0)


class Deals:
    """The platforms' daily deals for one market: today's discounts and deal prices."""

    OWNS = ("discount", "deal_prices")
    WRITES = ("ledger (deal_gmv_yuan)",)

    def __init__(self, market):
        self.m = market
        n_p, n_c = len(market.platform_names), len(market.category_names)
        self.discount = np.zeros((n_p, n_c))  # today's delta_jc, share of the list price
        self.deal_prices = np.zeros((n_p, n_c))  # today's p_jc (1 - delta_jc), yuan

    def post(self, d: int) -> np.ndarray:
        """Today's discounts from each platform's stream and the prices at them, (P, C) yuan.

        Drawn for every platform in the market's list, active or not, so that a platform's
        entry or exit leaves the others' draws (and its own later ones) unchanged.
        """
        m = self.m
        ch = m.cfg.choice
        n_c = len(m.category_names)
        for j, p in enumerate(m.platform_list):
            u = m.streams.uniform(f"deals.{p.name}", d, 2 * n_c)
            self.discount[j] = daily_discounts(u[:n_c], u[n_c:], float(ch.deal_probability),
                                               float(ch.deal_discount_min),
                                               float(ch.deal_discount_max))
        prices = np.stack([p.prices for p in m.platform_list])
        self.deal_prices = prices * (1.0 - self.discount)
        return self.deal_prices

    def post_gmv(self, book) -> None:
        """Post each platform's GMV sold on a deal today (its order units of discounted
        categories, at the prices the order book holds after procurement)."""
        m = self.m
        n_p = len(m.platform_list)
        on = np.zeros(n_p)
        if len(book):
            # only the categories some platform has on deal today (about half of them)
            for c in np.flatnonzero((self.discount > 0.0).any(axis=0)):
                value = np.where(self.discount[book.platform, c] > 0.0, book.prices[:, c], 0.0)
                on += np.bincount(book.platform, weights=value, minlength=n_p)
        for j in range(n_p):
            m.ledger.post(j, "deal_gmv_yuan", float(on[j]))
