"""Behaviour tests (STYLE.md §9b): directions the mechanisms must produce, over several seeds.

Each comparison pairs the same seeds (common random numbers), so the difference comes from the
mechanism, not from noise; we require it in the mean and in most seeds.
"""

import numpy as np
import pytest

from sim.api import compose, run

pytestmark = pytest.mark.slow  # whole markets over seeds: the quick tier leaves them out

SEEDS = [1, 2, 3, 4]
BASE = ["experiment=smoke", "days=120", "calendar.start_day_of_year=120"]  # into the summer


def _runs(extra):
    return [run(compose(BASE + [f"seed={s}"] + extra), quiet=True) for s in SEEDS]


def test_full_cold_chain_spoils_less_than_none():
    none = np.array([r["produce_spoilage_rate"] for r in _runs(["coldchain=none"])])
    full = np.array([r["produce_spoilage_rate"] for r in _runs(["coldchain=full"])])
    assert np.all(full < none), f"full cold chain spoils less in every seed: {full} vs {none}"


def test_commission_cut_raises_leader_churn():
    base = np.array([r["leader_quits_total"] for r in _runs([])])
    cut = np.array([r["leader_quits_total"] for r in _runs(
        ["incentive.decay_start_day=0", "incentive.decay_to_rate=0.03"])])
    assert cut.mean() > base.mean() and (cut >= base).sum() >= 3, (base, cut)
