"""The report of a comparison (``gbsim-compare``, :mod:`sim.compare`): the console table and
the figure, both made to be shown as they are.

* The console table prints each row in one number format: the decimals that give the row's
  means four significant digits, thousands separators, never scientific notation (a table
  mixing ``1.395e+05`` with ``0.31`` cannot be read across).
* The figure has one small panel per metric, each on its own scale (one large effect would
  flatten the others on a shared axis): A's and B's means with 95% intervals over seeds, and
  B − A with its paired interval in the panel's title (red when it excludes zero); the daily
  paired difference of one metric across the bottom; a title naming A and B; a footnote with the
  seeds and sizes. A bare ``Figure`` (no pyplot): drawing it chooses no backend.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.outputs import atomic_write

__all__ = ["comparison_figure", "fmt", "report_lines"]


def _decimals(*values: float) -> int:
    """Decimals that give the largest of ``values`` four significant digits (0 to 6)."""
    big = max((abs(v) for v in values if np.isfinite(v) and v != 0), default=1.0)
    return int(np.clip(3 - np.floor(np.log10(big)), 0, 6))


def fmt(x: float, decimals: int, sign: bool = False) -> str:
    """``x`` with thousands separators and fixed ``decimals``; never scientific notation."""
    if x is None or not np.isfinite(x):
        return "n/a"
    return f"{x:{'+' if sign else ''},.{decimals}f}"


def report_lines(table: pd.DataFrame) -> list[str]:
    """The console table: each row in one format (the decimals of its means)."""
    head = ["metric", "mean A", "mean B", "B - A", "paired 95% CI", "unpaired ±", "narrower"]
    body = []
    for _, r in table.iterrows():
        k = _decimals(r["mean_a"], r["mean_b"])
        body.append([r["metric"], fmt(r["mean_a"], k), fmt(r["mean_b"], k),
                     fmt(r["difference"], k, True),
                     f"[{fmt(r['ci_low'], k, True)}, {fmt(r['ci_high'], k, True)}]",
                     fmt(r["unpaired_half_width"], k),
                     "n/a" if not np.isfinite(r["narrowing"]) else f"x{r['narrowing']:.1f}"])
    widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
    return ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                      for i, (c, w) in enumerate(zip(row, widths, strict=True)))
            for row in [head, *body]]


def comparison_figure(table: pd.DataFrame, daily_a, daily_b, daily, stem: Path,
                      label_a: str = "A", label_b: str = "B", labels: dict | None = None,
                      footnote: str = "") -> list[Path]:
    """One small panel per metric (its own scale): A's and B's means with 95% intervals over
    seeds, B - A with the paired interval in the panel's title; the daily paired difference of
    ``daily`` across the bottom. Title names A and B; ``footnote`` the seeds and sizes."""
    import textwrap

    from matplotlib import rc_context
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    from sim import figures

    labels = labels or {}
    n = len(table)
    ncols = min(4, n)
    nrows = -(-n // ncols) + (daily_a is not None)
    style = {**figures.STYLE, "font.size": 9, "axes.titlesize": 9, "axes.labelsize": 8}
    with rc_context(style):
        fig = Figure(figsize=(2.7 * ncols + 0.6, 2.5 * nrows + 1.0), layout="constrained")
        grid = fig.add_gridspec(nrows, ncols)
        for i, (_, r) in enumerate(table.iterrows()):
            ax = fig.add_subplot(grid[i // ncols, i % ncols])
            k = _decimals(r["mean_a"], r["mean_b"])
            for x, mean, half, color in ((0, r["mean_a"], r["half_width_a"], "0.45"),
                                         (1, r["mean_b"], r["half_width_b"], "C0")):
                ax.errorbar([x], [mean], yerr=[[half], [half]], fmt="o", color=color,
                            capsize=3, markersize=4)
            ax.set_xticks([0, 1], ["A", "B"])
            ax.set_xlim(-0.6, 1.6)
            ax.yaxis.set_major_formatter(FuncFormatter(
                lambda v, _, k=k: fmt(v, max(0, k - 1))))  # no 1e6 offset: the units as read
            title = textwrap.fill(labels.get(r["metric"], r["metric"]), 34)
            ax.set_title(f"{title}\nB − A {fmt(r['difference'], k, True)} "
                         f"[{fmt(r['ci_low'], k, True)}, {fmt(r['ci_high'], k, True)}]",
                         loc="left", fontsize=8)
        if daily_a is not None:
            ax = fig.add_subplot(grid[nrows - 1, :])
            diff = daily_b - daily_a
            mean, lo, hi = figures.mean_ci(diff)
            days = np.arange(diff.shape[1])
            figures.band(ax, days, mean, lo, hi, label="B − A, paired mean and 95% CI")
            ax.axhline(0, color="k", linewidth=0.6)
            ax.set(xlabel="day", ylabel="B − A")
            what = daily.name + (f", {daily.key}" if daily.key else "")
            ax.set_title(f"{what}: B − A day by day", loc="left")
            ax.legend(frameon=False, loc="best")
        fig.suptitle(f"A: {label_a}\nB: {label_b}", fontsize=10, x=0.01, ha="left")
        if footnote:
            fig.text(0.01, 0.0, textwrap.fill(footnote, 180), fontsize=7, color="0.35",
                     va="top", ha="left")
        stem = Path(stem)
        stem.parent.mkdir(parents=True, exist_ok=True)
        paths = [Path(f"{stem}.png"), Path(f"{stem}.pdf")]
        for p in paths:
            atomic_write(p, lambda tmp, p=p: fig.savefig(tmp, format=p.suffix[1:],
                                                         bbox_inches="tight"))
    return paths
