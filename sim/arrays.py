"""Row reductions over the narrow (households, platforms) tables, column by column.

Consumer state such as ``aware`` or ``trust`` is a C-ordered (n, P) array with P (the platforms,
2-5) much smaller than n. NumPy reduces ``axis=1`` of such an array one short row at a time,
which costs several times a pass over the data; combining its P columns with the elementwise
ufunc (``a[:, 0] | a[:, 1] | ...``) is a handful of vectorised passes instead. The results are
identical (the same elementwise operations). The daily records and the consumer phases count
in compiled passes instead (:mod:`sim.kernels`).

:func:`sums_by` is the per-platform (or per-supplier) total of an order-book column:
``values[group == g].sum()`` for every ``g`` in one compiled pass instead of a mask, a copy and
a sum per group, with NumPy's own summation order (:func:`sim.kernels.group_sums`).
"""

from __future__ import annotations

import numpy as np

from sim.kernels import group_sums

__all__ = ["any_rows", "count_cols", "row_sums", "sums_by"]


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
