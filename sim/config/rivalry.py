"""The schema of a platform's answers to its rivals (ODD 7.4): best-response re-pricing
and poaching a rival's largest leaders. A lever group that every platform inherits and may
override (``platforms.<name>.strategy.rivalry.<key>``)."""

from __future__ import annotations

from dataclasses import dataclass

from sim.config.params import P

__all__ = ["RivalryConfig"]


@dataclass
class RivalryConfig:
    """Best-response pricing (sim.pricing) and poaching (sim.leaders.poaching)."""

    # best_response pricing rule (a platform with pricing: best_response)
    reprice_days: int = P(1, 365)  # it re-prices every this many days from its entry
    reprice_damping: float = P(0.0, 1.0)  # moves this share of the way to its best response
    reprice_window_days: int = P(1, 365)  # its recent choosers: those of the last this many days
    route_costs: str = P(choices=("coverage", "expected"))  # how its routes enter its prices
    # poaching: each month, offers to a rival's largest leaders (by last month's sales)
    poach_leaders_per_month: float = P(0.0, 1e5)  # offers a month, per
    #                                   market.platform_money_households households (0: none)
    poach_premium_rate: float = P(0.0, 1.0)  # commission premium on the poached row's sales
    poach_premium_days: int = P(0, 3650)  # the premium is paid this long after the move
    poach_accept_prob: float = P(0.0, 1.0)  # chance a leader offered the premium takes it
    poach_move_share: float = P(0.0, 1.0)  # of those who take it, the share who leave the
    #                                        rival (move); the others serve both (add)
