"""Where a policy fails: PRIM boxes on "B beats A by at least x" (EMA Workbench).

Scenario discovery (Bryant & Lempert 2010): over design points of the uncertainty space, each
with its paired effect B - A (:func:`sim.decision.sensitivity.effects`), mark the points of
interest (by default those where B does *not* beat A by ``x``: where the policy fails) and let
PRIM (Friedman & Fisher 1999; ``ema_workbench.analysis.prim.Prim``, used as its docs show:
``Prim(x, y, peel_alpha=..., mass_min=...)``, ``find_box()``) peel a box around them. A box is
reported with

* **coverage**: the share of all points of interest that fall in the box;
* **density**: the share of the box's points that are of interest;
* **mass**: the share of all points in the box; and its limits on the restricted parameters.

Which point of the peeling trajectory is reported is fixed in advance: the one of largest
coverage among those with density at least ``min_density`` (0.8), else the densest.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd

from sim.config import ConfigError

__all__ = ["MIN_DENSITY", "boxes"]

MIN_DENSITY = 0.8


def _select(box, min_density: float) -> int:
    pt = box.peeling_trajectory
    ok = pt[pt["density"] >= min_density]
    return int(ok["coverage"].idxmax()) if len(ok) else int(pt["density"].idxmax())


def boxes(x: pd.DataFrame, interest, *, max_boxes: int = 2, min_density: float = MIN_DENSITY,
          peel_alpha: float = 0.05, mass_min: float = 0.05) -> pd.DataFrame:
    """PRIM boxes around the points where ``interest`` is true.

    Args:
        x: the design points, one column per parameter (numbers).
        interest: booleans, one per row of ``x``.
        max_boxes: boxes to find, one after another (each on the points left outside the
            earlier ones, PRIM's covering).

    Returns one row per box and restricted parameter: ``box``, ``coverage``, ``density``,
    ``mass``, ``points_of_interest``, ``points``, ``parameter``, ``low``, ``high`` (the box's
    limits) and ``range_low``/``range_high`` (the parameter's whole range in the design).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ema_workbench warns about optional extras on import
        from ema_workbench.analysis import prim
    logging.getLogger("EMA").setLevel(logging.WARNING)
    y = np.asarray(interest, bool)
    if len(y) != len(x):
        raise ConfigError(f"boxes: {len(y)} outcomes for {len(x)} points; give one per point")
    if y.sum() == 0 or y.all():
        return pd.DataFrame([{"box": 0, "coverage": float("nan"), "density": float(y.mean()),
                              "mass": 1.0, "points_of_interest": int(y.sum()),
                              "points": len(y), "parameter": "(none: every point or none is "
                              "of interest)", "low": np.nan, "high": np.nan,
                              "range_low": np.nan, "range_high": np.nan}])
    xf = x.reset_index(drop=True).astype(float)  # PRIM reads float and int columns alike
    p = prim.Prim(xf, y, peel_alpha=peel_alpha, mass_min=mass_min)
    rows, covered = [], 0.0
    for b in range(max_boxes):
        box = p.find_box()
        if box is None:
            break
        box.select(_select(box, min_density))
        lim, init = box.box_lim, p.box_init
        restricted = [c for c in lim.columns if not np.allclose(lim[c].to_numpy(float),
                                                                init[c].to_numpy(float))]
        stats = {"box": b, "coverage": float(box.coverage), "density": float(box.density),
                 "mass": float(box.mass), "points_of_interest": int(round(box.coverage * y.sum())),
                 "points": int(round(box.mass * len(y)))}
        for c in restricted or ["(none)"]:
            lo, hi = (lim[c].iloc[0], lim[c].iloc[1]) if c in lim else (np.nan, np.nan)
            rows.append({**stats, "parameter": c, "low": float(lo), "high": float(hi),
                         "range_low": float(init[c].iloc[0]) if c in init else np.nan,
                         "range_high": float(init[c].iloc[1]) if c in init else np.nan})
        covered += box.coverage
        if covered >= 1 - 1e-9:  # every point of interest is in a box: no more to find
            break
    return pd.DataFrame(rows)
