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
"""

from __future__ import annotations

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


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def _hydra_app(cfg: DictConfig) -> str | None:
    hc = HydraConfig.get()
    out_dir = hc.runtime.output_dir
    named = scenario(hc.runtime.choices, hc.overrides.task)
    if hc.mode == RunMode.MULTIRUN:
        return sweeps.run_job(cfg, Path(out_dir), list(hc.overrides.task), scenario=named)
    run(cfg, out_dir, scenario=named)
    return None


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
    overrides = [a for a in argv if "=" in a and not a.startswith("-")]
    try:
        check_overrides(overrides)
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
        _hydra_app()
        return
    jobs = sweeps.expected_jobs(overrides)
    with SweepProgress(sweep_dir, len(jobs)) as progress:
        _hydra_app()
    status = sweeps.report(sweep_dir, jobs, since=progress.since)
    if status:
        sys.exit(status)


if __name__ == "__main__":
    main()
