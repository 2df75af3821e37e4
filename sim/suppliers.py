"""Suppliers: who sells the platforms their goods, at what cost, how fresh (DESIGN §2.4).

A supplier supplies some categories, is local (short transit to the central warehouse) or remote,
has a unit cost relative to the category's, a defect rate (units that arrive unusable), and an
honesty parameter: the probability that a unit is old stock relabelled as fresh, which arrives
with part of its life already gone (seed 004 §4.2.1: suppliers "在他们自己的退货仓库对商品的
标签随意进行更换", changed labels in their returns warehouses; seed 004 §4.1.1: wilted and rotten
produce sorted as normal goods at a central warehouse; seed 000 §3.1.2: "以次充好").

Platforms split each category's purchases across the suppliers that carry it in proportion to the
weights in their config (seed 004 §5.1.1: multi-sourcing).
"""

from __future__ import annotations

import mesa
import numpy as np

__all__ = ["Supplier", "supplier_mix"]


class Supplier(mesa.Agent):
    """A supplier of one or more categories (its parameters come from ``suppliers.<name>``)."""

    def __init__(self, model, name: str, cfg, category_index: dict[str, int]):
        super().__init__(model)
        self.name = name
        self.cfg = cfg
        self.categories = [category_index[c] for c in cfg.categories]
        self.local = bool(cfg.local)
        self.transit_hours = float(cfg.transit_hours)
        self.cost_multiplier = float(cfg.cost_multiplier)
        self.defect_rate = float(cfg.defect_rate)
        self.relabel_prob = float(cfg.relabel_prob)
        self.relabel_age = float(cfg.relabel_age)
        self.units_sold = 0
        self.revenue_yuan = 0.0


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
