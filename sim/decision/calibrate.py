"""``gbsim-calibrate``: fit a few parameters to declared scorecard facts; keep an ensemble.

The parameters (at most :data:`MAX_KEYS`) are named in advance (by the Morris screen,
:func:`sim.decision.sensitivity.morris_levels`), their priors are the uncertainty registry's
ranges and distributions, and the facts are split in advance into **fitted** and **held out**
(ODD 8 rows, measured by :mod:`sim.validation`'s functions on the runs' tables).

The fit is Optuna's TPE sampler (Bergstra et al. 2011), each trial running every seed (common
random numbers across trials), minimising the mean over fitted facts of the distance of the
seed-mean value outside its ODD 8 band, in band widths (0 inside the band). Optuna rather than
pyabc's ABC-SMC: ABC-SMC needs thousands of model runs (a population per generation) where a
year costs seconds, and pyabc pulls dask/distributed, whose cloudpickle >= 3 conflicts with the
cluster extra's hydra-ray-launcher (cloudpickle < 3) that CI installs in the same environment.

The **ensemble** is the ``ensemble`` best trials: plausible worlds ranked by fit, not a Bayesian
posterior (TPE does not sample one). :func:`validate` runs each member and the hand calibration
(the configured values) on the held-out facts and reports both.

    gbsim-calibrate market.consumers=5000 --keys leaders.add_prob choice.habit --trials 30 \\
        --out calibration/demo
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim import validation as v
from sim.batch import run_many
from sim.config import ConfigError
from sim.decision.sensitivity import _rel
from sim.uncertainty import Parameter, load
from sim.version import code_version

__all__ = ["FACTS", "FIT", "HELD_OUT", "MAX_KEYS", "Fact", "calibrate", "loss", "main",
           "measure", "validate"]

MAX_KEYS = 8
TABLES = ("daily", "platforms", "leader_stats", "leader_reviews")


@dataclass(frozen=True)
class Fact:
    """An ODD 8 fact as a calibration target: its headline value's band and how to measure it
    (from the default scenario's tables, and multi_source's where ``needs_multi``)."""

    row: int
    name: str
    band: tuple[float, float]
    needs_multi: bool = False

    def measure(self, d: dict, ms: dict | None = None) -> v.Measure:
        f = {1: v.leader_commission, 3: v.leader_earnings, 4: v.pickup_point_income,
             5: v.leader_churn, 10: v.on_time_pickup, 14: v.incumbent_margins}
        return v.multi_source_churn(d, ms) if self.row == 6 else f[self.row](d)


FACTS = {f.row: f for f in (
    Fact(1, "leader commission", v.COMMISSION_BAND),
    Fact(3, "leader earnings (2+ h median)", v.EARNINGS_2H_BAND),
    Fact(4, "pickup-point income", v.PICKUP_INCOME_BAND),
    Fact(5, "leader churn", v.CHURN_BAND),
    Fact(6, "multi-source incentives", v.MULTI_SOURCE_BAND, needs_multi=True),
    Fact(10, "on-time pickup", (v.ON_TIME_MIN, 1.0)),
    Fact(14, "regional incumbent margins", v.INCUMBENT_GROSS_BAND),
)}
# Declared before any run (issue 30): fitted to the leader economy's level, validated on the
# other leader facts, the policy effect and the incumbent's margins.
FIT = (4, 5)
HELD_OUT = (3, 6, 14)


def loss(value: float, band: tuple[float, float]) -> float:
    """Distance of ``value`` outside ``band`` in band widths (0 inside; 10 for NaN)."""
    if value is None or not math.isfinite(value):
        return 10.0
    lo, hi = band
    return max(0.0, lo - value, value - hi) / (hi - lo)


def _check(keys, fit, held) -> None:
    if not 1 <= len(keys) <= MAX_KEYS:
        raise ConfigError(f"--keys: {len(keys)} keys; allowed: 1 to {MAX_KEYS}")
    for r in (*fit, *held):
        if r not in FACTS:
            raise ConfigError(f"fact {r}: not a calibration target; allowed ODD 8 rows: "
                              f"{', '.join(map(str, FACTS))}")
    both = set(fit) & set(held)
    if both:
        raise ConfigError(f"fact {min(both)}: both fitted and held out; give it to one side")
    if not fit:
        raise ConfigError("--fit: no facts; allowed: one or more ODD 8 rows")


def _tables(batch, scenario: str | None, seed: int) -> dict:
    out = {}
    for name, df in batch.series.items():
        m = df["seed"] == seed
        if scenario is not None:
            m &= df["scenario"] == scenario
        out[name] = df[m].reset_index(drop=True)
    return out


def measure(batch, rows, seeds) -> dict[int, list[v.Measure]]:
    """{row: [Measure per seed]} from a batch with scenarios ``default`` (and ``multi_source``)."""
    multi = "scenario" in batch.runs.columns and "multi_source" in set(batch.runs["scenario"])
    out = {}
    for r in rows:
        f = FACTS[r]
        out[r] = [f.measure(_tables(batch, "default" if multi else None, s),
                            _tables(batch, "multi_source", s) if f.needs_multi else None)
                  for s in seeds]
    return out


def _suggest(trial, p: Parameter):
    if p.dist == "choice":
        return trial.suggest_categorical(p.key, list(p.values))
    if p.integer:
        return trial.suggest_int(p.key, int(p.lo), int(p.hi))
    # TPE's prior over a float is uniform (log-uniform with log=True); a truncated normal is
    # searched over its range.
    return trial.suggest_float(p.key, p.lo, p.hi, log=p.dist == "loguniform")


def _scenarios(rows) -> dict | None:
    if any(FACTS[r].needs_multi for r in rows):
        return {"default": [], "multi_source": ["incentive=multi_source"]}
    return None


def _run(base, values: dict, seeds, rows, workers, backend):
    design = pd.DataFrame([values]) if values else None
    return run_many(list(base), design, list(seeds), scenarios=_scenarios(rows),
                    series=TABLES, workers=workers, backend=backend, progress=False)


def calibrate(keys, *, base=(), registry="default", fit=FIT, held_out=HELD_OUT, seeds=(1, 2, 3),
              trials: int = 30, ensemble: int = 8, sampler_seed: int = 0, out=None,
              workers: int | None = None, backend: str = "loky") -> dict:
    """Fit ``keys`` to the ``fit`` facts with Optuna; returns trials, ensemble and provenance.

    With ``out``: ``trials.csv``, ``ensemble.csv`` (the members' values and losses) and
    ``calibration.json`` (keys, priors, facts, seeds, base, wall time, code version).
    """
    import optuna

    _check(keys, fit, held_out)
    reg = load(registry, base=list(base))
    base = reg.overrides(base)  # its keys change the run only under its scenario
    params = {p.key: p for p in reg.parameters}
    missing = [k for k in keys if k not in params]
    if missing:
        raise ConfigError(f"--keys: {missing[0]} is not in registry {reg.name}; allowed: "
                          f"{', '.join(reg.keys)}")
    if ensemble < 1 or trials < ensemble:
        raise ConfigError(f"--ensemble {ensemble}: allowed 1 to --trials ({trials})")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    t0 = time.perf_counter()

    def objective(trial):
        values = {k: _suggest(trial, params[k]) for k in keys}
        m = measure(_run(base, values, seeds, fit, workers, backend), fit, seeds)
        per = {r: _mean(m[r]) for r in fit}
        for r, val in per.items():
            trial.set_user_attr(f"fact_{r}", val)
        return float(np.mean([loss(per[r], FACTS[r].band) for r in fit]))

    study = optuna.create_study(direction="minimize",
                                sampler=optuna.samplers.TPESampler(seed=sampler_seed))
    study.optimize(objective, n_trials=trials)
    wall = time.perf_counter() - t0
    df = study.trials_dataframe(attrs=("number", "value", "params", "user_attrs"))
    df = df.rename(columns=lambda c: c.removeprefix("params_").removeprefix("user_attrs_"))
    df = df.rename(columns={"value": "loss", "number": "trial"})
    ens = df.sort_values(["loss", "trial"]).head(ensemble).reset_index(drop=True)
    meta = {"keys": list(keys), "priors": {k: {"dist": params[k].dist, "lo": params[k].lo,
                                               "hi": params[k].hi,
                                               "values": list(params[k].values)}
                                           for k in keys},
            "registry": _rel(reg.path), "fit": list(fit), "held_out": list(held_out),
            "fit_names": {r: FACTS[r].name for r in fit},
            "held_out_names": {r: FACTS[r].name for r in held_out},
            "base": list(base), "seeds": list(seeds), "trials": trials, "ensemble": ensemble,
            "sampler": "optuna TPESampler", "optuna": optuna.__version__,
            "sampler_seed": sampler_seed, "runs": trials * len(seeds), "wall_seconds": wall,
            "code_version": code_version()}
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        df.to_csv(out / "trials.csv", index=False)
        ens.to_csv(out / "ensemble.csv", index=False)
        (out / "calibration.json").write_text(json.dumps(meta, indent=1, default=str) + "\n")
    return {"trials": df, "ensemble": ens, "meta": meta}


def validate(ensemble: pd.DataFrame, keys, *, base=(), held_out=HELD_OUT, fit=FIT,
             seeds=(1, 2, 3), out=None, workers=None, backend="loky") -> dict:
    """Every fact (fitted and held out) under the hand calibration and each ensemble member.

    Returns ``{"facts": DataFrame(world, row, fact, side, value, holds, loss), "wall_seconds"}``
    (``world``: ``hand`` or ``member <i>``); with ``out``, writes ``validation.csv``.
    """
    t0 = time.perf_counter()
    rows = [*fit, *held_out]
    # Records, not iterrows: a row as one Series takes one dtype, and an integer key read as
    # a float (11.0) is refused by the schema; each column keeps its own here.
    worlds = {"hand": {}} | {f"member {i}": {k: _plain(m[k]) for k in keys}
                             for i, m in enumerate(ensemble.to_dict("records"))}
    recs = []
    for world, values in worlds.items():
        ms = measure(_run(base, values, seeds, rows, workers, backend), rows, seeds)
        for r in rows:
            val = _mean(ms[r])
            recs.append({"world": world, "row": r, "fact": FACTS[r].name,
                         "side": "fitted" if r in fit else "held out", "value": val,
                         "holds": v.fact_holds([x.holds for x in ms[r]]),
                         "seeds_holding": sum(bool(x.holds) for x in ms[r]),
                         "loss": loss(val, FACTS[r].band)})
    facts = pd.DataFrame(recs)
    wall = time.perf_counter() - t0
    if out is not None:
        facts.to_csv(Path(out) / "validation.csv", index=False)
        (Path(out) / "validation.json").write_text(json.dumps(
            {"wall_seconds": wall, "seeds": list(seeds), "base": list(base),
             "worlds": len(worlds), "code_version": code_version()}, indent=1) + "\n")
    return {"facts": facts, "wall_seconds": wall}


def _mean(ms) -> float:
    """The seed mean of measures' values (NaN where none is finite: a window the run lacks)."""
    vals = np.array([x.value for x in ms], float)
    return float(vals[np.isfinite(vals)].mean()) if np.isfinite(vals).any() else float("nan")


def _plain(x):
    return x.item() if hasattr(x, "item") else x


def _rows(text: str, flag: str) -> tuple[int, ...]:
    try:
        return tuple(int(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise ConfigError(f"{flag} {text}: allowed a comma-separated list of ODD 8 rows "
                          f"({', '.join(map(str, FACTS))})") from None


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``gbsim-calibrate``."""
    ap = argparse.ArgumentParser(prog="gbsim-calibrate", description=__doc__.splitlines()[0])
    ap.add_argument("overrides", nargs="*", help="overrides every run shares (as for gbsim)")
    ap.add_argument("--keys", nargs="+", required=True,
                    help=f"registry keys to fit (at most {MAX_KEYS}, chosen in advance)")
    ap.add_argument("--out", type=Path, required=True, help="directory for the results")
    ap.add_argument("--registry", default="default", help="the uncertainty registry (priors)")
    ap.add_argument("--fit", default=",".join(map(str, FIT)), help="ODD 8 rows fitted")
    ap.add_argument("--hold-out", default=",".join(map(str, HELD_OUT)),
                    help="ODD 8 rows held out")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="seeds per trial")
    ap.add_argument("--trials", type=int, default=30, help="Optuna trials")
    ap.add_argument("--ensemble", type=int, default=8, help="best trials kept as the ensemble")
    ap.add_argument("--sampler-seed", type=int, default=0, help="the TPE sampler's seed")
    ap.add_argument("--workers", type=int, default=None, help="worker processes per trial")
    ap.add_argument("--no-validate", action="store_true", help="skip the held-out check")
    a = ap.parse_args(argv)
    try:
        fit, held = _rows(a.fit, "--fit"), _rows(a.hold_out, "--hold-out")
        res = calibrate(a.keys, base=a.overrides, registry=a.registry, fit=fit, held_out=held,
                        seeds=a.seeds, trials=a.trials, ensemble=a.ensemble,
                        sampler_seed=a.sampler_seed, out=a.out, workers=a.workers)
        print(f"gbsim-calibrate: {a.trials} trials x {len(a.seeds)} seeds in "
              f"{res['meta']['wall_seconds']:.1f} s; best loss {res['ensemble']['loss'].min():.3f}"
              f"; ensemble of {len(res['ensemble'])} in {a.out / 'ensemble.csv'}")
        if not a.no_validate:
            val = validate(res["ensemble"], a.keys, base=res["meta"]["base"], held_out=held,
                           fit=fit, seeds=a.seeds, out=a.out, workers=a.workers)
            print(summary_table(val["facts"]).to_string(index=False))
            print(f"validation: {val['wall_seconds']:.1f} s; {a.out / 'validation.csv'}")
    except ConfigError as e:
        print(f"gbsim-calibrate: error: {e}", file=sys.stderr)
        sys.exit(2)


def summary_table(facts: pd.DataFrame) -> pd.DataFrame:
    """One row per fact: the hand calibration's value and whether it holds; the ensemble's
    median and range and how many members it holds in."""
    rows = []
    for (r, name, side), g in facts.groupby(["row", "fact", "side"], sort=False):
        hand = g[g["world"] == "hand"].iloc[0]
        ens = g[g["world"] != "hand"]
        rows.append({"row": r, "fact": name, "side": side, "hand": hand["value"],
                     "hand_holds": hand["holds"], "ensemble_median": ens["value"].median(),
                     "ensemble_min": ens["value"].min(), "ensemble_max": ens["value"].max(),
                     "members_holding": f"{int(ens['holds'].fillna(False).sum())}/{len(ens)}"})
    return pd.DataFrame(rows)


if __name__ == "__main__":
    main()
