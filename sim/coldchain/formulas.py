"""Cold chain and spoilage: the Q10 shelf-life rule applied leg by leg (ODD 7.5).

Shelf life at temperature T follows the Q10 rule ``L(T) = L_ref * Q10 ** (-(T - T_ref) / 10)``
(the temperature coefficient of deterioration; Saltveit, *The Commercial Storage of Fruits,
Vegetables, and Florist and Nursery Stocks*, USDA Agriculture Handbook 66, 2016). For produce
Q10 falls as it gets warmer: about 3.0 over 0-10 °C, 2.5 over 10-20 °C, 2.0 over 20-30 °C and 1.5
over 30-40 °C, so relative shelf lives are 100 / 33 / 13 / 7 / 4 at 0 / 10 / 20 / 30 / 40 °C. A
single Q10 is the special case of one band.

Each unit carries a remaining life as a *fraction* of its shelf life. A leg of ``hours`` at
temperature ``T`` uses up ``hours / 24 / L(T)`` of it (L in days). A unit whose remaining life
reaches zero before the consumer collects it is spoiled.

The chain, in order: supplier -> central warehouse (中心仓) -> grid warehouse (网格仓) -> pickup
point (自提点), then the dwell at the pickup point until the consumer collects (seed 002,
l.27: the three-tier chain; seed 004 §2.2.2: order to receipt within one day). A leg is
refrigerated (``t_cold_c``) with the platform's cold-chain coverage for that tier, otherwise it
runs at the season's ambient temperature; the pickup point is cold only if the leader has a fridge.

Stage of loss. A spoiled unit is charged to the stage where its life ran out
(:data:`LOSS_STAGES`): ``supplier`` for a defective unit (unusable from the start: seed 004
§4.1.1), the legs of the chain, and ``grid_storage`` for stock-mode leftovers that expire in the
grid warehouse (:mod:`sim.supply.procurement`). A unit that reaches the consumer with less than
``coldchain.complaint_life_fraction`` of its life left is sold but is a quality complaint.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "AREAS",
    "LEG_LOSS_STAGE",
    "LOSS_STAGES",
    "SALTVEIT_PRODUCE_Q10_BANDS",
    "STAGES",
    "leg_of_loss",
    "life_used",
    "relative_shelf_life",
    "shelf_life_days",
    "shelf_life_days_banded",
]

# Q10 by 10 °C band starting at 0 °C for fresh produce (Saltveit, USDA Agriculture Handbook 66).
SALTVEIT_PRODUCE_Q10_BANDS: tuple[float, ...] = (3.0, 2.5, 2.0, 1.5)

# Logistics stages of the chain, in order. Their index is the stage code in the model's arrays.
STAGES: tuple[str, ...] = ("to_central", "to_grid", "to_pickup", "pickup_dwell")

# Where a unit is lost (metrics: the ``stage`` column of the ``losses`` table).
LOSS_STAGES: tuple[str, ...] = ("supplier", "to_central", "to_grid", "grid_storage", "to_pickup",
                                "pickup_dwell")
# Where the household that would have got a lost unit lives (unassigned: stock lost before any
# order took it).
AREAS: tuple[str, ...] = ("town", "village", "unassigned")
# The loss stage of each leg of STAGES.
LEG_LOSS_STAGE = np.array([LOSS_STAGES.index(s) for s in STAGES])


def leg_of_loss(life0, used):
    """The leg on which each unit's life runs out, or -1 if it survives the chain.

    Args:
        life0: remaining life fraction at the start, shape (...).
        used: life used on each leg, shape (..., legs).

    Returns:
        int array of shape (...): the first leg where the cumulative use reaches ``life0``.
    """
    cum = np.cumsum(used, axis=-1)
    out = np.asarray(cum >= np.asarray(life0)[..., None])
    return np.where(out.any(axis=-1), out.argmax(axis=-1), -1)


def shelf_life_days(l_ref_days, q10, temp_c, t_ref_c):
    """Shelf life at ``temp_c`` by the single-Q10 rule.

    ``L(T) = L_ref * Q10 ** (-(T - T_ref) / 10)`` (Saltveit, USDA Agriculture Handbook 66).

    Args:
        l_ref_days: shelf life at the reference temperature, days.
        q10: the rate of deterioration per 10 °C warmer (dimensionless, > 0).
        temp_c: storage temperature, °C (scalar or array).
        t_ref_c: reference temperature, °C.

    Returns:
        Shelf life in days (same shape as ``temp_c``).
    """
    return l_ref_days * np.power(q10, -(np.asarray(temp_c, dtype=float) - t_ref_c) / 10.0)


def relative_shelf_life(temp_c, q10_bands: Sequence[float], t_ref_c: float = 0.0,
                        band_width_c: float = 10.0):
    """Shelf life at ``temp_c`` relative to the reference, with Q10 varying by temperature band.

    Band ``b`` covers ``[b*w, (b+1)*w)`` °C, fixed temperatures as in Saltveit's table (ODD 7.5:
    "per 10 °C from 0 °C"), whatever the reference temperature; the log of the shelf-life ratio
    is the sum over bands of ``-(part of [t_ref, T] in band b) / 10 * ln(Q10_b)``. Below 0 °C
    the first band's Q10 applies, above the last band the last band's. With one band this is
    the single-Q10 rule exactly.

    Args:
        temp_c: temperature, °C (scalar or array).
        q10_bands: Q10 for each band, coldest first (e.g. ``SALTVEIT_PRODUCE_Q10_BANDS``).
        t_ref_c: reference temperature, °C, where the relative shelf life is 1.
        band_width_c: width of each band, °C (10 for Saltveit's table).

    Returns:
        ``L(T) / L(T_ref)`` (same shape as ``temp_c``).
    """
    t = np.asarray(temp_c, dtype=float)
    ln_q = np.log(np.asarray(q10_bands, dtype=float))
    nb = len(ln_q)
    log_ratio = np.zeros_like(t)
    for b in range(nb):
        lo = -np.inf if b == 0 else b * band_width_c  # the first band extends below 0 °C
        hi = np.inf if b == nb - 1 else (b + 1) * band_width_c
        part = np.clip(t, lo, hi) - np.clip(t_ref_c, lo, hi)  # of [t_ref, T] in this band
        log_ratio -= part / 10.0 * ln_q[b]
    return np.exp(log_ratio)


def shelf_life_days_banded(l_ref_days, q10_bands: Sequence[float], temp_c, t_ref_c: float):
    """Shelf life in days with banded Q10: ``L_ref * relative_shelf_life(T)``."""
    return l_ref_days * relative_shelf_life(temp_c, q10_bands, t_ref_c)


def life_used(hours, l_ref_days, q10_bands: Sequence[float], temp_c, t_ref_c: float):
    """Fraction of a unit's shelf life used by ``hours`` at ``temp_c`` (ODD 7.5).

    ``hours / 24 / L(T)`` with ``L`` from the banded Q10 rule.
    """
    return np.asarray(hours, dtype=float) / 24.0 / shelf_life_days_banded(
        l_ref_days, q10_bands, temp_c, t_ref_c
    )
