"""The ledger: every movement of money and goods in the market, posted one way.

A platform's profit and loss is the sum of its day's flows (:data:`sim.platforms.FLOWS`): sales,
coupons, refunds, goods, commissions, logistics, fixed costs, recruiting, spoilage, fines. The
phases that cause a flow post it here, in the order of the day, with :meth:`Ledger.post`; the
market-wide totals of money (:attr:`Ledger.money`) and the goods in each state
(:attr:`Ledger.goods`: procured, in the chain, in stock, delivered, spoiled) likewise. Posting
in the same order as the day's events keeps the float sums the same, bit for bit, from run to
run.

The accounts are open for the flows that later strategies add (route costs, funding, targeted
coupons, programme costs): a new flow is a new name in :data:`sim.platforms.FLOWS` and a
``post`` where it happens.
"""

from __future__ import annotations

__all__ = ["ECONOMICS", "GOODS", "MONEY", "Ledger"]

# Platform accounts beside profit's (sim.platforms.FLOWS has them too), recorded in the platforms
# table: cash drawn from a funding round (not profit), and the route costs' parts, town and
# village, with the orders their routes carried (grid warehouse -> pickup point); the part of
# GMV sold on a daily deal (sim.choice.deals); the poaching premium (part of commission) and the
# leaders poached (sim.leaders.poaching).
ECONOMICS = ("funding_yuan", "route_cost_town_yuan", "route_cost_village_yuan",
             "route_orders_town", "route_orders_village", "deal_gmv_yuan",
             "poach_premium_yuan", "leaders_poached")
# Goods, in units of one category's average order quantity (ODD 7.5): bought from suppliers,
# on the way (supplier -> pickup point), in grid-warehouse stock, collected, spoiled.
GOODS = ("procured", "delivered", "spoiled", "in_chain", "in_stock")
# Market-wide money to date, yuan. commission_paid: all platform pay to leaders (commissions,
# bonuses, prizes); leaders also earn service fees and government subsidies from outside.
MONEY = ("consumer_paid", "subsidy", "platform_revenue", "commission_paid", "leader_income",
         "bonus_paid", "service_fees", "government_subsidy")


class Ledger:
    """Money and goods: each platform's flows of the day and the market's totals to date.

    Args:
        platforms: the market's platforms, in index order; their ``flows`` are the day's
            accounts (reset by the terms phase each morning, settled into cash at settlement).
    """

    def __init__(self, platforms):
        self.platforms = platforms
        self.goods = dict.fromkeys(GOODS, 0)
        self.money = dict.fromkeys(MONEY, 0.0)

    def post(self, platform: int, account: str, amount) -> None:
        """Add ``amount`` to platform ``platform``'s account ``account`` for today."""
        self.platforms[platform].flows[account] += amount

    def add_money(self, account: str, amount: float) -> None:
        """Add ``amount`` yuan to the market-wide total ``account``."""
        self.money[account] += amount

    def add_goods(self, account: str, units: int) -> None:
        """Move ``units`` into (or, negative, out of) the goods state ``account``."""
        self.goods[account] += units

    def total(self, account: str) -> float:
        """Today's ``account`` summed over the platforms, in platform order."""
        return sum(p.flows[account] for p in self.platforms)
