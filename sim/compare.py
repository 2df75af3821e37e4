"""Paired policy comparison: scenario B minus scenario A over the same seeds (ODD 4).

``gbsim-compare`` runs scenarios A and B with the same seeds (or takes their runs from a sweep
directory with ``--from``) and reports, for each chosen metric of ``summary.json``, the mean
difference B - A with a 95% confidence interval from the paired differences, and the interval
one would get treating the runs as independent. Because every decision draws from its own named
stream, seed k of A and seed k of B share their random numbers (common random numbers), so the
seed-to-seed noise cancels in the differences and the paired interval is narrower; the report
says by how much (``narrowing`` = unpaired / paired half-width).

Default pair: the flat commission at 10% of sales (A, the launch rate of Yicai 2021) against 8%
(B, a cut towards the ~5% reached within months; ODD 8), other settings as configured.

Outputs, in ``--out`` (default ``comparisons/<A>__vs__<B>...``): ``A/seed=k/`` and ``B/seed=k/``
run directories (complete ones are reused on a second call), ``comparison.csv`` (one row per
metric), ``comparison.png``/``.pdf`` (the differences with paired and unpaired intervals, and
the daily paired difference of one daily metric with its band).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shlex
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from sim.collect import _flatten, find_runs, read_overrides
from sim.outputs import atomic_write
from sim.stats import unpaired_half_width
from sim.study import paired_difference

__all__ = ["DEFAULT_A", "DEFAULT_B", "DEFAULT_METRICS", "compare", "comparison_figure",
           "main", "pair_runs", "run_scenarios"]

DEFAULT_A = ["incentive.commission_rate=0.10"]  # launch rate (Yicai 2021; ODD 8)
DEFAULT_B = ["incentive.commission_rate=0.08"]  # a first cut towards ~5%
DEFAULT_METRICS = ["active_leaders_final", "leader_monthly_churn_rate", "orders_total",
                   "gmv_total_yuan", "consumer_surplus_total_yuan"]
DEFAULT_DAILY = "active_leaders"


# ---------------------------------------------------------------------------------------------
# running the two scenarios


def _run_dir(out_dir: Path, label: str, seed: int) -> Path:
    return Path(out_dir) / label / f"seed={seed}"


def _run_one(args) -> tuple[str, int, str]:
    """Run (or reuse) one scenario x seed in a worker process; returns its status."""
    from sim.api import compose, run
    from sim.sweeps import is_complete

    label, overrides, seed, out = args
    out = Path(out)
    lines = [*overrides, f"seed={seed}"]
    cfg = compose(lines)
    if is_complete(out, cfg):
        return label, seed, "skipped"
    cfg.progress = False
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "overrides.yaml", lambda p: OmegaConf.save(OmegaConf.create(lines), p))
    run(cfg, out, quiet=True)
    return label, seed, "ran"


def run_scenarios(common: list[str], a: list[str], b: list[str], seeds, out_dir: Path,
                  workers: int | None = None, progress: bool | None = None) -> dict[str, int]:
    """Run A and B for every seed into ``out_dir`` (complete runs are reused); counts by status.

    Runs are spread over worker processes (spawned: forking a process with threads can
    deadlock); a progress bar is drawn when stderr is a terminal.
    """
    from tqdm import tqdm

    jobs = [(label, [*common, *scen], int(s), str(_run_dir(out_dir, label, s)))
            for s in seeds for label, scen in (("A", a), ("B", b))]
    workers = workers or min(len(jobs), os.cpu_count() or 1)
    show = sys.stderr.isatty() if progress is None else progress
    counts = {"ran": 0, "skipped": 0}
    with tqdm(total=len(jobs), desc="compare", unit="run", disable=not show) as bar:
        if workers <= 1:
            results = (_run_one(j) for j in jobs)
            for _, _, status in results:
                counts[status] += 1
                bar.update()
        else:
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as ex:
                for fut in as_completed([ex.submit(_run_one, j) for j in jobs]):
                    counts[fut.result()[2]] += 1
                    bar.update()
    return counts


# ---------------------------------------------------------------------------------------------
# pairing runs


def _load(run_dir: Path, daily_metric: str) -> tuple[dict, pd.Series | None]:
    cfg = OmegaConf.load(run_dir / "config.yaml")
    summary = json.loads((run_dir / "summary.json").read_text())
    flat, _ = _flatten(summary, set(cfg.platforms))
    flat["seed"] = int(cfg.seed)
    daily = pd.read_parquet(run_dir / "daily.parquet")
    series = daily.set_index("day")[daily_metric] if daily_metric in daily.columns else None
    return flat, series


def _select(root: Path, tokens: list[str]) -> list[Path]:
    """Complete runs under ``root`` whose overrides include every token."""
    out = []
    for d in find_runs(root):
        if not (d / "summary.json").is_file():
            continue
        ov = set(read_overrides(d))
        if all(t in ov for t in tokens):
            out.append(d)
    return out


def check_same_setting(dirs_a: list[Path], a: list[str], dirs_b: list[Path],
                       b: list[str]) -> None:
    """Runs taken from a directory must differ only in A's and B's overrides and the seed.

    Raises:
        ValueError: one line naming two runs whose other overrides differ.
    """
    seen = None
    for dirs, tokens, name in ((dirs_a, a, "A"), (dirs_b, b, "B")):
        for d in dirs:
            rest = sorted(o for o in read_overrides(d)
                          if o not in tokens and not o.startswith("seed="))
            if seen is None:
                seen = (rest, name, d)
            elif rest != seen[0]:
                raise ValueError(
                    f"runs differ beyond A and B: {' '.join(seen[0]) or '(defaults)'} "
                    f"({seen[1]}, {seen[2]}) vs {' '.join(rest) or '(defaults)'} ({name}, {d}); "
                    "give the setting to compare at as common overrides")


def pair_runs(dirs_a: list[Path], dirs_b: list[Path], daily_metric: str = DEFAULT_DAILY):
    """Summaries and daily series of A and B, paired by seed (seeds in only one are dropped).

    Returns:
        (runs_a, runs_b, daily_a, daily_b): two DataFrames indexed by seed (same order) and two
        arrays (seeds x days) of the daily metric (None if the runs lack it).

    Raises:
        ValueError: a seed appears twice in one scenario (the selection is ambiguous).
    """
    loaded = []
    for dirs in (dirs_a, dirs_b):
        rows, series = {}, {}
        for d in dirs:
            flat, s = _load(d, daily_metric)
            if flat["seed"] in rows:
                raise ValueError(f"seed {flat['seed']} appears twice ({d}); make the scenario "
                                 "overrides specific enough to pick one run per seed")
            rows[flat["seed"]], series[flat["seed"]] = flat, s
        loaded.append((rows, series))
    seeds = sorted(set(loaded[0][0]) & set(loaded[1][0]))
    if len(seeds) < 2:
        raise ValueError(f"{len(seeds)} seed(s) in both scenarios; a paired interval needs 2+")
    runs = [pd.DataFrame([rows[s] for s in seeds]).set_index("seed") for rows, _ in loaded]
    daily = []
    for _, series in loaded:
        if any(series[s] is None for s in seeds):
            daily.append(None)
            continue
        days = min(len(series[s]) for s in seeds)
        daily.append(np.stack([series[s].to_numpy(float)[:days] for s in seeds]))
    return runs[0], runs[1], daily[0], daily[1]


def compare(runs_a: pd.DataFrame, runs_b: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """One row per metric: B - A with the paired 95% interval and the unpaired half-width."""
    rows = []
    for m in metrics:
        if m not in runs_a.columns or m not in runs_b.columns:
            allowed = sorted(c for c in runs_a.columns
                             if pd.api.types.is_numeric_dtype(runs_a[c]))
            raise ValueError(f"metric {m!r}: not in the runs' summaries; allowed: "
                             + ", ".join(allowed))
        a = runs_a[m].astype(float).to_numpy()
        b = runs_b[m].astype(float).to_numpy()
        r = paired_difference(a, b)
        paired, unpaired = r["paired_half_width"], r["unpaired_half_width"]
        rows.append({
            "metric": m, **r,
            "relative_difference": r["difference"] / abs(r["mean_a"]) if r["mean_a"] else np.nan,
            # How much narrower the paired interval is (common random numbers at work).
            "narrowing": (unpaired / paired if paired > 0 else np.inf) if np.isfinite(
                unpaired * paired) else np.nan,
        })
    return pd.DataFrame(rows)


def comparison_figure(table: pd.DataFrame, daily_a, daily_b, daily_metric: str, stem: Path,
                      label_a: str = "A", label_b: str = "B") -> list[Path]:
    """Relative differences with paired and unpaired intervals; the daily paired difference."""
    from sim import figures

    panels = 2 if daily_a is not None and daily_b is not None else 1
    fig, ax = figures.subplots(1, panels, height_in=0.5 + 0.35 * len(table) + 1.2)
    ax = np.atleast_1d(ax)
    y = np.arange(len(table))[::-1]
    scale = 100.0 / table["mean_a"].abs().replace(0, np.nan).to_numpy()
    d = table["difference"].to_numpy() * scale
    ax[0].errorbar(d, y + 0.15, xerr=table["unpaired_half_width"].to_numpy() * scale, fmt="none",
                   ecolor="0.6", elinewidth=1.0, capsize=2, label="unpaired 95% CI")
    ax[0].errorbar(d, y - 0.15, xerr=table["paired_half_width"].to_numpy() * scale, fmt="o",
                   color="C0", markersize=3, elinewidth=1.6, capsize=2,
                   label="paired 95% CI (common random numbers)")
    ax[0].axvline(0, color="k", linewidth=0.6)
    ax[0].set_yticks(y, table["metric"])
    ax[0].set(xlabel=f"{label_b} − {label_a}, % of {label_a}'s mean")
    ax[0].legend(frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    if panels == 2:
        diff = daily_b - daily_a
        mean, lo, hi = figures.mean_ci(diff)
        days = np.arange(diff.shape[1])
        half_unpaired = unpaired_half_width(daily_a.var(axis=0, ddof=1), len(daily_a),
                                            daily_b.var(axis=0, ddof=1), len(daily_b))
        ax[1].fill_between(days, mean - half_unpaired, mean + half_unpaired, color="0.85",
                           linewidth=0, label="unpaired 95% CI")
        figures.band(ax[1], days, mean, lo, hi, label="paired mean and 95% CI")
        ax[1].axhline(0, color="k", linewidth=0.6)
        ax[1].set(xlabel="day", ylabel=f"{daily_metric}: {label_b} − {label_a}")
        ax[1].legend(frameon=False, loc="best")
    return figures.save(fig, stem)


# ---------------------------------------------------------------------------------------------
# command line


def _seeds(text: str) -> list[int]:
    """``1-10`` or ``1,2,5``."""
    out = []
    for part in text.split(","):
        lo, sep, hi = part.partition("-")
        out += list(range(int(lo), int(hi) + 1)) if sep else [int(lo)]
    return out


def _slug(tokens: list[str]) -> str:
    from sim.sweeps import sweep_dir_for

    return sweep_dir_for(tokens, root=".").name


def _label(tokens: list[str]) -> str:
    return " ".join(tokens) or "(config defaults)"


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``gbsim-compare``."""
    ap = argparse.ArgumentParser(
        prog="gbsim-compare",
        description="Scenario B minus scenario A over the same seeds: mean differences with "
                    "paired 95%% intervals (common random numbers) against unpaired ones.",
        epilog="example: gbsim-compare --a 'incentive.commission_rate=0.10' "
               "--b 'incentive.commission_rate=0.08' --seeds 1-10 market.consumers=5000")
    ap.add_argument("overrides", nargs="*", help="overrides common to A and B")
    ap.add_argument("--a", default=" ".join(DEFAULT_A),
                    help="scenario A's overrides, space-separated (default: %(default)s)")
    ap.add_argument("--b", default=" ".join(DEFAULT_B),
                    help="scenario B's overrides (default: %(default)s)")
    ap.add_argument("--seeds", default="1-10", help="e.g. 1-10 or 1,2,5 (default: %(default)s)")
    ap.add_argument("--metrics", default=",".join(DEFAULT_METRICS),
                    help="summary.json figures to compare, comma-separated")
    ap.add_argument("--daily-metric", default=DEFAULT_DAILY,
                    help="a daily table column to plot over time (default: %(default)s)")
    ap.add_argument("--from", dest="source", type=Path, default=None,
                    help="take the runs from this directory (a sweep) instead of running them; "
                         "A and B select runs by their override strings")
    ap.add_argument("--out", type=Path, default=None, help="where to write")
    ap.add_argument("--workers", type=int, default=None, help="processes (default: cores)")
    args = ap.parse_args(argv)
    a, b = shlex.split(args.a), shlex.split(args.b)
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    try:
        if args.source is not None:
            out = args.out or args.source / "comparison"
            dirs_a, dirs_b = _select(args.source, a), _select(args.source, b)
            if args.overrides:
                dirs_a = [d for d in dirs_a if set(args.overrides) <= set(read_overrides(d))]
                dirs_b = [d for d in dirs_b if set(args.overrides) <= set(read_overrides(d))]
            check_same_setting(dirs_a, a, dirs_b, b)
        else:
            from sim.api import check_overrides

            check_overrides([*args.overrides, *a])
            check_overrides([*args.overrides, *b])
            seeds = _seeds(args.seeds)
            out = args.out or Path("comparisons") / (
                f"{_slug(a)}__vs__{_slug(b)}" + (f"__{_slug(args.overrides)}"
                                                 if args.overrides else ""))
            counts = run_scenarios(args.overrides, a, b, seeds, out, workers=args.workers)
            print(f"gbsim-compare: {2 * len(seeds)} runs in {out}: {counts['ran']} ran, "
                  f"{counts['skipped']} reused (already complete)")
            dirs_a = [_run_dir(out, "A", s) for s in seeds]
            dirs_b = [_run_dir(out, "B", s) for s in seeds]
        runs_a, runs_b, daily_a, daily_b = pair_runs(dirs_a, dirs_b, args.daily_metric)
        table = compare(runs_a, runs_b, metrics)
    except ValueError as e:  # ConfigError is a ValueError: one line, no traceback
        print(f"gbsim-compare: error: {str(e).splitlines()[0]}", file=sys.stderr)
        sys.exit(2)
    out = Path(out)
    atomic_write(out / "comparison.csv", lambda p: table.to_csv(p, index=False))
    paths = comparison_figure(table, daily_a, daily_b, args.daily_metric, out / "comparison")
    common = _label(args.overrides) + (f", runs from {args.source}" if args.source else "")
    print(f"A: {_label(a)}\nB: {_label(b)}\ncommon: {common}; "
          f"{len(runs_a)} paired seeds: {', '.join(map(str, runs_a.index))}")
    show = table[["metric", "mean_a", "mean_b", "difference", "ci_low", "ci_high",
                  "unpaired_half_width", "narrowing"]].copy()
    show.columns = ["metric", "mean A", "mean B", "B - A", "paired 95% CI low", "high",
                    "unpaired ±", "narrower x"]
    with pd.option_context("display.width", 160, "display.float_format", "{:.4g}".format):
        print(show.to_string(index=False))
    print(f"wrote {out / 'comparison.csv'}, {', '.join(str(p) for p in paths)}")


if __name__ == "__main__":
    main()
