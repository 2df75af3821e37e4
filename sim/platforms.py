"""Platforms: prices, consumer subsidies, entry, money and exit (ODD 2, 7.4).

A platform is a Mesa agent. Each day it sets its terms: a price per category from its pricing rule
and a coupon per order from its own coupon programme (its strategy's ``subsidy`` group: schedule,
coupon, daily budget; :func:`sim.strategy.platform_strategy`). Rules are chosen by name from the
registries :data:`PRICING_RULES` and :data:`SUBSIDY_SCHEDULES`.

Pricing rules:

* ``cost_plus``: ``price_c = unit_cost_c * (1 + markup)``.
* ``price_war``: while its order share is below ``target_share``, undercut the cheapest rival's
  basket by ``undercut_step`` a day, but never below its own floor ``unit_cost * (1 +
  min_markup)``; otherwise recover toward cost-plus by ``price_recovery_rate`` a day. Cash-rich
  entrants priced below cost ("恶意定价", seed 000 §3.3.1: a negative ``min_markup``) and the
  incumbents followed down to the margin they could live with, until gross margins were
  compressed to 10-15% (seed 002 l.10).
* ``best_response``: every ``rivalry.reprice_days``, damped toward the prices that maximise its
  expected contribution over its recent choosers' logit probabilities (:mod:`sim.pricing`).

With the below-cost ban in force (SAMR and MOFCOM guidance of 22 December 2020, the "九不得";
``policy.below_cost_ban_day``) no price may fall below unit cost. Fines (``policy.fine_day``,
``policy.fine_yuan``): on the fine day every platform that priced any category below unit cost
within ``fine_lookback_days`` pays a one-off fine (SAMR, 3 March 2021: 1.5 million yuan each on
Chengxin Youxuan, Duoduo Maicai, Meituan Youxuan and Nicetuan, 0.5 million on Shixianghui, for
below-cost dumping and misleading prices, the legal maximum).

Subsidy schedules set an intensity in [0, 1] by days since the programme's start (the
platform's entry, or ``subsidy.start_day`` if later: a programme from a calendar day, nothing
before it); the coupon per order is the intensity times ``coupon_yuan_per_order``, capped by a
daily budget spread over yesterday's takers (the buyers its target reached: every buyer under
``all``, new buyers under ``new_users``; targets, coupon_match and the wasted coupon share:
:mod:`sim.coupons`):

* ``none``: no coupon.
* ``launch_war``: the full coupon for the first ``days`` after entry, then a linear taper over
  ``taper_days``.
* ``withdrawal``: the full coupon for ``days`` after entry, then none at once (seed 002, l.15:
  "一旦补贴退坡,复购率断崖式下跌", when subsidies are withdrawn repurchase falls off a cliff).
  With target ``new_users`` it is the first-order coupon (新人专享; ``subsidy=new_user``).

Cash and exit (ODD 7.4): each day's profit goes into cash. When cash falls below zero the platform
draws its next funding round (``funding_yuan``, up to ``funding_rounds`` rounds, as many as it
takes to get back above zero); with none left and cash still below zero it exits. Patience is a
second rule: a platform whose cumulative loss exceeds ``patience_yuan`` exits however much cash
it has (its backers stop). On exit its leaders stop (and may be recruited by the remaining
platforms at once) and its households re-home to the remaining platforms.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.ledger import ECONOMICS
from sim.pricing import best_response

__all__ = ["PRICING_RULES", "SUBSIDY_SCHEDULES", "Platform"]


def cost_plus(platform: Platform, model) -> np.ndarray:
    """Cost-plus prices: ``unit_cost * (1 + markup)``."""
    return platform.unit_cost * (1.0 + platform.cfg.markup)


def price_war(platform: Platform, model) -> np.ndarray:
    """Undercut the cheapest active rival while own order share is below target (ODD 7.4).

    ``basket <- min(basket, cheapest rival basket * (1 - undercut_step))`` while yesterday's
    order share is below ``target_share``, never below ``unit_cost * (1 + min_markup)``;
    otherwise prices recover toward cost-plus by ``price_recovery_rate`` a day.
    """
    cfg = platform.cfg
    target = cost_plus(platform, model)
    floor = platform.unit_cost * (1.0 + cfg.min_markup)
    rivals = [p for p in model.platform_list if p is not platform and p.active]
    if not rivals or platform.order_share_yesterday >= cfg.target_share:
        r = cfg.price_recovery_rate
        return platform.prices + r * (target - platform.prices)
    cheapest = min(p.prices.sum() for p in rivals)
    factor = cheapest * (1.0 - cfg.undercut_step) / platform.prices.sum()
    return np.maximum(platform.prices * min(1.0, factor), floor)


PRICING_RULES = {"cost_plus": cost_plus, "price_war": price_war,
                 "best_response": best_response}  # sim.pricing (ODD 7.5)


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
         "recruit_yuan", "services_yuan", "referral_yuan", "referrals", "training_yuan",
         "aftersales_yuan", "complaints_retold", "qc_yuan", "qc_rejected", "spoilage_cost_yuan",
         "complaints", "fine_yuan", "new_buyers", "coupon_takers", "wasted_coupon_yuan",
         *ECONOMICS)


class Platform(mesa.Agent):
    """A community group-buying platform (parameters from ``platforms.<name>``)."""

    def __init__(self, model, index: int, name: str, cfg, unit_cost: np.ndarray,
                 reference_prices: np.ndarray):
        super().__init__(model)
        self.index = index
        self.name = name
        self.cfg = cfg
        self.strategy = model.strategies[index]  # its levers (sim.strategy)
        self.unit_cost = unit_cost  # yuan per unit, per category (its supplier mix)
        self.reference_basket_yuan = float(reference_prices.sum())
        self.prices = unit_cost * (1.0 + cfg.markup)
        self.coupon_yuan = 0.0  # per order, to the households its target reaches (sim.coupons)
        self.day_last_below_cost = -1  # last day any category was priced below unit cost
        self.new_buyers_yesterday = 0
        self.coupon_takers_yesterday = 0  # buyers its coupon target reached (the budget's)
        # Cash, patience, fixed costs and the subsidy budget are stated for a market of
        # platform_money_households households and scale with the market's size (a county-wide
        # platform is bigger). Fines (policy.fine_yuan) stay absolute: a regulator's amount.
        market = model.cfg.market
        self.money_scale = market.consumers / market.platform_money_households
        self.cash_yuan = float(cfg.initial_cash_yuan) * self.money_scale
        self.cumulative_profit_yuan = 0.0
        self.funding_rounds_left = int(cfg.funding_rounds)
        self.funding_drawn_yuan = 0.0  # to date
        self.exit_reason = ""  # "cash" or "patience" once it has exited
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

    def rule_prices(self) -> np.ndarray:
        """Today's prices by the pricing rule, from the prices that stand now (own and rivals')."""
        return np.asarray(self.pricing_rule(self, self.model), dtype=float)

    def set_terms(self, day: int, prices: np.ndarray) -> None:
        """Phase 2: today's prices (``prices`` from :meth:`rule_prices`, set for all platforms
        before any changes), the cost floor if banned, today's coupon."""
        model = self.model
        self.prices = prices
        ban = model.cfg.policy.below_cost_ban_day
        if ban is not None and day >= ban:
            self.prices = np.maximum(self.prices, self.unit_cost)
        if np.any(self.prices < self.unit_cost):
            self.day_last_below_cost = day
        self.coupon_yuan = self._coupon(day)  # to its target (sim.coupons)

    def _coupon(self, day: int) -> float:
        sub = self.strategy.subsidy
        start = max(self.cfg.entry_day, sub.start_day)  # a programme from a calendar day
        if day < start:
            return 0.0
        intensity = SUBSIDY_SCHEDULES[sub.schedule](day - start, sub)
        if intensity <= 0:
            return 0.0
        budget = sub.daily_budget_yuan * self.money_scale  # stated for the reference market
        budget_per_order = budget / max(1, self.coupon_takers_yesterday)
        coupon = intensity * min(sub.coupon_yuan_per_order, budget_per_order)
        return min(coupon, self.basket_price_yuan)

    def assess_fine(self, day: int, policy) -> float:
        """Phase 2 on ``policy.fine_day``: a one-off fine if it priced below cost lately, yuan.

        Fined: any category below unit cost on a day in ``[fine_day - fine_lookback_days,
        fine_day)`` (SAMR, 3 March 2021: fines for below-cost dumping since the second half of
        2020). The fine is paid from cash and counts in profit (net margin).
        """
        if policy.fine_day is None or day != policy.fine_day or not self.active:
            return 0.0
        last = self.day_last_below_cost  # phase 2 assesses before it sets today's prices
        if last < 0 or last < day - policy.fine_lookback_days:
            return 0.0
        self.flows["fine_yuan"] += float(policy.fine_yuan)
        return float(policy.fine_yuan)

    def reset_flows(self) -> None:
        self.flows = dict.fromkeys(FLOWS, 0.0)

    def settle(self, day: int) -> float:
        """Phase 8: today's profit into cash, and funding rounds while cash is below zero.

        Returns today's profit, yuan.
        """
        f = self.flows
        if self.active:
            f["fixed_yuan"] += self.cfg.fixed_cost_yuan_per_day * self.money_scale
        profit = self.profit_yuan()
        self.cash_yuan += profit
        self.cumulative_profit_yuan += profit
        while self.active and self.cash_yuan < 0 and self.funding_rounds_left > 0:
            self.draw_funding()
        return profit

    def draw_funding(self) -> float:
        """Draw the next funding round into cash (``funding_yuan``, scaled like cash), yuan."""
        amount = float(self.cfg.funding_yuan) * self.money_scale
        self.funding_rounds_left -= 1
        self.funding_drawn_yuan += amount
        self.cash_yuan += amount
        self.flows["funding_yuan"] += amount
        return amount

    def exit_due(self) -> str:
        """Why it must exit today: "cash" (below zero, no round left), "patience", or ""."""
        if not self.active:
            return ""
        if self.cash_yuan < 0 and self.funding_rounds_left == 0:
            return "cash"
        return "patience" if self.out_of_patience() else ""

    def profit_yuan(self) -> float:
        """Today's profit: paid - refunds - goods - commission - logistics - fixed - recruiting
        - community services - referral rewards - training - after-sales - quality control
        - fines, yuan."""
        f = self.flows
        return (f["paid_yuan"] - f["refunds_yuan"] - f["cogs_yuan"] - f["commission_yuan"]
                - f["logistics_yuan"] - f["fixed_yuan"] - f["recruit_yuan"] - f["services_yuan"]
                - f["referral_yuan"] - f["training_yuan"] - f["aftersales_yuan"] - f["qc_yuan"]
                - f["fine_yuan"])

    def net_margin(self) -> float:
        """Today's profit / net revenue (GMV - coupons - refunds); NaN on a day without sales."""
        f = self.flows
        net = f["gmv_yuan"] - f["subsidy_yuan"] - f["refunds_yuan"]
        return self.profit_yuan() / net if net > 0 else float("nan")

    def price_cost_ratio_min(self) -> float:
        """The lowest price / unit cost over categories (below 1: pricing below cost)."""
        ratio = np.divide(self.prices, self.unit_cost, out=np.full(len(self.prices), np.inf),
                          where=self.unit_cost > 0)
        return float(ratio.min())

    def out_of_patience(self) -> bool:
        return (self.active
                and -self.cumulative_profit_yuan > self.cfg.patience_yuan * self.money_scale)

    def gross_margin(self) -> float:
        """(net revenue - cost of goods) / net revenue; NaN on a day without sales."""
        f = self.flows
        net = f["gmv_yuan"] - f["subsidy_yuan"] - f["refunds_yuan"]
        return (net - f["cogs_yuan"]) / net if net > 0 else float("nan")


class Terms:
    """Phase 2 of the day (ODD 3, ODD 7.4): platforms enter, are fined, set prices and coupons;
    and, when settlement finds one out of cash or patience, a platform's exit."""

    OWNS = ()  # the platforms' own state lives on each Platform agent
    WRITES = ("platforms (entry, fines, prices, coupons; exit)", "leaders (a leaving platform's",
              "stop)", "consumers.leader_of (exit)")

    def __init__(self, market):
        self.m = market

    def run(self, d: int) -> None:
        """Entry, the fine (for pricing on the days before today), then today's terms.

        Every platform's pricing rule reads its rivals' prices as they stand at the start of the
        day (yesterday's), and all new prices take effect together: the outcome does not depend
        on the order in which the config lists the platforms.
        """
        m = self.m
        for p in m.platform_list:
            p.reset_flows()
            if not p.entered and not p.exited and d >= p.cfg.entry_day:
                p.entered = True
            p.assess_fine(d, m.cfg.policy)
        active = [p for p in m.platform_list if p.active]
        prices = [p.rule_prices() for p in active]
        for p, pr in zip(active, prices, strict=True):
            p.set_terms(d, pr)
        m.coupons.respond(d)  # targets and coupon_match (sim.coupons)

    def exit_platform(self, p: Platform, d: int, reason: str = "patience") -> None:
        """The platform leaves: its leaders stop, its consumers lose their pickup points."""
        m = self.m
        p.exited = True
        p.exit_reason = reason
        p.day_exited = d
        t = m.leaders
        idx = np.flatnonzero(t.view("active") & (t.view("platform") == p.index))
        if len(idx):
            m.leadership.deactivate(idx, d, "platform_exit", "platform_exit")
            # They did not quit the job: the remaining platforms may recruit them at once, and
            # their households re-home to the remaining platforms through them.
            m.consumers.leader_available_day[t.home[idx]] = d
        m.consumers.leader_of[:, p.index] = -1
        m.leadership.account_orphans()
        m.recorder.platform_exit(d, p)

