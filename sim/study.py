"""What the experiments share around their runs: command line, small market, paired statistics.

A study is a list of overrides (a scenario) run over seeds with :func:`sim.api.run_seeds` (the
running itself lives in the run API, :mod:`sim.api`). This module holds what studies add: the
experiments' common command line (:func:`parse_study_args`: quick or full, seeds, days, figure
directory), the small market of quick runs, the paired difference of two scenarios over the
same seeds (common random numbers) and a platform's daily series over runs.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.stats import t_quantile, unpaired_half_width

__all__ = ["SMALL_MARKET", "StudyArgs", "paired_difference", "parse_study_args",
           "platform_series"]

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
        """The ``workers`` of :func:`sim.api.run_seeds`."""
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
