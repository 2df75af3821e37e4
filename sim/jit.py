"""Compiled loops (numba): the decorator and the low-level tools every mechanism's kernels share.

The consumer phases are whole-array operations (ODD 7), but some of their steps touch a small,
scattered part of the arrays: the ties of the households whose state changed today, the
neighbours of today's complainers, today's choosers and their order units, the pre-sale queue,
the order book's per-platform totals, the suppliers' allocation, the leader phase's selections,
the numbers of a full-length random stream at a few households. In NumPy each such step is a
chain of fancy-indexing passes that each allocate a temporary; compiled by numba it is one loop
over exactly the entries concerned. Each mechanism keeps its kernels beside its phase code
(``sim/wom/kernels.py``, ``sim/choice/kernels.py``, ``sim/leaders/kernels.py``,
``sim/supply/kernels.py``, ``sim/coldchain/kernels.py``, ``sim/records/kernels.py``, the random
streams' ``sim/streams/pcg64.py``, the grouped sums of :mod:`sim.arrays`, the neighbour counts
of :mod:`sim.network`); this module holds what they share: the decorator (:data:`jit`:
``cache=True``, compiled once per machine into each package's ``__pycache__``, loaded by each
process in ~0.25 s, see :func:`warm_up`), software prefetch, and the flag buffers. No Python
loop runs over households (ODD 7): these loops are machine code.

Every kernel computes the same IEEE operations, in the same order, as the NumPy formula it
stands for (no ``fastmath``, so no reassociation and no fused multiply-add), and leaves the
transcendental functions (``exp``, ``log``, ``pow``) to NumPy; ``tests/test_kernels.py`` checks
each against that formula on random states. Float sums are NumPy's pairwise summation, re-done
(:func:`sim.arrays.group_sums`).

The model calls each kernel with the same argument types in every scenario, so that a machine
compiles one version of it: numba's cache index is updated without a lock, and two processes
compiling different versions at once (a sweep's first jobs) could corrupt it. A test checks it.
"""

from __future__ import annotations

import time

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = [
    "GATHER_AHEAD",
    "PREFETCH_AHEAD",
    "PREFETCH_SPAN",
    "ahead",
    "flag_buffer",
    "flagged",
    "jit",
    "prefetch",
    "prefetch_row",
    "warm_up",
]
jit = numba.njit(cache=True, nogil=True)


# Software prefetch for the kernels that follow a list of households' ties. Their reads land
# all over arrays that the rest of the day has pushed out of the caches (at 100k households the
# day touches ~40 MB): measured at 100k with 64 MB touched between calls, scatter_rows took 0.93
# ms with its data cold and 0.25 ms warm. Asking for the lines a few rows ahead lets those misses
# overlap (0.62 ms cold). A hint only: it reads nothing into the program and changes no result.
PREFETCH_AHEAD = 8  # rows ahead; 2 to 16 measured the same within noise (0.61-0.63 ms)
PREFETCH_SPAN = 6  # households either side of a row whose lines are asked for (median tie: 4)


@intrinsic
def prefetch(typingctx, arr, i):
    """Ask for the cache line holding ``arr[i]``, the start of row ``i`` when ``arr`` has more
    than one dimension (``llvm.prefetch``: read, keep in all levels); ``i`` must be a valid
    index of the first axis."""
    def codegen(context, builder, signature, args):
        ty = signature.args[0]
        ary = context.make_array(ty)(context, builder, args[0])
        zero = context.get_constant(numba.types.intp, 0)
        ptr = cgutils.get_item_pointer(context, builder, ty, ary,
                                       [args[1]] + [zero] * (ty.ndim - 1), wraparound=False)
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
            "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()
    return numba.types.void(arr, numba.types.intp), codegen


@jit
def ahead(rows, r, k):
    """``rows[r + k]``, the last of ``rows`` near the end: a valid index to prefetch at."""
    return rows[min(r + k, rows.shape[0] - 1)]


@jit
def prefetch_row(indptr, indices, data, rows, r, near):
    """Prefetch for the row ``PREFETCH_AHEAD`` after ``r`` in ``rows``: its ties (the
    ``indptr`` entry of the one twice as far, then ``indices`` and ``data``) and the rows of
    ``near`` around it, where most of its neighbours are."""
    prefetch(indptr, ahead(rows, r, 2 * PREFETCH_AHEAD))
    i = ahead(rows, r, PREFETCH_AHEAD)
    e = indptr[i]
    if e < indices.shape[0]:  # a last household without ties starts at the end
        prefetch(indices, e)
        prefetch(data, e)
    prefetch(near, max(i - PREFETCH_SPAN, 0))
    prefetch(near, min(i + PREFETCH_SPAN, near.shape[0] - 1))


# The kernels that gather or scatter household rows at a list of households (today's choosers,
# orders, candidates: ascending, ~1 in 10) miss the same way, one line per household and array.
# Measured at 100k (day 180, 64 MB touched between calls; median ms, old -> new): deliveries
# 0.80 -> 0.43, choice_utilities_rows 0.51 -> 0.35 (warm 0.20 -> 0.17), occasion_choosers 0.50
# -> 0.43, adoption_candidates 0.48 -> 0.41, record_choices 0.34 -> 0.30, become_aware (3 calls)
# 0.22 -> 0.19; warm no slower. lapse (a few percent of households) gained nothing.
GATHER_AHEAD = 16  # households ahead; 8 gained less (become_aware, adoption_candidates)


@jit
def flag_buffer(n):
    """Zeroed 0/1 flags for ``n`` households, padded with zeros to whole 8-byte words
    (:func:`flagged`)."""
    return np.zeros((n + 7) // 8 * 8, np.uint8)


@jit
def flagged(flags):
    """``flatnonzero(flags)`` for 0/1 flags from :func:`flag_buffer`, ascending. Eight flags
    are tested at once as a word: a word of zeros (most of them when few households are
    flagged) is skipped with one branch, the others are compacted without branches (no
    mispredictions when many are flagged)."""
    words = flags.view(np.uint64)
    out = np.empty(flags.shape[0], np.int64)
    m = 0
    for w in range(words.shape[0]):
        if words[w] != 0:
            for i in range(8 * w, 8 * w + 8):
                out[m] = i
                m += flags[i]
    return out[:m].copy()


def warm_up() -> float:
    """Start numba's runtime and load one kernel (~0.25 s once per process; compiling every
    kernel, once per machine, takes longer); return the seconds it took. The model calls it
    while it sets up, so that the one-off cost is counted as set-up rather than as day 0."""
    t0 = time.perf_counter()
    flag_buffer(1)
    return time.perf_counter() - t0
