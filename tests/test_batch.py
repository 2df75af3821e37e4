"""The batch runner (sim.batch) and the uncertainty registry (sim.uncertainty), issue 24.

Runs are small (1,000 households, a few weeks): what is tested is the runner, not the model.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.api import run_one
from sim.batch import ROWS_DIR, SERIES, plan, run_many
from sim.collect import _flatten
from sim.config import ConfigError
from sim.uncertainty import load, sample

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["market.consumers=1000", "days=20"]


def _metrics(summary: dict, platforms) -> dict:
    flat, _ = _flatten(summary, set(platforms))
    flat.pop("seed", None)
    return flat


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def _assert_row_is_run_one(row: pd.Series, overrides: list[str]) -> None:
    summary, _ = run_one(overrides, int(row["seed"]))
    want = _metrics(summary, ["incumbent", "entrant", "discounter"])
    diff = {k: (row[k], v) for k, v in want.items() if not _same(row[k], v)}
    assert not diff, f"a batch run differs from run_one({overrides}, seed): {diff}"


# ---------------------------------------------------------------------------------------------
# checked before running


@pytest.mark.parametrize("design,needle", [
    (pd.DataFrame({"choice.habit": [1.0, 0.5, 500.0]}),
     "design row 2: choice.habit=500.0: out of range; allowed a number in [-100, 100]"),
    (pd.DataFrame({"choice.habbit": [1.0]}),
     "design row 0: choice.habbit=1.0: unknown key 'habbit' in choice; allowed keys: "),
    (pd.DataFrame({"incentive": ["flat", "nope"]}),
     "design row 1: incentive=nope: no such option in config group 'incentive'; allowed: "),
    (pd.DataFrame({"market.consumers": ["many"]}), "design row 0: market.consumers=many: "),
    (pd.DataFrame({"market.county.within_degree_town": [8, 7]}),
     "design row 1: market.county.within_degree_town=7: must be even"),
])
def test_every_row_is_checked_before_any_run(tmp_path, design, needle):
    out = tmp_path / "batch"
    with pytest.raises(ConfigError) as e:
        run_many(SMALL, design, seeds=[0], out=out, backend="sequential")
    msg = str(e.value)
    assert needle in msg, msg
    assert "\n" not in msg, "one line"
    assert not (out / ROWS_DIR).exists() or not any((out / ROWS_DIR).glob("*.json")), \
        "no run may start before every row is checked"


def test_a_bad_scenario_names_it():
    with pytest.raises(ConfigError, match=r"scenario B\): days=0: out of range"):
        plan(SMALL, pd.DataFrame({"choice.habit": [1.0]}), [0],
             scenarios={"A": [], "B": ["days=0"]})


def test_plan_keys_runs_by_config_and_seed():
    d = pd.DataFrame({"choice.habit": [0.5, 1.5, 0.5]})
    ident, tasks = plan(SMALL, d, [3, 4])
    assert list(ident.columns) == ["run", "choice.habit", "seed"]
    # the repeated row is one run: 2 distinct rows x 2 seeds
    assert len(tasks) == 4 and ident["run"].is_unique
    assert ident["seed"].tolist() == [3, 4, 3, 4]
    again, _ = plan(SMALL, d, [3, 4])
    assert again["run"].tolist() == ident["run"].tolist(), "the same run, the same key"
    other, _ = plan(["market.consumers=1000", "days=21"], d, [3, 4])
    assert not set(other["run"]) & set(ident["run"]), "a changed config is another run"


# ---------------------------------------------------------------------------------------------
# results


def test_batch_runs_equal_run_one_and_are_tidy(tmp_path):
    """Values set in place on a worker's composed config leave nothing behind: each run equals
    a fresh run_one of its overrides, whatever ran before it in the same process."""
    d = pd.DataFrame({"choice.habit": [2.0, 0.0], "incentive": ["tiered", "flat"]})
    b = run_many(SMALL, d, seeds=[1], out=tmp_path / "b", series=["daily"],
                 backend="sequential")
    assert b.ran == 2 and b.skipped == 0
    for _, row in b.runs.iterrows():
        _assert_row_is_run_one(row, SMALL + [f"choice.habit={row['choice.habit']}",
                                             f"incentive={row['incentive']}"])
    runs = pd.read_parquet(tmp_path / "b" / "runs.parquet")
    assert list(runs.columns[:4]) == ["run", "choice.habit", "incentive", "seed"]
    for c in ("code_version.package", "code_version.commit", "code_version.dirty"):
        assert c in runs.columns
    daily = pd.read_parquet(tmp_path / "b" / "daily.parquet")
    assert len(daily) == 2 * 20 and list(daily.columns[:4]) == list(runs.columns[:4])
    by_p = pd.read_parquet(tmp_path / "b" / "runs_by_platform.parquet")
    assert sorted(by_p["platform"].unique()) == ["discounter", "entrant", "incumbent"]


def test_every_table_of_a_run_can_be_kept():
    _, tables = run_one(SMALL, 0)
    assert set(SERIES) == set(tables), "sim.batch.SERIES must list the recorder's tables"


@pytest.mark.slow
def test_paired_scenarios_share_seeds(tmp_path):
    a, b_ = ["incentive.commission_rate=0.10"], ["incentive.commission_rate=0.06"]
    b = run_many(SMALL, None, seeds=[5, 6], scenarios={"A": a, "B": b_},
                 workers=2, out=tmp_path / "p")
    r = b.runs
    assert r["scenario"].tolist() == ["A", "A", "B", "B"]
    assert r.groupby("scenario")["seed"].apply(list).to_dict() == {"A": [5, 6], "B": [5, 6]}
    _assert_row_is_run_one(r.iloc[3], SMALL + b_)
    num = r.select_dtypes("number").drop(columns="seed")
    a_, b_ = num[r.scenario == "A"].to_numpy(), num[r.scenario == "B"].to_numpy()
    assert not np.array_equal(a_, b_, equal_nan=True), "each scenario's overrides are applied"


def test_a_scenario_whose_runs_are_anothers_keeps_its_rows():
    # B sets what A's design column sets anyway: the same runs, run once, but the paired table
    # needs a B row for every A row (the plan, no run needed).
    d = pd.DataFrame({"incentive.commission_rate": [0.08, 0.12]})
    ident, tasks = plan(SMALL, d, seeds=[1, 2],
                        scenarios={"A": [], "B": ["incentive.commission_rate=0.10"]})
    assert ident["scenario"].tolist() == ["A"] * 4 + ["B"] * 4
    assert len(tasks) == 4, "identical runs run once"
    assert ident[ident.scenario == "A"]["run"].tolist() == ident[ident.scenario == "B"][
        "run"].tolist()


def test_a_finished_batch_is_not_rerun(tmp_path):
    d = pd.DataFrame({"choice.habit": [0.5, 1.5]})
    first = run_many(SMALL, d, seeds=[0], out=tmp_path / "r", backend="sequential")
    stamps = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "r" / ROWS_DIR).glob("*.json")}
    again = run_many(SMALL, d, seeds=[0, 1], out=tmp_path / "r", backend="sequential")
    assert (again.ran, again.skipped) == (2, 2), "only the new seed's runs run"
    for name, t in stamps.items():
        assert (tmp_path / "r" / ROWS_DIR / name).stat().st_mtime_ns == t, "a stamp was redone"
    pd.testing.assert_frame_equal(
        again.runs[again.runs.seed == 0].reset_index(drop=True)
        .drop(columns=[c for c in again.runs if c.startswith("code_version")]),
        first.runs.drop(columns=[c for c in first.runs if c.startswith("code_version")]))


@pytest.mark.slow
def test_a_killed_batch_resumes_with_no_finished_run_lost_or_redone(tmp_path):
    """SIGKILL the command (and its workers) mid-batch, run it again: every run stamped before
    the kill is kept as it was, every other run runs once, and the table is complete."""
    out = tmp_path / "k"
    seeds = [str(s) for s in range(12)]
    cmd = [sys.executable, "-c", "import sys; from sim.batch import main; main(sys.argv[1:])",
           "--out", str(out), "--seeds", *seeds, "--workers", "2",
           "market.consumers=1000", "days=60"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    rows = out / ROWS_DIR
    deadline = time.time() + 300
    while time.time() < deadline and len(list(rows.glob("*.json"))) < 3:
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the command and its worker processes, at once
    proc.wait()
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in rows.glob("*.json")}
    assert 3 <= len(before) < len(seeds), f"killed mid-way: {len(before)} of {len(seeds)} done"

    b = run_many(["market.consumers=1000", "days=60"], None, [int(s) for s in seeds], out=out,
                 workers=2)
    assert b.skipped == len(before), "every run finished before the kill is kept"
    assert b.ran == len(seeds) - len(before), "no finished run is redone"
    for name, (t, data) in before.items():
        p = rows / name
        assert p.stat().st_mtime_ns == t and p.read_bytes() == data, f"{name} was redone"
    runs = pd.read_parquet(out / "runs.parquet")
    assert sorted(runs["seed"]) == sorted(int(s) for s in seeds) and runs["run"].is_unique
    kept = runs[runs["run"].isin([n.removesuffix(".json") for n in before])].iloc[0]
    _assert_row_is_run_one(kept, ["market.consumers=1000", "days=60"])


# ---------------------------------------------------------------------------------------------
# the uncertainty registry


def test_the_default_registry_is_valid_and_cites_a_source():
    reg = load("default")
    assert len(reg.parameters) >= 20
    for p in reg.parameters:
        assert p.source.strip(), p.key


@pytest.mark.parametrize("entry,needle", [
    ("wom.p_external: {dist: uniform, lo: 0.0, hi: 2.0, source: assumption}",
     "bad.yaml: wom.p_external: the range reaches 2.0, which the config does not allow: "
     "wom.p_external=2.0: out of range; allowed a number in [0, 1]"),
    ("wom.p_extrnal: {dist: uniform, lo: 0.0, hi: 0.5, source: assumption}",
     "bad.yaml: wom.p_extrnal: unknown key 'p_extrnal' in wom; allowed keys: p_external"),
    ("wom.p_external: {dist: uniform, lo: 0.001, hi: 0.002}",
     "wom.p_external: source=None: give the source"),
    ("wom.p_external: {dist: gamma, lo: 0.001, hi: 0.002, source: assumption}",
     "wom.p_external: dist='gamma': not allowed; choose one of uniform, loguniform, normal"),
    ("wom.p_external: {dist: uniform, lo: 0.002, hi: 0.001, source: assumption}",
     "lo=0.002, hi=0.001: lo must be below hi"),
    ("wom.p_external: {dist: loguniform, lo: 0.0, hi: 0.001, source: assumption}",
     "lo=0: a loguniform range must start above 0"),
    ("wom.p_external: {dist: uniform, low: 0.0, hi: 0.001, source: assumption}",
     "low: not a field of a uniform entry"),
    ("market.county.within_degree_town: {dist: choice, values: [6, 7], source: assumption}",
     "the range reaches 7, which the config does not allow: "
     "market.county.within_degree_town=7: must be even"),
    ("market.county.compound_size: {dist: uniform, lo: 300.5, hi: 900, source: assumption}",
     "market.county.compound_size is an integer; give integer ends"),
    ("market.network: {dist: choice, values: [county, complete], source: assumption}",
     "market.network: its value 'county' is not a number"),
    ("choice.habit: {dist: normal, mean: 5.0, sd: 1.0, lo: 0.0, hi: 2.0, source: assumption}",
     "mean=5, sd=1: sd must be above 0 and the mean inside [lo, hi] = [0, 2]"),
])
def test_a_bad_registry_entry_gives_one_line(tmp_path, entry, needle):
    f = tmp_path / "bad.yaml"
    f.write_text(f"parameters:\n  {entry}\n")
    with pytest.raises(ConfigError) as e:
        load(f)
    assert needle in str(e.value) and "\n" not in str(e.value), str(e.value)


def _remedy_fields() -> dict:
    """Every remedy key as ``group.key`` -> its schema field (sim/config/remedies.py)."""
    import dataclasses

    from sim.config.remedies import REMEDY_GROUPS

    return {f"{g}.{f.name}": f for g, (cls, _) in REMEDY_GROUPS.items()
            for f in dataclasses.fields(cls)}


# each remedy's switch: its value when off (the default scenario)
_SWITCHES_OFF = {"services.share_of_points": 0.0, "referral.reward_yuan": 0.0,
                 "training.share_of_leaders": 0.0, "qc.share_inspected": 0.0}


def test_the_remedies_registry_sweeps_effect_parameters_inside_the_schema():
    """configs/uncertainty/remedies.yaml: every key a remedy's (no switch), known to the config
    composed with its scenario, and every range inside the schema's allowed range."""
    from sim.api import compose

    reg = load("remedies")
    fields = _remedy_fields()
    cfg = compose(list(reg.scenario))
    assert len(reg.parameters) >= 10
    for p in reg.parameters:
        assert p.key in fields, f"{p.key}: not a remedy key"
        assert p.key not in _SWITCHES_OFF and p.key != "aftersales.resolution_hours", p.key
        assert p.source.startswith("assumption"), p.key
        group, key = p.key.split(".")
        assert key in cfg[group], p.key
        lo, hi = fields[p.key].metadata["lo"], fields[p.key].metadata["hi"]
        assert p.dist == "uniform" and lo <= p.lo < p.hi <= hi, (p.key, p.lo, p.hi, lo, hi)
        # half to twice the value in use, unless the schema bounds it (the registry's header)
        value = float(cfg[group][key])
        assert p.lo == pytest.approx(value / 2) or p.lo == lo, p.key
        assert p.hi == pytest.approx(min(2 * value, hi)), p.key


def test_the_remedies_registry_runs_with_the_remedies_on():
    """Its keys change nothing while the remedies are off (the default), so its scenario turns
    every one on and the designs run under it."""
    from sim.api import compose

    reg = load("remedies")
    off, on = compose([]), compose(list(reg.scenario))
    for key, value in _SWITCHES_OFF.items():
        group, k = key.split(".")
        assert off[group][k] == value and on[group][k] > value, key
    assert off.aftersales.resolution_hours == off.aftersales.reference_hours
    assert on.aftersales.resolution_hours < on.aftersales.reference_hours
    assert reg.overrides(["days=20"]) == [*reg.scenario, "days=20"]  # the command's win
    assert load("default").scenario == ()


def test_the_remedies_keys_change_the_run_only_under_its_scenario():
    """Every key at its low end against every key at its high end: the same run in the default
    scenario (the remedies off: a sweep there would show zero effects), another under the
    registry's scenario."""
    reg = load("remedies")
    ends = [[f"{p.key}={getattr(p, end)}" for p in reg.parameters] for end in ("lo", "hi")]
    for scenario, differs in (([], False), (list(reg.scenario), True)):
        a, b = (run_one([*scenario, *SMALL, *e], 0)[0] for e in ends)
        assert set(a) == set(b)
        changed = [k for k in a if not _same(a[k], b[k])]
        assert bool(changed) == differs, (scenario, changed)


def test_gbsim_batch_runs_a_registry_under_its_scenario(tmp_path, monkeypatch):
    import sim.batch

    seen = {}

    def fake_run_many(base, design, seeds, **kw):
        seen["base"], seen["design"] = list(base), design
        raise SystemExit(0)

    monkeypatch.setattr(sim.batch, "run_many", fake_run_many)
    with pytest.raises(SystemExit):
        sim.batch.main(["--out", str(tmp_path), "--sample", "remedies", "--n", "3", *SMALL])
    reg = load("remedies")
    assert seen["base"] == [*reg.scenario, *SMALL]
    assert list(seen["design"].columns) == reg.keys


def test_a_sub_registry_keeps_its_scenario():
    from sim.decision.sensitivity import subregistry

    reg = load("remedies")
    sub = subregistry(reg, reg.keys[:2])
    assert sub.keys == reg.keys[:2] and sub.scenario == reg.scenario


@pytest.mark.parametrize("scenario", ["services.share_of_points=1.0", "[1.0]", "[services]"])
def test_a_bad_registry_scenario_gives_one_line(tmp_path, scenario):
    f = tmp_path / "bad.yaml"
    f.write_text(f"scenario: {scenario}\nparameters:\n"
                 "  wom.p_external: {dist: uniform, lo: 0.0005, hi: 0.002, source: assumption}\n")
    with pytest.raises(ConfigError) as e:
        load(f)
    assert "bad.yaml: scenario=" in str(e.value) and "\n" not in str(e.value), str(e.value)


def test_a_registry_is_checked_under_its_scenario(tmp_path):
    """A range its scenario allows passes, the same range without it does not; a scenario that
    gbsim would refuse is refused."""
    f = tmp_path / "r.yaml"
    entry = "  choice.deal_discount_max: {dist: uniform, lo: 0.05, hi: 0.5, source: assumption}\n"
    f.write_text("parameters:\n" + entry)
    with pytest.raises(ConfigError, match="deal_discount_max: the range reaches 0.05"):
        load(f)  # below the default's deal_discount_min, 0.1
    f.write_text("scenario: [choice.deal_discount_min=0.02]\nparameters:\n" + entry)
    assert load(f).scenario == ("choice.deal_discount_min=0.02",)
    f.write_text("scenario: [qc.share_inspected=2.0]\nparameters:\n" + entry)
    with pytest.raises(ConfigError) as e:
        load(f)
    assert str(e.value).startswith("r.yaml: scenario: qc.share_inspected=2.0: out of range"), \
        str(e.value)


@pytest.mark.parametrize("method,n,rows", [
    ("lhs", 40, lambda d: 40), ("sobol", 8, lambda d: 8 * (2 * d + 2)),
    ("morris", 6, lambda d: 6 * (d + 1)),
])
def test_samplers_draw_inside_the_registry(method, n, rows):
    reg = load("default")
    d = sample(reg, method, n, seed=3)
    assert list(d.columns) == reg.keys and len(d) == rows(len(reg.keys))
    for p in reg.parameters:
        col = d[p.key]
        if p.dist == "choice":
            assert set(col) <= set(p.values), p.key
            assert len(set(col)) > 1, f"{p.key}: a sampler that draws one value is broken"
        else:
            assert col.between(p.lo, p.hi).all(), f"{p.key} leaves [{p.lo}, {p.hi}]"
            assert col.nunique() > 1, p.key
        if p.integer:
            assert all(isinstance(v, int) for v in col), p.key
    pd.testing.assert_frame_equal(d, sample(reg, method, n, seed=3))  # same seed, same design
    assert not d.equals(sample(reg, method, n, seed=4))


def test_lhs_covers_each_range_in_strata():
    """Latin hypercube: each of n equal-probability strata of a uniform range holds one point."""
    reg = load("default")
    d = sample(reg, "lhs", 25, seed=0)
    p = next(q for q in reg.parameters if q.dist == "uniform" and not q.integer)
    strata = np.floor((d[p.key] - p.lo) / (p.hi - p.lo) * 25).clip(0, 24)
    assert sorted(strata.astype(int)) == list(range(25))


def test_a_sampled_design_passes_the_batch_check():
    d = sample("default", "lhs", 6, seed=1)
    ident, tasks = plan(SMALL, d, [0, 1])
    assert len(tasks) == 12 and list(ident.columns[1:-1]) == list(d.columns)
    json.dumps([t.values for t in tasks])  # plain Python values, no numpy scalars


def test_the_command_refuses_a_bad_design_in_one_line(tmp_path, capsys):
    from sim.batch import main

    f = tmp_path / "d.csv"
    pd.DataFrame({"choice.habit": [1.0, 999.0]}).to_csv(f, index=False)
    with pytest.raises(SystemExit) as e:
        main(["--out", str(tmp_path / "o"), "--design", str(f), *SMALL])
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and err.count("\n") == 0, err
    assert err.startswith("gbsim-batch: error: design row 1: choice.habit=999.0: out of range")
    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path / "o"), "--design", str(tmp_path / "d.txt")])
    assert "give a .csv or .parquet table" in capsys.readouterr().err


def test_runs_have_the_columns_of_gbsim_collect(tmp_path):
    """runs.parquet has gbsim-collect's columns for the same run (summary.json's figures, code
    version, the scenario's group choices, wall seconds), and the same values."""
    from sim.api import compose_scenario, run
    from sim.collect import collect

    cfg, named = compose_scenario(SMALL + ["incentive=tiered", "seed=0"])
    run(cfg, tmp_path / "runs" / "r0", quiet=True, scenario=named)
    want = collect(tmp_path / "runs").runs.iloc[0].drop("run")
    got = run_many(SMALL, pd.DataFrame({"incentive": ["tiered"]}), seeds=[0],
                   backend="sequential").runs.iloc[0].drop("run")
    # the design column, as gbsim-collect gives a sweep's override columns (none here: one run)
    assert got["incentive"] == "tiered"
    got = got.drop("incentive")
    assert set(got.index) == set(want.index), (set(got.index) ^ set(want.index))
    assert got["scenario.choices.incentive"] == "tiered"
    same = [k for k in want.index if k.startswith("wall_seconds") or k == "code_version.dirty"
            or _same(got[k], want[k])]  # wall clocks differ; the tree may change between runs
    assert len(same) == len(want), [k for k in want.index if k not in same]


# ---------------------------------------------------------------------------------------------
# the cluster path: joblib's Ray backend on a local Ray instance

_RAY_SCRIPT = """
import json, sys
import ray
from sim.batch import run_many
import pandas as pd
ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
d = pd.DataFrame({"choice.habit": [2.0, 0.0]})
b = run_many(sys.argv[1:], d, seeds=[1], backend="ray", workers=2, progress=False)
print(json.dumps(b.runs.drop(columns=["run"]).to_dict(orient="records"), default=str))
ray.shutdown()
"""


@pytest.mark.cluster
@pytest.mark.slow
def test_ray_backend_runs_the_same_runs_as_local_workers():
    """``backend="ray"`` (a Ray cluster; here a local one of 2 CPUs) runs what the local
    workers run: the same rows, equal to sequential runs in this process."""
    try:
        import ray.util.joblib  # noqa: F401
    except ImportError as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI requires Ray (the `cluster` extra; .ci/run installs it): {e}")
        pytest.skip(f"Ray is not installed (pip install -e '.[cluster]'): {e}")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_USAGE_STATS_ENABLED": "0"}
    r = subprocess.run([sys.executable, "-c", _RAY_SCRIPT, *SMALL], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    got = pd.DataFrame(json.loads(r.stdout.strip().splitlines()[-1]))
    want = run_many(SMALL, pd.DataFrame({"choice.habit": [2.0, 0.0]}), seeds=[1],
                    backend="sequential").runs.drop(columns=["run"])
    assert len(got) == 2
    got = got.sort_values("choice.habit").reset_index(drop=True)
    want = want.sort_values("choice.habit").reset_index(drop=True)
    # every figure the model computes (the wall clocks differ, of course)
    numeric = [c for c in want.columns if pd.api.types.is_numeric_dtype(want[c])
               and not c.startswith("wall_seconds.")]
    assert len(numeric) > 40
    np.testing.assert_array_equal(got[numeric].astype(float).to_numpy(),
                                  want[numeric].astype(float).to_numpy())
