"""The uncertainty registry: what we assume, how widely, and designs sampled from it (SALib).

``configs/uncertainty/<name>.yaml`` lists config values that are assumptions, each with a
distribution over a range and its source (or "assumption", with the reasoning). :func:`load`
reads a registry and checks it like every config: each key must exist in the composed config
and be a number, and each range (both ends; every value of a choice) must be allowed by the
schema (:func:`sim.config.validate` on the config with that value set), so a registry cannot ask
for a run that ``gbsim`` would refuse. A bad entry stops with one line naming the file, the key,
the value and what is allowed.

A registry may name its **scenario** (``scenario: [override, ...]``): the overrides its ranges
are meant for, where its keys change the run. The remedies' effect parameters
(``configs/uncertainty/remedies.yaml``) change nothing while the remedies are off, as they are
by default: swept there they would show effects of exactly zero. :func:`load` checks the
registry against the config composed with its scenario (then ``base``), and every caller runs
the designs under it (:attr:`Registry.overrides`): ``gbsim-batch --sample``,
:mod:`sim.decision.sensitivity`, :mod:`sim.decision.calibrate`.

:func:`sample` draws a design (a DataFrame: one column per key, one row per point) for
:func:`sim.batch.run_many` with SALib's samplers, used as SALib documents them: a problem dict
(``names``, ``bounds``, ``dists``) and ``SALib.sample.<method>.sample(problem, N, seed=...)``:

* ``lhs``: Latin hypercube, ``n`` points (McKay, Beckman & Conover 1979).
* ``sobol``: Saltelli's scheme for Sobol' indices, ``n * (2D + 2)`` points (``n * (D + 2)``
  without second-order indices); ``n`` a power of 2 (Saltelli et al. 2010).
* ``morris``: ``n`` trajectories of ``D + 1`` points on a 4-level grid (Morris 1991).

SALib's distributions: ``uniform`` is ``unif``, ``loguniform`` is ``logunif``, ``normal`` is
``truncnorm`` (a normal truncated to the range, so that no draw leaves it). A ``choice`` is drawn
as a uniform index over its values, an integer key as a uniform over ``[lo, hi + 1)`` floored:
each value equally likely. The design keeps the problem in ``design.attrs["salib_problem"]`` and
the unit draws in ``design.attrs["salib_x"]`` for SALib's analysers.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from sim.api import CONFIG_DIR, compose
from sim.config import ConfigError, validate

__all__ = ["DISTS", "METHODS", "Parameter", "Registry", "load", "registry_path", "sample"]

REGISTRY_DIR = Path(CONFIG_DIR) / "uncertainty"
DISTS = {"uniform": ("lo", "hi"), "loguniform": ("lo", "hi"),
         "normal": ("mean", "sd", "lo", "hi"), "choice": ("values",)}
METHODS = ("lhs", "sobol", "morris")


@dataclass(frozen=True)
class Parameter:
    """One assumed value: its config key, distribution and source."""

    key: str
    dist: str
    lo: float | None = None
    hi: float | None = None
    mean: float | None = None
    sd: float | None = None
    values: tuple = ()
    source: str = ""
    integer: bool = False  # the config value is an integer: draws are integers


@dataclass(frozen=True)
class Registry:
    name: str
    path: Path
    parameters: tuple[Parameter, ...]
    scenario: tuple[str, ...] = ()  # the overrides its ranges are meant for (module docstring)

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.parameters]

    def overrides(self, base=()) -> list[str]:
        """The overrides to run its designs under: its scenario, then ``base`` (which wins)."""
        return [*self.scenario, *base]


def registry_path(name: str | Path) -> Path:
    """``default`` -> ``configs/uncertainty/default.yaml``; a path is taken as it is."""
    p = Path(name)
    if p.suffix in (".yaml", ".yml"):
        return p
    path = REGISTRY_DIR / f"{name}.yaml"
    if not path.is_file():
        names = ", ".join(sorted(q.stem for q in REGISTRY_DIR.glob("*.yaml")))
        raise ConfigError(f"uncertainty registry {name}: no such registry; allowed: {names}")
    return path


def _leaf(cfg: DictConfig, key: str, where: str):
    parts = key.split(".")
    node = cfg
    for i, part in enumerate(parts):
        if not isinstance(node, DictConfig) or part not in node:
            at = ".".join(parts[:i]) or "the top level"
            allowed = ", ".join(map(str, node.keys())) if isinstance(node, DictConfig) else "(none)"
            raise ConfigError(f"{where}{key}: unknown key '{part}' in {at}; allowed keys: "
                              f"{allowed}")
        node = node[part]
    if isinstance(node, bool) or not isinstance(node, int | float):
        raise ConfigError(f"{where}{key}: its value {node!r} is not a number; the registry "
                          "holds numbers only (sweep a choice of strategy as a design column)")
    return node


def _allowed(cfg: DictConfig, checks: list[tuple[str, object]], where: str) -> None:
    """``gbsim``'s check of every ``key=value``: the config with it set must validate.

    The schema's ranges are intervals, so a range is allowed when both its ends are. The ends
    are checked in rounds (every key's low end at once, then every high end, then each choice's
    i-th value): a handful of validations for the whole registry; a failing round is checked
    one value at a time, to name the culprit.
    """
    rounds: dict[int, list] = {}
    seen: dict[str, int] = {}
    for key, value in checks:
        seen[key] = seen.get(key, -1) + 1
        rounds.setdefault(seen[key], []).append((key, value))
    def check(group) -> ConfigError | None:
        trial = copy.deepcopy(cfg)
        for key, value in group:
            OmegaConf.update(trial, key, value, merge=False)
        try:
            validate(trial)
        except ConfigError as e:
            return e
        return None

    for items in rounds.values():
        err = check(items)
        if err is None:
            continue
        for key, value in items:
            one = check([(key, value)]) if len(items) > 1 else err
            if one is not None:
                raise ConfigError(f"{where}{key}: the range reaches {value}, which the config "
                                  f"does not allow: {one}")
        raise ConfigError(f"{where}these range ends are allowed one by one but not together "
                          f"({', '.join(f'{k}={v}' for k, v in items)}): {err}")


def _number(entry: dict, name: str, where: str) -> float:
    v = entry.get(name)
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ConfigError(f"{where}{name}={v!r}: must be a finite number")
    return float(v)


def _parameter(key: str, entry, cfg: DictConfig, where: str, checks: list) -> Parameter:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}{key}={entry!r}: must be a mapping {{dist: ..., source: ...}}")
    default = _leaf(cfg, key, where)
    where = f"{where}{key}: "
    dist = entry.get("dist")
    if dist not in DISTS:
        raise ConfigError(f"{where}dist={dist!r}: not allowed; choose one of {', '.join(DISTS)}")
    extra = set(entry) - set(DISTS[dist]) - {"dist", "source"}
    if extra:
        raise ConfigError(f"{where}{sorted(extra)[0]}: not a field of a {dist} entry; allowed: "
                          f"{', '.join((*DISTS[dist], 'source'))}")
    source = entry.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ConfigError(f"{where}source={source!r}: give the source of the range, or "
                          "'assumption' with the reasoning")
    integer = isinstance(default, int)
    if dist == "choice":
        values = entry.get("values")
        if not isinstance(values, list) or len(values) < 2:
            raise ConfigError(f"{where}values={values!r}: give a list of at least two values")
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int | float) or \
                    (integer and not float(v).is_integer()):
                kind = "integers" if integer else "numbers"
                raise ConfigError(f"{where}values: {v!r} is not allowed; {key} takes {kind}")
            checks.append((key, int(v) if integer else float(v)))
        return Parameter(key, dist, values=tuple(values), source=source, integer=integer)
    lo, hi = _number(entry, "lo", where), _number(entry, "hi", where)
    if lo >= hi:
        raise ConfigError(f"{where}lo={lo:g}, hi={hi:g}: lo must be below hi")
    if integer and not (lo.is_integer() and hi.is_integer()):
        raise ConfigError(f"{where}lo={lo:g}, hi={hi:g}: {key} is an integer; give integer ends")
    if dist == "loguniform" and lo <= 0:
        raise ConfigError(f"{where}lo={lo:g}: a loguniform range must start above 0")
    mean = sd = None
    if dist == "normal":
        mean, sd = _number(entry, "mean", where), _number(entry, "sd", where)
        if sd <= 0 or not lo <= mean <= hi:
            raise ConfigError(f"{where}mean={mean:g}, sd={sd:g}: sd must be above 0 and the mean "
                              f"inside [lo, hi] = [{lo:g}, {hi:g}]")
    checks += [(key, int(end) if integer else end) for end in (lo, hi)]
    return Parameter(key, dist, lo, hi, mean, sd, source=source, integer=integer)


def load(name: str | Path = "default", base: list[str] | None = None) -> Registry:
    """Read and check a registry (a name under ``configs/uncertainty/`` or a path).

    Args:
        name: the registry.
        base: overrides of the config its keys and ranges are checked against, after the
            registry's own scenario (the designs run under ``reg.overrides(base)``; default: the
            default scenario).

    Raises:
        ConfigError: one line naming the file, the key, the value and what is allowed.
    """
    path = registry_path(name)
    where = f"{path.name}: "
    try:
        raw = OmegaConf.to_container(OmegaConf.load(path))
    except Exception as e:
        raise ConfigError(f"{where}cannot read: {str(e).strip().splitlines()[0]}") from None
    if not isinstance(raw, dict) or not {"parameters"} <= set(raw) <= {"parameters", "scenario"} \
            or not isinstance(raw["parameters"], dict) or not raw["parameters"]:
        raise ConfigError(f"{where}must hold one mapping, parameters: {{<config key>: entry}}, "
                          "and may name its scenario: [override, ...]")
    scenario = raw.get("scenario", [])
    if not isinstance(scenario, list) or not all(isinstance(o, str) and "=" in o
                                                 for o in scenario):
        raise ConfigError(f"{where}scenario={scenario!r}: give a list of overrides, "
                          "e.g. [services.share_of_points=1.0]")
    cfg = compose([*scenario, *(base or [])])
    try:  # a scenario gbsim would refuse
        validate(cfg)
    except ConfigError as e:
        raise ConfigError(f"{where}{'scenario' if scenario else 'overrides'}: {e}") from None
    checks: list[tuple[str, object]] = []
    params = tuple(_parameter(str(k), v, cfg, where, checks)
                   for k, v in raw["parameters"].items())
    _allowed(cfg, checks, where)
    return Registry(path.stem, path, params, tuple(scenario))


# ---------------------------------------------------------------------------------------------
# designs


def problem(reg: Registry) -> dict:
    """SALib's problem definition of a registry (choices and integers as uniform indices)."""
    bounds, dists = [], []
    for p in reg.parameters:
        if p.dist == "choice":
            bounds.append([0.0, float(len(p.values))])
            dists.append("unif")
        elif p.dist == "normal":
            bounds.append([p.lo, p.hi, p.mean, p.sd])
            dists.append("truncnorm")
        else:
            hi = p.hi + 1.0 if p.integer and p.dist == "uniform" else p.hi
            bounds.append([p.lo, hi])
            dists.append({"uniform": "unif", "loguniform": "logunif"}[p.dist])
    return {"num_vars": len(reg.parameters), "names": reg.keys, "bounds": bounds, "dists": dists}


def _to_values(p: Parameter, x: np.ndarray) -> list:
    if p.dist == "choice":
        idx = np.minimum(np.floor(x).astype(int), len(p.values) - 1)
        return [p.values[i] for i in idx]
    if p.integer:
        # floor, then keep the upper end in: a draw of exactly hi + 1 has probability zero
        # but a grid (Morris) can land on it.
        return [int(v) for v in np.clip(np.floor(x), p.lo, p.hi)]
    return [float(v) for v in np.clip(x, p.lo, p.hi)]


def sample(reg: Registry | str = "default", method: str = "lhs", n: int = 50, seed: int = 0,
           **options) -> pd.DataFrame:
    """A design from the registry with SALib's ``method`` (``lhs``, ``sobol``, ``morris``).

    Args:
        reg: a registry or its name.
        method: the sampler; see the module docstring for the number of points.
        n: SALib's ``N``: points (lhs), base samples (sobol), trajectories (morris).
        seed: the sampler's seed: the same seed, the same design.
        options: passed to the SALib sampler (``calc_second_order``, ``num_levels``, ...).
    """
    from SALib.sample import latin, morris, sobol

    if isinstance(reg, str):
        reg = load(reg)
    samplers = {"lhs": latin.sample, "sobol": sobol.sample, "morris": morris.sample}
    if method not in samplers:
        raise ConfigError(f"method={method}: not allowed; choose one of {', '.join(METHODS)}")
    if not isinstance(n, int) or n < 1:
        raise ConfigError(f"n={n}: must be a positive integer")
    prob = problem(reg)
    x = samplers[method](prob, n, seed=seed, **options)
    design = pd.DataFrame({p.key: _to_values(p, x[:, j]) for j, p in enumerate(reg.parameters)})
    design.attrs["salib_problem"] = prob
    design.attrs["salib_x"] = x
    design.attrs["method"] = method
    return design
