"""The records' compiled loop: the day's household counts per platform in one pass.
"""

from __future__ import annotations

import numpy as np

from sim.jit import jit

__all__ = [
    "household_counts",
]


@jit
def household_counts(adopted, in_village, aware, leader_of, active):
    """The day's household counts for the records, in one call: adopters (all, town, village),
    households in town and in villages, households aware of any platform and of each, with a
    leader of each platform, and with a leader of an active platform."""
    n, n_p = aware.shape
    # Counts as sums of 0/1 bytes, no branches on the households' state (the flags' bytes
    # are 0 or 1: NumPy's bool). First one flat pass over the (n, P) entries, which LLVM
    # vectorises: bit 0 aware, bit 1 has a leader. Then per household the platforms' flags;
    # three platforms (the default market) get a loop of their own, whose fixed trip count
    # lets LLVM keep the six counts in registers and vectorise (at 100k on the state of day
    # 200: 288 -> 120 us; other counts of platforms, platform by platform: 236 us).
    ad, vil = adopted.view(np.uint8), in_village.view(np.uint8)
    aw = aware.view(np.uint8).reshape(n * n_p)
    lf = leader_of.reshape(n * n_p)
    act = active.view(np.uint8)
    one = np.uint8(1)
    adopters = adopters_village = villagers = 0
    for i in range(n):
        adopters += ad[i]
        villagers += vil[i]
        adopters_village += ad[i] & vil[i]
    flags = np.empty(n * n_p, np.uint8)
    for e in range(n * n_p):
        flags[e] = aw[e] | (np.uint8(lf[e] >= 0) << one)
    aware_p = np.zeros(n_p, np.int64)
    leader_p = np.zeros(n_p, np.int64)
    aware_any = covered = 0
    if n_p == 3:
        a0 = a1 = a2 = h0 = h1 = h2 = 0
        k0, k1, k2 = one | (act[0] << one), one | (act[1] << one), one | (act[2] << one)
        for i in range(n):
            f0, f1, f2 = flags[3 * i], flags[3 * i + 1], flags[3 * i + 2]
            a0 += f0 & one
            a1 += f1 & one
            a2 += f2 & one
            h0 += f0 >> one
            h1 += f1 >> one
            h2 += f2 >> one
            seen = (f0 & k0) | (f1 & k1) | (f2 & k2)  # bit 1: a leader of an active platform
            aware_any += seen & one
            covered += seen >> one
        aware_p[0], aware_p[1], aware_p[2] = a0, a1, a2
        leader_p[0], leader_p[1], leader_p[2] = h0, h1, h2
    else:
        seen_all = np.zeros(n, np.uint8)
        for j in range(n_p):
            keep = one | (act[j] << one)
            a = h = 0
            for i in range(n):
                f = flags[i * n_p + j]
                a += f & one
                h += f >> one
                seen_all[i] |= f & keep
            aware_p[j] = a
            leader_p[j] = h
        for i in range(n):
            aware_any += seen_all[i] & one
            covered += seen_all[i] >> one
    return (adopters, adopters - adopters_village, n - villagers, adopters_village, villagers,
            aware_any, aware_p, leader_p, covered)
