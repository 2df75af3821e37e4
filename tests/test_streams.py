"""Named random streams (ODD 4)."""

import numpy as np
import pytest

from sim.streams import RandomStreams, stable_hash


def test_stable_hash_is_crc32():
    assert stable_hash("abc") == 0x352441C2  # CRC-32 of b"abc", the same in every process


def test_same_seed_same_numbers_and_names_are_independent():
    a, b = RandomStreams(7), RandomStreams(7)
    np.testing.assert_array_equal(a.uniform("x", 3, 100), b.uniform("x", 3, 100))
    assert not np.array_equal(a.uniform("x", 3, 100), a.uniform("y", 3, 100))
    assert not np.array_equal(a.uniform("x", 3, 100), a.uniform("x", 4, 100))
    assert not np.array_equal(a.uniform("x", 3, 100), RandomStreams(8).uniform("x", 3, 100))


@pytest.mark.parametrize("seed", [0, 1, 5, 2**32 + 7, 2**70 + 3])
def test_full_length_streams_are_numpys_pcg64(seed):
    """uniform(name, day, n) is NumPy's Generator(PCG64(SeedSequence(seed, (crc32(name), day))))
    .random(n) bit for bit: the compiled seeding (sim.streams.pcg64.pcg64_seeded, the state NumPy
    reports) and the compiled sequence, in one lane (short) and four (from 1,024 numbers, the
    last lane shorter or as long as the others)."""
    s = RandomStreams(seed)
    for name in ("orders.occasion", "leaders.quit", "", "x" * 40):
        for day in (0, 1, 364, 2**31 - 1):
            ss = np.random.SeedSequence(entropy=seed, spawn_key=(stable_hash(name), day))
            bits = np.random.PCG64(ss).state["state"]
            assert s._pcg64_state(name, day).tolist() == [
                bits["state"] >> 64, bits["state"] & (2**64 - 1), bits["inc"] >> 64,
                bits["inc"] & (2**64 - 1)], (name, day)
            full = np.random.Generator(np.random.PCG64(ss)).random(5000)
            for n in (0, 1, 7, 1023, 1024, 1025, 1027, 5000):
                np.testing.assert_array_equal(s.uniform(name, day, n), full[:n])


def test_draws_are_indexed_by_agent():
    # A longer draw starts with the shorter one: agent i gets the same number whatever n is.
    s = RandomStreams(1)
    np.testing.assert_array_equal(s.uniform("x", 0, 50), s.uniform("x", 0, 80)[:50])


def test_uniform_of_is_the_full_length_draw_at_the_index():
    """uniform_of(name, day, idx) == uniform(name, day, n)[idx] bit for bit, on both paths of
    sim.streams.pcg64.pcg64_uniforms_at: a
    few indices (the state jumps between them, or steps through
    short runs) and many (every number generated in sequence); in any order, with repeats."""
    n = 60_000
    for seed in (0, 1, 2, 3):
        rng = np.random.default_rng(seed)
        s = RandomStreams(seed)
        full = s.uniform("wom.aware.incumbent", 40 + seed, n)
        few = np.sort(rng.choice(n, 200, replace=False))
        runs = np.unique(np.r_[few, np.arange(100, 140), np.arange(3000, 3003), [n - 1]])
        many = np.flatnonzero(rng.random(n) < 0.5)
        for idx in (few, runs, many, np.arange(n), rng.permutation(few),
                    np.r_[few[:20], few[:20], [0, 0]], np.zeros(0, np.int64), np.array([0]),
                    np.array([n - 1])):
            np.testing.assert_array_equal(s.uniform_of("wom.aware.incumbent", 40 + seed, idx),
                                          full[idx])
    # Jumps of up to 22 bits, far beyond a day's households.
    far = np.array([5, 1_234_567, 3_999_999])
    s = RandomStreams(9)
    np.testing.assert_array_equal(s.uniform_of("x", 0, far), s.uniform("x", 0, 4_000_000)[far])
    with pytest.raises(ValueError, match="negative"):
        s.uniform_of("x", 0, np.array([3, -1]))


def test_counter_based_draws_are_indexed_by_household():
    # uniform_at gives household i the same number whoever else draws that day (common random
    # numbers by index), differs across names, days and seeds, and is uniform on [0, 1).
    s = RandomStreams(5)
    full = s.uniform_at("x", 2, np.arange(1000))
    idx = np.array([999, 3, 3, 0, 512])
    np.testing.assert_array_equal(s.uniform_at("x", 2, idx), full[idx])
    np.testing.assert_array_equal(RandomStreams(5).uniform_at("x", 2, idx), full[idx])
    assert not np.array_equal(full, s.uniform_at("y", 2, np.arange(1000)))
    assert not np.array_equal(full, s.uniform_at("x", 3, np.arange(1000)))
    assert not np.array_equal(full, RandomStreams(6).uniform_at("x", 2, np.arange(1000)))
    big = s.uniform_at("z", 0, np.arange(200_000))
    assert big.min() >= 0.0 and big.max() < 1.0
    # Mean and variance of U(0,1) are 1/2 and 1/12; with 200,000 draws the standard errors are
    # about 0.00065 and 0.0002, so 0.003 and 0.001 are > 4.5 standard errors.
    assert abs(big.mean() - 0.5) < 0.003
    assert abs(big.var() - 1 / 12) < 0.001
    # Neighbouring households are not correlated (|r| < 0.01 is > 4 standard errors of 0.0022).
    assert abs(np.corrcoef(big[:-1], big[1:])[0, 1]) < 0.01
