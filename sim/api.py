"""Running the model from Python: compose a config, run it, run it over seeds.

This is the one home of the run API that every front end shares: the command lines (``gbsim``
in :mod:`sim.cli`, ``gbsim-compare``, ``gbsim-collect``), the sweep jobs (:mod:`sim.sweeps`),
the dashboard, the experiments, the notebooks and the tests. It depends on no front end and on
no Hydra runtime (no ``@hydra.main``, no ``HydraConfig``), so that none of them has to import
another to run a scenario:

* :data:`CONFIG_DIR` and :func:`compose`: the project config, as ``gbsim`` would compose it.
* :func:`check_overrides`: every override checked against the schema before anything runs (one
  line naming the key, the value and what is allowed).
* :func:`run`: one run of a composed config, its outputs written to a directory.
* :func:`run_one` and :func:`run_seeds`: a scenario (a list of overrides) over seeds, in
  parallel, results in memory and in seed order.

Many runs (a design of parameter sets x seeds, resumable, on warm workers) are
:func:`sim.batch.run_many`: it builds on this module, so it lives beside it (importing it back
here would close an import cycle, which ``tests/test_architecture.py`` forbids).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from omegaconf import DictConfig

from sim.config import ConfigError, register_configs, validate
from sim.config.validate import check_override_value

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CONFIG_DIR", "check_overrides", "compose", "compose_scenario", "run", "run_one",
           "run_seeds", "scenario"]

CONFIG_DIR = str(Path(__file__).resolve().parent.parent / "configs")

# compose() needs the schema in Hydra's ConfigStore (the YAML defaults name it); registering it
# here, on import, means no caller has to remember to.
register_configs()


# ---------------------------------------------------------------------------------------------
# composing and checking a config


def compose(overrides: list[str] | None = None) -> DictConfig:
    """Compose the project config with ``overrides`` (Hydra's compose API)."""
    from hydra import compose as h_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return h_compose(config_name="config", overrides=list(overrides or []))


def scenario(choices, overrides) -> dict:
    """What names a run: its config-group choices (Hydra's own groups left out) and overrides.

    Recorded in the run's ``summary.json`` and at the head of its ``config.yaml``, so a result
    says which scenario made it, not only the values it resolved to.
    """
    picked = {str(k): (None if v is None else str(v)) for k, v in dict(choices).items()
              if not str(k).startswith("hydra/")}
    return {"choices": dict(sorted(picked.items())), "overrides": [str(o) for o in overrides]}


def compose_scenario(overrides: list[str] | None = None) -> tuple[DictConfig, dict]:
    """:func:`compose`, and the :func:`scenario` the overrides name (group choices included)."""
    from hydra import compose as h_compose
    from hydra import initialize_config_dir
    from omegaconf import open_dict

    overrides = list(overrides or [])
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = h_compose(config_name="config", overrides=overrides, return_hydra_config=True)
    named = scenario(cfg.hydra.runtime.choices, overrides)
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg, named


def _allowed_keys(node) -> str:
    return ", ".join(str(k) for k in node.keys()) if isinstance(node, DictConfig) else "(none)"


def _explain(line: str, key: str, value: str, exc: Exception, base: DictConfig,
             dirs: list[Path]) -> str:
    """One line for an override that Hydra could not apply."""
    from sim.config import sources

    group = key.lstrip("+~")
    if sources.is_group(group, dirs):
        if value == "null":  # Hydra's grammar: a group choice cannot be set to null
            named = " (the baseline: experiment=none)" if group == "experiment" else ""
            return (f"{key}={value}: a config group cannot be set to null; choose an option"
                    f"{named} or drop it with ~{group}; allowed: "
                    + ", ".join(sources.group_options(group, dirs)))
        if sources.option_file(group, value, dirs) is not None:
            # The file exists: the trouble is inside it (YAML, a key, the package header).
            why = sources.diagnose_option(group, value, dirs, base)
            if why is None:
                why = str(exc).strip().splitlines()[0]
            return f"{key}={value}: {why}"
        return f"{key}={value}: no such option in config group '{group}'; allowed: " + \
            ", ".join(sources.group_options(group, dirs)) + \
            ("" if len(dirs) > 1 else " (your own files: add --config-dir DIR; see "
             "docs/scenarios.md)")
    parts = group.split(".")
    if len(parts) == 4 and parts[0] == "platforms" and parts[2] == "strategy" and \
            sources.is_group(parts[3], dirs):
        # a platform's whole lever group is an option file, composed under its strategy
        return (f"{key}={value}: choose a platform's {parts[3]} option with "
                f"+{parts[3]}@{group}={value}, or a playbook with "
                f"+playbook@{'.'.join(parts[:3])}=<name> (configs/playbook/)")
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

    ``hydra.searchpath=[file:///dir]`` (what ``--config-dir`` becomes) is kept in every compose,
    so that options in the user's own directories are found; other ``hydra.*`` overrides are
    Hydra's business and are not checked here.

    Raises:
        ConfigError: one line naming the key, the value and what is allowed; for an option
            whose file does not compose, the file and what is wrong in it.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from sim.config import sources

    for o in overrides:
        if not o.split("=", 1)[0].strip():
            raise ConfigError(f"{o}: no key before '='; an override is KEY=VALUE (e.g. days=90)")
    parser = OverridesParser.create()
    try:
        parsed = parser.parse_overrides(overrides)
    except Exception as e:  # Hydra's grammar errors
        first = str(e).strip().splitlines()[0]
        raise ConfigError(f"cannot parse overrides {' '.join(overrides)}: {first}") from None
    search = sources.searchpath_overrides(overrides)
    dirs = sources.search_dirs(overrides)
    fixed, sweeps = [], []
    for o in parsed:
        key = o.get_key_element()
        if key.lstrip("+~").startswith("hydra"):
            continue
        if o.is_sweep_override():
            sweeps.append((key, list(o.sweep_string_iterator())))
        else:
            fixed.append((key, o.get_value_element_as_str()))
    for key, value in fixed + [(k, v) for k, vals in sweeps for v in vals]:
        check_override_value(key, value)
    variants = [[f"{k}={v}" for k, v in fixed] + [f"{k}={vals[0]}" for k, vals in sweeps]]
    for si, (key, vals) in enumerate(sweeps):
        for v in vals[1:]:
            lines = list(variants[0])
            lines[len(fixed) + si] = f"{key}={v}"
            variants.append(lines)
    for lines in variants:
        try:
            cfg = compose(search + lines)
        except Exception as e:
            raise ConfigError(_blame(lines, search, dirs, e)) from None
        try:
            validate(cfg)
        except ConfigError as e:
            # A bad value set inside a scenario file: say which file.
            key = str(e).split("=", 1)[0]
            f = sources.where_set(key, [ln for ln in lines if sources.is_group(
                ln.split("=")[0], dirs)], dirs)
            raise ConfigError(f"{e} (set in {f})" if f else str(e)) from None


def _blame(lines: list[str], search: list[str], dirs: list[Path], exc: Exception) -> str:
    """The first override of ``lines`` that fails, explained in one line.

    Group options are tried one at a time on the defaults first (a broken scenario file is
    blamed on its own override, not on the next override composed with it), then every other
    override on top of the group options that compose.
    """
    from sim.config import sources

    base = compose(search)  # the defaults, for the allowed keys of the message
    groups = [ln for ln in lines if sources.is_group(ln.split("=")[0], dirs)]
    for ln in groups:
        k, _, v = ln.partition("=")
        try:
            compose(search + [ln])
        except Exception as e1:
            return _explain(ln, k, v, e1, base, dirs)
    for ln in lines:
        if ln in groups:
            continue
        k, _, v = ln.partition("=")
        try:
            compose(search + groups + [ln])
        except Exception as e1:
            return _explain(ln, k, v, e1, compose(search + groups), dirs)
    return str(exc).strip().splitlines()[0]


# ---------------------------------------------------------------------------------------------
# running


def run(cfg: DictConfig, out_dir: str | Path | None = None, quiet: bool = False,
        scenario: dict | None = None) -> dict:
    """Build the model from ``cfg``, run it, write outputs to ``out_dir``; return the summary.

    The summary records the code version (:func:`sim.version.code_version`) and ``scenario``
    (:func:`scenario`: group choices and overrides; ``None`` when the caller composed the config
    itself and did not say).
    """
    # The model is imported when a run starts, not with this module: composing and checking a
    # config (gbsim --help, a rejected override) need not load the model and its kernels.
    from sim.model import GroupBuyingMarket
    from sim.outputs import write_run
    from sim.records import summarise
    from sim.version import code_version

    validate(cfg)
    t0 = time.perf_counter()
    model = GroupBuyingMarket(cfg)
    t1 = time.perf_counter()
    model.run()
    t2 = time.perf_counter()
    tables = model.recorder.tables()
    summary = summarise(model, tables)
    summary["wall_seconds"] = {"setup": round(t1 - t0, 3), "simulate": round(t2 - t1, 3)}
    summary["code_version"] = code_version()
    summary["scenario"] = scenario
    if out_dir is not None:
        write_run(Path(out_dir), cfg, tables, summary, header=_config_header(summary))
    if not quiet:
        where = f" -> {out_dir}" if out_dir is not None else ""
        print(f"gbsim: {cfg.days} days, {model.consumers.n} households, seed {cfg.seed}: "
              f"set-up {t1 - t0:.2f} s, simulation {t2 - t1:.2f} s, "
              f"total {time.perf_counter() - t0:.2f} s{where}", flush=True)
    return summary


def _config_header(summary: dict) -> str:
    """The comment lines at the head of a run's ``config.yaml``: code version and scenario."""
    v, named = summary["code_version"], summary["scenario"]
    commit = "not a git checkout" if v["commit"] is None else (
        f"commit {v['commit']}" + (", dirty tree" if v["dirty"] else ""))
    lines = [f"groupbuy-sim {v['package']}, {commit}"]
    if named is not None:
        groups = " ".join(f"{k}={'null' if c is None else c}" for k, c in named["choices"].items())
        lines += [f"groups: {groups}", f"overrides: {' '.join(named['overrides']) or '(none)'}"]
    return "".join(f"# {line}\n" for line in lines)


def run_one(overrides: list[str], seed: int) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Run one scenario with ``seed``; return (summary, tables). Nothing is written.

    The summary has no ``wall_seconds`` (unlike :func:`run`'s), so that the results of the same
    scenario and seed are equal wherever and however often they are run.
    """
    from sim.model import GroupBuyingMarket
    from sim.records import summarise

    cfg = compose(list(overrides) + [f"seed={seed}"])
    cfg.progress = False  # runs go in parallel: no bar per run
    model = GroupBuyingMarket(cfg)
    model.run()
    tables = model.recorder.tables()
    return summarise(model, tables), tables


def _run_one(args):
    return run_one(*args)  # a module-level function: what a worker process can unpickle


def run_seeds(overrides: list[str], seeds, workers: int | None = None):
    """Run ``overrides`` for every seed; returns [(summary, tables)] in seed order.

    Runs are independent, so they are spread over ``workers`` processes (default: one per seed,
    at most one per core). Results come back in seed order, so the output is the same whatever
    the number of workers; ``workers=1`` runs in this process, with no start-up cost per run.
    """
    seeds = list(seeds)
    workers = workers or min(len(seeds), os.cpu_count() or 1)
    if workers <= 1:
        return [run_one(overrides, s) for s in seeds]
    # spawn, not fork: forking a process with threads (BLAS, Hydra) can deadlock.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as ex:
        return list(ex.map(_run_one, [(list(overrides), s) for s in seeds]))
