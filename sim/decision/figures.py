"""The figures of a decision analysis: Morris screens, Sobol' indices with their bootstrap
intervals, and an effect's distribution over worlds (matplotlib, headless)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

__all__ = ["effect_figure", "png_data_uri", "save", "sensitivity_figure"]


def _short(key: str) -> str:
    return key if len(key) <= 34 else "…" + key[-33:]


def sensitivity_figure(morris: dict[str, pd.DataFrame], sobol: dict[str, pd.DataFrame],
                       labels: dict[str, str] | None = None, top: int = 10):
    """One row per question: Morris ``mu*`` (top parameters, bootstrap 95% bars) and Sobol'
    S1 / ST with their bootstrap 95% intervals."""
    qs = [q for q in morris if q in sobol] or list(morris) or list(sobol)
    fig, axes = plt.subplots(len(qs), 2, figsize=(11, 3.6 * len(qs)), squeeze=False)
    for i, q in enumerate(qs):
        title = (labels or {}).get(q, q)
        ax = axes[i][0]
        if q in morris:
            m = morris[q].sort_values("mu_star", ascending=True).tail(top)
            ax.barh([_short(p) for p in m["parameter"]], m["mu_star"], xerr=m["mu_star_conf"],
                    color="#4c72b0", capsize=2)
            ax.set_xlabel("Morris μ* of B − A (bars: bootstrap 95%)")
            ax.set_title(f"{title}: Morris screen", fontsize=8)
        ax = axes[i][1]
        if q in sobol:
            s = sobol[q]
            y = np.arange(len(s))
            ax.errorbar(s["S1"], y + 0.15, xerr=s["S1_conf"], fmt="o", color="#dd8452",
                        label="first order S1", capsize=2)
            ax.errorbar(s["ST"], y - 0.15, xerr=s["ST_conf"], fmt="s", color="#55a868",
                        label="total ST", capsize=2)
            ax.set_yticks(y, [_short(p) for p in s["parameter"]])
            ax.axvline(0, color="grey", lw=0.5)
            ax.set_xlabel("Sobol' index of B − A (bars: bootstrap 95%)")
            ax.set_title(f"{title}: Sobol', kept parameters", fontsize=8)
            ax.legend(fontsize=7, loc="lower right")
        for a in axes[i]:
            a.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


def effect_figure(default: np.ndarray, ensemble: np.ndarray | None, label: str):
    """The paired differences B - A at the default (one per seed) and the mean effect of each
    ensemble member."""
    fig, ax = plt.subplots(figsize=(6.5, 2.6))
    ax.plot(default, np.zeros_like(default), "o", color="#4c72b0", label="default, per seed")
    if ensemble is not None and len(ensemble):
        ax.plot(ensemble, np.ones_like(ensemble), "s", color="#dd8452",
                label="calibrated ensemble, per member (seed mean)")
    ax.axvline(0, color="grey", lw=0.6)
    ax.set_yticks([0, 1], ["default", "ensemble"])
    ax.set_ylim(-0.6, 1.6)
    ax.set_xlabel(f"B − A: {label}")
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return fig


def save(fig, stem: Path) -> list[Path]:
    """PNG and PDF beside each other; closes the figure."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(s) for s in (".png", ".pdf")]
    for p in paths:
        fig.savefig(p, dpi=130 if p.suffix == ".png" else None)
    plt.close(fig)
    return paths


def png_data_uri(fig) -> str:
    """The figure as an inline ``data:image/png`` URI (a self-contained HTML page); closes it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
