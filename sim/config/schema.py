"""The configuration schema: Hydra structured configs with types, units and ranges.

Every parameter is a dataclass field with a type; its unit is in its name or its comment; its
valid range or choices are in the field metadata (``lo``, ``hi``, ``choices``). The schema states
no values: each value is stated once, with its source, in the YAML files under ``configs/`` (a
group's options extend a base option, e.g. ``incentive/flat``, and state only what they
change), and a key that no file sets is a one-line error of :func:`sim.config.validate`. The
exceptions, which no YAML file states: a scandal entry's parts and ``progress`` (the bar).
Unless a YAML comment cites a source, a number is a modelling assumption to sweep. Choices of
strategies (network preset, pricing rule, incentive scheme, subsidy schedule, ...) are names in
the project's own registries (checked by :mod:`sim.config.validate`), never dotted import paths:
a config from a colleague cannot run code.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field

from hydra.core.config_store import ConfigStore

from sim.config.coupons import SubsidyConfig
from sim.config.params import P
from sim.config.remedies import (
    REMEDY_GROUPS,
    AfterSalesConfig,
    QualityControlConfig,
    ReferralConfig,
    ServicesConfig,
    TrainingConfig,
)
from sim.config.rivalry import RivalryConfig

__all__ = [
    "LEVER_GROUPS", "LEVER_OVERRIDES", "SCHEMA_TYPES", "CalendarConfig", "CategoryConfig",
    "ChoiceConfig", "ColdChainConfig", "Config", "CountyConfig", "GroupsConfig", "IncentiveConfig",
    "LeaderConfig", "MarketConfig", "PlatformConfig", "PolicyConfig", "ProcurementConfig",
    "ScandalConfig", "SegmentConfig", "SmallWorldConfig", "StrategyConfig", "SubsidyConfig",
    "ReferralConfig", "ServicesConfig", "SupplierConfig", "VillageClusterConfig", "WomConfig", "P",
    "AfterSalesConfig", "QualityControlConfig", "TrainingConfig", "register_configs",
]


# ---------------------------------------------------------------------------------------------
# market/


@dataclass
class SegmentConfig:
    """A household segment (e.g. elderly / working-age / young family)."""

    share_town: float = P(0.0, 1.0)  # share of town households in this segment
    share_village: float = P(0.0, 1.0)  # share of village households in this segment
    p_scale: float = P(0.0, 10.0)  # multiplier of wom.p_external (elderly adopt later)
    price_sensitivity_scale: float = P(0.0, 10.0)  # x choice.price_sensitivity (beta_i)
    order_rate_per_day: float = P(0.0, 1.0)  # chance of an order occasion per day


@dataclass
class SmallWorldConfig:
    neighbors: int = P(2, 1000)  # ring-lattice degree k (even; k/2 each side)
    rewire_prob: float = P(0.0, 1.0)  # Watts-Strogatz rewiring probability


@dataclass
class CountyConfig:
    town_share: float = P(0.0, 1.0)  # share of households in the county town
    compound_size: int = P(2, 100_000)  # households per town compound (小区)
    village_size: int = P(2, 100_000)  # households per village (村)
    within_degree_town: int = P(0, 1000)  # ties inside a compound per household (even)
    within_degree_village: int = P(0, 1000)  # ties inside a village per household (even)
    rewire_prob: float = P(0.0, 1.0)  # local rewiring inside the neighbourhood
    # Cross ties: mean ties started beyond the ring lattice, per household; the far end is drawn
    # from the town or the whole county, so ~9% of a town household's land in its own compound.
    cross_ties_town: float = P(0.0, 100.0)  # town
    cross_ties_village: float = P(0.0, 100.0)  # village
    town_hub_bias: float = P(0.0, 1.0)  # share of cross ties that land in the town


@dataclass
class VillageClusterConfig:
    """Villages only, in township clusters, weak ties across (network ``village_cluster``)."""

    village_size: int = P(2, 100_000)  # households per administrative village (村)
    villages_per_cluster: int = P(1, 100_000)  # villages of one township (乡镇)
    within_degree: int = P(0, 1000)  # ties inside a village per household (even)
    rewire_prob: float = P(0.0, 1.0)  # local rewiring inside the village
    # Mean ties started beyond the village's ring lattice, per household; the far end is drawn
    # from the cluster (own village included: ~8.5% of such ties stay in it) or all villages.
    cross_ties: float = P(0.0, 100.0)
    cluster_bias: float = P(0.0, 1.0)  # share of cross ties that stay inside the cluster


@dataclass
class MarketConfig:
    network: str = P(choices="network")  # network preset (ODD 7.1)
    consumers: int = P(10, 10_000_000)  # households
    neighbourhood_size: int = P(2, 1_000_000)  # block size for complete / small_world
    small_world: SmallWorldConfig = field(default_factory=SmallWorldConfig)
    county: CountyConfig = field(default_factory=CountyConfig)
    village_cluster: VillageClusterConfig = field(default_factory=VillageClusterConfig)
    segments: dict[str, SegmentConfig] = field(default_factory=dict)
    leader_candidate_rate_town: float = P(0.0, 1.0)  # households able to run a pickup point
    leader_candidate_rate_village: float = P(0.0, 1.0)  # scarcer in villages
    # The market size the platforms' cash, patience, fixed cost per day and subsidy budget are
    # stated for (configs/platforms/*, configs/subsidy/*: a 20,000-household slice); they scale by
    # consumers / this, so a bigger market gets a proportionally bigger platform rather than one
    # that runs out of money. Fines stay absolute.
    platform_money_households: int = P(1, 10_000_000)


# ---------------------------------------------------------------------------------------------
# word of mouth and choice


@dataclass
class ScandalConfig:
    """A quality scandal (seed 004 §4.2.1: rotten produce exposed at a central warehouse)."""

    day: int = P(0, 100_000, default=0)  # the day the scandal breaks
    platform: str = ""  # the platform it hits (a name in platforms)
    severity: float = P(0.0, 1.0, default=0.5)  # share of the platform's recent users who complain


@dataclass
class WomConfig:
    p_external: float = P(0.0, 1.0)  # Bass innovation rate, per day
    q_imitation: float = P(0.0, 1.0)  # Bass imitation rate, per day
    leader_boost: float = P(0.0, 1.0)  # added adoption probability, leader neighbour
    lapse: bool = P()  # adopters who stop ordering and distrust every platform drop out
    lapse_days: int = P(1, 10_000)  # days without an order before lapse is possible
    lapse_trust: float = P(0.0, 1.0)  # lapse only if trust in every platform is below
    awareness_imitation: float = P(0.0, 1.0)  # per day, times share of neighbours using j
    awareness_from_leader: float = P(0.0, 1.0)  # per day, if a leader of j serves you
    trust_learning_rate: float = P(0.0, 1.0)  # trust moves this far to a good experience
    trust_loss_spoiled: float = P(0.0, 1.0)  # trust lost on a spoiled order (fraction)
    complaint_trust_loss: float = P(0.0, 1.0)  # neighbours' trust lost per complaint share
    # Reach, leaders, subsidies and negative word of mouth (ODD 7.1; seed 004 §4.2.1)
    reach_without_leader: float = P(0.0, 1.0)  # reach where a platform has no leader (x reach)
    reach_village_scale: float = P(0.0, 1.0)  # marketing reach in villages x this
    leaders_adopt: bool = P()  # a recruited leader adopts group buying at once
    subsidy_marketing_boost: float = P(0.0, 100.0)  # own awareness rate x (1 + this) on coupon
    complaint_adoption_loss: float = P(0.0, 1.0)  # adoption prob x (1 - this) per complaint
    complaint_memory_days: float = P(0.1, 10_000.0)  # half-life of complaints heard, days
    scandals: list[ScandalConfig] = P()  # quality scandals (day, platform, severity)


@dataclass
class ChoiceConfig:
    price_sensitivity: float = P(0.0, 50.0)  # base beta of ODD 7.2, per unit price index
    trust_weight: float = P(0.0, 100.0)  # theta of ODD 7.2
    habit: float = P(-100.0, 100.0)  # kappa: utility of last platform used (switching cost)
    outside_utility: float = P(-100.0, 100.0)  # u_outside: wet market / corner shop
    leader_promotion: float = P(0.0, 10.0)  # order occasions x (1 + this) with a leader
    # daily deals (ODD 7.2): per platform, category and day a discount U(min, max) with this chance
    deal_probability: float = P(0.0, 1.0)
    deal_discount_min: float = P(0.0, 1.0)  # delta_lo, share of the list price
    deal_discount_max: float = P(0.0, 1.0)  # delta_hi (not below deal_discount_min)
    reputation_weight: float = P(0.0, 1.0)  # w in rep_ij = w R_j + (1 - w) e_ij (ODD 7.2)
    reputation_half_life_days: float = P(0.1, 100_000.0)  # R_j's pull toward its target
    reputation_complaint_scale: float = P(0.0, 100.0)  # c: target 1 - c x complaints / order


# ---------------------------------------------------------------------------------------------
# products/ and coldchain/


@dataclass
class CategoryConfig:
    """A product category. A unit is the category's quantity in an order that holds it."""

    produce: bool = P()  # fruit or vegetables (the loss targets of ODD 8 are for these)
    shelf_life_ref_days: float = P(0.01, 100_000.0)  # shelf life at t_ref_c, days
    t_ref_c: float = P(-40.0, 40.0)  # reference temperature, °C
    q10_bands: list[float] = P(lo=1.0, hi=20.0)  # Q10 per 10 °C band from t_ref_c, coldest first
    unit_cost_yuan: float = P(0.0, 10_000.0)  # supplier cost of one unit
    reference_price_yuan: float = P(0.01, 10_000.0)  # wet-market price of one unit
    initial_life_min: float = P(0.0, 1.0)  # remaining life fraction at dispatch, lowest
    initial_life_max: float = P(0.0, 1.0)  # remaining life fraction at dispatch, highest
    purchase_frequency: float = P(0.0, 1.0)  # b_c: chance it is in an occasion's basket


@dataclass
class ColdChainConfig:
    t_cold_c: float = P(-30.0, 20.0)  # temperature of a refrigerated leg, °C
    central_to_grid_hours: float = P(0.0, 240.0)  # central warehouse -> grid warehouse leg, hours
    grid_to_pickup_hours_town: float = P(0.0, 240.0)  # grid warehouse -> town pickup, hours
    grid_to_pickup_hours_village: float = P(0.0, 240.0)  # the same to a village, hours
    dwell_hours_town: float = P(0.0, 240.0)  # at the pickup point until collected
    dwell_hours_village: float = P(0.0, 240.0)  # at a village pickup point until collected
    fridge_share_town: float = P(0.0, 1.0)  # leaders with a fridge at the pickup point
    fridge_share_village: float = P(0.0, 1.0)  # village leaders with a fridge at the pickup point
    # Refrigerated share of routes per tier, assigned per route once (ODD 7.5): the first leg
    # (supplier -> central) per platform, the grid leg and the last mile per neighbourhood.
    coverage_central: float = P(0.0, 1.0)  # chance a platform's first leg is cold
    coverage_grid: float = P(0.0, 1.0)  # its grid leg to a neighbourhood
    coverage_last_mile: float = P(0.0, 1.0)  # its last mile to a neighbourhood
    # Pickup (issue 9): a household that does not collect on its pickup day collects a day later
    # (the goods dwell late_pickup_extra_hours more); on-time pickup rate target >= 95% (seed 002
    # l.28). Probabilities per order; segment multipliers by segment name (elderly, ...).
    late_pickup_prob_town: float = P(0.0, 1.0)  # chance a town order is collected a day late
    late_pickup_prob_village: float = P(0.0, 1.0)  # chance a village order is collected a day late
    late_pickup_segment_multiplier: dict[str, float] = P(lo=0.0, hi=100.0)  # by segment (name -> x)
    late_pickup_extra_hours: float = P(0.0, 240.0)  # extra dwell of an order collected a day late
    # A unit collected with less than this fraction of its shelf life left is a quality complaint.
    complaint_life_fraction: float = P(0.0, 1.0)
    grid_hold_hours: float = P(0.0, 240.0)  # stock mode: grid-warehouse wait to dispatch
    # Logistics (ODD 7.5): a served route (grid warehouse -> pickup point) costs this a day,
    # split over that day's orders there; a refrigerated last mile costs cold_route_premium more.
    route_cost_yuan_per_day_town: float = P(0.0, 1e6)  # a served town route's cost a day, yuan
    route_cost_yuan_per_day_village: float = P(0.0, 1e6)  # the same in a village
    cold_route_premium: float = P(0.0, 10.0)  # relative extra cost of a refrigerated route


@dataclass
class CalendarConfig:
    start_day_of_year: int = P(0, 364)  # 0 = 1 January
    ambient_mean_c: float = P(-30.0, 40.0)  # yearly mean of the ambient temperature, °C
    ambient_amplitude_c: float = P(0.0, 30.0)  # half the summer-winter swing of the cosine, °C
    warmest_day_of_year: int = P(0, 364)  # mid-July
    spring_festival_day_of_year: int = P(0, 364)  # the festival's day (demand peaks before it)
    festival_days_before: int = P(0, 60)  # festival demand starts this many days before it
    festival_demand_multiplier: float = P(0.0, 10.0)  # occasions x this, until a week after
    farming_season_start_days: list[int] = P(lo=0, hi=364)  # days of the year a season starts
    farming_season_days: int = P(0, 365)  # length of each farming season, days
    farming_demand_multiplier: float = P(0.0, 10.0)  # village order occasions x this in season


# ---------------------------------------------------------------------------------------------
# suppliers


@dataclass
class SupplierConfig:
    categories: list[str] = P()  # categories it supplies (names in products)
    transit_hours: float = P(0.0, 500.0)  # supplier -> central warehouse
    cost_multiplier: float = P(0.0, 10.0)  # its unit cost relative to the category's
    defect_rate: float = P(0.0, 1.0)  # units that arrive unusable
    relabel_prob: float = P(0.0, 1.0)  # units of old stock relabelled as fresh
    relabel_age: float = P(0.0, 1.0)  # life fraction already gone on a relabelled unit
    # Capacity per category it supplies, units a day per household of the simulated market (the
    # slice of its capacity that serves this market; 1.0 = never binding in practice).
    capacity_units_per_household_day: float = P(0.0, 1000.0)
    shock_prob_per_day: float = P(0.0, 1.0)  # chance a weather shock starts on a day
    shock_days: int = P(1, 365)  # how long a shock lasts
    shock_capacity_share: float = P(0.0, 1.0)  # capacity left during a shock


@dataclass
class ProcurementConfig:
    """Procurement (ODD 7.6): pre-sale or stock mode, and the stock mode's newsvendor."""

    mode: str = P(choices="procurement")  # presale (以销定采) or stock
    forecast_smoothing: float = P(0.0, 1.0)  # exponential smoothing of daily orders
    salvage_share_of_cost: float = P(0.0, 1.0)  # value of a leftover unit / its unit cost
    stockout_penalty_share_of_price: float = P(0.0, 10.0)  # goodwill lost per unit short


# ---------------------------------------------------------------------------------------------
# incentive/, subsidy/, policy/


@dataclass
class IncentiveConfig:
    scheme: str = P(choices="incentive")  # the leader incentive scheme (configs/incentive/*.yaml)
    commission_rate: float = P(0.0, 1.0)  # share of sales (5-20%, seed 003 FAQ Q2)
    decay_start_day: int | None = P(0, 100_000)  # commission decay starts (None: never)
    decay_to_rate: float = P(0.0, 1.0)  # rate reached at the end of the decay
    decay_days: int = P(0, 100_000)  # 0: a step cut on decay_start_day
    # tiered: ascending monthly-sales thresholds (first 0) and the rate added from each on
    tier_sales_yuan: list[float] = P(lo=0.0, hi=1e9)
    tier_extra_rates: list[float] = P(lo=0.0, hi=1.0)  # tiered: rate added from each threshold on
    # target_bonus / differentiated_target / complaint_evaluation: monthly sales target, bonus
    target_sales_yuan: float = P(0.0, 1e9)
    target_bonus_yuan: float = P(0.0, 1e7)  # bonus for reaching the monthly target, yuan
    evaluation_complaints_per_order: float = P(0.0, 1.0)  # complaint_evaluation: at most this
    target_scale_min: float = P(0.0, 100.0)  # differentiated: clip of potential ratio
    target_scale_max: float = P(0.0, 100.0)  # differentiated: upper clip of the potential ratio
    # recognition: share of each platform's leaders titled each month, and the prize
    title_share: float = P(0.0, 1.0)
    title_prize_yuan: float = P(0.0, 1e7)  # recognition: prize of a title, yuan
    # category name -> multiplier of the rate for that category (absent: 1); seed 003 FAQ Q2:
    # fresh 5-10%, daily goods 15-20%
    category_rate_multiplier: dict[str, float] = P(lo=0.0, hi=100.0)


@dataclass
class PolicyConfig:
    below_cost_ban_day: int | None = P(0, 100_000)  # ban on below-cost pricing from
    fine_day: int | None = P(0, 100_000)  # the regulator fines past below-cost pricing
    fine_yuan: float = P(0.0, 1e10)  # one-off fine per platform found pricing below cost
    fine_lookback_days: int = P(0, 100_000)  # below cost within this many days before fine_day


# ---------------------------------------------------------------------------------------------
# leaders


@dataclass
class LeaderConfig:
    """Leader economics and churn (ODD 7.3)."""

    reservation_income_town_yuan: float = P(0.0, 1e6)  # median, per month
    reservation_income_village_yuan: float = P(0.0, 1e6)  # median in villages, per month
    reservation_income_sigma: float = P(0.0, 5.0)  # lognormal spread
    minutes_per_order: float = P(0.0, 600.0)  # median in town; per leader lognormal
    minutes_per_complaint: float = P(0.0, 6000.0)  # median in town
    minutes_per_order_village: float = P(0.0, 600.0)  # median in villages
    minutes_per_complaint_village: float = P(0.0, 6000.0)  # median in villages
    minutes_sigma: float = P(0.0, 5.0)  # lognormal spread of the minutes
    wage_yuan_per_hour_town: float = P(0.0, 1e4)  # value of the leader's time
    wage_yuan_per_hour_village: float = P(0.0, 1e4)  # value of a village leader's time
    income_smoothing: float = P(0.0, 1.0)  # weight of the latest month
    churn_base_logit: float = P(-50.0, 50.0)  # quit logit at 0 shortfall and tenure
    churn_shortfall_slope: float = P(0.0, 100.0)  # per unit shortfall / reservation
    churn_tenure_effect: float = P(0.0, 100.0)  # per ln(1 + tenure months)
    churn_recognition_effect: float = P(0.0, 100.0)  # logit cut while a leader holds a title
    review_days: int = P(1, 365)  # a leader reviews every this many days
    rejoin_cooldown_days: int = P(0, 100_000)  # a quitter is not recruited again before
    recruit_interval_days: int = P(1, 365)  # platforms survey missing coverage this often
    replace_on_quit: bool = P()  # and seek a successor where a leader quit, from that day
    group_cap: int = P(1, 100_000)  # a WeChat group holds at most 500 members
    wechat_groups_max: int = P(1, 1000)  # WeChat groups a leader runs for one platform
    # multi-homing: add a platform paying add_margin more than the current pay per platform (with
    # chance add_prob a review); drop one whose month net of time is below drop_net_below_yuan
    multihoming: bool = P()
    add_margin: float = P(0.0, 100.0)  # relative pay margin to add a platform
    add_prob: float = P(0.0, 1.0)  # chance a review with that margin adds it
    drop_net_below_yuan: float = P(-1e6, 1e6)  # drop a platform whose month net is below this
    member_follow_share: float = P(0.0, 1.0)  # a member takes up a platform its leader adds
    recruits_per_day: float = P(0.0, 1e6)  # a platform's recruits a day (business development),
    #                                       per market.platform_money_households households
    # successor of a leader who quit: recruited after this search, days (ODD 7.3)
    successor_search_days_town: int = P(0, 10_000)
    successor_search_days_village: int = P(0, 10_000)  # the same in a village


# ---------------------------------------------------------------------------------------------
# platforms/<name>/strategy: per-platform overrides of the market-wide lever groups


# The market-wide groups a platform may override (docs/ODD.md §6, "Per-platform strategy"), with
# the keys it may not: the county's and its people's, which every platform shares. A mapping keyed
# by category defaults to empty, not null, in the override (OmegaConf cannot merge a mapping into
# a null optional one): empty inherits, a non-empty one replaces the mapping whole; on the command
# line a key is added with a plus (`+platforms.e.strategy.incentive.category_rate_multiplier.x=2`).
LEVER_GROUPS: dict[str, tuple[type, tuple[str, ...]]] = {
    "incentive": (IncentiveConfig, ()),
    "subsidy": (SubsidyConfig, ()),
    "coldchain": (ColdChainConfig, (
        "t_cold_c", "central_to_grid_hours", "grid_to_pickup_hours_town",
        "grid_to_pickup_hours_village", "dwell_hours_town", "dwell_hours_village",
        "fridge_share_town", "fridge_share_village", "late_pickup_prob_town",
        "late_pickup_prob_village", "late_pickup_segment_multiplier", "late_pickup_extra_hours",
        "complaint_life_fraction")),
    "procurement": (ProcurementConfig, ()),
    **REMEDY_GROUPS,  # services, referral, training, aftersales, qc (sim.config.remedies)
    "rivalry": (RivalryConfig, ()),
    # recruiting pace and policy only: the leaders' own economics and churn are the county's
    "leaders": (LeaderConfig, tuple(f.name for f in dataclasses.fields(LeaderConfig) if f.name
                                    not in ("recruits_per_day", "recruit_interval_days",
                                            "replace_on_quit"))),
}


def _override_of(group: type, exclude: tuple[str, ...]) -> type:
    """A dataclass with ``group``'s keys (same ranges and choices), each optional, default null
    ("inherit"); typed fields (not a free dict): a command-line override needs no ``+`` and an
    unknown key or a wrong type fails in Hydra, as for every other key."""
    hints = typing.get_type_hints(group)
    cls = dataclasses.make_dataclass(
        group.__name__.replace("Config", "Override"),
        [(f.name, hints[f.name], field(default_factory=dict, metadata=f.metadata))
         if typing.get_origin(hints[f.name]) is dict else
         (f.name, hints[f.name] | None, field(default=None, metadata=f.metadata))
         for f in dataclasses.fields(group)
         if f.name not in exclude],
    )
    cls.__module__ = __name__
    cls.__doc__ = f"A platform's overrides of the market-wide {group.__name__} (null: inherit)."
    return cls


LEVER_OVERRIDES: dict[str, type] = {g: _override_of(*spec) for g, spec in LEVER_GROUPS.items()}
(IncentiveOverride, SubsidyOverride, ColdChainOverride, ProcurementOverride, ServicesOverride,
 ReferralOverride, TrainingOverride, AfterSalesOverride, QualityControlOverride,
 RivalryOverride, LeaderOverride) = LEVER_OVERRIDES.values()


@dataclass
class StrategyConfig:
    """A platform's own strategy: partial overrides of the market-wide lever groups
    (``platforms.<name>.strategy.<group>.<key>``, merged by :func:`sim.strategy.platform_strategy`:
    a set key wins, a null key inherits)."""

    incentive: IncentiveOverride = field(default_factory=IncentiveOverride)
    subsidy: SubsidyOverride = field(default_factory=SubsidyOverride)
    coldchain: ColdChainOverride = field(default_factory=ColdChainOverride)
    procurement: ProcurementOverride = field(default_factory=ProcurementOverride)
    services: ServicesOverride = field(default_factory=ServicesOverride)
    referral: ReferralOverride = field(default_factory=ReferralOverride)
    training: TrainingOverride = field(default_factory=TrainingOverride)
    aftersales: AfterSalesOverride = field(default_factory=AfterSalesOverride)
    qc: QualityControlOverride = field(default_factory=QualityControlOverride)
    rivalry: RivalryOverride = field(default_factory=RivalryOverride)
    leaders: LeaderOverride = field(default_factory=LeaderOverride)


# ---------------------------------------------------------------------------------------------
# platforms/


@dataclass
class PlatformConfig:
    display_name: str = P()  # the name shown in tables and figures
    entry_day: int = P(0, 100_000)  # the day it enters the market (0: present at the start)
    quality: float = P(-100.0, 100.0)  # alpha_j of ODD 7.2
    pricing: str = P(choices="pricing")  # its pricing rule (cost_plus, price_war, ...)
    markup: float = P(-0.9, 10.0)  # cost-plus markup on unit cost
    undercut_step: float = P(0.0, 1.0)  # price_war: undercut the cheapest rival by this
    target_share: float = P(0.0, 1.0)  # price_war: undercut while own share is below
    price_recovery_rate: float = P(0.0, 1.0)  # per day, back toward cost-plus
    min_markup: float = P(-0.9, 10.0)  # price_war: lowest markup it will price at
    coverage: float = P(0.0, 1.0)  # share of neighbourhoods where it recruits leaders
    households_per_leader: int = P(1, 100_000)  # recruitment target per neighbourhood
    marketing_reach: float = P(0.0, 1.0)  # reach_i of ODD 7.1 where it is present
    awareness_rate_per_day: float = P(0.0, 1.0)  # own marketing
    initial_trust: float = P(0.0, 1.0)  # households' trust in it before any experience
    suppliers: dict[str, float] = P(lo=0.0, hi=1e9)  # supplier name -> weight
    fixed_cost_yuan_per_day: float = P(0.0, 1e9)  # overheads a day (staff, warehouses), yuan
    recruit_cost_yuan: float = P(0.0, 1e7)  # cost of signing one leader, yuan
    initial_cash_yuan: float = P(0.0, 1e13)  # cash at entry, yuan
    # Cash below zero draws the next funding round; with none left the platform exits.
    funding_rounds: int = P(0, 1000)
    funding_yuan: float = P(0.0, 1e13)  # per round
    patience_yuan: float = P(0.0, 1e13)  # also exits when cumulative loss exceeds this
    strategy: StrategyConfig = field(default_factory=StrategyConfig)  # per-platform levers


@dataclass
class GroupsConfig:
    """The WeChat groups a household follows (ODD 7.3) and loyalty to the leader (ODD 7.2)."""

    max_groups: int = P(1, 20)  # groups (leaders) a household follows at most
    join_own_per_day: float = P(0.0, 1.0)  # h_own: daily chance to join a leader next door
    join_tie_per_day: float = P(0.0, 1.0)  # h_tie: x share of ties who follow that leader
    group_idle_days: int = P(1, 100_000)  # a group unused this long is left
    travel_utility: float = P(-100.0, 0.0)  # utility of picking up in another neighbourhood
    search_days: int = P(0, 10_000)  # members of a leader who quit search this long
    search_hazard_multiplier: float = P(1.0, 1000.0)  # the joining chances x this meanwhile
    leader_loyalty: float = P(0.0, 100.0)  # kappa_L: utility of the usual leader's platforms


# ---------------------------------------------------------------------------------------------
# the root


@dataclass
class Config:
    seed: int = P(0, 2**32 - 1)  # the run's seed: every named random stream derives from it
    days: int = P(1, 3650)  # simulated days (one step a day)
    market: MarketConfig = field(default_factory=MarketConfig)
    wom: WomConfig = field(default_factory=WomConfig)
    choice: ChoiceConfig = field(default_factory=ChoiceConfig)
    products: dict[str, CategoryConfig] = field(default_factory=dict)
    coldchain: ColdChainConfig = field(default_factory=ColdChainConfig)
    calendar: CalendarConfig = field(default_factory=CalendarConfig)
    suppliers: dict[str, SupplierConfig] = field(default_factory=dict)
    procurement: ProcurementConfig = field(default_factory=ProcurementConfig)
    platforms: dict[str, PlatformConfig] = field(default_factory=dict)
    incentive: IncentiveConfig = field(default_factory=IncentiveConfig)
    subsidy: SubsidyConfig = field(default_factory=SubsidyConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    leaders: LeaderConfig = field(default_factory=LeaderConfig)
    groups: GroupsConfig = field(default_factory=GroupsConfig)
    services: ServicesConfig = field(default_factory=ServicesConfig)
    referral: ReferralConfig = field(default_factory=ReferralConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    aftersales: AfterSalesConfig = field(default_factory=AfterSalesConfig)
    qc: QualityControlConfig = field(default_factory=QualityControlConfig)
    rivalry: RivalryConfig = field(default_factory=RivalryConfig)
    # progress bar over days: null = on a terminal only; true = also month lines elsewhere
    progress: bool | None = None


def register_configs() -> None:
    """Register the schema with Hydra's ConfigStore (the primary config extends it)."""
    ConfigStore.instance().store(name="schema", node=Config)


# Every dataclass of the schema by name: the validation walk resolves the string annotations by it.
SCHEMA_TYPES: dict[str, type] = {
    name: obj for name, obj in list(globals().items()) if isinstance(obj, type)
    and dataclasses.is_dataclass(obj)
    and obj.__module__ in (__name__, "sim.config.remedies", "sim.config.coupons",
                           "sim.config.rivalry")
}
