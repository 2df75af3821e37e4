"""The shared study helpers: figures and paired statistics."""

import numpy as np
import pytest

from sim import figures
from sim.api import run_seeds
from sim.stats import t_quantile, welch_df
from sim.study import paired_difference


def test_paired_difference_is_exact_on_a_known_case():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = a + np.array([0.5, 0.7, 0.3, 0.5])  # differences: mean 0.5, sd 0.163
    r = paired_difference(a, b)
    sd = np.std([0.5, 0.7, 0.3, 0.5], ddof=1)
    assert r["difference"] == pytest.approx(0.5)
    # Student's t with 3 degrees of freedom: 3.182 (tables), not the normal 1.96.
    assert r["ci_high"] - r["difference"] == pytest.approx(3.182446 * sd / 2)
    assert r["paired_half_width"] < r["unpaired_half_width"]


@pytest.mark.parametrize("n", [2, 4, 10])
def test_intervals_cover_the_true_difference_95_percent_of_the_time(n):
    # 4,000 simulated studies of n paired seeds (a seed effect shared by A and B, plus noise)
    # and of n samples for mean_ci. A 95% interval must cover the truth in 95% of them: the
    # binomial standard error of the coverage is 0.0034, so +-0.015 is 4.4 of them. With the
    # normal 1.96 the coverage would be 0.71 (n = 2), 0.85 (4), 0.92 (10).
    rng = np.random.default_rng(n)
    reps, true_diff = 4000, 0.3
    seed_effect = rng.normal(0, 2.0, (reps, n))
    a = seed_effect + rng.normal(0, 0.5, (reps, n))
    b = seed_effect + true_diff + rng.normal(0, 0.5, (reps, n))
    covered = [r["ci_low"] <= true_diff <= r["ci_high"]
               for r in (paired_difference(a[i], b[i]) for i in range(reps))]
    assert abs(np.mean(covered) - 0.95) < 0.015, np.mean(covered)
    mean, lo, hi = figures.mean_ci(a.T)  # over axis 0: n samples of mean 0, per study
    assert abs(np.mean((lo <= 0) & (0 <= hi)) - 0.95) < 0.015


def test_welch_degrees_of_freedom():
    # Equal variances and sizes: 2n - 2; one variance zero: n - 1 (the other sample's).
    assert welch_df(1.0, 5, 1.0, 5) == pytest.approx(8.0)
    assert welch_df(0.0, 5, 2.0, 5) == pytest.approx(4.0)
    assert np.isnan(welch_df(0.0, 5, 0.0, 5))
    assert t_quantile(3) == pytest.approx(3.182446, rel=1e-6) and np.isnan(t_quantile(0))


@pytest.mark.slow
def test_run_seeds_matches_sequential(tmp_path):
    par = run_seeds(["experiment=smoke", "days=10"], [1, 2], workers=2)
    seq = run_seeds(["experiment=smoke", "days=10"], [1, 2], workers=1)
    for (s1, t1), (s2, t2) in zip(par, seq, strict=True):
        assert s1 == s2
        assert t1["daily"].equals(t2["daily"])


def test_figures_writes_png_and_pdf(tmp_path):
    fig, ax = figures.subplots(1, 1)
    mean, lo, hi = figures.mean_ci(np.random.default_rng(0).random((5, 10)))
    figures.band(ax, np.arange(10), mean, lo, hi, label="x")
    paths = figures.save(fig, tmp_path / "a" / "fig")
    assert [p.suffix for p in paths] == [".png", ".pdf"] and all(p.stat().st_size for p in paths)


def test_quick_runs_never_write_over_committed_figures(tmp_path):
    default = tmp_path / "figures" / "price_war"
    assert figures.output_dir(default, quick=False) == default
    assert figures.output_dir(default, quick=True) == tmp_path / "figures" / "quick" / "price_war"
    assert figures.output_dir(default, quick=True, out=tmp_path / "x") == tmp_path / "x"
