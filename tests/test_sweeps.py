"""Sweeps end to end: parallel jobs, resume, failures, collect, the Ray launcher, progress."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import OmegaConf

from sim import sweeps
from sim.api import compose, run_one
from sim.collect import collect
from sim.outputs import write_run
from sim.progress import SweepProgress, day_bar

SMALL = ["experiment=smoke", "days=12"]  # a sweep job of a second or two


def _gbsim(*args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600, env={**os.environ, **(env or {})})


def _status(job_dir: Path) -> str:
    return json.loads((job_dir / "job_status.json").read_text())["status"]


# ---------------------------------------------------------------------------------------------
# unit rules


def test_sweep_dir_is_decided_by_the_overrides():
    a = sweeps.sweep_dir_for(["seed=1,2", "incentive=flat"], root="/x")
    assert a == Path("/x/incentive=flat__seed=1,2")
    assert sweeps.sweep_dir_for(["incentive=flat", "seed=1,2"], root="/x") == a  # order-free
    assert sweeps.sweep_dir_for(["seed=1,2", "hydra.launcher.n_jobs=2"], root="/x") == \
        Path("/x/seed=1,2")  # launcher settings do not change the results
    assert sweeps.sweep_dir_for(["seed='range(1,11)'"], root="/x").name == "seed=_range_1,11__"
    long1 = sweeps.sweep_dir_for([f"k{i}=1" for i in range(40)], root="/x").name
    long2 = sweeps.sweep_dir_for([f"k{i}=1" for i in range(40)] + ["z=2"], root="/x").name
    assert len(long1) <= 120 and long1 != long2  # cut, with a hash that tells them apart


def test_expected_jobs_follow_hydra_cartesian_order():
    jobs = sweeps.expected_jobs(["incentive=flat", "seed=range(1,3)", "days=5,6"])
    assert jobs == [["incentive=flat", "seed=1", "days=5"], ["incentive=flat", "seed=1", "days=6"],
                    ["incentive=flat", "seed=2", "days=5"], ["incentive=flat", "seed=2", "days=6"]]


def test_a_run_is_complete_only_with_summary_and_the_same_config(tmp_path):
    cfg = compose(SMALL + ["seed=3"])
    assert not sweeps.is_complete(tmp_path, cfg)
    OmegaConf.save(cfg, tmp_path / "config.yaml", resolve=True)  # as write_run saves it
    assert not sweeps.is_complete(tmp_path, cfg), "no summary.json: not complete"
    (tmp_path / "summary.json").write_text('{"seed": 3}')
    assert sweeps.is_complete(tmp_path, cfg)
    shown = cfg.copy()
    shown.progress = True  # how a run is shown is not what it computes
    assert sweeps.is_complete(tmp_path, shown)
    assert not sweeps.is_complete(tmp_path, compose(SMALL + ["seed=3", "days=13"]))
    (tmp_path / "summary.json").unlink()  # an interrupted run: no completion marker
    assert not sweeps.is_complete(tmp_path, cfg)


def test_day_bar_prints_month_lines_off_a_terminal_only_when_asked(capsys):
    with day_bar(60, True) as bar:
        for _ in range(60):
            bar.update(1)
    assert capsys.readouterr().err.splitlines() == ["  day 30/60", "  day 60/60"]
    for setting in (None, False):  # default: nothing off a terminal (pytest captures stderr)
        with day_bar(60, setting) as bar:
            bar.update(60)
    assert capsys.readouterr().err == ""


def test_sweep_progress_counts_fresh_job_records(tmp_path):
    old = tmp_path / "0" / "job_status.json"
    old.parent.mkdir()
    old.write_text("{}")
    os.utime(old, (1, 1))  # left by an earlier attempt
    prog = SweepProgress(tmp_path, total=2, enabled=False)
    new = tmp_path / "1" / "job_status.json"
    new.parent.mkdir()
    new.write_text("{}")
    assert prog._done() == 1


# ---------------------------------------------------------------------------------------------
# a real multirun


@pytest.mark.slow
def test_sweep_lists_a_failure_resumes_and_collects(tmp_path):
    # One sweep, two calls (each call costs seconds of process start-up): the first with an
    # injected failure, the second retries it and skips the complete jobs.
    args = ["-m", *SMALL, "incentive.commission_rate=0.1,0.05", "seed=1,2"]
    r = _gbsim(*args, cwd=tmp_path, env={sweeps.FAIL_ENV: "seed=2"})
    assert r.returncode == 1, "a sweep with failed jobs exits non-zero"
    assert "4 jobs, 2 ran, 0 skipped (already complete), 2 failed" in r.stderr, r.stderr
    listed = [ln for ln in r.stderr.splitlines() if ln.startswith("  ")]
    assert len(listed) == 2, r.stderr
    assert all("seed=2" in ln and "injected failure" in ln for ln in listed)
    assert "Traceback" not in r.stderr
    sweep = sweeps.sweep_dir_for(args[1:], root=tmp_path / "multirun")
    launcher = OmegaConf.load(sweep / "multirun.yaml").hydra.launcher._target_
    assert "JoblibLauncher" in launcher, "the default launcher of -m is joblib (parallel)"
    jobs = sorted(p for p in sweep.iterdir() if p.is_dir())
    status = {tuple(json.loads((j / "job_status.json").read_text())["overrides"][-2:]):
              _status(j) for j in jobs}
    assert status == {("incentive.commission_rate=0.1", "seed=1"): "ran",
                      ("incentive.commission_rate=0.1", "seed=2"): "failed",
                      ("incentive.commission_rate=0.05", "seed=1"): "ran",
                      ("incentive.commission_rate=0.05", "seed=2"): "failed"}
    c = collect(sweep)
    assert sorted(c.runs["seed"]) == [1, 1] and len(c.incomplete) == 2, "failed runs skipped"
    assert all("injected failure" in why for _, why in c.incomplete)
    done = [j for j in jobs if _status(j) == "ran"]
    stamps = {j: (j / "summary.json").stat().st_mtime_ns for j in done}

    again = _gbsim(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "4 jobs, 2 ran, 2 skipped" in again.stderr, "complete jobs are not run again"
    assert {j: (j / "summary.json").stat().st_mtime_ns for j in done} == stamps
    assert all((j / "summary.json").is_file() for j in jobs)

    c = collect(sweep)
    daily = c.tables["daily"]
    assert {"incentive.commission_rate", "seed", "day", "adoption_rate"} <= set(daily.columns)
    assert len(daily) == 4 * 12 and not c.incomplete
    per_run = daily.groupby(["incentive.commission_rate", "seed"]).size()
    assert per_run.to_dict() == {(0.05, 1): 12, (0.05, 2): 12, (0.1, 1): 12, (0.1, 2): 12}
    assert len(c.runs) == 4 and "leader_monthly_churn_rate" in c.runs.columns
    # The tables are the model's, unchanged: compare one job with an in-process run.
    _, tables = run_one(SMALL + ["incentive.commission_rate=0.05"], 2)
    got = daily[(daily["seed"] == 2) & (daily["incentive.commission_rate"] == 0.05)]
    pd.testing.assert_frame_equal(got[tables["daily"].columns].reset_index(drop=True),
                                  tables["daily"])


@pytest.mark.slow
def test_ctrl_c_on_a_sweep_prints_one_line_and_the_same_command_resumes(tmp_path):
    args = ["-m", "experiment=smoke", "days=120", "seed=1,2,3,4",
            "hydra.launcher.n_jobs=2"]
    sweep = sweeps.sweep_dir_for(args[1:], root=tmp_path / "multirun")
    # A terminal's Ctrl-C: SIGINT to the whole process group (the command and its workers).
    # SIGINT restored to its default: a shell's background job inherits it ignored.
    p = subprocess.Popen([sys.executable, "-m", "sim", *args], cwd=tmp_path, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 300
    while not list(sweep.glob("*/job_status.json")) and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(p.pid, signal.SIGINT)
    _, err = p.communicate(timeout=120)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert p.returncode == 130, err
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "run the same command again to resume" in lines[0]
    finished = int(lines[0].split("interrupted: ")[1].split(" of 4")[0])
    assert 1 <= finished < 4, lines[0]

    again = _gbsim(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert f"4 jobs, {4 - finished} ran, {finished} skipped" in again.stderr, again.stderr


@pytest.mark.slow
def test_a_sweep_finds_scenarios_in_my_own_directory(tmp_path):
    own = tmp_path / "my_configs" / "experiment"
    own.mkdir(parents=True)
    (own / "mine.yaml").write_text("# @package _global_\nincentive:\n  commission_rate: 0.07\n")
    args = ["-m", "-cd", str(own.parent), "experiment=mine,none", "days=3",
            "market.consumers=500"]
    r = _gbsim(*args, cwd=tmp_path)
    assert r.returncode == 0 and "2 jobs, 2 ran" in r.stderr, r.stderr
    sweep = sweeps.sweep_dir_for(["experiment=mine,none", "days=3", "market.consumers=500"],
                                 root=tmp_path / "multirun")
    rates = sorted(OmegaConf.load(d / "config.yaml").incentive.commission_rate
                   for d in sweep.iterdir() if d.is_dir())
    assert rates == [0.07, 0.1]
    # A broken option in a sweep is blamed on itself, not on a neighbouring override.
    bad = _gbsim("-m", "-cd", str(own.parent), "seed=1,2", "experiment=mine,nosuch",
                 cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.startswith(
        "gbsim: error: experiment=nosuch: no such option"), bad.stderr


@pytest.mark.slow
def test_gbsim_collect_command_writes_tables(tmp_path):
    for seed in (4, 5):
        cfg = compose(SMALL + [f"seed={seed}"])
        out = tmp_path / "sweep" / str(seed)
        (out / ".hydra").mkdir(parents=True)
        OmegaConf.save(OmegaConf.create(["incentive=flat", f"seed={seed}"]),
                       out / ".hydra" / "overrides.yaml")
        _, tables = run_one(SMALL, seed)
        write_run(out, cfg, tables, {"seed": seed, "x_total": float(seed)})
    (tmp_path / "sweep" / "9").mkdir()
    (tmp_path / "sweep" / "9" / "config.yaml").write_text("seed: 9\n")  # interrupted run
    bad = subprocess.run([sys.executable, "-m", "sim.collect", str(tmp_path / "sweep"),
                          "--metrics", "share.entrnt@2-5"], capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode == 2 and "no platform 'entrnt'" in bad.stderr, bad.stderr
    r = subprocess.run([sys.executable, "-m", "sim.collect", str(tmp_path / "sweep"),
                        "--metrics", "share.incumbent@2-5,adoption_rate@0-"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "skipped incomplete run" in r.stderr and "/9" in r.stderr
    daily = pd.read_parquet(tmp_path / "sweep" / "collected" / "daily.parquet")
    assert list(daily.columns[:3]) == ["run", "incentive", "seed"]
    assert set(daily["incentive"]) == {"flat"} and len(daily) == 2 * 12
    runs = pd.read_parquet(tmp_path / "sweep" / "collected" / "runs.parquet")
    assert runs[["seed", "x_total"]].values.tolist() == [[4, 4.0], [5, 5.0]]
    # Named metrics as columns: the window mean of the run's own daily table.
    plat = pd.read_parquet(tmp_path / "sweep" / "5" / "platforms.parquet")
    inc = plat[(plat["platform"] == "incumbent") & plat["day"].between(2, 5)]
    assert runs.loc[runs["seed"] == 5, "share.incumbent@2-5"].item() == pytest.approx(
        inc["order_share"].mean())
    assert runs["adoption_rate@0-"].notna().all()


# ---------------------------------------------------------------------------------------------
# the cluster path: Hydra's Ray launcher on a local Ray instance


def _ray_available() -> str | None:
    try:
        import hydra_plugins.hydra_ray_launcher  # noqa: F401
        import ray  # noqa: F401
    except ImportError as e:
        return str(e)
    return None


@pytest.mark.cluster
def test_ray_launcher_runs_a_sweep_end_to_end(tmp_path):
    missing = _ray_available()
    if missing is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI requires the Ray launcher (the `cluster` extra; .ci/run installs "
                        f"it) but it is missing: {missing}")
        pytest.skip(f"the Ray launcher is not installed (pip install -e '.[cluster]'): {missing}")
    args = ["-m", "hydra/launcher=ray", "+hydra.launcher.ray.init.num_cpus=2",
            "+hydra.launcher.ray.init.include_dashboard=false", *SMALL, "seed=1,2"]
    r = _gbsim(*args, cwd=tmp_path, env={"RAY_USAGE_STATS_ENABLED": "0"})
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Ray Launcher is launching 2 jobs" in r.stderr + r.stdout
    assert "2 jobs, 2 ran" in r.stderr
    sweep = sweeps.sweep_dir_for(args[1:], root=tmp_path / "multirun")
    for seed in (1, 2):
        job = next(j for j in sweep.iterdir()
                   if j.is_dir() and OmegaConf.load(j / "config.yaml").seed == seed)
        _, tables = run_one(SMALL, seed)
        pd.testing.assert_frame_equal(pd.read_parquet(job / "daily.parquet"), tables["daily"])


@pytest.mark.parametrize("preset,plugin,target", [
    ("ray_cluster", "hydra_ray_launcher", "RayLauncher"),
    ("slurm", "hydra_submitit_launcher", "SlurmLauncher"),
])
def test_cluster_presets_compose(preset, plugin, target):
    pytest.importorskip(f"hydra_plugins.{plugin}", reason=f"{plugin} is not installed")
    from hydra import compose as h_compose
    from hydra import initialize_config_dir

    from sim.api import CONFIG_DIR

    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = h_compose("config", overrides=[f"hydra/launcher={preset}"],
                        return_hydra_config=True)
    assert cfg.hydra.launcher._target_.endswith(target)
