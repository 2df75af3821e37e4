"""Crash safety (issue 32): SIGKILL, not Ctrl-C, at moments spread over a run and a sweep.

* A run killed at any moment leaves no ``summary.json`` and nothing that ``gbsim-collect``
  counts as complete; a run that got as far as ``summary.json`` has every table and figure
  whole (sim/outputs.py writes each file under a temporary name and renames it, summary last).
* A sweep whose worker processes are killed resumes: run again, the jobs that had finished are
  skipped (their completion stamps, ``summary.json``'s modification time, are unchanged) and
  the others run; no finished run is lost or redone.

The moments are chosen by watching the run directory (kill as soon as a given file appears,
or at a given time), not by random sleeps alone, so that the write phase (a fraction of a
second after minutes of start-up and simulation on a busy machine) is hit every time.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from sim import sweeps
from sim.collect import TABLES, collect, find_runs
from tests.schema_fuzz import count

REPO = Path(__file__).resolve().parent.parent
RUN = ["experiment=smoke", "days=20", "market.consumers=600"]


def _start(args: list[str], cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # its own session, so that the test can end this process and its workers, and only them
    return subprocess.Popen([sys.executable, "-m", "sim", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _kill_when(proc: subprocess.Popen, run_dir: Path, trigger: str | float) -> bool:
    """SIGKILL ``proc`` when ``run_dir/trigger`` exists (a path) or after ``trigger`` seconds.
    Returns False if it finished first."""
    t0 = time.monotonic()
    while proc.poll() is None:
        hit = (time.monotonic() - t0 >= trigger) if isinstance(trigger, float) \
            else (run_dir / trigger).exists()
        if hit:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.002)
    return False


def assert_whole_or_absent(run_dir: Path) -> str:
    """A run directory after a kill: complete and whole, or nothing collect counts as complete.
    Returns which."""
    if (run_dir / "summary.json").is_file():
        json.loads((run_dir / "summary.json").read_text())
        assert (run_dir / "config.yaml").is_file()
        for name in TABLES:  # the tables collect reads; every table written is readable
            assert (run_dir / f"{name}.parquet").is_file(), f"summary.json but no {name}"
        for f in run_dir.glob("*.parquet"):
            pd.read_parquet(f)
        assert (run_dir / "figures" / "overview.png").stat().st_size > 0
        c = collect(run_dir.parent)
        assert len(c.runs) == 1 and not c.incomplete
        return "complete"
    c = collect(run_dir.parent)
    assert c.runs.empty, "a killed run was collected as complete"
    assert len(c.incomplete) == len(find_runs(run_dir.parent))
    return "killed"


# Moments: during start-up (before the run directory holds anything of the run's own), as each
# output appears (config first, then the tables, the figure), and after fixed times.
MOMENTS = [0.5, 3.0, ".hydra/config.yaml", "config.yaml", "daily.parquet", "platforms.parquet",
           "leaders.parquet", "figures", "figures/overview.png", 6.0]


@pytest.mark.slow
def test_a_run_killed_at_any_moment_leaves_nothing_complete(tmp_path):
    def one(i_moment):
        i, moment = i_moment
        where = tmp_path / f"k{i}"
        where.mkdir()
        run_dir = where / "run"
        proc = _start([*RUN, f"hydra.run.dir={run_dir}"], where)
        killed = _kill_when(proc, run_dir, moment)
        return moment, killed, run_dir, proc

    with ThreadPoolExecutor(max_workers=2) as ex:
        results = list(ex.map(one, enumerate(MOMENTS)))
    outcomes = []
    for moment, killed, run_dir, proc in results:
        if not killed:
            assert proc.returncode == 0, proc.stderr[-2000:]
        state = assert_whole_or_absent(run_dir) if run_dir.exists() else "killed"
        outcomes.append((moment, state))
        count(f"runs sent SIGKILL: {state} (killed: nothing complete; complete: whole)")
    # the kills landed in the write phase: some runs have outputs but no summary
    assert any(s == "killed" and isinstance(m, str) and "parquet" in m for m, s in outcomes), \
        outcomes


@pytest.mark.slow
def test_a_sweep_whose_workers_are_killed_resumes_without_losing_or_redoing_a_run(tmp_path):
    args = ["-m", "experiment=smoke", "days=15", "market.consumers=600", "seed=1,2,3,4,5,6"]
    sweep = sweeps.sweep_dir_for(args[1:], root=tmp_path / "multirun")
    proc = _start(args, tmp_path)
    # kill every process of the sweep (the command and its joblib workers) once two jobs are
    # complete and others are running
    t0 = time.monotonic()
    while proc.poll() is None and time.monotonic() - t0 < 600:
        if len(list(sweep.glob("*/summary.json"))) >= 2:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            break
        time.sleep(0.01)
    assert proc.returncode == -signal.SIGKILL, f"the sweep ended before the kill: {proc.stderr}"
    finished = {p.parent: p.stat().st_mtime_ns for p in sweep.glob("*/summary.json")}
    assert 2 <= len(finished) < 6, finished
    for job in sweep.iterdir():
        if job.is_dir() and job not in finished:
            assert not (job / "summary.json").exists()

    again = _start(args, tmp_path)
    out, err = again.communicate(timeout=900)
    assert again.returncode == 0, err[-3000:]
    assert f"6 jobs, {6 - len(finished)} ran, {len(finished)} skipped" in err, err[-3000:]
    # no finished run lost or redone: the same completion stamps; every job complete now
    assert {j: (j / "summary.json").stat().st_mtime_ns for j in finished} == finished
    for j in finished:
        assert json.loads((j / sweeps.STATUS_FILE).read_text())["status"] == "skipped"
    c = collect(sweep)
    assert sorted(c.runs["seed"]) == [1, 2, 3, 4, 5, 6] and not c.incomplete
    count("sweep jobs finished before the kill (kept, not redone)", len(finished))
    count("sweep jobs run after the kill", 6 - len(finished))
