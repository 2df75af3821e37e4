"""The reference of the logit-Bertrand dock (ODD 8, docks): Bertrand-Nash prices under logit
demand with an outside option, checked against a closed form and against brute-force best
responses, both independent of the root finder."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import lambertw

from sim.validation import logit_bertrand_prices, logit_shares


def _profit(p_j, j, prices, alpha, b, cost, rate):
    p = np.array(prices, float)
    p[j] = p_j
    return ((1 - rate[j]) * p_j - cost[j]) * logit_shares(p, alpha, b)[j]


def test_a_monopoly_matches_the_lambert_w_closed_form():
    """One platform: p - c' = 1 / (b (1 - s)) with s = e^(a - b p) / (1 + e^(a - b p)) has the
    solution p = c' + (1 + W(e^(a - b c' - 1))) / b (W: Lambert's W)."""
    for a, b, c, r in [(2.0, 0.5, 6.0, 0.1), (0.0, 1.0, 1.0, 0.0), (4.0, 0.2, 10.0, 0.2)]:
        cp = c / (1 - r)
        want = cp + (1 + lambertw(np.exp(a - b * cp - 1)).real) / b
        got = logit_bertrand_prices([a], b, [c], [r])[0]
        assert got == pytest.approx(want, rel=1e-10), (a, b, c, r)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 3), data=st.data())
def test_no_platform_gains_by_moving_its_price_alone(n, data):
    """At the reference prices each platform's own contribution ((1 - r) p - c) s is at its
    maximum over a fine grid of its own price, the rivals' held (a Nash equilibrium), for 2
    and 3 platforms with unequal costs, rates and appeal."""
    fl = st.floats
    alpha = np.array(data.draw(st.lists(fl(-2, 4), min_size=n, max_size=n)))
    cost = np.array(data.draw(st.lists(fl(1, 20), min_size=n, max_size=n)))
    rate = np.array(data.draw(st.lists(fl(0, 0.25), min_size=n, max_size=n)))
    b = data.draw(fl(0.05, 2.0))
    p = logit_bertrand_prices(alpha, b, cost, rate)
    for j in range(n):
        best = _profit(p[j], j, p, alpha, b, cost, rate)
        grid = p[j] + np.linspace(-3, 3, 601) / b  # +- 3 markups of 1/b around the answer
        others = max(_profit(x, j, p, alpha, b, cost, rate) for x in grid)
        assert best >= others * (1 - 1e-9), f"platform {j} gains by moving from {p[j]:.4f}"


def test_a_cheaper_platform_charges_less_but_keeps_a_larger_markup_and_share():
    """Two platforms alike but for cost: the cheaper one's price is lower, its markup over
    cost and its share larger (the first-order condition: markup = 1 / (b (1 - s)))."""
    p = logit_bertrand_prices([1.0, 1.0], 0.5, [5.0, 7.0], [0.1, 0.1])
    s = logit_shares(p, [1.0, 1.0], 0.5)
    floor = np.array([5.0, 7.0]) / 0.9
    assert p[0] < p[1] and (p - floor)[0] > (p - floor)[1] and s[0] > s[1]


def test_bad_arguments_get_one_line_naming_them():
    with pytest.raises(ValueError, match="b=0"):
        logit_bertrand_prices([1.0], 0.0, [1.0], [0.1])
    with pytest.raises(ValueError, match=r"rate in \[0, 1\)"):
        logit_bertrand_prices([1.0], 1.0, [1.0], [1.0])
