"""Many runs, fast: a design of parameter sets x seeds on warm worker processes (``gbsim-batch``).

"Does B beat A across what we do not know?" takes thousands of runs, and a ``gbsim`` process
spends about as long starting and composing as a small run simulates. Here (docs/batch.md):

* **A design** is a DataFrame whose columns are config keys (``choice.habit``) or groups
  (``incentive``); each row runs once per seed (or by its own ``seed`` column), under each of
  ``scenarios={"A": [...], "B": [...]}`` if given: a paired design, common random numbers (ODD 4).
* **Checked first.** Every row's config is built and validated (:func:`sim.config.validate`;
  the base and scenario overrides by :func:`sim.api.check_overrides`) before any run starts; a
  bad row stops the batch with one line naming the row, the key, the value and what is allowed.
* **Composed once.** Hydra composes each distinct set of group choices once per process; a row's
  values are set on it in place with OmegaConf. Workers are joblib's reusable (loky) processes,
  warm across tasks; ``backend="ray"`` sends the tasks to a Ray cluster (:mod:`sim.workers`).
* **Resumable.** A run's key hashes its composed config, values and seed. Each finished run is
  stored at once under ``OUT/rows/``: its series, then ``<key>.json`` (its summary), written
  atomically and last: the completion stamp. The same call again skips every stamped run: a
  killed batch loses only the runs in flight and redoes none that finished.
* **Tidy results.** ``OUT/runs.parquet`` has ``gbsim-collect``'s schema: ``run`` (the key), the
  design columns (and ``scenario``), ``seed``, the summary's scalars as ``group.key`` and
  ``code_version.*``; ``runs_by_platform.parquet``; chosen series (``series=("daily",)``) long.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from sim.api import CONFIG_DIR, check_overrides, compose_scenario
from sim.collect import RUN_COLUMN
from sim.config import ConfigError, validate
from sim.outputs import atomic_write
from sim.progress import run_bar
from sim.version import code_version
from sim.workers import BACKENDS, Task, applied, executor

__all__ = ["BACKENDS", "SERIES", "Batch", "main", "plan", "run_many"]

# The tables a run records (sim.records.recorder) that can be kept as series, long format.
SERIES = ("daily", "platforms", "spoilage", "losses", "leaders", "leader_stats", "leader_reviews",
          "households")
ROWS_DIR = "rows"
# Keys that change how a run is shown, not what it computes: left out of a run's key.
NOT_MODEL_KEYS = ("progress",)


# ---------------------------------------------------------------------------------------------
# the plan: every run's config, built and checked before any run starts


def _groups() -> set[str]:  # configs/uncertainty: registries (sim.uncertainty), not a group
    from sim.config.sources import NOT_GROUPS

    return {p.name for p in Path(CONFIG_DIR).iterdir() if p.is_dir()} - set(NOT_GROUPS)


def _py(v):
    """A design cell as a plain Python value (OmegaConf rejects numpy scalars)."""
    if hasattr(v, "item") and not isinstance(v, str | bytes):
        return v.item()
    return [_py(x) for x in v] if isinstance(v, list | tuple) else v


def _digest(obj) -> str:
    text = json.dumps(obj, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _base_digest(cfg: DictConfig) -> str:
    """The resolved composed config, display keys left out: a changed YAML, a new key."""
    container = OmegaConf.to_container(cfg, resolve=True)
    return _digest({k: v for k, v in container.items() if k not in NOT_MODEL_KEYS})


def _check_values(base: DictConfig, values, where: str) -> None:
    """One line for the first value that cannot be set (unknown key, wrong type); on failure."""
    for key, value in values:
        parts, node = key.split("."), base
        for i, part in enumerate(parts):
            if not isinstance(node, DictConfig) or part not in node:
                at = ".".join(parts[:i]) or "the top level"
                allowed = ", ".join(map(str, node.keys())) if isinstance(node, DictConfig) else ""
                raise ConfigError(f"{where}{key}={value}: unknown key '{part}' in {at}; "
                                  f"allowed keys: {allowed or '(none)'}")
            node = node[part]
        try:
            with applied(base, [(key, value)]):
                pass
        except Exception as e:
            raise ConfigError(f"{where}{key}={value}: {str(e).strip().splitlines()[0]}") from None


def plan(base: Sequence[str] = (), design: pd.DataFrame | None = None, seeds=None, *,
         scenarios: dict[str, Sequence[str]] | None = None, series: Sequence[str] = ()
         ) -> tuple[pd.DataFrame, list[Task]]:
    """Every run of a batch, built and validated; returns (the runs' identity table, tasks).

    The identity table has one row per run: ``run`` (its key), ``scenario`` (when scenarios are
    given), the design columns and ``seed``, in the order scenario x design row x seed.

    Raises:
        ConfigError: one line naming the design row, the key, the value and what is allowed.
    """
    design = pd.DataFrame([{}]) if design is None or design.empty else design.reset_index(
        drop=True)
    scen = {"": list(base)} if scenarios is None else \
        {str(k): list(base) + list(v) for k, v in scenarios.items()}
    bad = [s for s in series if s not in SERIES]
    if bad:
        raise ConfigError(f"series={bad[0]}: no such table; allowed: {', '.join(SERIES)}")
    groups = _groups()
    cols = [c for c in design.columns if c != "seed"]
    if "seed" in design.columns and seeds is not None:
        raise ConfigError("seeds: the design has a seed column; give the seeds one way only")
    seed_lists = [[int(s)] for s in design["seed"]] if "seed" in design.columns else \
        [[int(s) for s in ((0,) if seeds is None else seeds)]] * len(design)
    composed: dict[tuple, tuple[DictConfig, str, dict]] = {}
    ident, tasks, seen, listed, chosen = [], [], set(), set(), {}
    for sname, overrides in scen.items():
        # Row dicts, not iterrows(): a row Series would turn an integer column into floats
        # when another column holds floats.
        for i, row in enumerate(design[cols].to_dict("records")):
            where = f"design row {i}{f' (scenario {sname})' if sname else ''}: "
            g = tuple(overrides) + tuple(f"{c}={row[c]}" for c in cols if c in groups)
            vals = tuple((c, _py(row[c])) for c in cols if c not in groups)
            if g not in composed:
                try:
                    check_overrides(list(g))  # gbsim's own check: one line per bad override
                except ConfigError as e:
                    raise ConfigError(f"{where}{e}") from None
                cfg, named = compose_scenario(list(g))  # and its group choices, as run() records
                composed[g] = cfg, _base_digest(cfg), named["choices"]
            cfg, digest, choices = composed[g]
            try:
                with applied(cfg, vals):
                    validate(cfg)
            except ConfigError as e:
                raise ConfigError(f"{where}{e}") from None
            except Exception:  # OmegaConf's: an unknown key, a value of the wrong type
                _check_values(cfg, vals, where)
                raise
            for seed in seed_lists[i]:
                # A run's key: the composed config (its YAML and group choices), the values set
                # on it, and the seed. The same key, the same run (ODD 10: same seed and config,
                # the same tables).
                key = _digest([digest, [[c, v] for c, v in vals], seed])
                # A scenario keeps its rows when its runs are another's (a paired table needs
                # both); a repeated design row within a scenario is one row.
                if (sname, key) not in listed:
                    listed.add((sname, key))
                    ident.append({RUN_COLUMN: key, **({"scenario": sname} if scenarios else {}),
                                  **{c: _py(row[c]) for c in cols}, "seed": seed})
                if key in seen:
                    continue  # the same run twice: run it once
                seen.add(key)
                chosen[key] = choices
                tasks.append(Task(key, g, vals, seed, tuple(series)))
    if any(not (0 <= t.seed <= 2**32 - 1) for t in tasks):
        raise ConfigError("seed: out of range; allowed an integer in [0, 4294967295]")
    table = pd.DataFrame(ident)
    table.attrs["choices"] = chosen  # each run's group choices: scenario.choices.* columns
    return table, tasks


# ---------------------------------------------------------------------------------------------
# the worker: warm between tasks


class Store:
    """Finished runs under ``root/rows``: ``<key>.<table>.parquet`` first, ``<key>.json`` last."""

    def __init__(self, root: Path):
        self.rows = Path(root) / ROWS_DIR
        self.rows.mkdir(parents=True, exist_ok=True)

    def finished(self) -> set[str]:  # the stamped runs' keys
        return {p.stem for p in self.rows.glob("*.json")}

    def put(self, res: dict) -> None:
        key = res["key"]
        for name, df in res["series"].items():
            atomic_write(self.rows / f"{key}.{name}.parquet",
                         lambda p, df=df: df.to_parquet(p, index=False))
        stamp = {k: res[k] for k in ("flat", "per_platform", "seconds")}
        stamp["code_version"] = code_version()
        atomic_write(self.rows / f"{key}.json",
                     lambda p: p.write_text(json.dumps(stamp, default=float) + "\n"))

    def get(self, key: str) -> dict:
        return json.loads((self.rows / f"{key}.json").read_text())

    def series(self, key: str, name: str) -> pd.DataFrame | None:
        return pd.read_parquet(f) if (f := self.rows / f"{key}.{name}.parquet").is_file() else None


# ---------------------------------------------------------------------------------------------
# running a batch


@dataclass
class Batch:
    """A batch's results, and what it cost."""

    runs: pd.DataFrame
    runs_by_platform: pd.DataFrame
    series: dict[str, pd.DataFrame] = field(default_factory=dict)
    ran: int = 0  # runs done by this call
    skipped: int = 0  # runs found finished in the store (a resumed batch)
    workers: int = 1
    wall_seconds: float = 0.0  # the call, planning and writing included
    plan_seconds: float = 0.0  # composing and validating every row
    # Seconds inside the workers, summed over this call's runs: wall clock (prepare: compose
    # and set values; setup; simulate; summarise) and CPU. Model = set-up + simulation;
    # summary = the run's tables and summary (sim.records, paid by every run, gbsim's too);
    # runner = the rest: this process (plan, store, tables) and the workers' start, imports,
    # composing, pickling.
    model_seconds: float = 0.0
    simulate_seconds: float = 0.0
    worker_seconds: dict = field(default_factory=dict)
    model_cpu_seconds: float = 0.0
    summary_cpu_seconds: float = 0.0
    runner_cpu_seconds: float = 0.0
    out: Path | None = None

    @property
    def overhead_cpu(self) -> float:
        """The runner's CPU seconds as a share of the model's: robust to a shared machine."""
        return self.runner_cpu_seconds / self.model_cpu_seconds if self.model_cpu_seconds \
            else float("nan")

    @property
    def overhead(self) -> float:
        """The runner's cost as a share of model time: (workers x wall - model) / model."""
        if not self.model_seconds:
            return float("nan")
        return (self.workers * self.wall_seconds - self.model_seconds) / self.model_seconds


def _assemble(ident: pd.DataFrame, store: Store, series: Sequence[str]):
    rows, plat, parts = [], [], {s: [] for s in series}
    id_cols = list(ident.columns)
    for rec in ident.to_dict("records"):
        got = store.get(rec[RUN_COLUMN])
        flat = {k: v for k, v in got["flat"].items() if k not in rec}
        ver = {f"code_version.{k}": v for k, v in got["code_version"].items()}
        ch = ident.attrs["choices"][rec[RUN_COLUMN]]
        rows.append({**rec, **flat, **ver, **{f"scenario.choices.{k}": v for k, v in ch.items()}})
        pp = got["per_platform"]
        for p in sorted({p for v in pp.values() for p in v}):
            plat.append({**rec, "platform": p, **{k: v.get(p) for k, v in pp.items()}})
        for s in series:
            df = store.series(rec[RUN_COLUMN], s)
            if df is not None:
                for i, (k, v) in enumerate(rec.items()):
                    df.insert(i, k, v)
                parts[s].append(df)
    runs = pd.DataFrame(rows, columns=None) if rows else pd.DataFrame(columns=id_cols)
    tables = {s: pd.concat(dfs, ignore_index=True) for s, dfs in parts.items() if dfs}
    return runs, pd.DataFrame(plat), tables


def run_many(base: Sequence[str] = (), design: pd.DataFrame | None = None, seeds=None, *,
             scenarios: dict[str, Sequence[str]] | None = None, out: str | Path | None = None,
             series: Sequence[str] = (), workers: int | None = None, backend: str = "loky",
             progress: bool | None = None) -> Batch:
    """Run every row of ``design`` for every seed (under every scenario), on warm workers.

    Args:
        base: overrides every run shares, as on the ``gbsim`` command line
            (``["market.consumers=5000"]``).
        design: one row per parameter set; columns are config keys or config groups (and
            optionally ``seed``). None: the base alone.
        seeds: the seeds each row runs with (default: seed 0); not with a ``seed`` column.
        scenarios: ``{"A": [overrides], "B": [...]}``: every row and seed runs under each
            (a paired design); a ``scenario`` column names it.
        out: the batch's directory: finished runs are stored there as they finish, and the
            tables written there at the end. Running the same call again resumes. None: a
            temporary directory (nothing kept).
        series: tables of each run to keep, long (``daily``, ``platforms``, ...; :data:`SERIES`).
        workers: worker processes (default: one per core).
        backend: ``loky`` (local processes), ``ray`` (a Ray cluster, the ``cluster`` extra) or
            ``sequential`` (this process).
        progress: a bar on stderr (None: only on a terminal).

    Raises:
        ConfigError: a bad row, before any run starts (one line: row, key, value, allowed).
    """
    t0, c0 = time.perf_counter(), time.process_time()
    if backend not in BACKENDS:
        raise ConfigError(f"backend={backend}: not allowed; choose one of {', '.join(BACKENDS)}")
    if backend == "ray":
        try:
            import ray.util.joblib  # noqa: F401
        except ImportError:
            raise ConfigError("backend=ray: Ray is not installed; install the cluster extra "
                              "(pip install -e '.[cluster]')") from None
    ident, tasks = plan(base, design, seeds, scenarios=scenarios, series=series)
    t_plan = time.perf_counter() - t0
    # Ray: every CPU of the cluster (-1) unless told; locally one worker per core.
    workers = workers or (-1 if backend == "ray" else os.cpu_count() or 1)
    if workers < 0 and backend != "ray":  # joblib's -1: every core
        workers = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="gbsim-batch-") as tmp:
        root = Path(out) if out is not None else Path(tmp)
        store = Store(root)
        # Finished: stamped, with every series asked for now (an earlier call may not have).
        done = {k for k in store.finished()
                if all((store.rows / f"{k}.{s}.parquet").is_file() for s in series)}
        todo = [t for t in tasks if t.key not in done]
        spent: dict[str, float] = {}
        model_cpu = workers_cpu = summary_cpu = 0.0
        if todo:
            config, results = executor(backend, workers)
            with config, run_bar(len(tasks), len(tasks) - len(todo), progress) as bar:
                for res in results(todo):
                    store.put(res)  # at once: a finished run is never lost to a kill
                    for k, v in res["seconds"].items():
                        spent[k] = spent.get(k, 0.0) + v
                    model_cpu += res["cpu"]["model"]
                    summary_cpu += res["cpu"]["summary"]
                    workers_cpu += res["cpu"]["since_last"]
                    bar.update(1)
        runs, by_platform, tables = _assemble(ident, store, series)
        if out is not None:
            named = {"runs": runs, "runs_by_platform": by_platform, **tables}
            for name, df in named.items():
                atomic_write(root / f"{name}.parquet",
                             lambda p, df=df: df.to_parquet(p, index=False))
    # In sequential mode the tasks ran in this process: their CPU is in both counts.
    if backend == "sequential" or workers <= 1:
        workers_cpu = 0.0
    runner_cpu = time.process_time() - c0 + workers_cpu - model_cpu - summary_cpu
    return Batch(runs, by_platform, tables, ran=len(todo), skipped=len(tasks) - len(todo),
                 workers=1 if backend == "sequential" else workers,
                 wall_seconds=time.perf_counter() - t0, plan_seconds=t_plan,
                 model_seconds=spent.get("setup", 0.0) + spent.get("simulate", 0.0),
                 simulate_seconds=spent.get("simulate", 0.0), worker_seconds=spent,
                 model_cpu_seconds=model_cpu, summary_cpu_seconds=summary_cpu,
                 runner_cpu_seconds=runner_cpu, out=Path(out) if out is not None else None)


# ---------------------------------------------------------------------------------------------
# the command

def main(argv: list[str] | None = None) -> None:
    """Entry point of ``gbsim-batch``."""
    ap = argparse.ArgumentParser(
        prog="gbsim-batch",
        description="Run a design (parameter sets x seeds) on warm workers, resumably, into "
                    "OUT/runs.parquet (gbsim-collect's schema) and chosen series (docs/batch.md)")
    ap.add_argument("overrides", nargs="*", help="overrides every run shares (as for gbsim)")
    ap.add_argument("--out", type=Path, required=True, help="the batch directory (again: resume)")
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--design", type=Path, help="a .csv or .parquet table: config keys, groups")
    src.add_argument("--sample", metavar="REGISTRY",
                     help="sample the design from configs/uncertainty/REGISTRY.yaml")
    ap.add_argument("--method", default="lhs", help="sampler: lhs, sobol or morris (SALib)")
    ap.add_argument("--n", type=int, default=50, help="SALib's N (lhs: points; default 50)")
    ap.add_argument("--sample-seed", type=int, default=0, help="the sampler's seed")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0], help="model seeds per row")
    ap.add_argument("--scenario", nargs=2, action="append", metavar=("NAME", "OVERRIDES"),
                    help="paired: --scenario A incentive=flat --scenario B incentive=tiered")
    ap.add_argument("--series", nargs="*", default=[], help=f"tables to keep: {', '.join(SERIES)}")
    ap.add_argument("--workers", type=int, default=None, help="worker processes (default: cores)")
    ap.add_argument("--backend", default="loky", help=f"one of {', '.join(BACKENDS)}")
    args = ap.parse_args(argv)
    try:
        if args.sample:
            from sim import uncertainty

            reg = uncertainty.load(args.sample, base=args.overrides)
            design = uncertainty.sample(reg, args.method, args.n, seed=args.sample_seed)
            args.overrides = reg.overrides(args.overrides)  # the registry's scenario first
        else:
            readers = {".csv": pd.read_csv, ".parquet": pd.read_parquet}
            if args.design and args.design.suffix not in readers:
                raise ConfigError(f"--design {args.design}: give a .csv or .parquet table")
            design = readers[args.design.suffix](args.design) if args.design else None
        scenarios = {name: ov.split() for name, ov in args.scenario} if args.scenario else None
        seeds = None if design is not None and "seed" in design.columns else args.seeds
        b = run_many(args.overrides, design, seeds, scenarios=scenarios, out=args.out,
                     series=args.series, workers=args.workers, backend=args.backend)
    except ConfigError as e:
        print(f"gbsim-batch: error: {e}", file=sys.stderr)
        sys.exit(2)
    print(f"gbsim-batch: {b.ran + b.skipped} runs ({b.ran} ran, {b.skipped} already done) in "
          f"{b.wall_seconds:.1f} s on {b.workers} workers; the runner's CPU "
          f"{b.overhead_cpu:.0%} of the model's" if b.ran else
          f"gbsim-batch: {b.skipped} runs, all already done")
    print("\n".join(f"  {p}" for n in ("runs", "runs_by_platform", *args.series)
                     if (p := args.out / f"{n}.parquet").is_file()))  # what was written


if __name__ == "__main__":
    main()
