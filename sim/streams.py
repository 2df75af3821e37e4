"""Named random streams with common random numbers (DESIGN §5.3).

Every random decision in the model draws from its own named stream. A stream's generator for a
given day is seeded from ``(run seed, stable hash of the name, day)`` through
:class:`numpy.random.SeedSequence`, so

* the same seed gives the same numbers, bit for bit, in any process (the hash is CRC-32 of the
  name, not Python's salted ``hash()``);
* a draw on one day never shifts the numbers of another day or another stream, so a policy that
  starts on day D leaves every day before D identical;
* consumer-level draws are full-length vectors indexed by consumer, drawn whether or not a consumer
  needs them, so two scenarios with the same seed give every consumer the same random numbers
  (common random numbers, as in Starsim). A policy change then changes outcomes only through the
  policy, which is what makes paired comparisons precise.

No module of the model uses Python's ``random`` module or ``np.random.*`` global functions.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["RandomStreams", "stable_hash"]

# Day index used for streams that are not tied to a simulated day (population, network, ...).
SETUP_DAY = 2**31 - 1


def stable_hash(name: str) -> int:
    """A process-independent 32-bit hash of a stream name (CRC-32 of its UTF-8 bytes)."""
    return zlib.crc32(name.encode("utf-8"))


class RandomStreams:
    """The run's random streams.

    Args:
        seed: the run seed (any non-negative integer).
    """

    def __init__(self, seed: int):
        if seed < 0:
            raise ValueError(f"seed={seed}: must be a non-negative integer")
        self.seed = int(seed)

    def generator(self, name: str, day: int = SETUP_DAY) -> np.random.Generator:
        """A fresh generator for stream ``name`` on ``day`` (setup streams omit the day)."""
        ss = np.random.SeedSequence(entropy=self.seed, spawn_key=(stable_hash(name), int(day)))
        return np.random.Generator(np.random.PCG64(ss))

    def uniform(self, name: str, day: int, n: int) -> np.ndarray:
        """``n`` uniforms in [0, 1) for stream ``name`` on ``day``, indexed by agent."""
        return self.generator(name, day).random(n)
