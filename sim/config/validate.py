"""Validation of a composed config: every range and choice, and the rules that tie keys together.

``validate(cfg)`` walks the schema (:mod:`sim.config.schema`) beside a composed config and raises
:class:`ConfigError` with one line naming the key, the value and what is allowed. Choices are
names in the project's own registries (network presets, pricing rules, incentive schemes,
subsidy schedules, procurement modes), looked up where the rules they name live.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from sim.config.schema import SCHEMA_TYPES, Config

__all__ = ["ConfigError", "check_override_value", "declared_type", "validate"]


class ConfigError(ValueError):
    """A config value is out of its allowed range (the message is one line)."""


def _choice_set(name: str | tuple) -> tuple:
    if isinstance(name, tuple):
        return name
    # Imported here: the registries live with the rules they name.
    from sim import incentives, network, platforms
    from sim.supply import procurement

    return {
        "network": tuple(network.GENERATORS),
        "pricing": tuple(platforms.PRICING_RULES),
        "subsidy": tuple(platforms.SUBSIDY_SCHEDULES),
        "incentive": tuple(incentives.SCHEMES),
        "procurement": tuple(procurement.PROCUREMENT_MODES),
    }[name]


def _num(x: float | None) -> str:
    if x is None:
        return "unbounded"
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}"


def _fmt(v: Any) -> str:
    return repr(v) if isinstance(v, str) else str(v)


def _check_scalar(key: str, value: Any, meta: dict) -> None:
    if value is None:
        return
    choices = meta.get("choices")
    if choices is not None:
        allowed = _choice_set(choices)
        if value not in allowed:
            raise ConfigError(
                f"{key}={_fmt(value)}: not allowed; choose one of {', '.join(allowed)}")
        return
    lo, hi = meta.get("lo"), meta.get("hi")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{key}={value}: must be a finite number")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        kind = "an integer" if isinstance(value, int) else "a number"
        raise ConfigError(
            f"{key}={value}: out of range; allowed {kind} in [{_num(lo)}, {_num(hi)}]")


def _walk(schema_cls, node, prefix: str) -> None:
    for f in dataclasses.fields(schema_cls):
        key = f"{prefix}{f.name}"
        if isinstance(node, DictConfig) and OmegaConf.is_missing(node, f.name):
            # The schema states no values (the YAML does): a key no file set is an error here,
            # not a MissingMandatoryValue deep inside the model.
            raise ConfigError(f"{key}: no value; set it (every key of a {schema_cls.__name__} "
                              f"needs one, e.g. copy an existing entry's)")
        value = node[f.name] if isinstance(node, DictConfig) else getattr(node, f.name)
        sub = _dataclass_of(f.type)
        if sub is not None:
            _walk(sub, value, key + ".")
            continue
        item = _dict_value_dataclass(f.type)
        if item is not None:
            for name, v in value.items():
                _walk(item, v, f"{key}.{name}.")
            continue
        item = _list_item_dataclass(f.type)
        if item is not None:
            for i, v in enumerate(value):
                _walk(item, v, f"{key}[{i}].")
            continue
        if isinstance(value, ListConfig | list | DictConfig | dict):
            items = value.values() if isinstance(value, DictConfig | dict) else value
            for v in items:
                _check_scalar(key, v, f.metadata)
            continue
        _check_scalar(key, value, f.metadata)


_TYPES = SCHEMA_TYPES


def _dataclass_of(tp) -> type | None:
    if isinstance(tp, str):
        return _TYPES.get(tp)
    return tp if dataclasses.is_dataclass(tp) else None


def _dict_value_dataclass(tp) -> type | None:
    if isinstance(tp, str) and tp.startswith("dict[str, ") and tp.endswith("]"):
        return _TYPES.get(tp[len("dict[str, "):-1])
    return None


def _list_item_dataclass(tp) -> type | None:
    if isinstance(tp, str) and tp.startswith("list[") and tp.endswith("]"):
        return _TYPES.get(tp[len("list["):-1])
    return None


def _check_incentive(inc, prefix: str) -> None:
    """The incentive group's rules between keys; ``prefix`` names where the group is."""
    tiers, extras = list(inc.tier_sales_yuan), list(inc.tier_extra_rates)
    if len(tiers) != len(extras) or not tiers or tiers[0] != 0 or \
            any(b <= a for a, b in zip(tiers, tiers[1:], strict=False)):
        raise ConfigError(
            f"{prefix}tier_sales_yuan={tiers}: must start at 0, ascend, and match "
            f"{prefix}tier_extra_rates={extras} in length"
        )
    if inc.target_scale_min > inc.target_scale_max:
        raise ConfigError(
            f"{prefix}target_scale_min={inc.target_scale_min}: must not exceed "
            f"{prefix}target_scale_max={inc.target_scale_max}"
        )


def _check_categories(inc, prefix: str, products) -> None:
    """Every key of ``category_rate_multiplier`` names a product category."""
    for cat in inc.category_rate_multiplier:
        if cat not in products:
            raise ConfigError(
                f"{prefix}category_rate_multiplier.{cat}: not a product category; allowed: "
                f"{', '.join(products)}")


def _check_target(target, key: str, segments) -> None:
    """A coupon target (sim.coupons.parse_target): known targets, segments of the market."""
    from sim.coupons import parse_target  # imported here: the rule lives with the mechanism

    try:
        parse_target(list(target), list(segments))
    except ValueError as e:
        raise ConfigError(f"{key}={list(target)}: {e}") from None


def _check_strategies(c) -> None:
    """Per-platform overrides: wired in the model (sim.strategy.WIRED), and the merged groups
    keep the rules between keys (a platform's own tiers must match its own extra rates, ...).

    The overrides' ranges and choices are checked by the walk, under their full dotted keys.
    """
    from sim import strategy  # imported here: sim.strategy imports the schema

    for pname in c.platforms:
        own = strategy.overrides(c, pname)
        for group, keys in own.items():
            for key, value in keys.items():
                if f"{group}.{key}" in strategy.WIRED:
                    continue
                wired = sorted(k for k in strategy.WIRED if k.startswith(group + "."))
                what = (f"per-platform {group}.{key} is not wired yet ({strategy.NOT_WIRED_ISSUE};"
                        f" wired: {', '.join(wired)})" if wired else
                        f"per-platform {group} levers are not wired yet "
                        f"({strategy.NOT_WIRED_ISSUE})")
                raise ConfigError(f"platforms.{pname}.strategy.{group}.{key}={_fmt(value)}: "
                                  f"{what}; set the market-wide {group}.{key}")
        if own["subsidy"].get("target") is not None:
            _check_target(own["subsidy"]["target"], f"platforms.{pname}.strategy.subsidy.target",
                          c.market.segments)
        if own["incentive"]:
            merged = strategy.platform_strategy(c, pname)
            _check_incentive(merged.incentive, f"platforms.{pname}.strategy.incentive.")
            _check_categories(merged.incentive, f"platforms.{pname}.strategy.incentive.",
                              c.products)


def validate(cfg: DictConfig | Config) -> None:
    """Check every range and choice, and the rules that tie keys together.

    Per-platform strategy overrides (``platforms.<name>.strategy.<group>.<key>``) are checked
    like the market-wide keys they override, under their full dotted keys, and must be wired
    in the model (:data:`sim.strategy.WIRED`): a key that changes nothing is rejected.

    Raises:
        ConfigError: one line naming the key, the value and what is allowed.
    """
    _walk(Config, cfg, "")
    c = cfg
    if len(c.platforms) == 0:
        raise ConfigError("platforms: empty; at least one platform is needed")
    if len(c.products) == 0:
        raise ConfigError("products: empty; at least one product category is needed")
    if len(c.market.segments) == 0:
        raise ConfigError("market.segments: empty; at least one segment is needed")
    for where in ("town", "village"):
        # getattr, not s[...]: the model validates the dataclass config it is given too
        total = sum(getattr(s, f"share_{where}") for s in c.market.segments.values())
        if abs(total - 1.0) > 1e-6:
            raise ConfigError(
                f"market.segments.*.share_{where}: shares sum to {total:g}; they must sum to 1"
            )
    for name, cat in c.products.items():
        if cat.initial_life_min > cat.initial_life_max:
            raise ConfigError(
                f"products.{name}.initial_life_min={cat.initial_life_min}: must not exceed "
                f"initial_life_max={cat.initial_life_max}"
            )
        if len(cat.q10_bands) == 0:
            raise ConfigError(f"products.{name}.q10_bands=[]: give at least one Q10")
    if c.products and not any(cat.purchase_frequency > 0 for cat in c.products.values()):
        raise ConfigError("products.*.purchase_frequency: all 0; at least one category must be "
                          "bought (a basket holds at least one)")
    if c.choice.deal_discount_min > c.choice.deal_discount_max:
        raise ConfigError(
            f"choice.deal_discount_min={c.choice.deal_discount_min}: must not exceed "
            f"choice.deal_discount_max={c.choice.deal_discount_max}"
        )
    for name, sup in c.suppliers.items():
        for cat in sup.categories:
            if cat not in c.products:
                raise ConfigError(
                    f"suppliers.{name}.categories: {cat!r} is not a product; allowed: "
                    f"{', '.join(c.products)}"
                )
    for cat in c.products:
        if not any(cat in s.categories for s in c.suppliers.values()):
            raise ConfigError(f"products.{cat}: no supplier supplies it; add it to a supplier")
    for seg in c.coldchain.late_pickup_segment_multiplier:
        if seg not in c.market.segments:
            raise ConfigError(
                f"coldchain.late_pickup_segment_multiplier.{seg}: not a segment; allowed: "
                f"{', '.join(c.market.segments)}"
            )
    for pname, pl in c.platforms.items():
        for sname in pl.suppliers:
            if sname not in c.suppliers:
                raise ConfigError(
                    f"platforms.{pname}.suppliers.{sname}: unknown supplier; allowed: "
                    f"{', '.join(c.suppliers)}"
                )
    _check_target(c.subsidy.target, "subsidy.target", c.market.segments)
    inc = c.incentive
    _check_incentive(inc, "incentive.")
    _check_categories(inc, "incentive.", c.products)
    for i, sc in enumerate(c.wom.scandals):
        if sc.platform not in c.platforms:
            raise ConfigError(
                f"wom.scandals[{i}].platform={sc.platform!r}: not a platform; allowed: "
                f"{', '.join(c.platforms)}"
            )
    # A ring lattice has degree // 2 ties on each side: an odd degree would silently lose one.
    even = {"county": [("market.county.within_degree_town", c.market.county.within_degree_town),
                       ("market.county.within_degree_village",
                        c.market.county.within_degree_village)],
            "village_cluster": [("market.village_cluster.within_degree",
                                 c.market.village_cluster.within_degree)]}
    for key, k in even.get(c.market.network, []):
        if k % 2:
            raise ConfigError(f"{key}={k}: must be even (a ring lattice's ties on both sides)")
    if c.market.network == "small_world":
        k = c.market.small_world.neighbors
        if k % 2 or k >= c.market.consumers:
            raise ConfigError(
                f"market.small_world.neighbors={k}: must be even and below market.consumers="
                f"{c.market.consumers}"
            )
    _check_strategies(c)


def declared_type(key: str) -> str | None:
    """The schema's declared type of the dotted ``key`` (``"bool"``, ``"float | None"``, ...).

    A ``dict[str, X]`` field takes the next part of the key as an entry's name
    (``platforms.entrant.markup``). None where the key is not in the schema.
    """
    cls: type | None = Config
    parts = key.lstrip("+~").split(".")
    i = 0
    while cls is not None and i < len(parts):
        f = next((f for f in dataclasses.fields(cls) if f.name == parts[i]), None)
        if f is None:
            return None
        i += 1
        if i == len(parts):
            if isinstance(f.type, str):
                return f.type
            # a built type: a name, or a union such as an override's ``bool | None``
            return getattr(f.type, "__name__", None) or str(f.type).replace("NoneType", "None")
        item = _dict_value_dataclass(f.type)
        if item is not None:
            i += 1  # the entry's name
            cls = item
            if i == len(parts):
                return None  # a whole entry, not a scalar
            continue
        cls = _dataclass_of(f.type)
    return None


def check_override_value(key: str, raw: str) -> None:
    """An override's value as written, checked where composing would convert it silently.

    OmegaConf turns ``3`` into ``True`` for a bool key (any non-zero number is true): a
    ``wom.lapse=3`` would run as ``wom.lapse=true`` without a word.

    Raises:
        ConfigError: a bool key given anything but true or false.
    """
    tp = declared_type(key)
    if tp is None or tp.replace(" ", "") not in ("bool", "bool|None"):
        return
    allowed = ("true", "false", "null") if "None" in tp else ("true", "false")
    if raw.strip().lower() not in allowed:
        raise ConfigError(f"{key.lstrip('+~')}={raw}: must be {' or '.join(allowed)}")
