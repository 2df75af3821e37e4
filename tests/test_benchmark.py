"""The benchmark script runs end to end at small sizes and writes its JSON (no timing asserted)."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_benchmark_quick(tmp_path):
    out = tmp_path / "bench.json"
    r = subprocess.run([sys.executable, str(ROOT / "experiments" / "benchmark.py"), "--quick",
                        "--reference-repeat", "2", "--out", str(out)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "hh-days/s" in r.stdout and "per-agent Mesa reference" in r.stdout
    res = json.loads(out.read_text())
    assert [m["consumers"] for m in res["model"]] == [1000, 3000]
    # --quick repeats the small size only: two runs, the reported one among them
    assert [len(m["runs"]) for m in res["model"]] == [2, 1]
    walls = [x["wall_s"] for x in res["model"][0]["runs"]]
    assert res["model"][0]["wall_s"] == min(walls)  # the lower middle of two
    assert "median of 2" in r.stdout
    assert set(res["model"][0]["phase_s"]) >= {"word_of_mouth", "orders", "logistics_and_pickup"}
    assert res["reference"][0]["speed_ratio"] > 0
    assert len(res["reference"][0]["runs"]) == 2 and "(median of 2)" in r.stdout


def test_median_run_reports_one_whole_run():
    """The reported run is the one of median wall time, whole (its phases add up to its own
    simulation), and every run's times are kept."""
    median_run = _benchmark_module()._median_run
    runs = [{"setup_s": 0.1 * k, "simulate_s": s, "wall_s": 0.1 * k + s, "phase_s": {"a": s}}
            for k, s in ((1, 5.0), (2, 3.0), (3, 4.0))]
    r = median_run(runs)
    assert r["wall_s"] == runs[2]["wall_s"] and r["phase_s"] == {"a": 4.0}
    assert [x["simulate_s"] for x in r["runs"]] == [5.0, 3.0, 4.0]
    assert median_run(runs[:2])["simulate_s"] == 3.0  # even count: the lower middle


def _benchmark_module():
    spec = importlib.util.spec_from_file_location("benchmark", ROOT / "experiments" /
                                                  "benchmark.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_reference_applies_the_models_rules():
    """The per-agent reference computes the model's adoption, awareness and choice formulas.

    After 70 days of the reference (a mixed state: adopters, users, unaware households), every
    agent's own per-agent probabilities and utilities equal the model's vectorised functions
    evaluated on the same state (up to the order of floating-point additions)."""
    from tests.reference import adoption_probability, awareness_probability, choice_utilities

    ref = _benchmark_module().RefModel(1500, seed=2)
    for _ in range(70):  # past the entrant's entry (day 60): all three platforms in play
        ref.step()
    assert all(ref.active), "every platform should have entered"
    hh = ref.households
    adopted = np.array([h.adopted for h in hh])
    leader = np.array([h.is_leader for h in hh])
    degree = np.array([len(h.neighbours) for h in hh])
    a_nb = np.array([adopted[h.neighbours].sum() for h in hh], float)
    l_nb = np.array([leader[h.neighbours].any() for h in hh])
    reach = np.array([ref.reach[h.neighbourhood] for h in hh])
    p_scale = np.array([h.p_scale for h in hh])
    assert 0.05 < adopted.mean() < 0.95, "the state should be mixed for the check to bite"
    want = adoption_probability(ref.p, ref.q, reach, a_nb, degree, l_nb, ref.leader_boost, p_scale)
    np.testing.assert_allclose([h.adoption_probability() for h in hh], want, rtol=1e-12)

    last = np.array([h.last for h in hh])
    last_p = np.array([h.day_last_p for h in hh])
    recent = (last_p >= 0) & (ref.day - last_p <= ref.recent_days)  # per platform (ODD 7.1)
    for j in range(len(ref.prices)):
        users = np.array([recent[h.neighbours, j].sum() for h in hh])
        has_leader = np.array([h.leader_of[j] >= 0 for h in hh])
        want = awareness_probability(ref.own_awareness[j], ref.awareness_imitation, users,
                                     degree, ref.awareness_from_leader, has_leader)
        np.testing.assert_allclose([h.awareness_probability(j) for h in hh], want, rtol=1e-12)
    assert recent.mean() > 0.01, "some households should have ordered recently"
    assert (recent.sum(axis=1) >= 2).any(), "some should count for two platforms at once"

    n_p = len(ref.prices)
    reachable = (np.array([h.aware for h in hh]) & (np.array([h.leader_of for h in hh]) >= 0)
                 & np.array(ref.active)[None, :])
    want = choice_utilities(np.array(ref.prices), np.zeros(n_p), np.array([h.beta for h in hh]),
                            np.array([h.trust for h in hh]), last, np.array(ref.quality),
                            reachable, ref.theta, ref.kappa, ref.outside)
    np.testing.assert_allclose([h.utilities() for h in hh], want, rtol=1e-12)
    assert np.isfinite(want[:, 1:]).any(), "some platforms should be reachable"
