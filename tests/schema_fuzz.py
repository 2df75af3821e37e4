"""Configs generated from the schema (sim/config/schema.py), for the property tests.

Every key is found by walking the schema's dataclasses beside a composed config, the way
:func:`sim.config.validate.validate` walks them; its type comes from the field's annotation and
its range or choices from the field's metadata (``lo``, ``hi``, ``choices``). A key added to the
schema is therefore fuzzed, run at random values and checked for effect with no change here.

* :func:`leaves`: every scalar or list key of a composed config, with its kind and range.
* :func:`group_options`: each config group's options (``configs/<group>/*.yaml``).
* :func:`valid_config`: a hypothesis strategy of small valid markets (few hundred households,
  tens of days): random group options, a random subset of keys moved anywhere in their ranges.
* :data:`COUNTS`, :data:`REPORT`: what the property tests ran, printed at the end of the session
  (tests/conftest.py).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from omegaconf import DictConfig, ListConfig, OmegaConf

from sim.api import CONFIG_DIR, compose
from sim.config.schema import SCHEMA_TYPES, Config
from sim.config.validate import ConfigError, _choice_set, validate

SCALE = 1.0  # set by tests/conftest.py from the hypothesis profile
COUNTS: dict[str, int] = {}
REPORT: list[str] = []
# Failures the property tests found (tests/test_fuzz_config.py, tests/test_invariants.py,
# tests/test_inert_keys.py), each with what fixed it: printed with the counts.
FOUND: list[str] = [
    "validate(cfg) on the dataclass config the model holds (OmegaConf.to_object) raised "
    "TypeError ('SegmentConfig' object is not subscriptable) in the segment-shares rule: "
    "sim/config/validate.py reads the shares with getattr",
    "a scenario file of the user's own whose defaults list names an unknown option "
    "(- override /market: a) was reported as Hydra's \"In 'config': Could not find "
    "'market/a'\", naming neither the file nor the options: sim/config/sources.py checks the "
    "defaults list",
    "a bool key of a platform's strategy (...strategy.leaders.replace_on_quit=y) was accepted "
    "as true: sim/config/validate.declared_type reads an override's built union type",
]


def examples(n: int) -> int:
    """The number of examples for a test that runs ``n`` in CI, scaled by the profile."""
    return max(5, int(round(n * SCALE)))


def count(name: str, k: int = 1) -> None:
    COUNTS[name] = COUNTS.get(name, 0) + k


# ---------------------------------------------------------------------------------------------
# the keys


@dataclass(frozen=True)
class Leaf:
    """One key of a composed config (``kind`` is the annotation without ``| None``)."""

    key: str
    kind: str  # float, int, bool, str, list[float], list[int], list[str], dict[str, float]
    optional: bool
    lo: float | None
    hi: float | None
    choices: tuple | None
    default: Any  # the value the YAML gives (the schema states none)
    value: Any  # the composed config's value

    @property
    def numeric(self) -> bool:
        return self.kind in ("float", "int") and self.choices is None

    @property
    def group(self) -> str:
        return self.key.split(".")[0]


def _kind(tp: str) -> tuple[str, bool]:
    parts = [p.strip() for p in tp.split("|")]
    return parts[0], "None" in parts[1:]


def _type_name(tp) -> str:
    # The schema's annotations are strings (``from __future__ import annotations``); those of
    # the per-platform override classes (made by dataclasses.make_dataclass) are types.
    if isinstance(tp, str):
        return tp
    return tp.__name__ if isinstance(tp, type) else repr(tp)


def leaves(cfg, schema=Config, prefix: str = "") -> list[Leaf]:
    """Every key of ``cfg`` (a composed config or its plain containers) under ``schema`` that
    holds a value (not a nested group)."""
    out = []
    for f in dataclasses.fields(schema):
        key, tp = f"{prefix}{f.name}", _type_name(f.type)
        node = cfg[f.name]
        if tp in SCHEMA_TYPES:
            out += leaves(node, SCHEMA_TYPES[tp], key + ".")
            continue
        if tp.startswith("dict[str, ") and tp[10:-1] in SCHEMA_TYPES:
            for name in node:
                out += leaves(node[name], SCHEMA_TYPES[tp[10:-1]], f"{key}.{name}.")
            continue
        if tp.startswith("list[") and tp[5:-1] in SCHEMA_TYPES:
            continue  # lists of records (wom.scandals): drawn whole, see scandals()
        kind, optional = _kind(tp)
        ch = f.metadata.get("choices")
        value = OmegaConf.to_container(node) if isinstance(node, DictConfig | ListConfig) \
            else node
        default = value  # the schema states no values: the YAML's value is the default
        out.append(Leaf(key, kind, optional, f.metadata.get("lo"), f.metadata.get("hi"),
                        _choice_set(ch) if ch is not None else None, default, value))
    return out


# ---------------------------------------------------------------------------------------------
# config groups


GROUPS = ("market", "platforms", "procurement", "incentive", "subsidy", "coldchain", "policy")


def group_options() -> dict[str, tuple[str, ...]]:
    """Each config group's options, from ``configs/<group>/*.yaml``."""
    return {g: tuple(sorted(p.stem for p in Path(CONFIG_DIR, g).glob("*.yaml")))
            for g in GROUPS}


@functools.cache
def _base() -> dict:
    return OmegaConf.to_container(compose([]), resolve=True)


@functools.cache
def _option_node(group: str, option: str) -> dict:
    return OmegaConf.to_container(compose([f"{group}={option}"])[group], resolve=True)


def with_options(options: dict[str, str]) -> dict:
    """The default config with the given group options, as plain containers: what
    ``compose([g=o, ...])`` gives, without composing each combination (0.3 s each): a group
    option fills its own group only (no option here is ``@package _global_``; a test checks a
    sample against compose)."""
    cfg = copy.deepcopy(_base())
    for g, o in options.items():
        cfg[g] = copy.deepcopy(_option_node(g, o))
    return cfg


def to_schema(d: dict, schema=Config):
    """Plain containers as the schema's dataclasses (what the model holds: it turns a composed
    config into them, ``OmegaConf.to_object``), without OmegaConf (~0.5 s a config)."""
    kw = {}
    for f in dataclasses.fields(schema):
        tp, v = _type_name(f.type), d[f.name]
        if tp in SCHEMA_TYPES:
            v = to_schema(v, SCHEMA_TYPES[tp])
        elif tp.startswith("dict[str, ") and tp[10:-1] in SCHEMA_TYPES:
            v = {k: to_schema(x, SCHEMA_TYPES[tp[10:-1]]) for k, x in v.items()}
        elif tp.startswith("list[") and tp[5:-1] in SCHEMA_TYPES:
            v = [to_schema(x, SCHEMA_TYPES[tp[5:-1]]) for x in v]
        elif isinstance(v, list | dict):
            v = copy.copy(v)
        elif "float" in tp and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)  # as OmegaConf would convert it
        kw[f.name] = v
    return schema(**kw)


def _get(d: dict, key: str):
    for part in key.split("."):
        d = d[part]
    return d


def _set(d: dict, key: str, value) -> None:
    *path, last = key.split(".")
    for part in path:
        d = d[part]
    d[last] = value


# ---------------------------------------------------------------------------------------------
# small valid markets


# Keys held small, so that hundreds of markets run in minutes; the rest of their range is the
# territory of the benchmark (tests/test_benchmark.py), not of these invariants.
SIZE = {"market.consumers": (100, 400), "days": (5, 40)}
# Not drawn: display settings, names, and what set the market's shape rather than its numbers
# (segment shares must sum to 1: they are renormalised, not drawn key by key; supplier
# categories and platform supplier weights name other entries). Per-platform strategy
# overrides are drawn by their own tests (tests/test_strategy.py, tests/test_levers.py).
NOT_DRAWN = ("progress", "market.platform_money_households")
NOT_DRAWN_PARTS = (".strategy.", ".display_name", ".categories", ".share_town", ".share_village")
# The rules between keys (sim.config.validate) that a draw key by key can break: each is
# repaired after the draw, so that every drawn config is valid.
EVEN = ("market.county.within_degree_town", "market.county.within_degree_village",
        "market.village_cluster.within_degree", "market.small_world.neighbors")
ORDERED = (("initial_life_min", "initial_life_max"), ("target_scale_min", "target_scale_max"),
           ("deal_discount_min", "deal_discount_max"))


def drawable(cfg: DictConfig) -> list[Leaf]:
    """The keys a random market may move (see NOT_DRAWN)."""
    def ok(lf: Leaf) -> bool:
        if lf.key in NOT_DRAWN or lf.key in SIZE or lf.key == "seed" or \
                lf.key.startswith("incentive.tier_") or any(p in lf.key for p in NOT_DRAWN_PARTS):
            return False
        return lf.choices is not None if lf.kind in ("str", "list[str]") else True

    return [lf for lf in leaves(cfg) if ok(lf)]


def _number(kind: str, lo, hi, default):
    """Anywhere in [lo, hi], the ends and the default more often than their share."""
    lo = -1e6 if lo is None else lo
    hi = 1e6 if hi is None else hi
    if kind == "int":
        lo, hi = int(lo), int(hi)
        picks = [lo, hi] + ([int(default)] if isinstance(default, int) else [])
        return st.one_of(st.sampled_from(picks), st.integers(lo, hi))
    picks = [float(lo), float(hi)] + ([float(default)] if isinstance(default, float | int)
                                      and not isinstance(default, bool) else [])
    return st.one_of(st.sampled_from(picks),
                     st.floats(float(lo), float(hi), allow_nan=False, allow_infinity=False))


def value_of(lf: Leaf):
    """A strategy of valid values for ``lf`` (its type, range or choices)."""
    if lf.choices is not None:
        base = st.sampled_from(lf.choices)
    elif lf.kind == "bool":
        base = st.booleans()
    elif lf.kind in ("float", "int"):
        base = _number(lf.kind, lf.lo, lf.hi, lf.default)
    elif lf.kind.startswith("list["):
        item = lf.kind[5:-1]
        base = st.lists(_number(item, lf.lo, lf.hi, None), min_size=1, max_size=4)
    elif lf.kind == "dict[str, float]":
        keys = list(lf.value or {})
        if not keys:
            return st.just(lf.value)
        base = st.fixed_dictionaries({k: _number("float", lf.lo, lf.hi, 1.0) for k in keys})
    else:
        raise AssertionError(f"{lf.key}: no strategy for kind {lf.kind}")
    return st.one_of(st.none(), base) if lf.optional else base


def _repair(cfg: dict) -> None:
    """Restore the rules between keys that a draw key by key may have broken."""
    for key in EVEN:
        k = _get(cfg, key)
        _set(cfg, key, k - k % 2)
    n = cfg["market"]["consumers"]
    sw = cfg["market"]["small_world"]
    if sw["neighbors"] >= n:
        sw["neighbors"] = (n - 1) - (n - 1) % 2
    for node in [*cfg["products"].values(), cfg["incentive"], cfg["choice"]]:
        for a, b in ORDERED:
            if a in node and node[a] > node[b]:
                node[a], node[b] = node[b], node[a]
    inc = cfg["incentive"]
    inc["category_rate_multiplier"] = {
        k: v for k, v in inc["category_rate_multiplier"].items() if k in cfg["products"]}


@st.composite
def tiers(draw):
    """Valid tiers: thresholds from 0, ascending, one extra rate each."""
    k = draw(st.integers(1, 4))
    steps = draw(st.lists(st.floats(1.0, 1e5), min_size=k - 1, max_size=k - 1))
    sales = [0.0]
    for s in steps:
        sales.append(sales[-1] + s)
    extras = draw(st.lists(st.floats(0.0, 1.0), min_size=k, max_size=k))
    return sales, extras


@st.composite
def scandals(draw, platforms: list[str], days: int):
    return draw(st.lists(st.fixed_dictionaries({
        "day": st.integers(0, max(days - 1, 0)), "platform": st.sampled_from(platforms),
        "severity": st.floats(0.0, 1.0)}), max_size=2))


@st.composite
def valid_config(draw, max_keys: int = 10):
    """A small valid market: random group options, then up to ``max_keys`` keys moved anywhere
    in their ranges (types, ranges and choices from the schema), tiers and scandals drawn
    whole, the rules between keys repaired. Returns (config, the drawn settings)."""
    opts = group_options()
    chosen = {g: draw(st.sampled_from(opts[g]), label=g) for g in GROUPS}
    cfg = with_options(chosen)
    drawn: dict[str, Any] = {}
    for key, (lo, hi) in SIZE.items():
        drawn[key] = draw(st.integers(lo, hi), label=key)
        _set(cfg, key, drawn[key])
    cfg["seed"] = drawn["seed"] = draw(st.integers(0, 2**32 - 1), label="seed")
    pool = drawable(cfg)
    picked = draw(st.lists(st.sampled_from(pool), max_size=max_keys, unique_by=lambda lf: lf.key),
                  label="keys")
    for lf in picked:
        v = draw(value_of(lf), label=lf.key)
        _set(cfg, lf.key, v)
        drawn[lf.key] = v
    if draw(st.booleans(), label="tiers drawn"):
        sales, extras = draw(tiers())
        cfg["incentive"]["tier_sales_yuan"] = drawn["incentive.tier_sales_yuan"] = sales
        cfg["incentive"]["tier_extra_rates"] = drawn["incentive.tier_extra_rates"] = extras
    sc = draw(scandals(list(cfg["platforms"]), cfg["days"]), label="scandals")
    if sc:
        cfg["wom"]["scandals"] = drawn["wom.scandals"] = sc
    _repair(cfg)
    cfg["progress"] = False
    obj = to_schema(cfg)
    validate(obj)  # a drawn config the checks reject is a bug of this generator
    return Drawn(obj, {"options": chosen, **drawn})


@dataclass
class Drawn:
    """A drawn config; shown (in a failure report) as what was drawn, not the whole config."""

    cfg: Config  # the schema's dataclasses, as the model holds a config
    settings: dict

    def __repr__(self) -> str:
        return f"Drawn({self.settings!r})"



def is_finite_number(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


__all__ = ["COUNTS", "REPORT", "ConfigError", "Leaf", "count", "drawable", "examples",
           "group_options", "is_finite_number", "leaves", "valid_config", "value_of",
           "with_options"]
