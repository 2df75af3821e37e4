"""Routes: which legs of the chain run cold, and what a served route costs (ODD 7.5).

Cold-chain coverage is a share of routes, assigned once per route from named streams, not a coin
per order: the first leg (supplier -> central warehouse) is one route per platform, cold when the
platform's uniform (stream ``coldchain.route.central.<platform>``) is below its
``coverage_central``; the grid leg (central -> grid warehouse, the truck that carries a
neighbourhood's goods) and the last mile (grid warehouse -> pickup point) are one route per
platform and neighbourhood, cold when the neighbourhood's uniform (streams
``coldchain.route.grid.<platform>``, ``coldchain.route.last_mile.<platform>``) is below the
platform's coverage of that tier. A village is therefore cold or warm every day, for a
platform; raising a platform's coverage turns more of its routes cold and none warm (the same
uniforms). Stock mode's inbound trunk to the grid warehouse and its cold room are one more route
per platform (``coldchain.route.grid_trunk.<platform>``, the grid tier's coverage).

Logistics cost (economies of density, seed 000 §3.1.1): each served route (a platform's pickup
point in a neighbourhood that receives orders that day) costs ``route_cost_yuan_per_day_town``
or ``..._village`` a day, ``1 + cold_route_premium`` times that when its last mile is
refrigerated, split over the orders delivered there that day. A thin village route costs more
per order than a busy town compound from the route costs alone; there is no per-order constant.
The trunk legs (supplier -> central -> grid) are in the platform's fixed cost per day.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Routes", "route_costs"]


def route_costs(platform: np.ndarray, neighbourhood: np.ndarray, village_nb: np.ndarray,
                cold_last_mile: np.ndarray, cost_town: np.ndarray, cost_village: np.ndarray,
                premium: np.ndarray, n_platforms: int, n_neighbourhoods: int):
    """Today's route costs from the delivered orders' (platform, neighbourhood) pairs.

    Args:
        platform, neighbourhood: each delivered order's platform and the neighbourhood of its
            pickup point, (m,).
        village_nb: whether each neighbourhood is a village, (K,).
        cold_last_mile: whether each platform's last mile to each neighbourhood is
            refrigerated, (P, K).
        cost_town, cost_village, premium: each platform's route cost per day, yuan, and the
            relative extra cost of a refrigerated route, (P,).

    Returns:
        (per-order logistics cost, (m,) yuan; route cost per platform, (P, 2) yuan, town and
        village; served routes per platform, (P, 2); orders per platform, (P, 2)).
    """
    cell = platform.astype(np.int64) * n_neighbourhoods + neighbourhood.astype(np.int64)
    orders = np.bincount(cell, minlength=n_platforms * n_neighbourhoods)
    served = orders > 0
    j, k = np.divmod(np.arange(n_platforms * n_neighbourhoods), n_neighbourhoods)
    daily = np.where(village_nb[k], cost_village[j], cost_town[j]) * \
        np.where(cold_last_mile.reshape(-1), 1.0 + premium[j], 1.0)
    per_order = np.divide(daily, orders, out=np.zeros(len(daily)), where=served)[cell]
    area = village_nb[k].astype(np.int64)
    by = j * 2 + area
    cost = np.bincount(by, weights=np.where(served, daily, 0.0), minlength=2 * n_platforms)
    routes = np.bincount(by, weights=served, minlength=2 * n_platforms).astype(np.int64)
    count = np.bincount(by, weights=orders, minlength=2 * n_platforms).astype(np.int64)
    return (per_order, cost.reshape(n_platforms, 2), routes.reshape(n_platforms, 2),
            count.reshape(n_platforms, 2))


class Routes:
    """Each platform's routes: which run cold (fixed for the run) and their daily costs."""

    def __init__(self, market):
        m = market
        k = m.network.n_neighbourhoods
        self.village_nb = np.asarray(m.network.is_village, bool)
        cc = [s.coldchain for s in m.strategies]
        self.coverage = np.array([[c.coverage_central, c.coverage_grid, c.coverage_last_mile]
                                  for c in cc], float).reshape(len(cc), 3)
        u = m.streams.uniform
        names = m.platform_names
        self.cold_central = np.array([u(f"coldchain.route.central.{n}", 0, 1)[0] for n in names]
                                     ) < self.coverage[:, 0]
        self.cold_grid_trunk = np.array([u(f"coldchain.route.grid_trunk.{n}", 0, 1)[0]
                                         for n in names]) < self.coverage[:, 1]
        self.cold_grid = np.stack([u(f"coldchain.route.grid.{n}", 0, k) for n in names]) \
            < self.coverage[:, 1:2] if names else np.zeros((0, k), bool)
        self.cold_last_mile = np.stack([u(f"coldchain.route.last_mile.{n}", 0, k)
                                        for n in names]) < self.coverage[:, 2:3] \
            if names else np.zeros((0, k), bool)
        self.cost_town = np.array([c.route_cost_yuan_per_day_town for c in cc], float)
        self.cost_village = np.array([c.route_cost_yuan_per_day_village for c in cc], float)
        self.premium = np.array([c.cold_route_premium for c in cc], float)

    def daily_costs(self) -> np.ndarray:
        """(P, K) what each platform's route to each neighbourhood costs on a day it runs."""
        area = np.where(self.village_nb[None, :], self.cost_village[:, None],
                        self.cost_town[:, None])
        return area * np.where(self.cold_last_mile, 1.0 + self.premium[:, None], 1.0)

    def legs_cold(self, platform: np.ndarray, neighbourhood: np.ndarray) -> np.ndarray:
        """(m, 3) whether each order's first leg, grid leg and last mile run cold."""
        return np.stack([self.cold_central[platform], self.cold_grid[platform, neighbourhood],
                         self.cold_last_mile[platform, neighbourhood]], axis=1)

    def costs(self, platform: np.ndarray, neighbourhood: np.ndarray):
        """:func:`route_costs` of today's delivered orders."""
        return route_costs(platform, neighbourhood, self.village_nb, self.cold_last_mile,
                           self.cost_town, self.cost_village, self.premium,
                           len(self.cost_town), len(self.village_nb))
