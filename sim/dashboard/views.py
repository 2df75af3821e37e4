"""The dashboard's drawings: the network and the charts, as ECharts options.

Each function turns the model's state as it is now into an ECharts option (a plain dict of
lists), which :func:`solara.FigureEcharts` sends to the browser, where ECharts draws it on a
canvas. The server's share of a redraw is then building a few small dicts (a few milliseconds
at 1,000 households), not rendering and compressing a picture: with matplotlib and PNGs the two
figures took ~0.4 s a day on the project's machine, which held Play to ~2.5 days a second
(issue 31; figures in docs/performance.md). ECharts 5.4 ships with Solara's offline assets
(``solara-assets``), so the page still loads nothing from outside the machine.

The charts read the model's own daily records (``model.recorder``), the same rows a run writes
to ``daily.parquet``, ``platforms.parquet``, ``leader_stats.parquet`` and ``spoilage.parquet``.
A platform has one colour everywhere: its dots in the network, its line in every chart.
"""

from __future__ import annotations

import math

import numpy as np

from sim.records.recorder import LEADER_STATS_COLUMNS, SPOILAGE_COLUMNS

__all__ = ["CHARTS", "NONE_COLOUR", "chart_option", "chart_options", "network_option",
           "platform_colours", "scene_option"]

NONE_COLOUR = "#cfcfcf"  # households that have not ordered from any platform yet
ADOPTED_COLOUR = "#8c8c8c"  # adopted group buying, no order yet
# Colour-blind-safe qualitative palette (Okabe & Ito 2008), one colour per platform.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442"]
SMOOTH_DAYS = 7  # shares, prices, margins and spoilage are noisy day to day: a weekly window
CHURN_DAYS = 30  # leaders are reviewed monthly (ODD 7.3): churn counted over 30 days
# The network view's size in pixels and its margins: the data ranges are set to the plot area's
# aspect so that each neighbourhood's ring is drawn round.
NETWORK_PX = (560, 600)
NETWORK_GRID = {"left": 8, "right": 8, "top": 34, "bottom": 62}
LEADER_SERIES = "group leaders"
SELECTED_SERIES = "selected"

# The charts, in the order the page shows them: (key, title).
CHARTS = [
    ("adoption", "Adoption of group buying"),
    ("share", f"Order share ({SMOOTH_DAYS}-day mean)"),
    ("price", f"Price index ({SMOOTH_DAYS}-day mean)"),
    ("margin", f"Gross margin (solid) and net margin (dashed), {SMOOTH_DAYS}-day mean"),
    ("leaders", "Active group leaders"),
    ("churn", f"Leaders recruited (solid) and quitting (dashed), last {CHURN_DAYS} days"),
    ("spoilage", f"Spoilage ({SMOOTH_DAYS}-day), spoiled / shipped units"),
]


def platform_colours(n_platforms: int) -> list[str]:
    """One colour per platform, in the model's platform order."""
    return [PALETTE[j % len(PALETTE)] for j in range(n_platforms)]


def _round(a: np.ndarray, digits: int) -> list:
    """A JSON-ready list: rounded (smaller messages), NaN as None (JSON has no NaN; ECharts
    leaves a gap at a null)."""
    a = np.round(np.asarray(a, float), digits)
    return [None if math.isnan(v) else v for v in a.tolist()]


# ---------------------------------------------------------------------------------------------
# the network


def scene_option(scene) -> dict:
    """The network view's background, drawn once per model: rings, ties, neighbourhood names.

    The page stacks :func:`network_option` (the households and leaders, redrawn every day) on
    top of it, with the same grid and axes, so that the ties (most of the picture's data) are
    sent to the browser once rather than every day.

    Args:
        scene: a :class:`sim.dashboard.market.Scene`.
    """
    xy = scene.xy
    theta = np.linspace(0.0, 2 * np.pi, 49)
    rings = [{"coords": np.round(np.column_stack([cx + r * np.cos(theta), cy + r * np.sin(theta)]),
                                 2).tolist()}
             for (cx, cy), r in zip(scene.centres, scene.radii, strict=True)]

    def segments(seg):
        return [{"coords": s} for s in np.round(seg, 2).tolist()]

    # Data ranges with the plot area's aspect (x span / y span = width / height in pixels).
    w = NETWORK_PX[0] - NETWORK_GRID["left"] - NETWORK_GRID["right"]
    h = NETWORK_PX[1] - NETWORK_GRID["top"] - NETWORK_GRID["bottom"]
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    mid, half = (lo + hi) / 2, (hi - lo) / 2 * 1.04 + 1.0
    half = np.maximum(half, half[::-1] * np.array([w / h, h / w]))
    # Each ring's kind written at its centre (a point with no symbol, only its label).
    labels = {"type": "scatter", "silent": True, "symbolSize": 0, "z": 0, "animation": False,
              "label": {"show": True, "formatter": "{b}", "color": "#999", "fontSize": 9},
              "data": [{"name": "village" if v else "town", "value": [round(float(cx), 2),
                                                                       round(float(cy), 2)]}
                       for (cx, cy), v in zip(scene.centres, scene.is_village, strict=True)]}
    line = {"type": "lines", "coordinateSystem": "cartesian2d", "silent": True, "z": 1,
            "animation": False}
    return {
        "animation": False,
        "grid": NETWORK_GRID,
        "xAxis": {"type": "value", "show": False, "min": float(mid[0] - half[0]),
                  "max": float(mid[0] + half[0])},
        "yAxis": {"type": "value", "show": False, "min": float(mid[1] - half[1]),
                  "max": float(mid[1] + half[1])},
        "series": [
            {**line, "polyline": True, "data": rings,
             "lineStyle": {"color": "#b0b0b0", "width": 1.5}},
            {**line, "data": segments(scene.within), "large": True,
             "lineStyle": {"color": "#9a9a9a", "width": 0.5, "opacity": 0.35}},
            {**line, "data": segments(scene.across), "large": True,
             "lineStyle": {"color": "#555555", "width": 0.5, "opacity": 0.2}},
            labels,
        ],
    }


def network_option(model, scene: dict, selected: tuple[str, int] | None = None) -> dict:
    """Households coloured by the platform they last used, leaders as triangles.

    A household's point carries ``[x, y, household index]``, a leader's ``[x, y, leader row]``,
    so a click tells the page which agent was picked.

    Args:
        model: a :class:`sim.dashboard.market.DashboardMarket` (it carries ``scene``).
        scene: :func:`scene_option` of the model's scene (its grid and axes are reused).
        selected: ``("household", i)`` or ``("leader", row)`` to ring, or None.
    """
    xy = np.round(model.scene.xy, 1)
    names = model.platform_names
    colours = platform_colours(len(names))
    last = np.asarray(model.consumers.last_platform).astype(np.int64)
    adopted = np.asarray(model.consumers.adopted, bool)
    idx = np.arange(len(xy))

    def points(mask):
        return np.column_stack([xy[mask], idx[mask]]).tolist()

    dot = {"type": "scatter", "symbolSize": 5, "z": 2, "animation": False}
    series = []
    for j, name in enumerate(names):
        series.append({**dot, "name": name, "data": points(last == j),
                       "itemStyle": {"color": colours[j]}})
    series.append({**dot, "name": "adopted, no order yet", "data": points((last < 0) & adopted),
                   "itemStyle": {"color": ADOPTED_COLOUR}})
    series.append({**dot, "name": "not adopted", "data": points((last < 0) & ~adopted),
                   "itemStyle": {"color": NONE_COLOUR}})
    t = model.leaders
    rows = np.flatnonzero(t.view("active").astype(bool)) if t.n else np.zeros(0, np.int64)
    home = t.view("home")[rows].astype(np.int64) if t.n else rows
    plat = t.view("platform")[rows].astype(np.int64) if t.n else rows
    series.append({"type": "scatter", "name": LEADER_SERIES, "symbol": "triangle",
                   "symbolSize": 12, "z": 3, "animation": False,
                   "itemStyle": {"color": "#ffffff", "borderColor": "#000", "borderWidth": 1},
                   "data": [{"value": [*xy[h].tolist(), int(r)],
                             "itemStyle": {"color": colours[p], "borderColor": "#000"}}
                            for h, r, p in zip(home, rows, plat, strict=True)]})
    if selected is not None:
        kind, k = selected
        at = None
        if kind == "household" and 0 <= k < len(xy):
            at = xy[k]
        elif kind == "leader" and 0 <= k < t.n:
            at = xy[int(t.home[k])]
        if at is not None:
            series.append({"type": "scatter", "name": SELECTED_SERIES, "silent": True, "z": 4,
                           "symbolSize": 22, "animation": False, "data": [at.tolist()],
                           "itemStyle": {"color": "rgba(0,0,0,0)", "borderColor": "#d62728",
                                         "borderWidth": 2.5}})
    legend = [*names, "adopted, no order yet", "not adopted", LEADER_SERIES]
    return {
        "animation": False,
        "title": {"text": f"Day {model.day}: {model.consumers.n:,} households, by the platform "
                          f"they last used (click one)", "textStyle": {"fontSize": 12}},
        "grid": NETWORK_GRID,
        "xAxis": scene["xAxis"], "yAxis": scene["yAxis"],
        "legend": {"bottom": 0, "data": legend, "itemWidth": 12, "textStyle": {"fontSize": 11}},
        "series": series,
    }


# ---------------------------------------------------------------------------------------------
# the charts


def _mean(a: np.ndarray, days: int) -> np.ndarray:
    """Trailing mean over ``days`` (fewer at the start), NaNs skipped."""
    a = np.asarray(a, float)
    ok = ~np.isnan(a)
    c = np.concatenate([[0.0], np.cumsum(np.where(ok, a, 0.0))])
    n = np.concatenate([[0], np.cumsum(ok)])
    i = np.arange(1, len(a) + 1)
    lo = np.maximum(i - days, 0)
    cnt = n[i] - n[lo]
    return np.divide(c[i] - c[lo], cnt, out=np.full(len(a), np.nan), where=cnt > 0)


def _sum(a: np.ndarray, days: int) -> np.ndarray:
    """Trailing sum over ``days`` (fewer at the start)."""
    c = np.concatenate([[0.0], np.cumsum(np.asarray(a, float))])
    i = np.arange(1, len(a) + 1)
    return c[i] - c[np.maximum(i - days, 0)]


def _line(name, days, values, colour, dashed=False, digits=4) -> dict:
    """A line of ``values`` on ``days``; its data are the values by day from day 0 (the charts'
    x axis is the list of days, so no day is sent with each value), null where none."""
    days = np.asarray(days, np.int64)
    y = np.full(int(days.max()) + 1 if len(days) else 0, np.nan)
    y[days] = values
    return {"type": "line", "name": name, "showSymbol": False, "animation": False,
            "data": _round(y, digits),
            "lineStyle": {"color": colour, "width": 1.6, "type": "dashed" if dashed else "solid"},
            "itemStyle": {"color": colour}}


def _platform_columns(model, columns: list[str]) -> dict[str, np.ndarray]:
    """Columns of the recorder's platform rows as arrays of shape (days, platforms).

    Only whole days are read (the rows are appended a platform at a time).
    """
    rows = model.recorder.platforms
    p = len(model.platform_names)
    n = len(rows) // p * p
    return {c: np.array([r[c] for r in rows[:n]], float).reshape(-1, p) for c in columns}


def chart_options(model) -> dict[str, dict]:
    """Every chart's option, keyed as :data:`CHARTS`, for the days recorded so far."""
    names = model.platform_names
    colours = platform_colours(len(names))
    daily = model.recorder.daily
    days = np.array([r["day"] for r in daily], np.int64)
    series: dict[str, list] = {key: [] for key, _ in CHARTS}
    series["adoption"] = [
        _line("adopted", days, [r["adoption_rate"] for r in daily], "#000000"),
        _line("aware of a platform", days, [r["aware_any_share"] for r in daily], "#000000",
              dashed=True)]
    cols = _platform_columns(model, ["day", "order_share", "price_index", "gross_margin",
                                     "net_margin", "active_leaders"])
    pdays = cols["day"][:, 0].astype(np.int64) if len(cols["day"]) else days[:0]
    stats = model.recorder.leader_stats
    p = len(names)
    ns = len(stats) // p * p
    at = {c: LEADER_STATS_COLUMNS.index(c) for c in ("recruits", "quits")}
    lstats = {c: np.array([r[k] for r in stats[:ns]], float).reshape(-1, p) for c, k in at.items()}
    sdays = np.array([r[0] for r in stats[:ns:p]], np.int64)
    spo = model.recorder.spoilage
    sp = {c: SPOILAGE_COLUMNS.index(c) for c in ("day", "platform", "units_shipped",
                                                   "units_spoiled")}
    for j, name in enumerate(names):
        c = colours[j]
        series["share"].append(_line(name, pdays, _mean(cols["order_share"][:, j], SMOOTH_DAYS), c))
        series["price"].append(_line(name, pdays, _mean(cols["price_index"][:, j], SMOOTH_DAYS),
                                     c))
        series["margin"].append(_line(name, pdays, _mean(cols["gross_margin"][:, j], SMOOTH_DAYS),
                                      c))
        series["margin"].append(_line(name, pdays, _mean(cols["net_margin"][:, j], SMOOTH_DAYS),
                                      c, dashed=True))
        series["leaders"].append(_line(name, pdays, cols["active_leaders"][:, j], c, digits=0))
        series["churn"].append(_line(name, sdays, _sum(lstats["recruits"][:, j], CHURN_DAYS), c))
        series["churn"].append(_line(name, sdays, _sum(lstats["quits"][:, j], CHURN_DAYS), c,
                                     dashed=True))
        mine = [r for r in spo if r[sp["platform"]] == name]
        if mine:
            d = np.array([r[sp["day"]] for r in mine], np.int64)
            first = d.min()
            shipped = np.bincount(d - first, [r[sp["units_shipped"]] for r in mine])
            spoiled = np.bincount(d - first, [r[sp["units_spoiled"]] for r in mine])
            shipped, spoiled = _sum(shipped, SMOOTH_DAYS), _sum(spoiled, SMOOTH_DAYS)
            rate = np.divide(spoiled, shipped, out=np.full(len(shipped), np.nan),
                             where=shipped > 0)
            series["spoilage"].append(_line(name, np.arange(first, first + len(rate)), rate, c))
    horizon = max(int(model.day), 10)
    # Shares run from 0 to 1. Margins are fractions of revenue: from -1 to 1, since a platform
    # with almost no revenue in its first days has a margin of -30 that would flatten the rest.
    y_range = {"adoption": (0, 1), "share": (0, 1), "margin": (-1, 1)}
    return {key: chart_option(title, series[key], horizon, y_range.get(key))
            for key, title in CHARTS}


def chart_option(title: str, series: list[dict], horizon: int,
                 y_range: tuple[float, float] | None = None) -> dict:
    """One chart: ``series`` against the day, from day 0 to ``horizon``.

    Args:
        y_range: the y axis's (min, max), lines clipped to it; None fits the data.
    """
    names = list(dict.fromkeys(s["name"] for s in series))  # each name once (margins, churn)
    y = {"type": "value", "scale": y_range is None, "axisLabel": {"fontSize": 10},
         "splitLine": {"lineStyle": {"color": "#eee"}}}
    if y_range is not None:
        y.update(min=y_range[0], max=y_range[1])
    return {
        "animation": False,
        "title": {"text": title, "textStyle": {"fontSize": 12}},
        "legend": {"top": 22, "data": names, "textStyle": {"fontSize": 10}, "itemHeight": 8},
        "grid": {"left": 46, "right": 14, "top": 52, "bottom": 40},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": list(range(horizon + 1)), "boundaryGap": False,
                  "name": "day", "nameLocation": "middle", "nameGap": 22,
                  "axisLabel": {"fontSize": 10}},
        "yAxis": y,
        "series": series,
    }
