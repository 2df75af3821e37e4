"""Choice and orders: who has an order occasion today, and which platform each one picks.

Phase 6 of the day (ODD 3, ODD 7.2). An adopter has an order occasion with its segment's daily
rate, times the season's demand and a push from its leader's WeChat group. A household with an
occasion and at least one reachable platform (aware of it, a pickup point of it, the platform in
the market) draws its basket (:mod:`sim.choice.baskets`) and chooses among them and the
outside option (the wet market) by multinomial logit: the basket's price at today's deals
(:mod:`sim.choice.deals`) less coupon, relative to its reference price (scaled by the
household's price sensitivity), trust (the platform's reputation, :mod:`sim.reputation`, and
the household's own experience), platform habit (kappa_P: the platform it ordered from last),
loyalty to its usual leader (kappa_L: the platforms that leader serves), a trip for a pickup
point in another neighbourhood, quality (ODD 7.2; reach and the pickup points come from the
groups it follows, ODD 7.3). The logsum gives the consumer surplus in yuan (Small and Rosen
1981). Each order holds its basket's categories and is recorded on the
household's row, on its groups (its usual leader) and in today's order book
(:class:`sim.day.OrderBook`), which procurement completes and the next day's cold chain
delivers. A coupon reaches the households its platform's target names, and each order marks
whether its coupon was wasted (the same choice without it; :mod:`sim.coupons`).
"""

from __future__ import annotations

import numpy as np

from sim.choice import kernels
from sim.choice.baskets import basket_sizes
from sim.choice.deals import Deals
from sim.coupons import wasted_orders
from sim.day import OrderBook

__all__ = ["Choice"]


class Choice:
    """The orders phase for one market."""

    # the daily deals and the basket rule; the order history is the households'
    OWNS = ("deals", "purchase_frequency", "basket_streams")
    WRITES = ("consumers (last_platform, habit_platform, day_last_order, day_last_order_p,",
              "orders)", "groups (usual leader, day of use: FollowedGroups.ordered)",
              "recorder.last_order_days", "today (occasions, surplus, order_book, basket_sizes)",
              "ledger")

    def __init__(self, market):
        self.m = market
        self.deals = Deals(market)
        self.purchase_frequency = np.array(
            [market.cfg.products[cat].purchase_frequency for cat in market.category_names])
        self.basket_streams = [f"orders.basket.{cat}" for cat in market.category_names]

    def loyalty_and_travel(self, idx: np.ndarray) -> np.ndarray:
        """The utility terms of ODD 7.2 that come from the groups, per chooser and platform:
        ``kappa_L [j served by i's usual leader] + travel [j's pickup point is in another
        neighbourhood]`` (``groups.leader_loyalty``, ``groups.travel_utility``)."""
        m = self.m
        c, g, grp = m.consumers, m.cfg.groups, m.leadership.groups
        return kernels.loyalty_and_travel(idx, c.leader_of, m.leaders.neighbourhood,
                                          c.neighbourhood, grp.usual, grp.service_of,
                                          float(g.leader_loyalty), float(g.travel_utility))

    def run(self, d: int) -> None:
        """Order occasions and the logit choice of platform (ODD 7.2).

        The loops over today's choosers run compiled (:mod:`sim.choice.kernels`, equal bit for
        bit to the readable formulas of ``tests/reference.py``: ``choice_utilities``, ``choose``,
        ``logsum_surplus_yuan``) and NumPy takes the exponentials and logarithms.
        """
        m = self.m
        c, ch = m.consumers, m.cfg.choice
        cond = m.today.conditions
        u_occ = m.streams.uniform("orders.occasion", d, c.n)
        active = np.array([p.active for p in m.platform_list])
        # Rate order_rate * demand * (1 + promotion [has a leader]) + the visits a usual leader's
        # community services add (sim.remedies.services); the choosers are the
        # households with an occasion and a reachable platform (aware of it, a pickup point of
        # it, platform active).
        extra_of, extra_max = m.services.extra_occasions()  # community services (ODD 7.7)
        extra_of, extra_max = m.training.extra_occasions(extra_of, extra_max)  # trained leaders
        n_occ, idx, reach = kernels.occasion_choosers(
            c.adopted, c.order_rate, c.in_village, float(cond.demand_multiplier_town),
            float(cond.demand_multiplier_village), c.leader_of, float(ch.leader_promotion),
            u_occ, c.aware, active, m.leadership.groups.usual, extra_of, extra_max)
        m.today.occasions = int(n_occ)
        n_c = len(m.category_names)
        if len(idx) == 0:
            m.today.order_book = OrderBook.empty(n_c)
            m.today.consumer_surplus_yuan = 0.0
            return
        # Today's deals (common to all households) and the choosers' basket uniforms: the
        # full-length streams orders.basket.<category>, read at the choosers only.
        deal_prices = self.deals.post(d)
        u_basket = m.streams.uniform_at_streams(self.basket_streams, d, idx)
        # Coupons per chooser and platform: each platform's coupon where its target reaches the
        # household (sim.coupons); on a day any is paid, the utilities without each coupon too.
        coupon_of, mask, seg, lapsed = m.coupons.terms()
        keep_free = bool((coupon_of > 0).any())
        quality = np.array([p.cfg.quality for p in m.platform_list], float)
        z, vmax, coupon_yuan, eligible, basket, basket_ref, v_raw, v_free = \
            kernels.choice_utilities_rows(
                idx, deal_prices, m.reference_prices, u_basket, self.purchase_frequency,
                coupon_of, mask, seg, lapsed, d, c.in_village, c.segment, m.coupons.sensitive,
                keep_free, m.reference_basket_yuan, c.day_last_order_p, c.price_sensitivity,
                c.trust, c.habit_platform, quality, reach, float(ch.trust_weight),
                float(ch.habit), float(ch.outside_utility), self.loyalty_and_travel(idx),
                m.reputation.level, float(ch.reputation_weight))
        if m.pricing.watching:  # best-response pricing's recent choosers (sim.pricing)
            m.pricing.observe(d, idx, z, vmax, coupon_yuan, basket, basket_ref, deal_prices)
        w_exp = np.exp(z)  # shared by the choice and the logsum
        u_choice = m.streams.uniform_at("orders.choice", d, idx)  # choosers only
        k, total = kernels.choice_probabilities(w_exp, u_choice)
        # Whose coupon was wasted: the same choice without it (same uniform) picks it anyway.
        wasted = (wasted_orders(v_raw, v_free, k, coupon_yuan, u_choice,
                                kernels.choice_probabilities)
                  if keep_free else np.zeros(len(k), bool))
        # Consumer surplus (Small & Rosen 1981): (P_i,ref / beta) (logsum - V_i0), summed.
        beta = c.price_sensitivity[idx]
        ls = vmax + np.log(total)
        scale = np.divide(basket_ref, beta, out=np.zeros(len(beta)), where=beta > 0)
        v0 = ch.outside_utility * (basket_ref / m.reference_basket_yuan)
        m.today.consumer_surplus_yuan = float((scale * (ls - v0)).sum())
        who, j, leader, coupon, first, takers = kernels.record_choices(
            idx, k, d, coupon_yuan, eligible, c.leader_of, c.last_platform, c.day_last_order,
            c.day_last_order_p, c.orders, m.recorder.last_order_days.reserve(d))
        c.habit_platform[who] = j
        m.leadership.groups.ordered(who, leader, d)  # the usual leader and the group's use
        for pj, p in enumerate(m.platform_list):
            m.ledger.post(p.index, "new_buyers", float(first[pj]))
            m.ledger.post(p.index, "coupon_takers", float(takers[pj]))
        # The buyers' baskets at today's deal prices: an order holds its basket's units only.
        held = basket[k > 0]
        prices = np.where(held, deal_prices.take(j, axis=0), 0.0)
        m.today.order_book = OrderBook(who, j, leader, prices, coupon, basket=held,
                                       coupon_wasted=wasted[k > 0])
        m.today.basket_sizes = basket_sizes(held)

