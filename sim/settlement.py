"""Settlement: the day's money moves, cash updates, and a platform out of cash or patience exits.

Phase 8 of the day (ODD 3, ODD 7.4). Households pay for today's orders (list prices less their
coupons); the commission on the goods collected today goes to their leaders under their platform's
incentive scheme (the rate of each unit's category on the order day,
:class:`sim.incentives.Incentives`, on the delivered units only: ODD 7.3), booked on the leaders'
month by the leaders' own mechanism (:meth:`sim.leaders.phase.Leadership.book_orders`,
``book_commission``). Each platform's sales, coupons, payments and commissions are posted to the
ledger (:class:`sim.ledger.Ledger`) beside the costs the other phases posted (goods, logistics,
refunds, spoilage, recruiting, fines); each platform then settles its day's profit into cash
(:meth:`sim.platforms.Platform.settle`, drawing funding rounds while cash is below zero), and one
out of cash with no round left, or whose losses pass its patience, leaves the market
(:meth:`sim.platforms.Terms.exit_platform`).
"""

from __future__ import annotations

import numpy as np

from sim.arrays import sums_by

__all__ = ["Settlement"]


class Settlement:
    """The settlement phase for one market."""

    OWNS = ()  # no state of its own: it moves the day's money
    WRITES = ("consumers.spend_yuan", "platforms (cash)", "ledger")

    def __init__(self, market):
        self.m = market

    def run(self, d: int) -> None:
        """Money moves; cash and margins update; a platform out of patience exits."""
        m = self.m
        book, c = m.today.order_book, m.consumers
        paid = book.paid_yuan
        c.spend_yuan[book.consumer] += paid
        m.leadership.book_orders(book)  # the leaders' month, their state
        n_p = len(m.platform_list)
        # Commission is booked on the pickup day on the units delivered, not on goods spoiled
        # and refunded (ODD 7.3): today's collections (yesterday's orders, at the rate of their
        # order day).
        picked = m.today.picked_up
        if picked is not None and len(picked):
            commission = m.incentives.order_commission(
                d - 1, picked.platform, m.today.delivered_prices, m.today.delivered_yuan)
            m.leadership.book_commission(picked.leader, commission)
            commission_p = sums_by(commission, picked.platform, n_p)
        else:
            commission, commission_p = np.zeros(0), np.zeros(n_p)
        orders = np.bincount(book.platform, minlength=n_p)
        gmv, subsidy, paid_p = (sums_by(x, book.platform, n_p) for x in (
            book.value_yuan, book.coupon_yuan, paid))
        ledger = m.ledger
        # the wasted coupon yuan (sim.coupons), on the coupon as paid (a stockout lowers it)
        wasted = (sums_by(np.where(book.coupon_wasted, book.coupon_yuan, 0.0), book.platform,
                          n_p) if book.coupon_wasted is not None else np.zeros(n_p))
        m.choice.deals.post_gmv(book)  # the GMV sold on a daily deal (sim.choice.deals)
        for pj in range(n_p):
            ledger.post(pj, "orders", float(orders[pj]))
            ledger.post(pj, "gmv_yuan", float(gmv[pj]))
            ledger.post(pj, "subsidy_yuan", float(subsidy[pj]))
            ledger.post(pj, "wasted_coupon_yuan", float(wasted[pj]))
            ledger.post(pj, "paid_yuan", float(paid_p[pj]))
            ledger.post(pj, "revenue_yuan", float(paid_p[pj] + subsidy[pj]))
            ledger.post(pj, "commission_yuan", float(commission_p[pj]))
        ledger.add_money("consumer_paid", float(paid.sum()))
        ledger.add_money("subsidy", float(book.coupon_yuan.sum()))
        ledger.add_money("leader_income", float(commission.sum()))
        ledger.add_money("platform_revenue", ledger.total("revenue_yuan"))
        ledger.add_money("commission_paid", ledger.total("commission_yuan"))
        for p in m.platform_list:
            p.settle(d)
            reason = p.exit_due()
            if reason:
                m.terms.exit_platform(p, d, reason)

