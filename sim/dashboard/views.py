"""The dashboard's drawings: the network and four charts, plain matplotlib.

Each function draws the model's state as it is now onto a figure made with
``matplotlib.figure.Figure`` (no pyplot: the server draws from worker threads, and pyplot's global
figure list would leak). The charts read the model's own daily records (``model.recorder``), the
same rows a run writes to ``daily.parquet``, ``platforms.parquet`` and ``spoilage.parquet``.

A platform has one colour everywhere: its dots in the network, its line in every chart.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.collections import EllipseCollection, LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.records.recorder import SPOILAGE_COLUMNS

__all__ = ["NONE_COLOUR", "chart_figure", "draw_charts", "draw_network", "network_figure",
           "platform_colours"]

NONE_COLOUR = "#cfcfcf"  # households that have not ordered from any platform yet
# Colour-blind-safe qualitative palette (Okabe & Ito 2008), one colour per platform.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442"]
SMOOTH_DAYS = 7  # shares and spoilage are noisy day to day in a small market: a weekly window


def platform_colours(n_platforms: int) -> list[str]:
    """One colour per platform, in the model's platform order."""
    return [PALETTE[j % len(PALETTE)] for j in range(n_platforms)]


def draw_network(ax, model) -> None:
    """Households coloured by the platform they last used (grey: none), leaders as triangles.

    Args:
        ax: a matplotlib Axes.
        model: a :class:`sim.dashboard.market.DashboardMarket` (it carries ``scene``).
    """
    scene = model.scene
    colours = np.array([*platform_colours(len(model.platform_names)), NONE_COLOUR])
    last = np.asarray(model.consumers.last_platform).astype(np.int64)
    fill = colours[np.where(last >= 0, last, len(colours) - 1)]
    # The neighbourhood's ring stands for its lattice ties (see sim.dashboard.market.RING_SPAN).
    ax.add_collection(EllipseCollection(2 * scene.radii, 2 * scene.radii, 0, units="xy",
                                        offsets=scene.centres, offset_transform=ax.transData,
                                        facecolors="none", edgecolors="#b0b0b0", linewidths=1.5,
                                        zorder=1))
    ax.add_collection(LineCollection(scene.within, colors="#9a9a9a", linewidths=0.3, alpha=0.3,
                                     zorder=1))
    ax.add_collection(LineCollection(scene.across, colors="#555555", linewidths=0.3, alpha=0.15,
                                     zorder=1))
    # Households that have adopted group buying get a dark rim even before their first order.
    adopted = np.asarray(model.consumers.adopted, bool)
    ax.scatter(scene.xy[:, 0], scene.xy[:, 1], s=9, c=fill, linewidths=0.4,
               edgecolors=np.where(adopted, "#333333", "none"), zorder=2)
    t = model.leaders
    if t.n:
        active = t.view("active").astype(bool)
        home = t.view("home")[active].astype(np.int64)
        plat = t.view("platform")[active].astype(np.int64)
        ax.scatter(scene.xy[home, 0], scene.xy[home, 1], s=70, marker="^",
                   c=np.array(platform_colours(len(model.platform_names)))[plat],
                   edgecolors="black", linewidths=0.8, zorder=3)
    for k, (cx, cy) in enumerate(scene.centres):
        ax.text(cx, cy, "village" if scene.is_village[k] else "town", ha="center", va="center",
                fontsize=6, color="#777777", zorder=0)
    pad = scene.radii.max() * 1.2
    ax.set_xlim(scene.xy[:, 0].min() - pad * 0.2, scene.xy[:, 0].max() + pad * 0.2)
    ax.set_ylim(scene.xy[:, 1].min() - pad * 0.2, scene.xy[:, 1].max() + pad * 0.2)
    ax.set_aspect("equal")
    ax.set_axis_off()
    handles = [Line2D([], [], ls="", marker="o", ms=5, mfc=c, mec="none", label=name)
               for name, c in zip(model.platform_names,
                                  platform_colours(len(model.platform_names)), strict=True)]
    handles.append(Line2D([], [], ls="", marker="o", ms=5, mfc=NONE_COLOUR, mec="none",
                          label="no order yet"))
    handles.append(Line2D([], [], ls="", marker="o", ms=5, mfc="white", mec="#333333",
                          label="adopted (rim)"))
    handles.append(Line2D([], [], ls="", marker="^", ms=7, mfc="white", mec="black",
                          label="group leader"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3,
              frameon=False, fontsize=7)
    ax.set_title(f"Day {model.day}: {model.consumers.n:,} households, by the platform they last "
                 f"used", fontsize=9)


def network_figure(model) -> Figure:
    """A figure holding :func:`draw_network`."""
    # Fixed margins: a constrained layout would double the drawing time of every step.
    fig = Figure(figsize=(6.0, 6.4))
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.09, top=0.95)
    draw_network(fig.add_subplot(), model)
    return fig


def _platform_frame(model) -> pd.DataFrame:
    rows = model.recorder.platforms
    return pd.DataFrame(rows) if rows else pd.DataFrame(
        columns=["day", "platform", "orders", "order_share", "active_leaders"])


def draw_charts(axes, model) -> None:
    """Adoption, order shares, active leaders and spoilage, day by day so far.

    Args:
        axes: four matplotlib Axes (adoption, order share, leaders, spoilage).
        model: the running model; its ``recorder`` rows are read.
    """
    ax_adopt, ax_share, ax_lead, ax_spoil = axes
    names = model.platform_names
    colours = dict(zip(names, platform_colours(len(names)), strict=True))
    daily = pd.DataFrame(model.recorder.daily, columns=["day", "adoption_rate",
                                                        "aware_any_share"])
    ax_adopt.plot(daily["day"], daily["adoption_rate"], color="black", label="adopted")
    ax_adopt.plot(daily["day"], daily["aware_any_share"], color="black", ls=":",
                  label="aware of a platform")
    ax_adopt.set(title="Adoption of group buying", ylabel="share of households", ylim=(0, 1))
    ax_adopt.legend(fontsize=7, loc="center right", framealpha=0.8, edgecolor="none")

    plat = _platform_frame(model)
    spo = pd.DataFrame(model.recorder.spoilage, columns=SPOILAGE_COLUMNS)
    spo = spo.groupby(["platform", "day"], sort=False)[["units_shipped", "units_spoiled"]].sum()
    for name in names:
        g = plat[plat["platform"] == name]
        if len(g):
            share = g["order_share"].rolling(SMOOTH_DAYS, min_periods=1).mean()
            ax_share.plot(g["day"], share, color=colours[name], label=name)
            ax_lead.plot(g["day"], g["active_leaders"], color=colours[name], label=name)
        if name in spo.index.get_level_values(0):
            s = spo.loc[name]
            shipped = s["units_shipped"].rolling(SMOOTH_DAYS, min_periods=1).sum()
            rate = s["units_spoiled"].rolling(SMOOTH_DAYS, min_periods=1).sum() / shipped
            ax_spoil.plot(s.index, rate.where(shipped > 0), color=colours[name], label=name)
    ax_share.set(title=f"Order share ({SMOOTH_DAYS}-day mean)", ylabel="share of orders",
                 ylim=(0, 1))
    ax_share.legend(fontsize=7, loc="upper left", framealpha=0.8, edgecolor="none")
    ax_lead.set(title="Active group leaders", ylabel="leaders")
    ax_lead.set_ylim(bottom=0)
    ax_spoil.set(title=f"Spoilage ({SMOOTH_DAYS}-day)", ylabel="spoiled / shipped units")
    ax_spoil.set_ylim(bottom=0)
    horizon = max(int(model.day), 10)
    for ax in axes:
        ax.set_xlim(0, horizon)
        ax.set_xlabel("day")
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=7)
        ax.title.set_fontsize(9)
        ax.yaxis.label.set_fontsize(8)
        ax.xaxis.label.set_fontsize(8)


def chart_figure(model) -> Figure:
    """A 2 x 2 figure holding :func:`draw_charts`."""
    fig = Figure(figsize=(7.0, 6.4))
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.08, top=0.95, wspace=0.32, hspace=0.38)
    axes = fig.subplots(2, 2)
    draw_charts(axes.ravel(), model)
    return fig
