"""Command line: ``gbsim`` (also ``python -m sim``), the Hydra app.

``gbsim [overrides]`` runs one scenario; ``gbsim -m [sweep overrides]`` runs a sweep (in parallel
through Hydra's joblib launcher by default; Ray or Slurm with ``hydra/launcher=...``). Before
Hydra starts, every override is checked against the schema (each value of a sweep too): an
unknown key, a wrong type or an out-of-range value stops the run with one line naming the key,
the value and what is allowed, exit status 2, and nothing written.

This module is the command line only. What it runs lives in :mod:`sim.api` (composing, checking
and running a config, shared with the other front ends, which never import this module): the
Hydra task is a thin wrapper around :func:`sim.api.run`. In a sweep each job goes through
:func:`sim.sweeps.run_job` (skip if complete, record failures), and the command ends with the
sweep's report: the failed jobs listed, exit status 1 if any.

What is gbsim's own, before Hydra sees the command line: ``--help`` (short: what to type, where
the config groups are, how to see the config; ``--help-config`` is Hydra's full help with the
config), ``--version`` (the code version), ``--config-dir``/``-cd`` (a directory of the user's
own scenario files, also checked before the run; docs/scenarios.md), and Ctrl-C (one line: how
many jobs of a sweep finished, and that the same command resumes; exit status 130).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from sim import sweeps
from sim.api import CONFIG_DIR, check_overrides, run, scenario
from sim.config import ConfigError
from sim.progress import SweepProgress

__all__ = ["main"]

log = logging.getLogger("gbsim")
INTERRUPTED = 130  # the shell's status for a command stopped by Ctrl-C (128 + SIGINT)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def _hydra_app(cfg: DictConfig) -> str | None:
    from sim.version import version_line

    hc = HydraConfig.get()
    out_dir = hc.runtime.output_dir
    task = list(hc.overrides.task)
    named = scenario(hc.runtime.choices, hc.overrides.task)
    # The record in <run dir>/gbsim.log (configs/hydra/job_logging/gbsim.yaml).
    log.info("%s; overrides: %s", version_line(), " ".join(task) or "(none)")
    if hc.mode == RunMode.MULTIRUN:
        status = sweeps.run_job(cfg, Path(out_dir), task, scenario=named)
        log.info("job %s", status)
        return status
    summary = run(cfg, out_dir, scenario=named)
    log.info("done: %s days, seed %s, wall seconds %s", cfg.days, cfg.seed,
             summary.get("wall_seconds"))
    return None


def _config_dirs(argv: list[str]) -> tuple[list[Path], list[str]]:
    """The directories given with ``--config-dir``/``-cd``; argv with relative ones made absolute.

    Hydra takes one such directory; it is on the search path after the project's ``configs``.
    """
    dirs, out, i = [], [], 0
    while i < len(argv):
        a = argv[i]
        if a in ("--config-dir", "-cd") and i + 1 < len(argv):
            value, i = argv[i + 1], i + 2
        elif a.startswith("--config-dir="):
            value, i = a.partition("=")[2], i + 1
        else:
            out.append(a)
            i += 1
            continue
        d = Path(value).expanduser().resolve()
        if not d.is_dir():
            raise ConfigError(f"--config-dir {value}: not a directory; give a directory holding "
                              "config groups, e.g. DIR/experiment/mine.yaml")
        dirs.append(d)
        out += ["--config-dir", str(d)]
    return dirs, out


def _with_search_path(overrides: list[str], dirs: list[Path]) -> list[str]:
    """``overrides`` with one ``hydra.searchpath`` holding the user's and ``--config-dir``'s."""
    from sim.config.sources import searchpath_overrides

    given = searchpath_overrides(overrides)
    if not dirs:
        return overrides
    items = [f"file://{d}" for d in dirs]
    for g in given:
        items += [x.strip().strip("'\"") for x in g.partition("=")[2].strip("[]").split(",")
                  if x.strip()]
    rest = [o for o in overrides if o not in given]
    return [*rest, "hydra.searchpath=[" + ",".join(items) + "]"]


def short_help(dirs: list[Path] | None = None) -> str:
    """``gbsim --help``: what to type, where the config groups are, how to list options."""
    from sim.config.sources import NOT_GROUPS, group_options

    search = [Path(CONFIG_DIR), *(dirs or [])]
    groups = sorted({p.name for d in search for p in d.iterdir()
                     if p.is_dir() and p.name not in NOT_GROUPS})
    width = max(len(g) for g in groups)
    lines = [
        "gbsim: run the group-buying model, one scenario or a sweep.",
        "",
        "usage:",
        "  gbsim [KEY=VALUE ...]                  one run; outputs in outputs/<date>/<time>/",
        "  gbsim experiment=commission_cut        a named scenario (configs/experiment/*.yaml)",
        "  gbsim -m incentive.commission_rate=0.05,0.1 'seed=range(1,6)'",
        "                                         a sweep: every combination, in parallel;",
        "                                         the same command again resumes it",
        "  gbsim -cd DIR experiment=mine          your own scenario, DIR/experiment/mine.yaml",
        "",
        f"config groups (GROUP=OPTION), files in {CONFIG_DIR}/GROUP/"
        + (" and " + ", ".join(str(d) for d in dirs) if dirs else "") + ":",
        *(f"  {g:<{width}}  {', '.join(group_options(g, search))}" for g in groups),
        "any other value: KEY=VALUE, e.g. days=90 market.consumers=5000 seed=3",
        "",
        "  gbsim --cfg job [overrides]   print the config a run would use (to find a KEY)",
        "  gbsim --help-config           the full help with every default (Hydra's)",
        "  gbsim --version               the code version",
        "  gbsim-compare --help          compare two scenarios over seeds",
        "  docs/scenarios.md             writing scenarios, your own config directory",
    ]
    return "\n".join(lines)


def _quoted(value: str) -> str:
    """``value`` as a quoted string of Hydra's override grammar."""
    q = "'" if "'" not in value else '"'
    return f"{q}{value}{q}"


def _sweep_dir(argv: list[str], overrides: list[str]) -> tuple[list[str], Path | None]:
    """Fix the sweep directory before Hydra starts, so that the command can report on it.

    Without ``hydra.sweep.dir=...`` the directory is decided by the overrides
    (:func:`sim.sweeps.sweep_dir_for`): running the same sweep again resumes it.
    """
    given = [o for o in overrides if o.startswith("hydra.sweep.dir=")]
    if given:
        value = given[-1].partition("=")[2].strip("'\"")
        if "${" in value:  # e.g. multirun/${now:%Y-%m-%d}: resolve it once, here
            from hydra.core.utils import setup_globals
            from omegaconf import OmegaConf

            setup_globals()  # Hydra's resolvers (now)
            try:
                value = str(OmegaConf.create({"d": value}).d)
            except Exception:
                raise ConfigError(
                    f"hydra.sweep.dir={value}: give a path, optionally with ${{now:...}}; "
                    "gbsim reads the jobs' records from it") from None
        where = Path(value).resolve()
        argv = [a for a in argv if a not in given]
    else:
        where = sweeps.sweep_dir_for(overrides)
    return [*argv, f"hydra.sweep.dir={_quoted(str(where))}"], where


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``gbsim``: check the overrides, then hand over to Hydra.

    A sweep (``-m``) ends with a report of its jobs; exit status 1 if any failed.
    """
    argv = sys.argv[1:] if argv is None else argv
    if "--version" in argv:
        from sim.version import version_line

        print(version_line())
        return
    try:
        dirs, argv = _config_dirs(argv)
    except ConfigError as e:
        print(f"gbsim: error: {e}", file=sys.stderr)
        sys.exit(2)
    if any(a in ("-h", "--help") for a in argv):
        print(short_help(dirs))
        return
    argv = ["--help" if a == "--help-config" else a for a in argv]
    overrides = [a for a in argv if "=" in a and not a.startswith("-")]
    try:
        check_overrides(_with_search_path(overrides, dirs))
    except ConfigError as e:
        print(f"gbsim: error: {e}", file=sys.stderr)
        sys.exit(2)
    multirun = any(a in ("-m", "--multirun") for a in argv)
    asks_only = any(a.startswith(("--cfg", "-c", "--help", "-h", "--info", "--hydra-help",
                                  "--shell-completion", "-sc")) for a in argv)
    sweep_dir = None
    if multirun and not asks_only:
        try:
            argv, sweep_dir = _sweep_dir(argv, overrides)
        except ConfigError as e:
            print(f"gbsim: error: {e}", file=sys.stderr)
            sys.exit(2)
    sys.argv = [sys.argv[0], *argv]
    if sweep_dir is None:
        try:
            _hydra_app()
        except KeyboardInterrupt:
            # write_run writes summary.json last: an interrupted run is never taken as complete.
            print("\ngbsim: interrupted; the run is incomplete (no summary.json)",
                  file=sys.stderr)
            sys.exit(INTERRUPTED)
        return
    jobs = sweeps.expected_jobs(overrides)
    # Jobs in worker processes leave Ctrl-C to this process (sweeps.run_job): one line, below,
    # instead of a traceback from every worker.
    os.environ[sweeps.COMMAND_PID_ENV] = str(os.getpid())
    with SweepProgress(sweep_dir, len(jobs)) as progress:
        try:
            _hydra_app()
        except KeyboardInterrupt:
            done = sweeps.finished_jobs(sweep_dir, jobs)
            print(f"\ngbsim: interrupted: {done} of {len(jobs)} jobs finished in {sweep_dir}; "
                  "run the same command again to resume (finished jobs are skipped)",
                  file=sys.stderr, flush=True)
            sys.exit(INTERRUPTED)
    status = sweeps.report(sweep_dir, jobs, since=progress.since)
    if status:
        sys.exit(status)


if __name__ == "__main__":
    main()
