"""Procurement: pre-sale versus stock mode, and the stock mode's newsvendor (ODD 7.6).

A platform's procurement mode is a name in :data:`PROCUREMENT_MODES` (``procurement.mode``, the
default every platform inherits; ``platforms.<name>.strategy.procurement.mode`` its own):

* ``presale`` (以销定采, seed 003 advantage 1: pre-sale "procure-to-order" sharply cuts inventory
  cost and the loss rate; seed 001 §三): buy exactly today's orders. The goods cross-dock through
  the central and grid warehouses overnight; only transit spoilage.
* ``stock``: keep stock in the grid warehouse. Today's orders are filled from it, oldest-expiring
  first (FEFO: the warehouse ships what it has, seed 004 §4.1.1: wilted produce "按照正常商品"
  went out as normal goods); what is short is unfilled. Then the platform buys up to a level
  ``S = forecast + z * sigma`` for tomorrow; the purchase arrives in the grid warehouse the next
  morning and waits ``coldchain.grid_hold_hours`` for dispatch; leftovers age 24 h a day in the
  warehouse (cold with the platform's grid-tier coverage) and spoil there when their life is
  used up (seed 000 §3.1.3: inventory management is hard for perishables).

The safety factor ``z`` is the newsvendor's: ``z = Phi^-1(CR)`` with the critical ratio

    CR = C_u / (C_u + C_o) = (p - c + g) / (p - salvage + g)

(Arrow, Harris & Marschak 1951; e.g. Porteus 2002, ch. 1): underage cost ``C_u = p - c + g``
(margin plus goodwill ``g`` lost per unit short), overage cost ``C_o = c - salvage`` (a leftover is
worth ``salvage`` = ``salvage_share_of_cost`` x c: it may still sell tomorrow if it keeps). With
``g = 0`` this is the classic ``(p - c)/(p - salvage)``. The forecast is exponential smoothing of
the platform's daily orders (Brown 1959) and ``sigma`` the square root of the smoothed squared
forecast error; both start at the first day's orders (a Poisson guess for the variance).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

__all__ = ["PROCUREMENT_MODES", "Forecast", "Lots", "critical_ratio", "order_up_to"]

# The registry of procurement modes (config: procurement.mode, per platform by its strategy).
# The model's phase_procurement dispatches on the name; the value says what the mode buys.
PROCUREMENT_MODES = {
    "presale": "buy exactly today's orders",
    "stock": "fill orders from grid-warehouse stock; buy forecast plus safety stock",
}


def critical_ratio(price_yuan, cost_yuan, salvage_yuan, goodwill_yuan=0.0):
    """The newsvendor critical ratio ``(p - c + g) / (p - salvage + g)``, clipped to [0, 1].

    Args:
        price_yuan: selling price of a unit.
        cost_yuan: purchase cost of a unit.
        salvage_yuan: value of a unit left over.
        goodwill_yuan: goodwill lost per unit short (0 in the textbook form).
    """
    p, c, s, g = (np.asarray(x, float) for x in (price_yuan, cost_yuan, salvage_yuan,
                                                 goodwill_yuan))
    den = p - s + g
    ratio = np.divide(p - c + g, den, out=np.ones_like(den * 1.0), where=den > 0)
    return np.clip(ratio, 0.0, 1.0)


def order_up_to(forecast, sigma, ratio) -> np.ndarray:
    """The order-up-to level ``forecast + Phi^-1(ratio) * sigma``, at least 0 (units)."""
    r = np.clip(np.asarray(ratio, float), 1e-4, 1 - 1e-4)
    z = np.vectorize(NormalDist().inv_cdf)(r)
    return np.maximum(0.0, np.asarray(forecast, float) + z * np.asarray(sigma, float))


@dataclass
class Forecast:
    """Exponentially smoothed daily orders and squared error (one platform)."""

    alpha: float
    level: float = float("nan")
    variance: float = 0.0

    def update(self, orders: float) -> None:
        if np.isnan(self.level):
            self.level, self.variance = float(orders), float(orders)  # Poisson-like start
            return
        err = orders - self.level
        self.level += self.alpha * err
        self.variance += self.alpha * (err * err - self.variance)

    @property
    def sigma(self) -> float:
        return float(np.sqrt(max(self.variance, 0.0)))


@dataclass
class Lots:
    """Units of one category held or moving together: one entry per unit."""

    life: np.ndarray = field(default_factory=lambda: np.zeros(0))  # remaining life fraction
    supplier: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    defect: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    cost_yuan: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cold: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # stored refrigerated

    def __len__(self) -> int:
        return len(self.life)

    def take(self, idx) -> Lots:
        return Lots(self.life[idx], self.supplier[idx], self.defect[idx], self.cost_yuan[idx],
                    self.cold[idx])

    def join(self, other: Lots) -> Lots:
        return Lots(*(np.concatenate([a, b]) for a, b in zip(
            (self.life, self.supplier, self.defect, self.cost_yuan, self.cold),
            (other.life, other.supplier, other.defect, other.cost_yuan, other.cold),
            strict=True)))
