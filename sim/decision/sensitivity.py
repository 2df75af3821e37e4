"""Which unknowns move a policy's effect: Morris screening, then Sobol' indices, of B - A (SALib).

A **question** names two scenarios and a metric: "multi_source - flat, leader churn". Every
design point runs both scenarios with the same seeds (common random numbers, ODD 4), so the
output analysed is the *paired* difference B - A averaged over the seeds, not a level: a
parameter that moves A and B alike (most of them) has no effect on it.

* :func:`morris`: Morris (1991) elementary effects over every parameter of an uncertainty
  registry (``r`` trajectories of ``D + 1`` points, SALib's ``morris.sample``/``analyze``):
  ``mu*`` (mean absolute effect) with its bootstrap interval and ``sigma`` (interaction or
  non-linearity), for each question; one batch runs the union of the questions' scenarios.
* :func:`keep`: the parameters Morris keeps, fixed by a rule stated in advance: the ``k``
  largest of ``mu* / max mu*`` (each question scaled by its own largest), the larger of the
  questions' scores counting; so each question's leading parameters are kept.
* :func:`sobol`: first-order and total Sobol' indices (Saltelli 2010 scheme, SALib's
  ``sobol.sample``/``analyze`` without second-order terms: ``N (D + 2)`` points) over the kept
  parameters, the others at their configured values, with bootstrap intervals
  (``num_resamples``, ``conf_level``).

Leader metrics are noisy at small sizes (a 5,000-household market has ~20 leaders): run them at
20,000 households or with at least 3 seeds per point (:data:`MIN_SEEDS_LEADER`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from sim.batch import run_many
from sim.collect import RUN_COLUMN
from sim.config import ConfigError
from sim.uncertainty import Registry, load, sample
from sim.version import code_version

__all__ = ["BASE", "MIN_SEEDS_LEADER", "QUESTIONS", "SCENARIOS", "SEEDS", "Question",
           "effects", "keep", "wide_runs", "morris", "morris_levels", "sobol", "subregistry"]

# The acceptance questions of issue 30 and the scenarios they need (the default is A of the
# first and B of the second: one batch runs three scenarios for both).
SCENARIOS = {"default": [], "multi_source": ["incentive=multi_source"],
             "no_coupons": ["subsidy=none"]}
# The analyses' market: 5,000 households, 150 days (the entrant enters on day 60 and subsidises
# for 90 days: the last 30 days are inside its programme); 3 seeds per point for leader churn.
BASE = ["market.consumers=5000", "days=150"]
SEEDS = (1, 2, 3)
MIN_SEEDS_LEADER = 3
# The bootstrap's seed (the same intervals on a second call). Not 0: SALib 1.6's sobol.analyze
# seeds only when ``if seed:`` is true, so seed 0 would leave its intervals unseeded.
BOOTSTRAP_SEED = 1


@dataclass(frozen=True)
class Question:
    """B - A of ``metric`` (a column of a batch's ``runs``); ``better``: which sign is good;
    ``x``: "B beats A by at least x" (in the better direction) for scenario discovery."""

    name: str
    a: str
    b: str
    metric: str
    better: str = "higher"
    x: float = 0.0
    label: str = ""

    def beats(self, effect) -> np.ndarray:
        """Where B beats A by at least ``x``."""
        e = np.asarray(effect, float)
        return e <= -self.x if self.better == "lower" else e >= self.x


QUESTIONS = (
    Question("multi_source_churn", "default", "multi_source", "leader_monthly_churn_rate",
             better="lower", x=0.10,
             label="multi_source − flat, leader monthly churn"),
    Question("coupon_entrant_share", "no_coupons", "default", "order_share_last_30_days.entrant",
             better="higher", x=0.05,
             label="coupon on − off, entrant order share (last 30 days)"),
)


def _check(questions, scenarios: dict, seeds) -> None:
    for q in questions:
        for s in (q.a, q.b):
            if s not in scenarios:
                raise ConfigError(f"question {q.name}: scenario {s!r} is not defined; allowed: "
                                  f"{', '.join(scenarios)}")
        if q.better not in ("higher", "lower"):
            raise ConfigError(f"question {q.name}: better={q.better!r}; allowed: higher, lower")
        if "leader" in q.metric and len(seeds) < MIN_SEEDS_LEADER:
            raise ConfigError(f"question {q.name}: a leader metric with {len(seeds)} seeds; "
                              f"allowed: at least {MIN_SEEDS_LEADER} seeds per point")


def effects(runs: pd.DataFrame, design: pd.DataFrame, question: Question) -> pd.DataFrame:
    """Per design row: the mean over seeds of B - A (``effect``), its seed-to-seed sd, A's mean.

    Runs are matched by their design values and seed (a batch's ``runs``), so the rows come back
    in the design's order, as SALib's analysers need.
    """
    cols = list(design.columns)
    if question.metric not in runs.columns:
        raise ConfigError(f"question {question.name}: metric {question.metric!r} is not a "
                          "column of the runs (a summary figure, or NAME.PLATFORM)")
    pick = runs[cols + ["seed", "scenario", question.metric]]
    a = pick[pick["scenario"] == question.a].drop(columns="scenario")
    b = pick[pick["scenario"] == question.b].drop(columns="scenario")
    m = a.merge(b, on=cols + ["seed"], suffixes=("_a", "_b"))
    m["d"] = m[f"{question.metric}_b"] - m[f"{question.metric}_a"]
    g = m.groupby(cols, sort=False, dropna=False).agg(
        effect=("d", "mean"), effect_sd=("d", "std"), seeds=("d", "size"),
        level_a=(f"{question.metric}_a", "mean")).reset_index()
    out = design.merge(g, on=cols, how="left")
    if out["effect"].isna().any():
        i = int(np.flatnonzero(out["effect"].isna())[0])
        raise ConfigError(f"question {question.name}: design row {i} has no paired runs (or "
                          f"{question.metric} is NaN there)")
    return out


def wide_runs(batch) -> pd.DataFrame:
    """A batch's ``runs`` with its per-platform figures as ``NAME.PLATFORM`` columns
    (``order_share_last_30_days.entrant``), as :mod:`sim.metrics` names them."""
    runs, bp = batch.runs, batch.runs_by_platform
    if bp is None or bp.empty:
        return runs
    on = [c for c in (RUN_COLUMN, "scenario") if c in runs.columns and c in bp.columns]
    figs = [c for c in bp.columns if c not in runs.columns and c != "platform"
            and bp[c].dtype.kind in "fi"]
    w = bp.pivot_table(index=on, columns="platform", values=figs, aggfunc="first")
    w.columns = [f"{f}.{p}" for f, p in w.columns]
    return runs.merge(w.reset_index(), on=on, how="left")


def _rel(path: Path) -> str:
    """A path relative to the project when inside it (provenance that reads the same anywhere)."""
    root = Path(__file__).resolve().parents[2]
    try:
        return str(Path(path).resolve().relative_to(root))
    except ValueError:
        return str(path)


def _spent(batch) -> float:
    """Worker seconds of every run in the table, this call's and earlier calls' (each run's stamp
    in the batch directory): the run budget, however many calls it took to finish."""
    if batch.out is None:
        return sum(batch.worker_seconds.values())
    rows = Path(batch.out) / "rows"
    return float(sum(sum(json.loads((rows / f"{k}.json").read_text())["seconds"].values())
                     for k in set(batch.runs[RUN_COLUMN])))


def _meta(kind: str, reg: Registry, base, seeds, scenarios, questions, batch, **extra) -> dict:
    return {"analysis": kind, "registry": _rel(reg.path), "parameters": reg.keys,
            "base": list(base), "seeds": list(seeds), "scenarios": scenarios,
            "questions": [asdict(q) for q in questions], "runs": len(batch.runs),
            "ran": batch.ran, "reused": batch.skipped, "wall_seconds": batch.wall_seconds,
            "worker_seconds_all_runs": _spent(batch), "code_version": code_version(), **extra}


def _save(out: Path | None, name: str, tables: dict, meta: dict) -> None:
    if out is None:
        return
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for q, df in tables.items():
        df.to_csv(out / f"{name}_{q}.csv", index=False)
    (out / f"{name}.json").write_text(json.dumps(meta, indent=1, default=str) + "\n")


def morris(reg: Registry | str = "default", questions=QUESTIONS, *, base=BASE, seeds=SEEDS,
           scenarios=None, r: int = 4, sample_seed: int = 0, num_levels: int = 4,
           batch_dir=None, out=None, workers=None, num_resamples: int = 1000,
           backend: str = "loky") -> dict:
    """Morris screening of each question's B - A over every parameter of ``reg``.

    Returns ``{"indices": {question: DataFrame(parameter, mu, mu_star, mu_star_conf, sigma)},
    "effects": {question: per-point effects}, "design", "meta"}``; with ``out``, writes
    ``morris_<question>.csv`` and ``morris.json`` (the run's provenance) there.
    """
    from SALib.analyze import morris as morris_analyze

    scenarios = dict(SCENARIOS if scenarios is None else scenarios)
    _check(questions, scenarios, seeds)
    reg = load(reg, base=list(base)) if isinstance(reg, str | Path) else reg
    base = reg.overrides(base)  # its keys change the run only under its scenario
    design = sample(reg, "morris", r, seed=sample_seed, num_levels=num_levels)
    used = {s: scenarios[s] for q in questions for s in (q.a, q.b)}
    batch = run_many(list(base), design, list(seeds), scenarios=used, out=batch_dir,
                     workers=workers, backend=backend, progress=False)
    x, prob = design.attrs["salib_x"], design.attrs["salib_problem"]
    runs = wide_runs(batch)
    indices, eff = {}, {}
    for q in questions:
        e = effects(runs, design, q)
        res = morris_analyze.analyze(prob, x, e["effect"].to_numpy(float),
                                     num_resamples=num_resamples, conf_level=0.95,
                                     num_levels=num_levels, seed=BOOTSTRAP_SEED)
        indices[q.name] = pd.DataFrame({"parameter": reg.keys, "mu": res["mu"],
                                        "mu_star": res["mu_star"],
                                        "mu_star_conf": res["mu_star_conf"],
                                        "sigma": res["sigma"]})
        eff[q.name] = e
    meta = _meta("morris", reg, base, seeds, used, questions, batch, r=r,
                 sample_seed=sample_seed, num_levels=num_levels, points=len(design))
    _save(out, "morris", indices, meta)
    return {"indices": indices, "effects": eff, "design": design, "meta": meta, "runs": runs}


def keep(indices: dict[str, pd.DataFrame], k: int = 6) -> list[str]:
    """The ``k`` parameters Morris keeps (module docstring): largest ``max_q mu*_q / max mu*_q``."""
    if k < 1:
        raise ConfigError(f"keep: k={k}; allowed: a positive integer")
    score = None
    for df in indices.values():
        top = df["mu_star"].max()
        s = (df.set_index("parameter")["mu_star"] / top) if top > 0 else \
            df.set_index("parameter")["mu_star"] * 0.0
        score = s if score is None else np.maximum(score, s)
    return list(score.sort_values(ascending=False, kind="stable").index[:k])


def subregistry(reg: Registry, keys) -> Registry:
    """The registry restricted to ``keys`` (in their registry order)."""
    missing = [k for k in keys if k not in reg.keys]
    if missing:
        raise ConfigError(f"keep: {missing[0]} is not in registry {reg.name}; allowed: "
                          f"{', '.join(reg.keys)}")
    return replace(reg, parameters=tuple(p for p in reg.parameters if p.key in keys))


def sobol(reg: Registry | str, keys, questions=QUESTIONS, *, base=BASE, seeds=SEEDS,
          scenarios=None, n: int = 16, sample_seed: int = 0, batch_dir=None, out=None,
          workers=None, num_resamples: int = 1000, backend: str = "loky") -> dict:
    """First-order and total Sobol' indices of each question's B - A over ``keys``.

    ``n`` is SALib's ``N`` (a power of 2): ``n * (len(keys) + 2)`` points. Returns
    ``{"indices": {question: DataFrame(parameter, S1, S1_conf, ST, ST_conf)}, "effects",
    "design", "meta"}``; with ``out``, writes ``sobol_<question>.csv`` and ``sobol.json``.
    """
    from SALib.analyze import sobol as sobol_analyze

    scenarios = dict(SCENARIOS if scenarios is None else scenarios)
    _check(questions, scenarios, seeds)
    reg = load(reg, base=list(base)) if isinstance(reg, str | Path) else reg
    base = reg.overrides(base)  # its keys change the run only under its scenario
    if len(keys) < 2:
        raise ConfigError(f"sobol: {len(keys)} parameter(s); allowed: at least 2")
    sub = subregistry(reg, keys)
    design = sample(sub, "sobol", n, seed=sample_seed, calc_second_order=False)
    used = {s: scenarios[s] for q in questions for s in (q.a, q.b)}
    batch = run_many(list(base), design, list(seeds), scenarios=used, out=batch_dir,
                     workers=workers, backend=backend, progress=False)
    prob = design.attrs["salib_problem"]
    runs = wide_runs(batch)
    indices, eff = {}, {}
    for q in questions:
        e = effects(runs, design, q)
        res = sobol_analyze.analyze(prob, e["effect"].to_numpy(float), calc_second_order=False,
                                    num_resamples=num_resamples, conf_level=0.95,
                                    seed=BOOTSTRAP_SEED)
        indices[q.name] = pd.DataFrame({"parameter": sub.keys, "S1": res["S1"],
                                        "S1_conf": res["S1_conf"], "ST": res["ST"],
                                        "ST_conf": res["ST_conf"]})
        eff[q.name] = e
    meta = _meta("sobol", sub, base, seeds, used, questions, batch, n=n,
                 sample_seed=sample_seed, points=len(design))
    _save(out, "sobol", indices, meta)
    if out is not None:
        for q, e in eff.items():
            e.to_csv(Path(out) / f"sobol_effects_{q}.csv", index=False)
    return {"indices": indices, "effects": eff, "design": design, "meta": meta, "runs": runs}


def morris_levels(result: dict, scenario: str, metrics, *, num_levels: int = 4,
                  seed: int = 0) -> pd.DataFrame:
    """Morris ``mu*`` of *levels* (one scenario's metrics, seed means) from a :func:`morris`
    result's runs: the screen that names the parameters a calibration fits.

    Returns one row per parameter: ``mu_star`` per metric, each scaled by its largest, and
    ``score`` (the largest scaled ``mu*``), sorted by score.
    """
    from SALib.analyze import morris as morris_analyze

    design, runs = result["design"], result["runs"]
    cols = list(design.columns)
    sub = runs[runs["scenario"] == scenario]
    out = pd.DataFrame({"parameter": cols})
    for m in metrics:
        if m not in sub.columns:
            raise ConfigError(f"morris_levels: metric {m!r} is not a column of the runs")
        g = sub.groupby(cols, sort=False, dropna=False)[m].mean().rename("level").reset_index()
        y = design.merge(g, on=cols, how="left")["level"].to_numpy(float)
        res = morris_analyze.analyze(design.attrs["salib_problem"], design.attrs["salib_x"], y,
                                     num_levels=num_levels, seed=seed)
        mu = np.asarray(res["mu_star"], float)
        out[m] = mu / mu.max() if mu.max() > 0 else mu
    out["score"] = out[list(metrics)].max(axis=1)
    return out.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
