"""Suppliers: who sells the platforms their goods, at what cost, how fresh (ODD 2).

A supplier supplies some categories, with its transit hours to the central warehouse (a local
farm's few, a provincial market's a day) and its exposure to weather shocks (below), a unit cost
relative to the category's, a defect rate (units that arrive unusable), and an honesty parameter:
the probability that a unit is old stock relabelled as fresh, which arrives with part of its life
already gone (seed 004 §4.2.1: suppliers "在他们自己的退货仓库对商品的
标签随意进行更换", changed labels in their returns warehouses; seed 004 §4.1.1: wilted and rotten
produce sorted as normal goods at a central warehouse; seed 000 §3.1.2: "以次充好").

Platforms split each category's purchases across the suppliers that carry it in proportion to the
weights in their config (seed 004 §5.1.1: multi-sourcing).

Capacity and shocks. A supplier can deliver at most ``capacity_units_per_household_day`` x
(households in the market) units of each category a day. A weather shock (seed 004 §4.1.1:
"由于天气等不可控原因导致生鲜产品产量骤减", output at origin collapses because of the weather)
starts on a day with probability ``shock_prob_per_day`` and cuts its capacity to
``shock_capacity_share`` for ``shock_days`` days. :func:`allocate` decides who gets what, in
three steps (our rule, documented in docs/ODD.md §7.6):

1. each platform splits its demand for a category across its suppliers by its weights;
2. a supplier asked for more than its capacity rations the platforms pro rata;
3. each platform offers its shortfall to its *other* suppliers of the category (those with a
   positive weight, split by weight); each rations those requests pro rata to its spare
   capacity. What is still short is unfilled: those order units are not delivered and not
   charged (a stockout). One round: a simplification (a second round would rarely add much).
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.supply.kernels import allocate_units

__all__ = ["Supplier", "allocate", "ration", "split_by_weights", "supplier_mix"]


class Supplier(mesa.Agent):
    """A supplier of one or more categories (its parameters come from ``suppliers.<name>``)."""

    def __init__(self, model, name: str, cfg, category_index: dict[str, int]):
        super().__init__(model)
        self.name = name
        self.cfg = cfg
        self.categories = [category_index[c] for c in cfg.categories]
        self.transit_hours = float(cfg.transit_hours)
        self.cost_multiplier = float(cfg.cost_multiplier)
        self.defect_rate = float(cfg.defect_rate)
        self.relabel_prob = float(cfg.relabel_prob)
        self.relabel_age = float(cfg.relabel_age)
        self.capacity_per_household = float(cfg.capacity_units_per_household_day)
        self.shock_prob = float(cfg.shock_prob_per_day)  # plain floats: read every day
        self.shock_days = int(cfg.shock_days)
        self.shock_capacity_share = float(cfg.shock_capacity_share)
        self.shocked_until_day = -1  # a shock lasts while day < shocked_until_day
        self.shock_days_total = 0
        self.units_sold = 0
        self.revenue_yuan = 0.0

    def update_shock(self, day: int, u: float) -> None:
        """A weather shock starts with probability ``shock_prob_per_day`` (uniform ``u``)."""
        if day >= self.shocked_until_day and u < self.shock_prob:
            self.shocked_until_day = day + self.shock_days
        if day < self.shocked_until_day:
            self.shock_days_total += 1

    def capacity_units(self, day: int, households: int) -> int:
        """Units of each category it can deliver today (shock included)."""
        cap = self.capacity_per_household * households
        if day < self.shocked_until_day:
            cap *= self.shock_capacity_share
        return int(cap)


def supplier_mix(weights: dict[str, float], suppliers: list[Supplier], n_categories: int):
    """Cumulative purchase shares of each category across suppliers, shape (C, S).

    A platform buys category c from the suppliers that carry c in proportion to its weights;
    where it names none of them it buys from all of them equally.
    """
    s = len(suppliers)
    share = np.zeros((n_categories, s))
    for c in range(n_categories):
        carries = np.array([c in sup.categories for sup in suppliers])
        w = np.array([weights.get(sup.name, 0.0) for sup in suppliers]) * carries
        if w.sum() <= 0:
            w = carries.astype(float)
        share[c] = w / w.sum()
    return np.cumsum(share, axis=1)


def split_by_weights(total: int, weights: np.ndarray) -> np.ndarray:
    """Split the integer ``total`` in proportion to ``weights`` (largest remainders; exact sum).

    This and :func:`ration` state the allocation's arithmetic; :func:`allocate` runs their
    compiled equivalents (:mod:`sim.supply.kernels`), which tests/test_kernels.py holds to them.
    """
    w = np.asarray(weights, float)
    out = np.zeros(len(w), np.int64)
    if total <= 0 or w.sum() <= 0:
        return out
    exact = total * w / w.sum()
    out[:] = np.floor(exact)
    rest = int(total - out.sum())
    if rest > 0:
        # ties broken by position: deterministic
        order = np.lexsort((np.arange(len(w)), -(exact - out)))
        out[order[:rest]] += 1
    return out


def ration(requests: np.ndarray, capacity: int) -> np.ndarray:
    """Grant ``requests`` in full if they fit in ``capacity``, else pro rata (integers)."""
    requests = np.asarray(requests, np.int64)
    if requests.sum() <= capacity:
        return requests.copy()
    return np.minimum(split_by_weights(max(int(capacity), 0), requests), requests)


def allocate(demand: np.ndarray, share: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Units each supplier delivers to each platform, shape (P, C, S).

    Args:
        demand: units wanted per platform and category, (P, C) integers.
        share: each platform's purchase shares over suppliers, (P, C, S), rows summing to 1
            over the suppliers that carry the category.
        capacity: units each supplier can deliver today per category, (C, S) integers (0 where
            it does not carry the category).

    Returns:
        The allocation; ``demand - alloc.sum(axis=2)`` is unfilled. The three steps are in the
        module docstring.
    """
    # One compiled pass (sim.supply.kernels.allocate_units: the steps with split_by_weights and
    # ration, the same arithmetic; tests/test_kernels.py checks it against them).
    return allocate_units(np.ascontiguousarray(demand, np.int64),
                          np.ascontiguousarray(share, np.float64),
                          np.ascontiguousarray(capacity, np.int64))
