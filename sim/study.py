"""Running a scenario over several seeds, for experiments, notebooks and behaviour tests.

A study is a list of overrides (a scenario) run over seeds. Runs are independent processes-worth
of work, so :func:`run_seeds` spreads them over worker processes (2 cores here); results come
back in seed order, so the output is the same whatever the number of workers.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.stats import t_quantile, unpaired_half_width

__all__ = ["SMALL_MARKET", "StudyArgs", "paired_difference", "parse_study_args",
           "platform_series", "run_one", "run_seeds"]

# The smoke market (configs/experiment/smoke.yaml) without its 60-day horizon: what experiments
# use for --quick.
SMALL_MARKET = ["market.consumers=2000", "market.county.compound_size=200",
                "market.county.village_size=150"]


@dataclass
class StudyArgs:
    """What an experiment's command line chose: quick or full, seeds, days, figure directory."""

    quick: bool
    out: Path
    seeds: range
    days: int

    @property
    def base(self) -> list[str]:
        """Overrides every scenario of the study shares: the horizon, and the small market when
        quick."""
        return [f"days={self.days}"] + (SMALL_MARKET if self.quick else [])

    @property
    def workers(self) -> int | None:
        return 1 if self.quick else None  # quick: one process, no start-up cost per scenario


def parse_study_args(argv, doc: str, out: Path, days: int, quick_days: int,
                     seeds: int = 6) -> StudyArgs:
    """The command line the competition experiments share: ``--quick`` (2 seeds, the small
    market, ``quick_days``), ``--seeds N``, ``--out DIR`` (figures; quick runs default to the
    gitignored ``quick/`` directory, :func:`sim.figures.output_dir`)."""
    from sim import figures

    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help=f"2 seeds, small market, {quick_days} days")
    ap.add_argument("--seeds", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None, help="figure directory")
    a = ap.parse_args(argv)
    n = a.seeds or (2 if a.quick else seeds)
    return StudyArgs(a.quick, figures.output_dir(out, a.quick, a.out), range(1, n + 1),
                     quick_days if a.quick else days)


def run_one(overrides: list[str], seed: int) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Run one scenario with ``seed``; return (summary, tables). Nothing is written."""
    from sim.cli import compose
    from sim.model import GroupBuyingMarket
    from sim.records import summarise

    cfg = compose(list(overrides) + [f"seed={seed}"])
    cfg.progress = False  # runs go in parallel: no bar per run
    model = GroupBuyingMarket(cfg)
    model.run()
    tables = model.recorder.tables()
    return summarise(model, tables), tables


def _run(args):
    return run_one(*args)


def run_seeds(overrides: list[str], seeds, workers: int | None = None):
    """Run ``overrides`` for every seed; returns [(summary, tables)] in seed order."""
    seeds = list(seeds)
    workers = workers or min(len(seeds), os.cpu_count() or 1)
    if workers <= 1:
        return [run_one(overrides, s) for s in seeds]
    # spawn, not fork: forking a process with threads (BLAS, Hydra) can deadlock.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as ex:
        return list(ex.map(_run, [(list(overrides), s) for s in seeds]))


def paired_difference(a, b, level: float = 0.95) -> dict:
    """Mean of ``b - a`` over paired runs (same seeds) with its ``level`` interval.

    The paired interval is Student's t with n - 1 degrees of freedom on the differences
    (:mod:`sim.stats`: a few seeds need t, not 1.96). Also reports the unpaired interval (as if
    the runs were independent; Welch's t), so the gain from common random numbers can be read
    off: ``unpaired_half_width / paired_half_width``.
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    n = len(a)
    d = b - a
    half_paired = t_quantile(n - 1, level) * d.std(ddof=1) / np.sqrt(n)
    half_unpaired = unpaired_half_width(a.var(ddof=1), n, b.var(ddof=1), n, level)
    return {"n": n, "mean_a": a.mean(), "mean_b": b.mean(), "difference": d.mean(),
            "ci_low": d.mean() - half_paired, "ci_high": d.mean() + half_paired,
            "paired_half_width": half_paired, "unpaired_half_width": half_unpaired}


def platform_series(runs, col: str, platform: str) -> np.ndarray:
    """A platform's daily ``col`` over runs, shape (runs, days), from [(summary, tables)]."""
    out = []
    for _, t in runs:
        p = t["platforms"]
        out.append(p.loc[p["platform"] == platform, col].to_numpy(float))
    return np.array(out)
