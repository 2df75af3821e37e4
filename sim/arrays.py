"""Row reductions over the narrow (households, platforms) tables, column by column.

Consumer state such as ``aware`` or ``trust`` is a C-ordered (n, P) array with P (the platforms,
2-5) much smaller than n. NumPy reduces ``axis=1`` of such an array one short row at a time,
which costs several times a pass over the data; combining its P columns with the elementwise
ufunc (``a[:, 0] | a[:, 1] | ...``) is a handful of vectorised passes instead. The results are
identical (the same elementwise operations). The daily records and the consumer phases count
in compiled passes instead (each mechanism's ``kernels`` module).

:func:`sums_by` is the per-platform (or per-supplier) total of an order-book column:
``values[group == g].sum()`` for every ``g`` in one compiled pass instead of a mask, a copy and
a sum per group, with NumPy's own summation order (:func:`group_sums`, compiled, below).
"""

from __future__ import annotations

import numpy as np

from sim.jit import jit

__all__ = ["any_rows", "block_sum", "count_cols", "group_sums", "pairwise_sum", "row_sums",
           "sums_by"]


def any_rows(a: np.ndarray) -> np.ndarray:
    """``a.any(axis=1)`` for a 2-D array."""
    if a.shape[1] == 0:
        return np.zeros(a.shape[0], bool)
    out = a[:, 0].astype(bool, copy=True)
    for k in range(1, a.shape[1]):
        out |= a[:, k].astype(bool, copy=False)
    return out


def row_sums(a: np.ndarray) -> np.ndarray:
    """``a.sum(axis=1)`` for a 2-D array, equal to it bit for bit (float64 rows summed here).

    NumPy sums a row of fewer than 8 numbers from left to right, starting from +0.0 (its
    pairwise summation only splits longer runs), so for such rows the columns are added in
    that order, a vectorised pass each, ~4x faster than the axis-1 reduction; longer rows are
    left to NumPy. (``0.0 + x`` is ``x`` except that it turns -0.0 into 0.0, as NumPy does.)
    """
    if a.ndim != 2 or a.dtype != np.float64 or not 0 < a.shape[1] < 8:
        return a.sum(axis=1)
    out = a[:, 0] + 0.0
    for k in range(1, a.shape[1]):
        out += a[:, k]
    return out


def count_cols(a: np.ndarray) -> np.ndarray:
    """``np.count_nonzero(a, axis=0)`` for a 2-D array, as int64."""
    return np.array([np.count_nonzero(a[:, k]) for k in range(a.shape[1])], np.int64)


def sums_by(values: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """``[values[group == g].sum() for g in range(n_groups)]``, equal to it bit for bit.

    ``values`` is 1-D or 2-D float; ``group`` has its shape, or one entry per row of a 2-D
    ``values`` (a row's group then holds for all its columns). Negative groups are left out.
    The kernel always gets the same array types (2-D float64 values, int64 groups), so that it
    is compiled once, whatever the caller passes.
    """
    values = np.ascontiguousarray(values, np.float64)
    group = np.ascontiguousarray(group, np.int64)
    if values.ndim == 1:
        values = values[:, None]
    if group.ndim == 2:
        return group_sums(values, _NO_ROWS, group, n_groups)
    return group_sums(values, group, _NO_CELLS, n_groups)


_NO_ROWS = np.zeros(0, np.int64)
_NO_CELLS = np.zeros((0, 0), np.int64)


# ---------------------------------------------------------------------------------------------
# grouped sums, compiled: NumPy's pairwise summation re-done


@jit
def block_sum(a, start, n):
    """``a[start:start + n].sum()`` for ``n <= 128``, as NumPy adds a contiguous float64 run:
    one by one below 8, else eight accumulators combined as a tree, then the rest
    (numpy/_core/src/umath/loops_utils.h.src, ``pairwise_sum``)."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[start + i]
        return res
    r0, r1, r2, r3 = a[start], a[start + 1], a[start + 2], a[start + 3]
    r4, r5, r6, r7 = a[start + 4], a[start + 5], a[start + 6], a[start + 7]
    i = 8
    stop = n - n % 8
    while i < stop:
        k = start + i
        r0 += a[k]
        r1 += a[k + 1]
        r2 += a[k + 2]
        r3 += a[k + 3]
        r4 += a[k + 4]
        r5 += a[k + 5]
        r6 += a[k + 6]
        r7 += a[k + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[start + i]
        i += 1
    return res


@jit
def pairwise_sum(a, start, n):
    """``a[start:start + n].sum()`` as NumPy sums a contiguous float64 run, to the last bit:
    runs of more than 128 are halved (the first half a multiple of 8 long) and the halves'
    sums added, down to blocks of at most 128 (:func:`block_sum`). NumPy recurses; here an
    explicit stack does the same (numba's cache cannot load recursive functions)."""
    if n <= 128:
        return block_sum(a, start, n)
    depth = 2 * (64 + 1)
    lo = np.empty(depth, np.int64)  # the pending runs: start, length, halves done (0-2)
    ln = np.empty(depth, np.int64)
    done = np.empty(depth, np.int64)
    sums = np.empty(depth)  # finished halves, left below right
    top, n_sums = 0, 0
    lo[0], ln[0], done[0] = start, n, 0
    while top >= 0:
        s, k = lo[top], ln[top]
        if k <= 128:
            sums[n_sums] = block_sum(a, s, k)
            n_sums += 1
            top -= 1
            continue
        half = k // 2
        half -= half % 8
        if done[top] == 0:
            done[top] = 1
            top += 1
            lo[top], ln[top], done[top] = s, half, 0
        elif done[top] == 1:
            done[top] = 2
            top += 1
            lo[top], ln[top], done[top] = s + half, k - half, 0
        else:
            n_sums -= 1
            sums[n_sums - 1] = sums[n_sums - 1] + sums[n_sums]
            top -= 1
    return sums[0]


@jit
def group_sums(values, row_group, cell_group, n_groups):
    """``values[group == g].sum()`` for each ``g`` in ``range(n_groups)``, in one pass.

    ``values`` is (m, k) float64; the group of cell (r, c) is ``cell_group[r, c]`` or, when
    ``cell_group`` is empty, ``row_group[r]``; a negative group is left out. Each group's values
    are gathered in row-major order, as a boolean mask selects them, and summed pairwise as
    NumPy sums the selection (:func:`pairwise_sum`), so each sum equals NumPy's bit for bit.
    """
    m, k = values.shape
    per_cell = cell_group.shape[0] > 0
    size = np.zeros(n_groups + 1, np.int64)
    if per_cell:
        for r in range(m):
            for c in range(k):
                g = cell_group[r, c]
                if g >= 0:
                    size[g + 1] += 1
    else:  # a row's cells go together: counted and copied once per row
        for r in range(m):
            g = row_group[r]
            if g >= 0:
                size[g + 1] += k
    for g in range(n_groups):
        size[g + 1] += size[g]
    buf = np.empty(size[n_groups])
    fill = size[:n_groups].copy()
    for r in range(m):
        if per_cell:
            for c in range(k):
                g = cell_group[r, c]
                if g >= 0:
                    buf[fill[g]] = values[r, c]
                    fill[g] += 1
        else:
            g = row_group[r]
            if g >= 0:
                at = fill[g]
                for c in range(k):
                    buf[at + c] = values[r, c]
                fill[g] = at + k
    out = np.empty(n_groups)
    for g in range(n_groups):
        out[g] = pairwise_sum(buf, size[g], size[g + 1] - size[g])
    return out
