"""Sweeps: resumable, fault-tolerant jobs under any Hydra launcher (ODD 10).

``gbsim -m ...`` is a Hydra multirun. This module is what each job does and what the command
reports when the sweep ends; it never depends on which launcher ran the jobs (joblib locally,
Ray or Slurm on a cluster), only on the job directories they leave behind:

* **Where.** A sweep's directory is decided by its overrides (``multirun/<overrides>``), so that
  running the same sweep again finds the same directory. ``hydra.sweep.dir=...`` chooses another.
* **Resume.** A job whose directory already holds ``summary.json`` (written last, atomically, by
  :func:`sim.outputs.write_run`) and a ``config.yaml`` equal to the job's resolved config is
  complete: it is skipped and does no simulation work. A changed config runs again.
* **Failures.** A job that raises is logged with its overrides; its traceback is kept in
  ``job_status.json`` and the sweep goes on. When the sweep ends the command lists the failed
  jobs and exits with status 1.
* **Ctrl-C.** The command prints one line (how many jobs finished; the same command resumes).
  Jobs in worker processes ignore Ctrl-C (SIGINT reaches the whole process group): the command
  stops the workers, so that each does not print its own traceback.
* **Status.** Every job writes ``job_status.json`` (``ran``, ``skipped`` or ``failed``, with its
  overrides and wall time), atomically, as its last act.

A failure can be injected for tests and drills: the environment variable ``GBSIM_FAIL_JOBS``
holds override strings separated by ``;`` (e.g. ``seed=3``); a job whose overrides include one of
them raises before it simulates. It selects jobs by their overrides and can run no code.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from sim.api import run
from sim.outputs import atomic_write

__all__ = [
    "COMMAND_PID_ENV", "FAIL_ENV", "STATUS_FILE", "JobRecord", "expected_jobs",
    "finished_jobs", "is_complete", "job_status", "report", "run_job", "sweep_dir_for",
]

log = logging.getLogger(__name__)

STATUS_FILE = "job_status.json"
FAIL_ENV = "GBSIM_FAIL_JOBS"
# The process id of the gbsim command, set by it for its workers (they inherit the environment).
COMMAND_PID_ENV = "GBSIM_COMMAND_PID"
# Keys that change how a run is shown, not what it computes: ignored when matching configs.
NOT_MODEL_KEYS = ("progress",)


# ---------------------------------------------------------------------------------------------
# the sweep directory


def sweep_dir_for(overrides: list[str], root: str | Path = "multirun") -> Path:
    """The directory of the sweep given by ``overrides``: the same sweep, the same directory.

    The overrides are sorted (their order does not change the set of jobs) and kept readable;
    characters awkward in file names become ``_``; a long name is cut and given a hash of the
    full list so that two different sweeps never share a directory.
    """
    items = sorted(o for o in overrides if not o.lstrip("+~").startswith("hydra"))
    full = " ".join(items)
    slug = re.sub(r"[^A-Za-z0-9_.,=+-]", "_", "__".join(items)) or "default"
    if len(slug) > 120:
        slug = slug[:100] + "-" + hashlib.sha1(full.encode()).hexdigest()[:10]
    return Path(root).resolve() / slug


def expected_jobs(overrides: list[str]) -> list[list[str]]:
    """The jobs of a sweep, each as its list of overrides, in Hydra's own (basic sweeper) order."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    task = [o for o in overrides if not o.lstrip("+~").startswith("hydra")]
    parsed = OverridesParser.create().parse_overrides(task)
    return [list(job) for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]


# ---------------------------------------------------------------------------------------------
# one job


def _model_part(container: dict) -> dict:
    return {k: v for k, v in container.items() if k not in NOT_MODEL_KEYS}


def is_complete(out_dir: Path, cfg: DictConfig) -> bool:
    """A run is complete when ``summary.json`` exists and the saved config equals ``cfg``."""
    out_dir = Path(out_dir)
    summary, saved = out_dir / "summary.json", out_dir / "config.yaml"
    if not (summary.is_file() and saved.is_file()):
        return False
    try:
        old = OmegaConf.to_container(OmegaConf.load(saved), resolve=True)
    except Exception:  # an unreadable config cannot vouch for the results
        return False
    new = OmegaConf.to_container(cfg, resolve=True)
    return _model_part(old) == _model_part(new)


def _injected_failure(overrides: list[str]) -> str | None:
    wanted = [w.strip() for w in os.environ.get(FAIL_ENV, "").split(";") if w.strip()]
    hit = [w for w in wanted if w in overrides]
    return hit[0] if hit else None


def _write_status(out_dir: Path, record: dict) -> None:
    atomic_write(out_dir / STATUS_FILE,
                 lambda p: p.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n"))


def _leave_ctrl_c_to_the_command() -> None:
    """In a worker process of the command, ignore SIGINT: the command handles Ctrl-C.

    Only in a worker: a job run in the command's own process (the basic launcher) must stay
    interruptible. The killed job leaves no status record and runs again on resume.
    """
    pid = os.environ.get(COMMAND_PID_ENV)
    if pid is None or pid == str(os.getpid()):
        return
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread of the worker: nothing to do
        pass


def run_job(cfg: DictConfig, out_dir: Path, overrides: list[str],
            scenario: dict | None = None) -> str:
    """One job of a sweep: skip it if complete, else run it; never raise. Returns the status."""
    _leave_ctrl_c_to_the_command()
    out_dir = Path(out_dir)
    t0 = time.perf_counter()
    record = {"overrides": list(overrides), "status": "ran"}
    if is_complete(out_dir, cfg):
        record["status"] = "skipped"
        log.info("complete, skipped: %s", " ".join(overrides))
    else:
        try:
            hit = _injected_failure(overrides)
            if hit is not None:
                raise RuntimeError(f"injected failure ({FAIL_ENV} selects {hit})")
            # A stale summary from an older config must not outlive a failed attempt.
            (out_dir / "summary.json").unlink(missing_ok=True)
            cfg = cfg.copy()
            cfg.progress = False  # one bar for the whole sweep, drawn by the command
            run(cfg, out_dir, scenario=scenario)
        except Exception as e:
            record.update(status="failed", error=f"{type(e).__name__}: {e}",
                          traceback=traceback.format_exc())
            log.error("job failed (%s): %s", " ".join(overrides), record["error"])
    record["wall_seconds"] = round(time.perf_counter() - t0, 3)
    _write_status(out_dir, record)
    return record["status"]


# ---------------------------------------------------------------------------------------------
# the end of a sweep


@dataclass
class JobRecord:
    """What a sweep left for one expected job."""

    overrides: list[str]
    directory: Path | None
    status: str  # ran, skipped, failed, or missing (no record: killed or never started)
    error: str = ""


def job_status(job_dir: Path) -> dict | None:
    """The ``job_status.json`` record of a job directory, or None."""
    p = Path(job_dir) / STATUS_FILE
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError):
        return None


def _job_dirs(sweep_dir: Path) -> dict[frozenset, Path]:
    """Job directories of a sweep keyed by their set of overrides (Hydra's ``.hydra/``)."""
    found = {}
    for f in Path(sweep_dir).glob("*/.hydra/overrides.yaml"):
        try:
            ov = OmegaConf.to_container(OmegaConf.load(f))
        except Exception:
            continue
        found[frozenset(ov)] = f.parent.parent
    return found


def finished_jobs(sweep_dir: Path, jobs: list[list[str]]) -> int:
    """How many of ``jobs`` are finished (ran or skipped) in ``sweep_dir``, this time or before."""
    dirs = _job_dirs(sweep_dir)
    n = 0
    for ov in jobs:
        d = dirs.get(frozenset(ov))
        rec = job_status(d) if d is not None else None
        n += rec is not None and rec.get("status") in ("ran", "skipped")
    return n


def report(sweep_dir: Path, jobs: list[list[str]], since: float | None = None,
           stream=sys.stderr) -> int:
    """Print how the sweep's jobs ended; list the failed ones. Returns the exit status.

    Args:
        sweep_dir: the sweep directory.
        jobs: the expected jobs (:func:`expected_jobs`).
        since: epoch seconds the sweep started; a status record older than this was left by an
            earlier attempt (the job did not run this time) and counts as missing.
        stream: where to print.
    """
    dirs = _job_dirs(sweep_dir)
    records = []
    for ov in jobs:
        d = dirs.get(frozenset(ov))
        rec = job_status(d) if d is not None else None
        stale = (rec is not None and since is not None
                 and (d / STATUS_FILE).stat().st_mtime < since - 1.0)
        if rec is None or stale:
            records.append(JobRecord(ov, d, "missing"))
        else:
            records.append(JobRecord(ov, d, rec.get("status", "missing"), rec.get("error", "")))
    count = {s: sum(r.status == s for r in records) for s in ("ran", "skipped", "failed",
                                                                "missing")}
    print(f"gbsim: sweep {sweep_dir}: {len(jobs)} jobs, {count['ran']} ran, "
          f"{count['skipped']} skipped (already complete), {count['failed']} failed, "
          f"{count['missing']} missing", file=stream, flush=True)
    bad = [r for r in records if r.status in ("failed", "missing")]
    if bad:
        print(f"gbsim: {len(bad)} job(s) did not complete:", file=stream)
        for r in bad:
            where = r.directory if r.directory is not None else "(no directory)"
            why = r.error or ("no status record" if r.status == "missing" else "")
            print(f"  {' '.join(r.overrides)}  [{r.status}: {why}]  {where}", file=stream)
        print("gbsim: run the same command again to retry them (complete jobs are skipped)",
              file=stream, flush=True)
        return 1
    return 0
