"""The schema of a platform's coupon programme (ODD 7.4): schedule x target x daily budget, and
the ``coupon_match`` response; a lever group every platform inherits and may override
(``platforms.<name>.strategy.subsidy.<key>``). The mechanism is :mod:`sim.coupons`."""

from __future__ import annotations

from dataclasses import dataclass

from sim.config.params import P

__all__ = ["SubsidyConfig"]


@dataclass
class SubsidyConfig:
    """A platform's coupon programme (sim.platforms: the schedule; sim.coupons: the rest)."""

    schedule: str = P(choices="subsidy")  # the coupon programme (configs/subsidy/*.yaml)
    target: list[str] = P()  # who may use it: a household meeting every target listed
    #   (all, new_users, lapsed, village, town, segment:<name>, price_sensitive; sim.coupons)
    coupon_yuan_per_order: float = P(0.0, 1000.0)  # coupon off each order while the schedule pays
    daily_budget_yuan: float = P(0.0, 1e9)  # per platform, per platform_money_households
    days: int = P(0, 100_000)  # D: subsidy days after its start (entry, or start_day if later)
    taper_days: int = P(0, 100_000)  # launch_war: linear taper after D
    start_day: int = P(0, 100_000)  # the schedule's days count from this day, or entry if later
    lapsed_days: int = P(1, 100_000)  # target lapsed: no order from the platform in this many days
    response: str = P(choices=("none", "coupon_match"))  # its answer to a rival's coupon
    match_share_drop: float = P(0.0, 1.0)  # coupon_match: own order share down this much
    match_window_days: int = P(1, 365)  # coupon_match: the share's fall over this many days
    match_budget_yuan: float = P(0.0, 1e9)  # coupon_match's daily budget, per money households
