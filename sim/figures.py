"""One publication style for every figure: paper-column sizes, fonts, confidence bands, PNG + PDF.

Use it from experiment scripts::

    from sim import figures
    fig, ax = figures.subplots(1, 2)           # sized for a two-column paper, style applied
    figures.band(ax[0], days, mean, lo, hi, label="county")
    figures.save(fig, out_dir / "adoption")    # writes adoption.png and adoption.pdf
"""

from __future__ import annotations

from pathlib import Path

# No backend is chosen here (issue 31): pyplot's default is the inline one in a Jupyter kernel (so
# a notebook shows each figure under its cell) and Agg on a machine without a display. Writing a
# file needs no particular backend: ``savefig`` renders PNG and PDF with its own canvases.
import matplotlib.pyplot as plt
import numpy as np

from sim.stats import t_quantile

__all__ = [
    "COLUMN_WIDTH_IN",
    "FULL_WIDTH_IN",
    "STYLE",
    "band",
    "mean_ci",
    "output_dir",
    "save",
    "subplots",
]

COLUMN_WIDTH_IN = 3.5  # one column of a two-column journal page
FULL_WIDTH_IN = 7.2  # the full text width

STYLE = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.2,
    "figure.dpi": 150,
    "savefig.dpi": 300,
    "savefig.bbox": "tight",
    "pdf.fonttype": 42,  # embed TrueType: editable text in the PDF
}


def subplots(nrows: int = 1, ncols: int = 1, width_in: float | None = None,
             height_in: float | None = None, **kw):
    """``plt.subplots`` in the project style, sized for a paper (full width by default)."""
    plt.rcParams.update(STYLE)
    width = width_in or (COLUMN_WIDTH_IN if ncols == 1 else FULL_WIDTH_IN)
    height = height_in or 2.4 * nrows
    return plt.subplots(nrows, ncols, figsize=(width, height), constrained_layout=True, **kw)


def mean_ci(samples: np.ndarray, axis: int = 0, level: float = 0.95):
    """Mean and ``level`` interval over ``axis`` (e.g. over seeds): Student's t with n - 1
    degrees of freedom (:mod:`sim.stats`); a single sample gives a zero-width band."""
    samples = np.asarray(samples, dtype=float)
    n = samples.shape[axis]
    mean = samples.mean(axis=axis)
    if n < 2:
        return mean, mean, mean
    half = t_quantile(n - 1, level) * samples.std(axis=axis, ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half


def band(ax, x, mean, lo, hi, label: str | None = None, color=None, alpha: float = 0.2):
    """A line for the mean and a shaded band for its confidence interval."""
    (line,) = ax.plot(x, mean, label=label, color=color)
    ax.fill_between(x, lo, hi, color=line.get_color(), alpha=alpha, linewidth=0)
    return line


def save(fig, stem: str | Path) -> list[Path]:
    """Save ``fig`` as ``stem.png`` and ``stem.pdf``; returns the paths.

    The figure is closed (a script drawing many figures would otherwise keep them all); in a
    notebook ``fig`` can still be shown afterwards, as the inline backend draws it anew.
    """
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".pdf")]
    for p in paths:
        fig.savefig(p)
    plt.close(fig)
    return paths


def output_dir(default: Path, quick: bool, out: Path | None = None) -> Path:
    """Where an experiment writes its figures.

    ``out`` if given; otherwise ``default`` (the committed figures), except that a ``--quick``
    run writes to ``<figures>/quick/<name>/`` (ignored by git), so a smoke run never overwrites
    the figures of a full run.
    """
    if out is not None:
        return Path(out)
    default = Path(default)
    return default.parent / "quick" / default.name if quick else default
