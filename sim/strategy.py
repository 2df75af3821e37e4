"""Per-platform strategy: each lever group is the market-wide group with the platform's overrides.

The market-wide groups ``incentive``, ``subsidy``, ``coldchain`` and ``procurement`` are the
defaults every platform inherits; a platform may override any of their keys under
``platforms.<name>.strategy.<group>.<key>`` (docs/ODD.md §6, "Per-platform strategy"). The merge
rule, the only one, is :func:`platform_strategy`:

- a key the platform sets wins, whole: a list (``tier_sales_yuan``, ...) replaces the market-wide
  list, it is not merged element by element;
- a key it leaves null (the default) inherits the market-wide value, so a later change of the
  market-wide group reaches every platform that did not set that key;
- platforms are independent: one platform's overrides never reach another.

Null therefore means "inherit", never "none": a platform cannot set ``decay_start_day`` back to
null (no decay) under a market-wide decay; it sets ``decay_to_rate`` equal to its
``commission_rate`` instead. Keys that exist only to single platforms out in the market-wide
groups (``incentive.platform_rate_multiplier``, ``subsidy.platforms``,
``coldchain.coverage_override``, ``procurement.mode_override``) have no per-platform form: the
per-platform strategy replaces them (:data:`sim.config.schema.LEVER_GROUPS`).

Every config key must change something. The model reads a lever per platform only once it is
wired (the strategy issue, :data:`NOT_WIRED_ISSUE`); until then ``sim.config.validate`` rejects
an override of a key missing from :data:`WIRED`, with one line that names it and the market-wide
key to set instead. Wiring a lever is: read ``platform_strategy(cfg, name).<group>.<key>`` in
the model where it reads ``cfg.<group>.<key>`` today, add ``"<group>.<key>"`` to :data:`WIRED`,
and test that the override changes the run.
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
    ColdChainConfig,
    IncentiveConfig,
    ProcurementConfig,
    SubsidyConfig,
)

__all__ = ["LEVERS", "NOT_WIRED_ISSUE", "WIRED", "PlatformStrategy", "overrides",
           "platform_strategy", "strategies"]

LEVERS: tuple[str, ...] = tuple(LEVER_GROUPS)  # incentive, subsidy, coldchain, procurement

# The override keys the model reads per platform, as "group.key". Empty: the model reads every
# lever market-wide today; wiring them is the strategy issue's (see the module docstring).
WIRED: frozenset[str] = frozenset()

# Where the unwired levers will be wired (named in the validation message).
NOT_WIRED_ISSUE = "issue 26"


@dataclass(frozen=True)
class PlatformStrategy:
    """A platform's levers: each the market-wide group with the platform's overrides on top."""

    platform: str
    incentive: IncentiveConfig
    subsidy: SubsidyConfig
    coldchain: ColdChainConfig
    procurement: ProcurementConfig


def _plain(value: Any) -> Any:
    """A config value as a plain Python value (lists and dicts copied)."""
    if OmegaConf.is_config(value):
        return OmegaConf.to_container(value, resolve=True)
    return copy.deepcopy(value)


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
        out[group] = {f.name: _plain(getattr(node, f.name))
                      for f in dataclasses.fields(LEVER_OVERRIDES[group])
                      if getattr(node, f.name) is not None}
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
