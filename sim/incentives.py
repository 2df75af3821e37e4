"""Leader incentive schemes (DESIGN §4.3): what a platform pays its group leaders (团长).

A scheme turns a leader's sales into pay. Every scheme carries the commission decay schedule of
``incentive.decay_*``: the rate falls from ``commission_rate`` to ``decay_to_rate`` linearly over
``decay_days`` from ``decay_start_day`` (0 days: a step cut). Platforms launched at ~10% and cut
to ~5% within months (Yicai 2021; DESIGN §6). The seeds give the range of rates: 5-20% of sales,
fresh 5-10%, daily goods 15-20% (seed 003 FAQ Q2).

Schemes are chosen by name from :data:`SCHEMES` (a config never names code to import). The spine
implements ``flat`` (one rate on sales; seed 000 §3.2.3: "按照订单销售额的一定比例向团长支付佣金");
the other schemes of DESIGN §4.3 extend this registry.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SCHEMES", "FlatCommission", "commission_rate_on", "make_scheme"]


def commission_rate_on(day: int, cfg) -> float:
    """The scheme's base commission rate on ``day`` with its decay schedule applied."""
    start = cfg.decay_start_day
    if start is None or day < start:
        return float(cfg.commission_rate)
    if cfg.decay_days <= 0:
        return float(cfg.decay_to_rate)
    frac = min(1.0, (day - start) / cfg.decay_days)
    return float(cfg.commission_rate + frac * (cfg.decay_to_rate - cfg.commission_rate))


class FlatCommission:
    """One commission rate on sales, paid with each order (seed 003 FAQ Q2: 5-20%)."""

    name = "flat"

    def __init__(self, cfg):
        self.cfg = cfg

    def rate(self, day: int) -> float:
        return commission_rate_on(day, self.cfg)

    def order_commission(self, day: int, order_value_yuan: np.ndarray) -> np.ndarray:
        """Commission on each order, yuan: ``rate(day) * value``."""
        return self.rate(day) * order_value_yuan


SCHEMES = {"flat": FlatCommission}


def make_scheme(cfg):
    """The scheme named by ``cfg.scheme``."""
    return SCHEMES[cfg.scheme](cfg)
