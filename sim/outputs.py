"""Outputs of a run, written into its run directory (ODD 10).

``config.yaml`` (the resolved config), tidy Parquet tables (``daily``, ``platforms``,
``spoilage``, ``losses``, ``leaders``, ``leader_stats``, ``leader_reviews``, ``households``),
``figures/overview.png``, and ``summary.json`` (headline figures,
units in the key names) written last as the completion marker. Every file is written under a
temporary name and renamed, so an interrupted run never leaves a half-written file that looks
complete. Files get the mode any new file gets (0666 less the umask, usually 0644): readable by
colleagues on a shared disk, as with ``open()``, not the 0600 of a temporary file.
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from omegaconf import OmegaConf

__all__ = ["atomic_write", "overview_figure", "read_overrides", "write_run"]


@functools.cache
def _file_mode() -> int:
    """0666 less the process's umask: the mode ``open()`` would give a new file.

    Read once per process (os.umask can only be read by setting it; at first use, before any
    thread of ours writes files).
    """
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: Path, write) -> None:
    """Call ``write(tmp_path)`` then rename the temporary file to ``path``.

    mkstemp creates the temporary file 0600 (private while it is written); it is given the
    usual mode before the rename.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_overrides(run_dir: Path) -> list[str]:
    """The overrides that made this run (Hydra's record, or gbsim-compare's), written before
    it started; ``gbsim-collect`` reads them too."""
    for f in (Path(run_dir) / ".hydra" / "overrides.yaml", Path(run_dir) / "overrides.yaml"):
        if f.is_file():
            return [str(x) for x in OmegaConf.to_container(OmegaConf.load(f))]
    return []


def _title(cfg, overrides: list[str] | None) -> str:
    shown = [o for o in overrides or [] if not o.startswith(("seed=", "hydra."))]
    scenario = " ".join(shown) if shown else "default scenario"
    return (f"{scenario} | seed {cfg.seed}, {int(cfg.market.consumers):,} households, "
            f"{int(cfg.days)} days")


def overview_figure(tables: dict[str, pd.DataFrame], path: Path, title: str = "") -> None:
    """Adoption, order shares, active leaders and spoilage over the run, in four panels.

    A bare ``Figure`` (no pyplot): it draws to a file without choosing a backend, so a notebook
    that writes a run keeps its own inline backend.
    """
    daily, plat, spo = tables["daily"], tables["platforms"], tables["spoilage"]
    fig = Figure(figsize=(10, 6.8), layout="constrained")
    ax = fig.subplots(2, 2)
    ax[0, 0].plot(daily["day"], daily["adoption_rate"], color="k", label="all households")
    for col, name, style in (("adoption_rate_town", "towns", "--"),
                             ("adoption_rate_village", "villages", ":")):
        if col in daily.columns:
            ax[0, 0].plot(daily["day"], daily[col], color="0.4", linestyle=style, label=name)
    ax[0, 0].set(title="Adoption of group buying", xlabel="day", ylabel="share of households",
                 ylim=(0, 1))
    for name, g in plat.groupby("platform", sort=False):
        share = g["order_share"].rolling(7, min_periods=1).mean()
        ax[0, 1].plot(g["day"], share, label=name)
        ax[1, 0].plot(g["day"], g["active_leaders"], label=name)
    ax[0, 1].set(title="Order share (7-day mean)", xlabel="day", ylabel="share", ylim=(0, 1))
    ax[1, 0].set(title="Active leaders", xlabel="day", ylabel="leaders")
    s = spo.groupby(["day", "category"], sort=False)[["units_shipped", "units_spoiled"]].sum()
    s = s.reset_index()
    for cat, g in s.groupby("category", sort=False):
        rate = (g["units_spoiled"].rolling(7, min_periods=1).sum()
                / g["units_shipped"].rolling(7, min_periods=1).sum().clip(lower=1))
        ax[1, 1].plot(g["day"], rate, label=cat)
    ax[1, 1].set(title="Spoilage rate (7-day)", xlabel="day", ylabel="spoiled / shipped")
    for a in ax.flat:  # every panel says what its lines are
        a.legend(frameon=False, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.savefig(path, dpi=120, format="png")


def write_run(out_dir: Path, cfg, tables: dict[str, pd.DataFrame], summary: dict,
              header: str = "") -> None:
    """Write config, tables, figure, then ``summary.json`` last (the completion marker).

    ``header``: comment lines put at the head of ``config.yaml`` (the code version and the
    scenario); comments, so the file still loads as the run's config.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "summary.json").unlink(missing_ok=True)
    atomic_write(out_dir / "config.yaml",
                 lambda p: p.write_text(header + OmegaConf.to_yaml(cfg, resolve=True)))
    for name, df in tables.items():
        atomic_write(out_dir / f"{name}.parquet", lambda p, df=df: df.to_parquet(p, index=False))
    title = _title(cfg, read_overrides(out_dir))
    atomic_write(out_dir / "figures" / "overview.png",
                 lambda p: overview_figure(tables, p, title))
    atomic_write(out_dir / "summary.json",
                 lambda p: p.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n"))
