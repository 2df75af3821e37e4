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

A full-length stream of which a phase needs only some households' numbers (those not yet
aware, today's adoption candidates) is read with :meth:`RandomStreams.uniform_of`: the same
numbers as :meth:`RandomStreams.uniform`, reached by jumping PCG64's state from one household to
the next, so the cost follows the households read.

Streams that only a few households need on a day (the units of today's orders, today's
choosers) are drawn with :meth:`RandomStreams.uniform_at`, a counter-based generator: household
``i``'s number is a hash of ``(stream key, i)``, where the key comes from the same seed sequence
as above. It has the same common-random-numbers property (a household's number depends only on
seed, stream, day and household, never on who else draws) but costs time for the households
drawn rather than for all of them, which is what lets a million-household day be cheap.

No module of the model uses Python's ``random`` module or ``np.random.*`` global functions.
"""

from __future__ import annotations

import zlib

import numpy as np

from sim.kernels import pcg64_uniforms_at, seed_sequence_keys, splitmix_uniforms

__all__ = ["RandomStreams", "stable_hash"]

# Day index used for streams that are not tied to a simulated day (population, network, ...).
SETUP_DAY = 2**31 - 1
_LOW64 = (1 << 64) - 1


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
        self._seed_words = _words(self.seed)

    def generator(self, name: str, day: int = SETUP_DAY) -> np.random.Generator:
        """A fresh generator for stream ``name`` on ``day`` (setup streams omit the day)."""
        return np.random.Generator(np.random.PCG64(self._seed_sequence(name, day)))

    def _seed_sequence(self, name: str, day: int) -> np.random.SeedSequence:
        return np.random.SeedSequence(entropy=self.seed, spawn_key=(stable_hash(name), int(day)))

    def uniform(self, name: str, day: int, n: int) -> np.ndarray:
        """``n`` uniforms in [0, 1) for stream ``name`` on ``day``, indexed by agent."""
        return self.generator(name, day).random(n)

    def uniform_of(self, name: str, day: int, index: np.ndarray) -> np.ndarray:
        """``uniform(name, day, n)[index]`` for any ``n`` above ``index.max()``, equal bit for bit.

        For a full-length stream of which a phase needs only some households' numbers (those
        not yet aware, today's adoption candidates, the unserved): the numbers are those of
        :meth:`uniform`, so the stream keeps its common random numbers, but when the index is
        sparse PCG64's state jumps from one index to the next instead of generating the numbers
        between (:func:`sim.kernels.pcg64_uniforms_at`): the cost follows ``len(index)``, not
        ``n``. Any order and repeats are allowed.
        """
        bits = np.random.PCG64(self._seed_sequence(name, day)).state["state"]
        words = np.array([bits["state"] >> 64, bits["state"] & _LOW64,
                          bits["inc"] >> 64, bits["inc"] & _LOW64], np.uint64)
        return pcg64_uniforms_at(words, np.ascontiguousarray(index, np.int64))

    def uniform_at(self, name: str, day: int, index: np.ndarray) -> np.ndarray:
        """Household ``index[k]``'s uniform in [0, 1) for stream ``name`` on ``day``.

        Counter-based (SplitMix64 of ``key + (i + 1) * golden``, the key drawn from the stream's
        seed sequence), so ``uniform_at(name, day, idx)`` equals ``uniform_at(name, day,
        arange(n))[idx]`` for any ``idx``: common random numbers by index, without drawing the
        households that do not need a number today. A stream is drawn either with this method
        or with :meth:`uniform` / :meth:`uniform_of`, never both (they give different numbers).
        """
        return self.uniform_at_streams([name], day, index)[:, 0]

    def uniform_at_streams(self, names: list[str], day: int, index: np.ndarray) -> np.ndarray:
        """:meth:`uniform_at` for several streams at once: column k is stream ``names[k]``."""
        return splitmix_uniforms(self._keys(names, day), np.ascontiguousarray(index, np.int64))

    def _keys(self, names: list[str], day: int) -> np.ndarray:
        """The counter-based streams' keys: the first word of the state of each stream's seed
        sequence, ``SeedSequence(seed, (crc32(name), day)).generate_state(1, uint64)[0]``
        (computed by :func:`sim.kernels.seed_sequence_keys`, equal to NumPy's)."""
        spawn = np.array([np.concatenate([_words(stable_hash(name)), _words(int(day))])
                          for name in names], np.uint64)
        return seed_sequence_keys(self._seed_words, spawn)


def _words(x: int) -> np.ndarray:
    """A non-negative integer as 32-bit words, little end first (``[0]`` for 0), as NumPy's
    SeedSequence reads entropy and each spawn-key element."""
    out = [x & 0xFFFFFFFF]
    x >>= 32
    while x:
        out.append(x & 0xFFFFFFFF)
        x >>= 32
    return np.array(out, np.uint64)
