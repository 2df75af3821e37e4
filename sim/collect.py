"""Collect a sweep: every run's tables in one tidy table, with its overrides and seed as columns.

``gbsim-collect DIR`` finds the runs under ``DIR`` (a sweep directory, or anything holding run
directories), and writes into ``DIR/collected/`` (or ``--out``):

* ``daily.parquet``: one row per run x day: the run's override columns and ``seed``, then the
  columns of the run's ``daily`` table. Likewise every other table a run writes (``platforms``,
  ``spoilage``, ``losses``, ``leaders``, ``leader_stats``, ``leader_reviews``, ``households``).
* ``runs.parquet``: one row per run: override columns, seed and the scalar figures of its
  ``summary.json`` (nested groups flattened as ``group.key``).
* ``runs_by_platform.parquet``: one row per run x platform for the summary's per-platform
  figures (``order_share_last_30_days``, ``cash_final_yuan``): long, never a column per platform.
* ``--metrics share.entrant@90-150,...``: named metrics (:mod:`sim.metrics`, as
  ``gbsim-compare`` reads them) as extra columns of ``runs.parquet``; the names are checked
  against the first run's config before anything is read.

A run is a directory with ``config.yaml`` (or a sweep job's ``job_status.json``); it is complete
when ``summary.json`` exists (written last) and its ``job_status.json``, if any, does not say it
failed. Incomplete runs are reported and skipped. The override columns come from the run's
``.hydra/overrides.yaml`` (Hydra sweeps) or ``overrides.yaml`` (``gbsim-compare``): a config-group
override (``incentive=flat``) gives the option's name, any other override the typed value from
the run's saved config.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from omegaconf import OmegaConf

from sim.outputs import atomic_write, read_overrides

__all__ = ["Collection", "collect", "find_runs", "main", "read_overrides", "write_collection"]

TABLES = ("daily", "platforms", "spoilage", "losses", "leaders", "leader_stats", "leader_reviews",
          "households")  # every table a run writes
OUT_NAME = "collected"
RUN_COLUMN = "run"  # the run's directory, relative to the collected directory


@dataclass
class Collection:
    """The collected tables of a sweep and the runs left out (with the reason)."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    runs: pd.DataFrame = field(default_factory=pd.DataFrame)
    runs_by_platform: pd.DataFrame = field(default_factory=pd.DataFrame)
    incomplete: list[tuple[Path, str]] = field(default_factory=list)
    override_keys: list[str] = field(default_factory=list)


def find_runs(root: Path) -> list[Path]:
    """Run directories under ``root``: those with a ``config.yaml`` or a sweep job's status."""
    root = Path(root)
    runs = set()
    for name in ("config.yaml", "job_status.json"):
        for f in root.rglob(name):
            rel = f.parent.relative_to(root).parts
            if any(p.startswith(".") or p == OUT_NAME for p in rel):
                continue
            runs.add(f.parent)
    return sorted(runs, key=_natural)


def _natural(p: Path):
    # Job directories are numbered: 2 before 10.
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in p.parts]


def _incomplete_reason(run_dir: Path) -> str | None:
    status = run_dir / "job_status.json"
    if status.is_file():
        try:
            rec = json.loads(status.read_text())
        except ValueError:
            rec = {}
        if rec.get("status") == "failed":
            return "failed: " + rec.get("error", "")
    if not (run_dir / "summary.json").is_file():
        return "no summary.json (unfinished or interrupted)"
    return None


def _group_names() -> set[str]:
    from sim.api import CONFIG_DIR
    from sim.config.sources import NOT_GROUPS

    return {p.name for p in Path(CONFIG_DIR).iterdir() if p.is_dir() and p.name not in NOT_GROUPS}


def _override_values(overrides: list[str], cfg, groups: set[str]) -> dict:
    values = {}
    for o in overrides:
        key, _, raw = o.partition("=")
        key = key.lstrip("+~")
        if key.startswith("hydra") or key == "seed":
            continue
        if key in groups:
            values[key] = raw
            continue
        v = OmegaConf.select(cfg, key, default=None)
        if OmegaConf.is_config(v):
            v = json.dumps(OmegaConf.to_container(v, resolve=True))
        values[key] = raw if v is None else v
    return values


def _flatten(d: dict, platforms: set[str], prefix: str = "") -> tuple[dict, dict]:
    """Scalars of a summary as ``a.b`` columns; per-platform dicts set aside (returned second)."""
    flat, per_platform = {}, {}
    for k, v in d.items():
        if isinstance(v, dict):
            if v and set(v) <= platforms:
                per_platform[prefix + k] = v
            else:
                f, p = _flatten(v, platforms, f"{prefix}{k}.")
                flat.update(f)
                per_platform.update(p)
        elif isinstance(v, list):
            continue  # event lists (platform exits) live in the tables
        else:
            flat[prefix + k] = v
    return flat, per_platform


def collect(root: Path, tables=TABLES, metrics=()) -> Collection:
    """Gather the complete runs under ``root`` (see the module docstring).

    ``metrics``: parsed :class:`sim.metrics.Metric` s, each added as a column of ``runs``.
    """
    from sim.metrics import read_metric

    root = Path(root)
    groups = _group_names()
    out = Collection()
    rows, plat_rows, parts = [], [], {t: [] for t in tables}
    keys: list[str] = []
    for run_dir in find_runs(root):
        why = _incomplete_reason(run_dir)
        if why is not None:
            out.incomplete.append((run_dir, why))
            continue
        cfg = OmegaConf.load(run_dir / "config.yaml")
        ov = _override_values(read_overrides(run_dir), cfg, groups)
        keys += [k for k in ov if k not in keys]
        ident = {RUN_COLUMN: str(run_dir.relative_to(root)), **ov, "seed": int(cfg.seed)}
        summary = json.loads((run_dir / "summary.json").read_text())
        flat, per_platform = _flatten(summary, set(cfg.platforms))
        for k in ident:
            flat.pop(k, None)
        cache: dict = {}
        rows.append({**ident, **flat, **{m.text: read_metric(m, run_dir, cache)
                                         for m in metrics}})
        names = sorted({p for v in per_platform.values() for p in v})
        for p in names:
            plat_rows.append({**ident, "platform": p,
                              **{k: v.get(p) for k, v in per_platform.items()}})
        for t in tables:
            f = run_dir / f"{t}.parquet"
            if f.is_file():
                df = pd.read_parquet(f)
                for i, (k, v) in enumerate(ident.items()):
                    df.insert(i, k, v)
                parts[t].append(df)
    ident_cols = [RUN_COLUMN, *keys, "seed"]

    def _order(df: pd.DataFrame) -> pd.DataFrame:
        # Runs without an override (another sweep in the same tree) get missing values there.
        for k in ident_cols:
            if k not in df.columns:
                df[k] = None
        return df[ident_cols + [c for c in df.columns if c not in ident_cols]]

    out.override_keys = keys
    out.runs = _order(pd.DataFrame(rows)) if rows else pd.DataFrame(columns=ident_cols)
    out.runs_by_platform = _order(pd.DataFrame(plat_rows)) if plat_rows else pd.DataFrame()
    for t, dfs in parts.items():
        if dfs:
            out.tables[t] = _order(pd.concat([d for d in dfs if len(d)] or dfs[:1],
                                             ignore_index=True))
    return out


def write_collection(c: Collection, out_dir: Path) -> list[Path]:
    """Write every collected table as Parquet into ``out_dir`` (atomically); returns the paths."""
    out_dir = Path(out_dir)
    named = {**c.tables, "runs": c.runs, "runs_by_platform": c.runs_by_platform}
    paths = []
    for name, df in named.items():
        path = out_dir / f"{name}.parquet"
        atomic_write(path, lambda p, df=df: df.to_parquet(p, index=False))
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``gbsim-collect``."""
    ap = argparse.ArgumentParser(
        prog="gbsim-collect",
        description="Gather a sweep directory into tidy Parquet tables with override and seed "
                    "columns (one row per run x day, and a per-run summary table).")
    ap.add_argument("directory", type=Path, help="a sweep directory (multirun/...)")
    ap.add_argument("--out", type=Path, default=None,
                    help=f"where to write (default: DIRECTORY/{OUT_NAME})")
    ap.add_argument("--metrics", default="",
                    help="named metrics to add to runs.parquet, comma-separated, as "
                         "gbsim-compare reads them: NAME, NAME.PLATFORM, COLUMN@FROM-TO, "
                         "COLUMN.PLATFORM@FROM-TO (e.g. share.entrant@90-150)")
    args = ap.parse_args(argv)
    if not args.directory.is_dir():
        print(f"gbsim-collect: error: {args.directory}: not a directory", file=sys.stderr)
        sys.exit(2)
    metrics = []
    names = [m.strip() for m in args.metrics.split(",") if m.strip()]
    if names:
        from sim.metrics import parse_metric

        configs = [d / "config.yaml" for d in find_runs(args.directory)
                   if (d / "summary.json").is_file()]
        try:
            cfgs = [OmegaConf.load(configs[0])] if configs else []
            metrics = [parse_metric(m, cfgs) for m in names]
        except ValueError as e:
            print(f"gbsim-collect: error: {e}", file=sys.stderr)
            sys.exit(2)
    c = collect(args.directory, metrics=metrics)
    for run_dir, why in c.incomplete:
        print(f"gbsim-collect: skipped incomplete run {run_dir}: {why}", file=sys.stderr)
    if c.runs.empty:
        print(f"gbsim-collect: error: no complete run under {args.directory}", file=sys.stderr)
        sys.exit(1)
    out_dir = args.out or args.directory / OUT_NAME
    paths = write_collection(c, out_dir)
    cols = ", ".join([*c.override_keys, "seed"])
    print(f"gbsim-collect: {len(c.runs)} runs ({len(c.incomplete)} incomplete skipped); "
          f"run columns: {cols}")
    rows = {**{k: len(v) for k, v in c.tables.items()}, "runs": len(c.runs),
            "runs_by_platform": len(c.runs_by_platform)}
    for p in paths:
        print(f"  {p}  ({rows[p.stem]} rows)")


if __name__ == "__main__":
    main()
