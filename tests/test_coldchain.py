"""Unit tests of the Q10 shelf-life rule (ODD 7.5)."""

import numpy as np
import pytest

from sim.coldchain import (
    SALTVEIT_PRODUCE_Q10_BANDS,
    life_used,
    relative_shelf_life,
    shelf_life_days,
    shelf_life_days_banded,
)


@pytest.mark.parametrize("l_ref,q10,t,t_ref", [
    (10, 2.0, 20, 0), (14, 3.0, 4, 0), (180, 3.0, 30, -18), (5, 2.5, -5, 0),
])
def test_single_q10_is_the_formula(l_ref, q10, t, t_ref):
    expected = l_ref * q10 ** (-(t - t_ref) / 10)
    assert shelf_life_days(l_ref, q10, t, t_ref) == pytest.approx(expected)


def test_saltveit_bands_give_the_relative_table():
    # ODD 7.5: relative shelf lives 100 / 33 / 13 / 7 / 4 at 0 / 10 / 20 / 30 / 40 °C.
    rel = 100 * relative_shelf_life([0, 10, 20, 30, 40], SALTVEIT_PRODUCE_Q10_BANDS)
    np.testing.assert_array_equal(np.round(rel), [100, 33, 13, 7, 4])


def test_bands_are_fixed_temperatures_whatever_the_reference():
    # Saltveit's bands are 0-10, 10-20, 20-30, 30+ °C. From a 5 °C reference to 25 °C: 5 degrees
    # at Q10 3.0, 10 at 2.5, 5 at 2.0; and the ratio of two lives does not depend on the
    # reference (L(T) / L(T_ref) = r(T) / r(T_ref) with r relative to 0 °C).
    want = 3.0 ** -0.5 * 2.5 ** -1.0 * 2.0 ** -0.5
    assert relative_shelf_life(25.0, SALTVEIT_PRODUCE_Q10_BANDS, t_ref_c=5.0) == pytest.approx(
        want, rel=1e-12)
    t = np.linspace(-5, 45, 51)
    r0 = relative_shelf_life(t, SALTVEIT_PRODUCE_Q10_BANDS)
    for t_ref in (-3.0, 4.0, 12.5, 27.0):
        np.testing.assert_allclose(
            relative_shelf_life(t, SALTVEIT_PRODUCE_Q10_BANDS, t_ref_c=t_ref),
            r0 / relative_shelf_life(t_ref, SALTVEIT_PRODUCE_Q10_BANDS), rtol=1e-12)


def test_one_band_equals_single_q10_everywhere():
    t = np.linspace(-10, 45, 23)
    np.testing.assert_allclose(shelf_life_days_banded(12.0, [2.2], t, 3.0),
                               shelf_life_days(12.0, 2.2, t, 3.0))


def test_bands_are_continuous_and_decreasing():
    t = np.linspace(-5, 45, 501)
    rel = relative_shelf_life(t, SALTVEIT_PRODUCE_Q10_BANDS)
    assert np.all(np.diff(rel) < 0)
    # At a band edge the two sides agree (no jump).
    assert relative_shelf_life(10 - 1e-9, SALTVEIT_PRODUCE_Q10_BANDS) == pytest.approx(
        relative_shelf_life(10 + 1e-9, SALTVEIT_PRODUCE_Q10_BANDS))


def test_life_used_is_hours_over_shelf_life():
    # 12 hours at 10 °C for produce of 14 days at 0 °C: L = 14/3 days, so 0.5 / (14/3) is used.
    used = life_used(12, 14.0, SALTVEIT_PRODUCE_Q10_BANDS, 10.0, 0.0)
    assert used == pytest.approx(0.5 / (14.0 / 3.0))
