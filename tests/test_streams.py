"""Named random streams (DESIGN §5.3)."""

import numpy as np

from sim.streams import RandomStreams, stable_hash


def test_stable_hash_is_crc32():
    assert stable_hash("abc") == 0x352441C2  # CRC-32 of b"abc", the same in every process


def test_same_seed_same_numbers_and_names_are_independent():
    a, b = RandomStreams(7), RandomStreams(7)
    np.testing.assert_array_equal(a.uniform("x", 3, 100), b.uniform("x", 3, 100))
    assert not np.array_equal(a.uniform("x", 3, 100), a.uniform("y", 3, 100))
    assert not np.array_equal(a.uniform("x", 3, 100), a.uniform("x", 4, 100))
    assert not np.array_equal(a.uniform("x", 3, 100), RandomStreams(8).uniform("x", 3, 100))


def test_draws_are_indexed_by_agent():
    # A longer draw starts with the shorter one: agent i gets the same number whatever n is.
    s = RandomStreams(1)
    np.testing.assert_array_equal(s.uniform("x", 0, 50), s.uniform("x", 0, 80)[:50])
