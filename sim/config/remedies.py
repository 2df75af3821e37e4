"""The schema of the seeds' remedies (ODD 7.7): each a platform's programme, a lever group that
every platform inherits and may override (``platforms.<name>.strategy.<group>.<key>``)."""

from __future__ import annotations

from dataclasses import dataclass

from sim.config.params import P

__all__ = [
    "REMEDY_GROUPS", "AfterSalesConfig", "QualityControlConfig", "ReferralConfig", "ServicesConfig",
    "TrainingConfig",
]


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


@dataclass
class TrainingConfig:
    """Leader training (sim.remedies.training; seed 000 §3.2.2, §4.2.1; seed 004 §5.3)."""

    share_of_leaders: float = P(0.0, 1.0)  # of the platform's leaders, those it trains
    cost_yuan_per_leader: float = P(0.0, 1e6)  # once, the day a leader's training starts
    minutes_cut: float = P(0.0, 1.0)  # its minutes per order and per complaint x (1 - this)
    resolution_cut: float = P(0.0, 1.0)  # hours to resolve a complaint at its point x (1 - this)
    promotion_uplift: float = P(0.0, 10.0)  # its members' promotion effect x (1 + this)


@dataclass
class AfterSalesConfig:
    """After-sales speed (sim.remedies.aftersales; seed 004 §4.3, seed 000 §4.4.2)."""

    resolution_hours: float = P(0.1, 10_000.0)  # the platform's hours to resolve a complaint
    reference_hours: float = P(0.1, 10_000.0)  # the speed choice's complaint trust loss is of
    trust_loss_elasticity: float = P(0.0, 10.0)  # own trust loss x (hours / reference) ** this
    yuan_per_complaint_hour: float = P(0.0, 1e4)  # cost per complaint per hour under reference


@dataclass
class QualityControlConfig:
    """Supplier quality control and traceability (sim.remedies.quality; seed 004 §5.1.1-5.1.3)."""

    share_inspected: float = P(0.0, 1.0)  # of the pre-sale units received, those inspected
    cost_yuan_per_unit: float = P(0.0, 1e4)  # per unit inspected
    detection_prob: float = P(0.0, 1.0)  # an inspected defective or relabelled unit is found
    volume_cut: float = P(0.0, 1.0)  # a supplier caught relabelling: its share x (1 - this)


# The remedies' lever groups (sim.config.schema.LEVER_GROUPS), with the keys a platform may not
# override: the reference speed and the trust response are the county's households'.
REMEDY_GROUPS: dict[str, tuple[type, tuple[str, ...]]] = {
    "services": (ServicesConfig, ()),
    "referral": (ReferralConfig, ()),
    "training": (TrainingConfig, ()),
    "aftersales": (AfterSalesConfig, ("reference_hours", "trust_loss_elasticity")),
    "qc": (QualityControlConfig, ()),
}
