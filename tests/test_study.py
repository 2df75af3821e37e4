"""The shared study helpers: figures and paired statistics."""

import numpy as np
import pytest

from sim import figures
from sim.study import paired_difference, run_seeds


def test_paired_difference_is_exact_on_a_known_case():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = a + np.array([0.5, 0.7, 0.3, 0.5])  # differences: mean 0.5, sd 0.163
    r = paired_difference(a, b)
    sd = np.std([0.5, 0.7, 0.3, 0.5], ddof=1)
    assert r["difference"] == pytest.approx(0.5)
    assert r["ci_high"] - r["difference"] == pytest.approx(1.96 * sd / 2)
    assert r["paired_half_width"] < r["unpaired_half_width"]


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
