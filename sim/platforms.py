"""Platforms: prices, consumer subsidies, entry, money and exit (DESIGN §2.3, §4.4).

A platform is a Mesa agent. Each day it sets its terms: a price per category from its pricing rule
and a coupon per order from its subsidy schedule. Rules are chosen by name from the registries
:data:`PRICING_RULES` and :data:`SUBSIDY_SCHEDULES`.

Pricing rules:

* ``cost_plus``: ``price_c = unit_cost_c * (1 + markup)``.
* ``price_war``: while its order share is below ``target_share``, undercut the cheapest rival's
  basket by ``undercut_step``; otherwise recover toward cost-plus by ``price_recovery_rate`` a day.
  Cash-rich entrants priced below cost ("恶意定价", seed 000 §3.3.1) until margins were compressed
  to 10-15% (seed 002, l.10).

With the below-cost ban in force (China's SAMR rules of December 2020, the "九不得"; a policy
lever, ``policy.below_cost_ban_day``) no price may fall below unit cost.

Subsidy schedules set a coupon per order, capped by a daily budget spread over yesterday's orders:

* ``none``: no coupon.
* ``launch_war``: the full coupon for the first ``days`` after entry, then a linear taper over
  ``taper_days``.
* ``withdrawal``: the full coupon for ``days`` after entry, then none at once (seed 002, l.15:
  "一旦补贴退坡,复购率断崖式下跌", when subsidies are withdrawn repurchase falls off a cliff).

Exit: a platform whose cumulative loss exceeds ``patience_yuan`` exits; its leaders stop and its
consumers re-home to the remaining platforms.
"""

from __future__ import annotations

import mesa
import numpy as np

__all__ = ["PRICING_RULES", "SUBSIDY_SCHEDULES", "Platform"]


def cost_plus(platform: Platform, model) -> np.ndarray:
    """Cost-plus prices: ``unit_cost * (1 + markup)``."""
    return platform.unit_cost * (1.0 + platform.cfg.markup)


def price_war(platform: Platform, model) -> np.ndarray:
    """Undercut the cheapest active rival while own order share is below target (DESIGN §4.4)."""
    target = cost_plus(platform, model)
    rivals = [p for p in model.platform_list if p is not platform and p.active]
    if not rivals or platform.order_share_yesterday >= platform.cfg.target_share:
        r = platform.cfg.price_recovery_rate
        return platform.prices + r * (target - platform.prices)
    cheapest = min(p.prices.sum() for p in rivals)
    factor = cheapest * (1.0 - platform.cfg.undercut_step) / platform.prices.sum()
    return platform.prices * min(1.0, factor)


PRICING_RULES = {"cost_plus": cost_plus, "price_war": price_war}


def no_subsidy(days_since_entry: int, cfg) -> float:
    return 0.0


def launch_war(days_since_entry: int, cfg) -> float:
    """Full intensity for ``days`` after entry, then linear taper to 0 over ``taper_days``."""
    if days_since_entry < cfg.days:
        return 1.0
    if cfg.taper_days <= 0:
        return 0.0
    return max(0.0, 1.0 - (days_since_entry - cfg.days + 1) / cfg.taper_days)


def withdrawal(days_since_entry: int, cfg) -> float:
    """Full intensity for ``days`` after entry, then none at once."""
    return 1.0 if days_since_entry < cfg.days else 0.0


SUBSIDY_SCHEDULES = {"none": no_subsidy, "launch_war": launch_war, "withdrawal": withdrawal}

# Daily money flows a platform accumulates; reset every day.
FLOWS = ("orders", "units", "gmv_yuan", "subsidy_yuan", "paid_yuan", "revenue_yuan",
         "refunds_yuan", "cogs_yuan", "commission_yuan", "logistics_yuan", "fixed_yuan",
         "recruit_yuan", "spoilage_cost_yuan", "complaints")


class Platform(mesa.Agent):
    """A community group-buying platform (parameters from ``platforms.<name>``)."""

    def __init__(self, model, index: int, name: str, cfg, unit_cost: np.ndarray,
                 reference_prices: np.ndarray):
        super().__init__(model)
        self.index = index
        self.name = name
        self.cfg = cfg
        self.unit_cost = unit_cost  # yuan per unit, per category (its supplier mix)
        self.reference_basket_yuan = float(reference_prices.sum())
        self.prices = unit_cost * (1.0 + cfg.markup)
        self.coupon_yuan = 0.0
        self.cash_yuan = float(cfg.initial_cash_yuan)
        self.cumulative_profit_yuan = 0.0
        self.entered = False
        self.exited = False
        self.day_exited = -1
        self.order_share_yesterday = 0.0
        self.orders_yesterday = 0
        self.pricing_rule = PRICING_RULES[cfg.pricing]
        self.covered = np.zeros(0, bool)  # neighbourhoods where it recruits leaders
        self.flows = dict.fromkeys(FLOWS, 0.0)

    @property
    def active(self) -> bool:
        return self.entered and not self.exited

    @property
    def basket_price_yuan(self) -> float:
        return float(self.prices.sum())

    @property
    def price_index(self) -> float:
        """Basket price relative to the wet-market reference basket."""
        return self.basket_price_yuan / self.reference_basket_yuan

    def set_terms(self, day: int) -> None:
        """Phase 2: prices from the pricing rule, the cost floor if banned, today's coupon."""
        model = self.model
        self.prices = np.asarray(self.pricing_rule(self, model), dtype=float)
        ban = model.cfg.policy.below_cost_ban_day
        if ban is not None and day >= ban:
            self.prices = np.maximum(self.prices, self.unit_cost)
        self.coupon_yuan = self._coupon(day)

    def _coupon(self, day: int) -> float:
        sub = self.model.cfg.subsidy
        if self.name not in sub.platforms:
            return 0.0
        intensity = SUBSIDY_SCHEDULES[sub.schedule](day - self.cfg.entry_day, sub)
        if intensity <= 0:
            return 0.0
        budget_per_order = sub.daily_budget_yuan / max(1, self.orders_yesterday)
        coupon = intensity * min(sub.coupon_yuan_per_order, budget_per_order)
        return min(coupon, self.basket_price_yuan)

    def reset_flows(self) -> None:
        self.flows = dict.fromkeys(FLOWS, 0.0)

    def settle(self, day: int) -> float:
        """Phase 8: today's profit into cash; returns today's profit, yuan."""
        f = self.flows
        if self.active:
            f["fixed_yuan"] += self.cfg.fixed_cost_yuan_per_day
        profit = (f["paid_yuan"] - f["refunds_yuan"] - f["cogs_yuan"] - f["commission_yuan"]
                  - f["logistics_yuan"] - f["fixed_yuan"] - f["recruit_yuan"])
        self.cash_yuan += profit
        self.cumulative_profit_yuan += profit
        return profit

    def out_of_patience(self) -> bool:
        return self.active and -self.cumulative_profit_yuan > self.cfg.patience_yuan

    def gross_margin(self) -> float:
        """(net revenue - cost of goods) / net revenue; NaN on a day without sales."""
        f = self.flows
        net = f["gmv_yuan"] - f["subsidy_yuan"] - f["refunds_yuan"]
        return (net - f["cogs_yuan"]) / net if net > 0 else float("nan")
