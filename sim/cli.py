"""Command line: ``gbsim`` (also ``python -m sim``), the Hydra app.

``gbsim [overrides]`` runs one scenario; ``gbsim -m [sweep overrides]`` runs a sweep (in parallel
through Hydra's joblib launcher by default; Ray or Slurm with ``hydra/launcher=...``). Before
Hydra starts, every override is checked against the schema (each value of a sweep too): an
unknown key, a wrong type or an out-of-range value stops the run with one line naming the key,
the value and what is allowed, exit status 2, and nothing written.

The Hydra task is a thin wrapper around :func:`run`, which takes a composed config and an output
directory and does not depend on Hydra's runtime (so tests and notebooks call it directly). In a
sweep each job goes through :func:`sim.sweeps.run_job` (skip if complete, record failures), and
the command ends with the sweep's report: the failed jobs listed, exit status 1 if any.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.types import RunMode
from omegaconf import DictConfig

from sim import sweeps
from sim.config import ConfigError, register_configs, validate
from sim.progress import SweepProgress

__all__ = ["CONFIG_DIR", "compose", "main", "run"]

CONFIG_DIR = str(Path(__file__).resolve().parent.parent / "configs")

register_configs()


def run(cfg: DictConfig, out_dir: str | Path | None = None, quiet: bool = False) -> dict:
    """Build the model from ``cfg``, run it, write outputs to ``out_dir``; return the summary."""
    from sim.model import GroupBuyingMarket
    from sim.outputs import write_run
    from sim.records import summarise

    validate(cfg)
    t0 = time.perf_counter()
    model = GroupBuyingMarket(cfg)
    t1 = time.perf_counter()
    model.run()
    t2 = time.perf_counter()
    tables = model.recorder.tables()
    summary = summarise(model, tables)
    summary["wall_seconds"] = {"setup": round(t1 - t0, 3), "simulate": round(t2 - t1, 3)}
    if out_dir is not None:
        write_run(Path(out_dir), cfg, tables, summary)
    if not quiet:
        where = f" -> {out_dir}" if out_dir is not None else ""
        print(f"gbsim: {cfg.days} days, {model.consumers.n} households, seed {cfg.seed}: "
              f"set-up {t1 - t0:.2f} s, simulation {t2 - t1:.2f} s, "
              f"total {time.perf_counter() - t0:.2f} s{where}", flush=True)
    return summary


# ---------------------------------------------------------------------------------------------
# override checking


def compose(overrides: list[str] | None = None) -> DictConfig:
    """Compose the project config with ``overrides`` (Hydra's compose API)."""
    from hydra import compose as h_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return h_compose(config_name="config", overrides=list(overrides or []))


def _allowed_keys(node) -> str:
    return ", ".join(str(k) for k in node.keys()) if isinstance(node, DictConfig) else "(none)"


def _explain(line: str, key: str, value: str, exc: Exception, base: DictConfig) -> str:
    """One line for an override that Hydra could not apply."""
    group_dir = Path(CONFIG_DIR) / key.lstrip("+~")
    if group_dir.is_dir():
        options = sorted(p.stem for p in group_dir.glob("*.yaml"))
        return f"{key}={value}: no such option in config group '{key}'; allowed: " + \
            ", ".join(options)
    parts = key.lstrip("+~").split(".")
    node = base
    for i, part in enumerate(parts):
        if not isinstance(node, DictConfig) or part not in node:
            where = ".".join(parts[:i]) or "the top level"
            return f"{key}={value}: unknown key '{part}' in {where}; allowed keys: " + \
                _allowed_keys(node)
        node = node[part]
    msg = str(exc).strip().splitlines()
    cause = exc.__cause__ or exc.__context__
    detail = str(cause).strip().splitlines()[0] if cause is not None else (msg[0] if msg else "")
    return f"{key}={value}: {detail}"


def check_overrides(overrides: list[str]) -> None:
    """Compose the config with each override value (sweeps value by value) and validate it.

    Raises:
        ConfigError: one line naming the key, the value and what is allowed.
    """
    parser = OverridesParser.create()
    try:
        parsed = parser.parse_overrides(overrides)
    except Exception as e:  # Hydra's grammar errors
        first = str(e).strip().splitlines()[0]
        raise ConfigError(f"cannot parse overrides {' '.join(overrides)}: {first}") from None
    fixed, sweeps = [], []
    for o in parsed:
        key = o.get_key_element()
        if key.lstrip("+~").startswith("hydra"):
            continue
        if o.is_sweep_override():
            sweeps.append((key, list(o.sweep_string_iterator())))
        else:
            fixed.append((key, o.get_value_element_as_str()))
    variants = [[f"{k}={v}" for k, v in fixed] + [f"{k}={vals[0]}" for k, vals in sweeps]]
    for si, (key, vals) in enumerate(sweeps):
        for v in vals[1:]:
            lines = list(variants[0])
            lines[len(fixed) + si] = f"{key}={v}"
            variants.append(lines)
    for lines in variants:
        try:
            cfg = compose(lines)
        except Exception as e:
            # Find the first override that fails on its own (or together with the group choices).
            groups = [ln for ln in lines
                      if Path(CONFIG_DIR, ln.split("=")[0].lstrip("+~")).is_dir()]
            base = compose([])  # the defaults, for the allowed keys of the message
            for ln in lines:
                k, _, v = ln.partition("=")
                try:
                    compose(groups + [ln] if ln not in groups else groups)
                except Exception as e1:
                    raise ConfigError(_explain(ln, k, v, e1, base)) from None
            raise ConfigError(str(e).strip().splitlines()[0]) from None
        validate(cfg)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def _hydra_app(cfg: DictConfig) -> str | None:
    hc = HydraConfig.get()
    out_dir = hc.runtime.output_dir
    if hc.mode == RunMode.MULTIRUN:
        return sweeps.run_job(cfg, Path(out_dir), list(hc.overrides.task))
    run(cfg, out_dir)
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
