"""Per-platform strategy: each lever group is the market-wide group with the platform's overrides.

The market-wide groups ``incentive``, ``subsidy``, ``coldchain``, ``procurement``, the
remedies' (``services``, ``referral``, ``training``, ``aftersales`` less its county keys,
``qc``), ``rivalry`` and the recruiting keys of ``leaders``, are the defaults every
platform inherits; a platform may override any of their keys under
``platforms.<name>.strategy.<group>.<key>`` (docs/ODD.md §6, "Per-platform strategy"). The
merge rule, the only one, is :func:`platform_strategy`:

- a key the platform sets wins, whole: a list (``tier_sales_yuan``, ...) replaces the market-wide
  list, it is not merged element by element;
- a key it leaves null (the default) inherits the market-wide value, so a later change of the
  market-wide group reaches every platform that did not set that key;
- platforms are independent: one platform's overrides never reach another.

Null therefore means "inherit", never "none": a platform cannot set ``decay_start_day`` back to
null (no decay) under a market-wide decay; it sets ``decay_to_rate`` equal to its
``commission_rate`` instead. Keys that describe the county and its people rather than a
platform's choice (leg hours, pickup habits, the leaders' fridges, the leaders' own economics
and churn) have no per-platform form
(:data:`sim.config.schema.LEVER_GROUPS`).

A named playbook (``configs/playbook/<name>.yaml``) is a platform strategy in a file: it
composes under one platform's ``strategy`` with Hydra's package syntax,
``+playbook@platforms.entrant.strategy=multi_source``, and states the groups it changes whole
(the group's option file, e.g. ``incentive/multi_source``), leaving the others to inherit.

Every config key must change something. The model reads a lever per platform once it is wired
(:data:`WIRED`); ``sim.config.validate`` rejects an override of a key missing from it, with one
line that names it and the market-wide key to set instead. Wiring a lever is: read
``platform_strategy(cfg, name).<group>.<key>`` in the model where it reads ``cfg.<group>.<key>``,
add ``"<group>.<key>"`` to :data:`WIRED`, and test that the override changes the run.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Any

from omegaconf import OmegaConf

from sim.config.schema import (
    LEVER_GROUPS,
    LEVER_OVERRIDES,
    AfterSalesConfig,
    ColdChainConfig,
    IncentiveConfig,
    LeaderConfig,
    ProcurementConfig,
    QualityControlConfig,
    ReferralConfig,
    RivalryConfig,
    ServicesConfig,
    SubsidyConfig,
    TrainingConfig,
)

__all__ = ["LEVERS", "NOT_WIRED_ISSUE", "WIRED", "PlatformStrategy", "every_platform",
           "overrides", "platform_strategy", "strategies"]

LEVERS: tuple[str, ...] = tuple(LEVER_GROUPS)  # incentive, ..., services, leaders

# The override keys the model reads per platform, as "group.key" (each read through
# platform_strategy; tests/test_strategy.py runs each against the market-wide value).
WIRED: frozenset[str] = frozenset({
    # sim.incentives.Incentives: one scheme per platform, its decay from the platform's entry
    "incentive.scheme", "incentive.commission_rate", "incentive.decay_start_day",
    "incentive.decay_to_rate", "incentive.decay_days", "incentive.tier_sales_yuan",
    "incentive.tier_extra_rates", "incentive.target_sales_yuan", "incentive.target_bonus_yuan",
    "incentive.target_scale_min", "incentive.target_scale_max",
    "incentive.evaluation_complaints_per_order",
    "incentive.title_share", "incentive.title_prize_yuan",
    "incentive.category_rate_multiplier",
    # sim.platforms.Platform: the coupon programme
    "subsidy.schedule", "subsidy.coupon_yuan_per_order", "subsidy.daily_budget_yuan",
    "subsidy.days", "subsidy.taper_days", "subsidy.start_day",
    # sim.coupons.Coupons: the coupon's target and the coupon_match response
    "subsidy.target", "subsidy.lapsed_days", "subsidy.response", "subsidy.match_share_drop",
    "subsidy.match_window_days", "subsidy.match_budget_yuan",
    # sim.coldchain.routes: cold routes and route costs; sim.supply: the grid-warehouse hold
    "coldchain.coverage_central", "coldchain.coverage_grid", "coldchain.coverage_last_mile",
    "coldchain.route_cost_yuan_per_day_town", "coldchain.route_cost_yuan_per_day_village",
    "coldchain.cold_route_premium", "coldchain.grid_hold_hours",
    # sim.supply.phase.Supply: mode, forecast and newsvendor per platform
    "procurement.mode", "procurement.forecast_smoothing", "procurement.salvage_share_of_cost",
    "procurement.stockout_penalty_share_of_price",
    # sim.remedies.services: each platform's community-services programme
    *(f"services.{k}" for k in (
        "share_of_points", "parcels_per_day", "yuan_per_parcel", "minutes_per_parcel",
        "government_subsidy_yuan_per_month", "cost_yuan_per_point_per_month",
        "visits_per_month_without", "visits_per_month_with", "order_chance_per_visit")),
    # sim.remedies.referrals: each platform's referral rewards
    "referral.reward_yuan", "referral.uplift_per_yuan",
    # sim.remedies.training, .aftersales, .quality: training, after-sales speed, supplier QC
    *(f"training.{k}" for k in ("share_of_leaders", "cost_yuan_per_leader", "minutes_cut",
                                "resolution_cut", "promotion_uplift")),
    "aftersales.resolution_hours", "aftersales.yuan_per_complaint_hour",
    *(f"qc.{k}" for k in ("share_inspected", "cost_yuan_per_unit", "detection_prob",
                          "volume_cut")),
    # sim.pricing (best_response) and sim.leaders.poaching: each platform's answers to rivals
    *(f"rivalry.{k}" for k in (
        "reprice_days", "reprice_damping", "reprice_window_days", "route_costs",
        "poach_leaders_per_month",
        "poach_premium_rate", "poach_premium_days", "poach_accept_prob", "poach_move_share")),
    # sim.leaders.recruiting.Recruiting: business-development pace, survey interval, successors
    "leaders.recruits_per_day", "leaders.recruit_interval_days", "leaders.replace_on_quit",
})

# Named in the validation message of a lever on the form that the model does not read yet.
NOT_WIRED_ISSUE = "sim.strategy.WIRED"


def every_platform(platform_names, **keys) -> list[str]:
    """Command-line overrides that set ``group.key=value`` market-wide and in every platform's
    own strategy.

    The market-wide group is only a default: a platform that sets a key keeps it. A scenario
    meant for the whole market ("no cold chain anywhere") sets the key for every platform too,
    e.g. ``every_platform(names, coldchain__coverage_grid=0.0)`` (``__`` for the dot).
    """
    keys = {k.replace("__", "."): v for k, v in keys.items()}
    out = [f"{key}={value}" for key, value in keys.items()]
    out += [f"platforms.{name}.strategy.{key}={value}"
            for name in platform_names for key, value in keys.items()]
    return out


@dataclass(frozen=True)
class PlatformStrategy:
    """A platform's levers: each the market-wide group with the platform's overrides on top."""

    platform: str
    incentive: IncentiveConfig
    subsidy: SubsidyConfig
    coldchain: ColdChainConfig
    procurement: ProcurementConfig
    services: ServicesConfig
    referral: ReferralConfig
    training: TrainingConfig
    aftersales: AfterSalesConfig
    qc: QualityControlConfig
    rivalry: RivalryConfig
    leaders: LeaderConfig  # only its recruiting keys can differ from the market-wide group


def _plain(value: Any) -> Any:
    """A config value as a plain Python value (lists and dicts copied)."""
    if OmegaConf.is_config(value):
        return OmegaConf.to_container(value, resolve=True)
    return copy.deepcopy(value)


def _is_mapping(value: Any) -> bool:
    return isinstance(value, dict) or (OmegaConf.is_config(value) and OmegaConf.is_dict(value))


def overrides(cfg, name: str) -> dict[str, dict[str, Any]]:
    """The keys platform ``name`` sets, per lever group (null keys, which inherit, left out).

    Args:
        cfg: a composed config (``DictConfig``) or the ``sim.config.Config`` objects.
        name: a platform name (a key of ``cfg.platforms``).
    """
    st = cfg.platforms[name].strategy
    out: dict[str, dict[str, Any]] = {}
    for group in LEVERS:
        node = getattr(st, group)
        # null inherits; so does an empty mapping (a mapping's override defaults to {})
        out[group] = {f.name: _plain(getattr(node, f.name))
                      for f in dataclasses.fields(LEVER_OVERRIDES[group])
                      if getattr(node, f.name) is not None
                      and not (_is_mapping(getattr(node, f.name))
                               and len(getattr(node, f.name)) == 0)}
    return out


def _market_wide(cfg, group: str):
    """The market-wide group as its dataclass (a copy)."""
    node = getattr(cfg, group)
    if not OmegaConf.is_config(node):
        return copy.deepcopy(node)
    node = OmegaConf.to_object(node)
    # a run's saved config.yaml, loaded without the schema, holds plain mappings
    return LEVER_GROUPS[group][0](**node) if isinstance(node, dict) else node


def platform_strategy(cfg, name: str) -> PlatformStrategy:
    """Platform ``name``'s levers: the market-wide groups with its overrides applied on top.

    The rule (module docstring; docs/ODD.md §6): a key the platform sets wins, whole; a key it
    leaves null inherits the market-wide value; platforms do not affect one another.

    Args:
        cfg: a composed config (``DictConfig``) or the ``sim.config.Config`` objects.
        name: a platform name (a key of ``cfg.platforms``).

    Returns:
        each lever group typed as its market-wide dataclass (``IncentiveConfig``, ...).
    """
    own = overrides(cfg, name)
    groups = {g: dataclasses.replace(_market_wide(cfg, g), **own[g]) for g in LEVERS}
    return PlatformStrategy(platform=name, **groups)


def strategies(cfg) -> dict[str, PlatformStrategy]:
    """Every platform's levers, by platform name, in the config's order."""
    return {name: platform_strategy(cfg, name) for name in cfg.platforms}
