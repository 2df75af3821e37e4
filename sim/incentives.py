"""Leader incentive schemes (ODD 7.3): what a group leader (团长) is paid, and by whom.

A scheme turns a leader's sales into pay in two parts:

* **per order**, the base commission ``rate(t) * order value`` paid with each order, ``t`` the
  days since the platform's entry. Every scheme carries the commission decay schedule of
  ``incentive.decay_*``: the rate falls from ``commission_rate`` to ``decay_to_rate`` linearly
  over ``decay_days`` from ``decay_start_day`` days after the platform's own entry (0 days: a
  step cut). Platforms launched at ~10% and cut to ~5% within months of their launch (Yicai
  2021; ODD 8). The seeds give the range: 5-20% of sales, fresh 5-10%, daily goods 15-20%
  (seed 003 FAQ Q2): a category's rate is ``rate(t) * category_rate_multiplier[category]``.
* **per month**, paid at the leader's monthly review: platform bonuses
  (:meth:`Scheme.monthly_bonus`). Income from outside the platform (service fees and
  government subsidies) and the time it takes come from the community-services programme
  (:mod:`sim.remedies.services`), which ``multi_source`` runs at every point.

The schemes, all from the seeds (digest §C):

* ``flat``: the base commission only (seed 000 §3.2.3 "按照订单销售额的一定比例向团长支付佣金").
* ``tiered`` (阶梯, seed 003 FAQ Q2): the whole month's sales are paid at the rate of the highest
  tier reached; the base rate is paid per order and the step-up at the review:
  ``bonus = extra_rate(tier(sales)) * sales``.
* ``target_bonus``: ``bonus = target_bonus_yuan`` if monthly sales reach ``target_sales_yuan``,
  one target everywhere (the "unfair uniform standard" of seed 000 §3.2.4).
* ``differentiated_target``: the same bonus with the target scaled to the leader's local
  potential, ``target_i = target_sales_yuan * clip(potential_i / mean potential)`` (seed 000
  §4.2.2: lower targets in weak areas, higher in dense ones).
* ``multi_source``: the leader as "community service specialist" (社区服务专员): base commission
  plus service fees plus a government service subsidy (seed 002 Case B l.70-78, "服务佣金 +
  团购佣金 + 政府服务补贴"; churn -60%): the flat commission, with the community-services
  programme (:mod:`sim.remedies.services`) at every point of its platform.
* ``complaint_evaluation``: an evaluation of leaders on complaint handling beside the sales
  (团长评比, seed 004 §5.3: leaders with high sales and satisfied customers rewarded; seed 000
  §4.2.1: leaders who pass the training's assessment rewarded): ``bonus = target_bonus_yuan``
  if monthly sales reach ``target_sales_yuan`` and the month's complaints at the leader's
  point are at most ``evaluation_complaints_per_order`` of its orders.
* ``recognition``: monthly titles ("月度之星团长", seed 000 §4.2.2) for the top ``title_share`` of
  each platform's leaders by last month's sales, with a small prize; a title lowers the quit
  logit by ``leaders.churn_recognition_effect``.

Schemes are chosen by name from :data:`SCHEMES` (a config never names code to import). Each
platform runs its own scheme (its strategy, :func:`sim.strategy.platform_strategy`): the
market's schemes are :class:`Incentives`, one per platform, which the leaders and settlement ask
with each row's platform.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "SCHEMES",
    "ComplaintEvaluation",
    "DifferentiatedTarget",
    "FlatCommission",
    "Incentives",
    "MultiSource",
    "Recognition",
    "TargetBonus",
    "TieredCommission",
    "commission_rate_on",
    "make_scheme",
]


def commission_rate_on(day: int, cfg) -> float:
    """The scheme's base commission rate ``day`` days after the platform's entry, decay applied.

    ``decay_start_day`` counts from the platform's entry too (the platform's own launch, not the
    market's day 0).
    """
    start = cfg.decay_start_day
    if start is None or day < start:
        return float(cfg.commission_rate)
    if cfg.decay_days <= 0:
        return float(cfg.decay_to_rate)
    frac = min(1.0, (day - start) / cfg.decay_days)
    return float(cfg.commission_rate + frac * (cfg.decay_to_rate - cfg.commission_rate))


class FlatCommission:
    """One commission rate on sales, paid with each order (seed 003 FAQ Q2: 5-20%).

    The base class of every scheme: the other schemes add monthly pay on top of this commission.
    """

    name = "flat"
    awards_titles = False
    evaluates_complaints = False
    runs_services = False  # every point runs community services (sim.remedies.services)

    def __init__(self, cfg):
        self.cfg = cfg

    def rate(self, day: int) -> float:
        """The base rate ``day`` days after the platform's entry."""
        return commission_rate_on(day, self.cfg)

    def order_commission(self, day: int, order_value_yuan: np.ndarray) -> np.ndarray:
        """Commission on each order, yuan: ``rate(day) * value`` (``day`` since entry)."""
        return self.rate(day) * order_value_yuan

    def monthly_bonus(self, day: int, sales_yuan: np.ndarray,
                      potential_ratio: np.ndarray | None = None) -> np.ndarray:
        """Platform bonus at the review, yuan, per leader service row (none for ``flat``).

        Args:
            day: the review day.
            sales_yuan: the row's sales (list value of its orders) over the month, yuan.
            potential_ratio: the row's local potential over its platform's mean (1 = average).
        """
        return np.zeros(len(sales_yuan))

    def evaluation_bonus(self, sales_yuan: np.ndarray, complaints: np.ndarray,
                         orders: np.ndarray) -> np.ndarray:
        """Bonus of the evaluation on complaint handling at the review, yuan (none here)."""
        return np.zeros(len(sales_yuan))


class TieredCommission(FlatCommission):
    """阶梯 commission (seed 003 FAQ Q2; ODD 7.3 "e.g. 8% / 10% / 12%").

    ``tier_sales_yuan`` are ascending monthly-sales thresholds (the first is 0) and
    ``tier_extra_rates`` the rate added to the base rate from each threshold on; the whole
    month's sales earn the rate of the highest tier reached, so the step-up paid at the review is
    ``extra_rate(tier) * sales``.
    """

    name = "tiered"

    def monthly_bonus(self, day, sales_yuan, potential_ratio=None):
        thresholds = np.asarray(self.cfg.tier_sales_yuan, float)
        extra = np.asarray(self.cfg.tier_extra_rates, float)
        tier = np.searchsorted(thresholds, np.asarray(sales_yuan, float), side="right") - 1
        return np.where(tier >= 0, extra[np.maximum(tier, 0)], 0.0) * sales_yuan


class TargetBonus(FlatCommission):
    """A bonus for reaching one monthly sales target, the same everywhere (seed 000 §3.2.4)."""

    name = "target_bonus"

    def targets(self, potential_ratio, n: int) -> np.ndarray:
        return np.full(n, float(self.cfg.target_sales_yuan))

    def monthly_bonus(self, day, sales_yuan, potential_ratio=None):
        sales = np.asarray(sales_yuan, float)
        hit = sales >= self.targets(potential_ratio, len(sales))
        return np.where(hit, float(self.cfg.target_bonus_yuan), 0.0)


class DifferentiatedTarget(TargetBonus):
    """The target bonus with targets scaled to local potential (seed 000 §4.2.2).

    ``target_i = target_sales_yuan * clip(potential_ratio_i, target_scale_min,
    target_scale_max)``: on average the same target as ``target_bonus``, lower where members
    are few or order little (villages), higher in dense compounds.
    """

    name = "differentiated_target"

    def targets(self, potential_ratio, n):
        ratio = np.ones(n) if potential_ratio is None else np.asarray(potential_ratio, float)
        scale = np.clip(ratio, self.cfg.target_scale_min, self.cfg.target_scale_max)
        return float(self.cfg.target_sales_yuan) * scale


class ComplaintEvaluation(TargetBonus):
    """An evaluation on complaint handling beside the sales (团长评比, seed 004 §5.3).

    ``target_bonus_yuan`` at the review to a row whose month's sales reach ``target_sales_yuan``
    and whose month's complaints are at most ``evaluation_complaints_per_order`` x its orders
    (a month without orders is not evaluated); no sales-target bonus besides.
    """

    name = "complaint_evaluation"
    evaluates_complaints = True

    def monthly_bonus(self, day, sales_yuan, potential_ratio=None):
        return np.zeros(len(sales_yuan))

    def evaluation_bonus(self, sales_yuan, complaints, orders):
        sales, orders = np.asarray(sales_yuan, float), np.asarray(orders, float)
        ok = (np.asarray(complaints, float)
              <= float(self.cfg.evaluation_complaints_per_order) * orders) & (orders > 0)
        hit = ok & (sales >= float(self.cfg.target_sales_yuan))
        return np.where(hit, float(self.cfg.target_bonus_yuan), 0.0)


class MultiSource(FlatCommission):
    """Commission plus service fees plus a government service subsidy (seed 002 Case B l.76).

    The platform pays the base commission only; its leaders are community service specialists:
    the community-services programme (:mod:`sim.remedies.services`: parcel collection, bills,
    housekeeping referrals, seed 002 Case A l.61-64) runs at every one of its points, whose
    fees and subsidy come from outside and take the leader's time.
    """

    name = "multi_source"
    runs_services = True


class Recognition(FlatCommission):
    """Monthly titles for the top leaders of each platform (seed 000 §4.2.2, 月度之星团长).

    At each 30-day mark the top ``title_share`` of each platform's active leaders by last
    month's sales are titled for the next month (the quit logit falls by
    ``leaders.churn_recognition_effect``) and win ``title_prize_yuan``, paid at their review.
    """

    name = "recognition"
    awards_titles = True

    def title_winners(self, sales_yuan: np.ndarray) -> np.ndarray:
        """Which of one platform's leaders get a title: the top ``title_share`` by sales.

        ``ceil(title_share * n)`` winners, ties broken by position; a leader with no sales wins
        nothing.
        """
        sales = np.asarray(sales_yuan, float)
        k = int(np.ceil(self.cfg.title_share * len(sales)))
        win = np.zeros(len(sales), bool)
        if k:
            win[np.argsort(-sales, kind="stable")[:k]] = True
        return win & (sales > 0)


SCHEMES = {
    "flat": FlatCommission,
    "tiered": TieredCommission,
    "target_bonus": TargetBonus,
    "differentiated_target": DifferentiatedTarget,
    "multi_source": MultiSource,
    "recognition": Recognition,
    "complaint_evaluation": ComplaintEvaluation,
}


def make_scheme(cfg):
    """The scheme named by ``cfg.scheme``."""
    return SCHEMES[cfg.scheme](cfg)


class Incentives:
    """Every platform's scheme (each its own incentive strategy), asked with rows' platforms.

    Args:
        cfgs: each platform's incentive group, in platform order (``platform_strategy``).
        entry_days: each platform's entry day; its schedule counts days from it.
        category_names: the product categories, in the model's order.
        basket_weights: each category's share of the reference basket's value (for
            :meth:`basket_rates`); equal shares if not given.
    """

    def __init__(self, cfgs, entry_days, category_names, basket_weights=None):
        self.schemes = [make_scheme(c) for c in cfgs]
        self.entry_day = np.asarray(entry_days, np.int64)
        # (P, C): each category's multiplier of the platform's rate (absent: 1)
        self.category_multiplier = np.array(
            [[float(c.category_rate_multiplier.get(cat, 1.0)) for cat in category_names]
             for c in cfgs], float).reshape(len(cfgs), len(category_names))
        self.by_category = bool(np.any(self.category_multiplier != 1.0))
        self.awards_titles = any(s.awards_titles for s in self.schemes)
        self.evaluates_complaints = any(s.evaluates_complaints for s in self.schemes)
        w = (np.ones(len(category_names)) if basket_weights is None
             else np.asarray(basket_weights, float))
        self.basket_weights = w / w.sum()

    def rates(self, day: int) -> np.ndarray:
        """Each platform's base rate on market day ``day`` (its decay from its own entry)."""
        return np.array([s.rate(day - int(e)) for s, e in zip(self.schemes, self.entry_day,
                                                                strict=True)])

    def basket_rates(self, day: int) -> np.ndarray:
        """Each platform's rate on a reference basket (its category rates weighted by value)."""
        return self.category_rates(day) @ self.basket_weights

    def category_rates(self, day: int) -> np.ndarray:
        """(P, C) rate of each platform on each category on market day ``day``."""
        return self.rates(day)[:, None] * self.category_multiplier

    def order_commission(self, day: int, platform: np.ndarray, prices: np.ndarray,
                         value_yuan: np.ndarray | None = None) -> np.ndarray:
        """Commission on each order, yuan: its units' prices times their categories' rates.

        Args:
            platform: each order's platform index, (m,).
            prices: each order's unit prices, (m, C) yuan.
            value_yuan: ``prices.sum(axis=1)`` if already summed (used when every category is
                at the platform's rate).
        """
        if not self.by_category:
            value = prices.sum(axis=1) if value_yuan is None else value_yuan
            return self.rates(day)[platform] * value
        return (prices * self.category_rates(day)[platform]).sum(axis=1)

    def _per_platform(self, platform: np.ndarray, call) -> np.ndarray:
        platform = np.asarray(platform, np.int64)
        out = np.zeros(len(platform))
        for j, s in enumerate(self.schemes):
            sel = platform == j
            if sel.any():
                out[sel] = call(j, s, sel)
        return out

    def monthly_bonus(self, day: int, platform: np.ndarray, sales_yuan: np.ndarray,
                      potential_ratio: np.ndarray | None = None) -> np.ndarray:
        """Each row's bonus at its review under its platform's scheme, yuan."""
        sales = np.asarray(sales_yuan, float)
        return self._per_platform(platform, lambda j, s, sel: s.monthly_bonus(
            day - int(self.entry_day[j]), sales[sel],
            None if potential_ratio is None else np.asarray(potential_ratio)[sel]))

    def evaluation_bonus(self, platform: np.ndarray, sales_yuan: np.ndarray,
                         complaints: np.ndarray, orders: np.ndarray) -> np.ndarray:
        """Each row's bonus of its platform's evaluation on complaint handling, yuan."""
        return self._per_platform(platform, lambda j, s, sel: s.evaluation_bonus(
            np.asarray(sales_yuan, float)[sel], np.asarray(complaints)[sel],
            np.asarray(orders)[sel]))

    def title_winners(self, j: int, sales_yuan: np.ndarray) -> np.ndarray:
        """Platform ``j``'s titled leaders (none unless its scheme awards titles)."""
        s = self.schemes[j]
        if not s.awards_titles:
            return np.zeros(len(sales_yuan), bool)
        return s.title_winners(sales_yuan)

    def title_prize_yuan(self, j: int) -> float:
        return float(self.schemes[j].cfg.title_prize_yuan)
