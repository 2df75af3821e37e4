"""The schema of the seeds' remedies (ODD 7.7): each a platform's programme, a lever group that
every platform inherits and may override (``platforms.<name>.strategy.<group>.<key>``)."""

from __future__ import annotations

from dataclasses import dataclass

from sim.config.params import P

__all__ = ["ReferralConfig", "ServicesConfig"]


@dataclass
class ServicesConfig:
    """Community services at pickup points (sim.remedies.services; seed 002 Case A)."""

    share_of_points: float = P(0.0, 1.0)  # of the platform's pickup points, those that run them
    parcels_per_day: float = P(0.0, 10_000.0)  # parcels collected a day at a served point
    yuan_per_parcel: float = P(0.0, 100.0)  # the point's fee per parcel (paid by the couriers)
    minutes_per_parcel: float = P(0.0, 60.0)  # the leader's time per parcel
    government_subsidy_yuan_per_month: float = P(0.0, 1e6)  # per served point
    cost_yuan_per_point_per_month: float = P(0.0, 1e6)  # the platform's own cost per point
    visits_per_month_without: float = P(0.0, 100.0)  # a member's visits to a point without them
    visits_per_month_with: float = P(0.0, 100.0)  # and with them
    order_chance_per_visit: float = P(0.0, 1.0)  # a visit the services add is an order occasion


@dataclass
class ReferralConfig:
    """Referral rewards (sim.remedies.referrals; seed 003 l.37, seed 000 §4.3.3)."""

    reward_yuan: float = P(0.0, 1000.0)  # to the inviter and to the invitee, per invitation
    uplift_per_yuan: float = P(0.0, 10.0)  # invitations to its groups x (1 + this x reward)
