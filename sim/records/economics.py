"""Each platform's unit economics over a run (ODD 7.4-7.5): margins, cash, funding, routes.

From the ``platforms`` table (one row per day and platform) and the platforms' final state:

* contribution margin: (net revenue - goods - leader pay - logistics) / net revenue, net revenue
  being GMV less coupons and refunds: what an order leaves to pay the fixed costs;
* net margin: profit / net revenue (fixed costs, recruiting and fines also paid);
* cash runway: days the final cash lasts at the last 30 days' mean daily loss (null when the
  platform made money over them, or has left the market);
* funding drawn: yuan drawn from funding rounds to date;
* route cost per order, town and village: the served routes' costs over the orders they carried
  (:mod:`sim.coldchain.routes`), the economies of density of seed 000 §3.1.1.
"""

from __future__ import annotations

import math

import pandas as pd

__all__ = ["economics_summary"]


def _f(x) -> float | None:
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else round(x, 6)


def _ratio(a, b) -> float | None:
    return _f(a / b) if b > 0 else None


def economics_summary(model, tables: dict[str, pd.DataFrame]) -> dict:
    """Per-platform unit economics of the run (keys by platform name)."""
    plat = tables["platforms"]
    g = plat.groupby("platform", sort=False)
    s = g[["gmv_yuan", "subsidy_yuan", "refunds_yuan", "cogs_yuan", "commission_yuan",
           "logistics_yuan", "profit_yuan", "route_cost_town_yuan", "route_cost_village_yuan",
           "route_orders_town", "route_orders_village"]].sum()
    last = plat[plat["day"] > plat["day"].max() - 30].groupby("platform", sort=False)
    burn = -last["profit_yuan"].mean()
    # per platform: (contribution, net, runway, funding, town route cost, village route cost)
    one = {}
    for p in model.platform_list:
        r = s.loc[p.name]
        net = r["gmv_yuan"] - r["subsidy_yuan"] - r["refunds_yuan"]
        b = float(burn.get(p.name, float("nan")))
        one[p.name] = (
            _ratio(net - r["cogs_yuan"] - r["commission_yuan"] - r["logistics_yuan"], net),
            _ratio(r["profit_yuan"], net),
            _f(max(p.cash_yuan, 0.0) / b) if p.active and b > 0 else None,
            _f(p.funding_drawn_yuan),
            _ratio(r["route_cost_town_yuan"], r["route_orders_town"]),
            _ratio(r["route_cost_village_yuan"], r["route_orders_village"]),
        )
    # one dict per figure, keyed by platform (sim.metrics reads these keys from this source)
    return {
        "contribution_margin": {k: v[0] for k, v in one.items()},
        "net_margin": {k: v[1] for k, v in one.items()},
        "cash_runway_days": {k: v[2] for k, v in one.items()},
        "funding_drawn_yuan": {k: v[3] for k, v in one.items()},
        "route_cost_per_order_town_yuan": {k: v[4] for k, v in one.items()},
        "route_cost_per_order_village_yuan": {k: v[5] for k, v in one.items()},
    }
