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

Metrics are named as :mod:`sim.metrics` reads them: summary figures, per-platform figures
(``order_share_last_30_days.entrant``) and means over a window of days
(``share.entrant@90-150``); every name is checked against A's and B's configs before any run.

Outputs, in ``--out`` (default ``comparisons/<A>__vs__<B>...``): ``A/seed=k/`` and ``B/seed=k/``
run directories (complete ones are reused on a second call), and, named after the metrics and
the seeds so that another comparison in the same directory never overwrites them,
``comparison_<metrics>_seeds<S>.csv`` (one row per metric) and ``.png``/``.pdf``: one small panel
per metric on its own scale (A's and B's means with 95% intervals, B − A with its paired
interval), the daily paired difference of one daily metric, a title naming A and B and a
footnote with the seeds and sizes. The console table prints each row in one number format.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import shlex
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from sim.collect import find_runs, read_overrides
from sim.compare_report import comparison_figure, fmt, report_lines
from sim.metrics import Metric, MetricError, parse_metric, read_metric, read_series, syntax_help
from sim.outputs import atomic_write
from sim.stats import t_quantile
from sim.study import paired_difference

__all__ = ["DEFAULT_A", "DEFAULT_B", "DEFAULT_METRICS", "compare", "comparison_figure", "fmt",
           "main", "pair_runs", "read_runs", "report_lines", "run_scenarios"]

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
    from sim.api import compose_scenario, run
    from sim.sweeps import is_complete

    label, overrides, seed, out = args
    out = Path(out)
    lines = [*overrides, f"seed={seed}"]
    cfg, named = compose_scenario(lines)  # the scenario is recorded in the run's summary
    if is_complete(out, cfg):
        return label, seed, "skipped"
    cfg.progress = False
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "overrides.yaml", lambda p: OmegaConf.save(OmegaConf.create(lines), p))
    run(cfg, out, quiet=True, scenario=named)
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


def read_runs(dirs: list[Path], metrics: list[Metric], daily: Metric | None):
    """Each run's metrics (a DataFrame indexed by seed) and daily series ({seed: array}).

    Raises:
        ValueError: a seed appears twice (the selection is ambiguous).
    """
    rows, series = {}, {}
    for d in dirs:
        cache: dict = {}
        seed = int(OmegaConf.load(Path(d) / "config.yaml").seed)
        if seed in rows:
            raise ValueError(f"seed {seed} appears twice ({d}); make the scenario overrides "
                             "specific enough to pick one run per seed")
        rows[seed] = {m.text: read_metric(m, d, cache) for m in metrics}
        if daily is not None:
            series[seed] = read_series(daily, d, cache)
    runs = pd.DataFrame.from_dict(rows, orient="index", columns=[m.text for m in metrics])
    return runs.rename_axis("seed").sort_index(), series


def pair_runs(dirs_a: list[Path], dirs_b: list[Path], metrics: list[Metric],
              daily: Metric | None = None):
    """The metrics of A and B, paired by seed (seeds in only one are dropped).

    Returns:
        (runs_a, runs_b, daily_a, daily_b): two DataFrames indexed by seed (same order) and two
        arrays (seeds x days) of the daily metric (None without one).

    Raises:
        ValueError: a seed twice in one scenario, or fewer than 2 seeds in both.
    """
    (ra, sa), (rb, sb) = read_runs(dirs_a, metrics, daily), read_runs(dirs_b, metrics, daily)
    seeds = sorted(set(ra.index) & set(rb.index))
    if len(seeds) < 2:
        raise ValueError(f"{len(seeds)} seed(s) in both scenarios; a paired interval needs 2+")
    if daily is None:
        return ra.loc[seeds], rb.loc[seeds], None, None
    days = min(len(x[s]) for x in (sa, sb) for s in seeds)
    return (ra.loc[seeds], rb.loc[seeds], np.stack([sa[s][:days] for s in seeds]),
            np.stack([sb[s][:days] for s in seeds]))


def compare(runs_a: pd.DataFrame, runs_b: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """One row per metric: B - A with the paired 95% interval and the unpaired half-width; and
    each scenario's own 95% interval over seeds (for the figure)."""
    rows = []
    for m in metrics:
        a = runs_a[m].astype(float).to_numpy()
        b = runs_b[m].astype(float).to_numpy()
        r = paired_difference(a, b)
        paired, unpaired = r["paired_half_width"], r["unpaired_half_width"]
        t = t_quantile(len(a) - 1)
        rows.append({
            "metric": m, **r,
            "half_width_a": t * a.std(ddof=1) / np.sqrt(len(a)),
            "half_width_b": t * b.std(ddof=1) / np.sqrt(len(b)),
            "relative_difference": r["difference"] / abs(r["mean_a"]) if r["mean_a"] else np.nan,
            # How much narrower the paired interval is (common random numbers at work).
            "narrowing": (unpaired / paired if paired > 0 else np.inf) if np.isfinite(
                unpaired * paired) else np.nan,
        })
    return pd.DataFrame(rows)


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


def _file_slug(items: list[str], limit: int = 60) -> str:
    """A file-name part for ``items`` (no dots: they would read as a suffix); long ones hashed."""
    import hashlib

    text = "+".join(items)
    slug = re.sub(r"[^A-Za-z0-9_,=+-]", "_", text)
    if len(slug) > limit:
        slug = slug[:limit - 11] + "-" + hashlib.sha1(text.encode()).hexdigest()[:10]
    return slug


def _label(tokens: list[str]) -> str:
    shown = [t for t in tokens if not t.startswith("hydra.")]
    return " ".join(shown) or "(config defaults)"


def _seed_text(seeds) -> str:
    seeds = sorted(seeds)
    if seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}-{seeds[-1]}"
    return ",".join(map(str, seeds))


METRICS_HELP = (
    "comma-separated metrics (default: %s, and order_share_last_30_days.P for each platform). "
    "Forms: NAME, a summary.json figure (orders_total); NAME.PLATFORM, a per-platform summary "
    "figure (order_share_last_30_days.entrant); COLUMN@FROM-TO, the mean of a daily-table "
    "column over days FROM to TO, both included (adoption_rate@0-89; FROM- runs to the end); "
    "COLUMN.PLATFORM@FROM-TO, the same for a platforms-table column (order_share.entrant@90-150;"
    " share = order_share). Names are checked before any run.")


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``gbsim-compare``."""
    ap = argparse.ArgumentParser(
        prog="gbsim-compare",
        description="Scenario B minus scenario A over the same seeds: mean differences with "
                    "paired 95% intervals (common random numbers) against unpaired ones.",
        epilog="examples:\n"
               "  gbsim-compare --a 'incentive.commission_rate=0.10' "
               "--b 'incentive.commission_rate=0.08' --seeds 1-10 market.consumers=5000\n"
               "  gbsim-compare --a experiment=none --b experiment=mine -cd my_configs "
               "--metrics 'share.entrant@90-150,orders_total' --daily-metric share.entrant\n"
               "outputs: --out DIR (default comparisons/<A>__vs__<B>): A/ and B/ runs (reused "
               "by a rerun), comparison_<metrics>_seeds<S>.csv/.png/.pdf (a rerun with other "
               "metrics or seeds writes new files)",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("overrides", nargs="*", help="overrides common to A and B")
    ap.add_argument("--a", default=" ".join(DEFAULT_A),
                    help="scenario A's overrides, space-separated (default: %(default)s)")
    ap.add_argument("--b", default=" ".join(DEFAULT_B),
                    help="scenario B's overrides (default: %(default)s)")
    ap.add_argument("--seeds", default="1-10", help="e.g. 1-10 or 1,2,5 (default: %(default)s)")
    ap.add_argument("--metrics", default=None,
                    help=METRICS_HELP % ", ".join(DEFAULT_METRICS).replace("%", "%%"))
    ap.add_argument("--daily-metric", default=DEFAULT_DAILY,
                    help="a daily-table COLUMN or a platforms-table COLUMN.PLATFORM to plot as "
                         "B - A over time (default: %(default)s; 'none' for no plot)")
    ap.add_argument("--config-dir", "-cd", action="append", type=Path, default=[],
                    metavar="DIR", help="a directory of your own scenario files "
                    "(DIR/experiment/mine.yaml); repeatable")
    ap.add_argument("--from", dest="source", type=Path, default=None,
                    help="take the runs from this directory (a sweep) instead of running them; "
                         "A and B select runs by their override strings")
    ap.add_argument("--out", type=Path, default=None, help="where to write")
    ap.add_argument("--workers", type=int, default=None, help="processes (default: cores)")
    args = ap.parse_args(argv)
    a, b = shlex.split(args.a), shlex.split(args.b)
    try:
        search = _search_path(args.config_dir)
        common = [*search, *args.overrides]
        if args.source is not None:
            out = args.out or args.source / "comparison"
            dirs_a, dirs_b = _select(args.source, a), _select(args.source, b)
            if args.overrides:
                dirs_a = [d for d in dirs_a if set(args.overrides) <= set(read_overrides(d))]
                dirs_b = [d for d in dirs_b if set(args.overrides) <= set(read_overrides(d))]
            if not dirs_a or not dirs_b:
                raise ValueError(f"no complete run under {args.source} for "
                                 f"{'A' if not dirs_a else 'B'} "
                                 f"({_label(a if not dirs_a else b)})")
            check_same_setting(dirs_a, a, dirs_b, b)
            cfgs = [OmegaConf.load(dirs[0] / "config.yaml") for dirs in (dirs_a, dirs_b)]
        else:
            from sim.api import check_overrides, compose

            _no_key_twice(args.overrides, a, "A")
            _no_key_twice(args.overrides, b, "B")
            check_overrides([*common, *a])
            check_overrides([*common, *b])
            cfgs = [compose([*common, *a]), compose([*common, *b])]
        metrics = _metrics(args.metrics, cfgs)
        daily = None
        if args.daily_metric.lower() != "none":
            try:  # a daily series is the window metric over the whole run
                daily = parse_metric(f"{args.daily_metric}@0-", cfgs)
            except MetricError as e:
                raise MetricError(f"--daily-metric {args.daily_metric}: "
                                  + str(e).split(": ", 1)[1]) from None
        if args.source is None:
            seeds = _seeds(args.seeds)
            out = args.out or Path("comparisons") / (
                f"{_slug(a)}__vs__{_slug(b)}" + (f"__{_slug(args.overrides)}"
                                                 if args.overrides else ""))
            counts = run_scenarios(common, a, b, seeds, out, workers=args.workers)
            print(f"gbsim-compare: {2 * len(seeds)} runs in {out}: {counts['ran']} ran, "
                  f"{counts['skipped']} reused (already complete)")
            dirs_a = [_run_dir(out, "A", s) for s in seeds]
            dirs_b = [_run_dir(out, "B", s) for s in seeds]
        runs_a, runs_b, daily_a, daily_b = pair_runs(dirs_a, dirs_b, metrics, daily)
        table = compare(runs_a, runs_b, [m.text for m in metrics])
    except ValueError as e:  # ConfigError and MetricError are ValueErrors: one line
        print(f"gbsim-compare: error: {str(e).splitlines()[0]}", file=sys.stderr)
        sys.exit(2)
    out = Path(out)
    seed_text = _seed_text(runs_a.index)
    names = "default" if args.metrics is None else _file_slug([m.text for m in metrics])
    stem = out / f"comparison_{names}_seeds{seed_text}"
    atomic_write(stem.with_name(stem.name + ".csv"), lambda p: table.to_csv(p, index=False))
    common_label = _label(args.overrides)
    sizes = {f"{int(c.market.consumers):,} households, {int(c.days)} days" for c in cfgs}
    size = " / ".join(f"{n}: {t}" for n, t in zip("AB", (
        f"{int(c.market.consumers):,} households, {int(c.days)} days" for c in cfgs),
        strict=True)) if len(sizes) > 1 else sizes.pop()
    footnote = (f"{len(runs_a)} paired seeds ({seed_text}); {size}; common: {common_label}. "
                "Points: means with 95% CIs over seeds (Student t); B − A: paired 95% CI "
                "(common random numbers).")
    paths = comparison_figure(table, daily_a, daily_b, daily, stem, _label(a), _label(b),
                              labels={m.text: m.label() for m in metrics}, footnote=footnote)
    src = f", runs from {args.source}" if args.source else ""
    print(f"A: {_label(a)}\nB: {_label(b)}\ncommon: {common_label}{src}; "
          f"{len(runs_a)} paired seeds: {seed_text}")
    print("\n".join(report_lines(table)))
    print(f"wrote {stem}.csv, {', '.join(str(p) for p in paths)}")


def _no_key_twice(common: list[str], scenario: list[str], name: str) -> None:
    """A key set both in the common overrides and in a scenario would silently take the
    scenario's value (Hydra keeps the last): refuse it."""
    keys = {o.split("=", 1)[0].lstrip("+~"): o for o in common}
    for o in scenario:
        k = o.split("=", 1)[0].lstrip("+~")
        if k in keys:
            raise ValueError(f"{k} is set twice: {keys[k]} (common) and {o} ({name}); Hydra "
                             f"would keep {name}'s; set it in one place")


def _search_path(dirs: list[Path]) -> list[str]:
    """``--config-dir`` as the ``hydra.searchpath`` override every compose of the runs gets."""
    if not dirs:
        return []
    bad = [d for d in dirs if not d.is_dir()]
    if bad:
        raise ValueError(f"--config-dir {bad[0]}: not a directory; give a directory holding "
                         "config groups, e.g. DIR/experiment/mine.yaml")
    return ["hydra.searchpath=[" + ",".join(f"file://{d.resolve()}" for d in dirs) + "]"]


def _metrics(text: str | None, cfgs) -> list[Metric]:
    """The metrics asked for (or the defaults), each checked against A's and B's configs."""
    if text is None:
        names = [*DEFAULT_METRICS,
                 *(f"order_share_last_30_days.{p}" for p in cfgs[0].platforms
                   if all(p in c.platforms for c in cfgs))]
    else:
        names = [m.strip() for m in text.split(",") if m.strip()]
        if not names:
            raise MetricError("--metrics is empty; " + syntax_help())
    metrics = [parse_metric(m, cfgs) for m in names]
    seen = set()
    for m in metrics:
        if m.text in seen:
            raise MetricError(f"metric {m.text!r} is given twice")
        seen.add(m.text)
    return metrics


if __name__ == "__main__":
    main()
