"""The cold chain's compiled loops: each order unit's legs and losses, the pickups (refunds,
complaints, trust) and the day's per-platform x category counts (ODD 7.5).
"""

from __future__ import annotations

import numpy as np

from sim.arrays import pairwise_sum
from sim.jit import GATHER_AHEAD, ahead, jit, prefetch

__all__ = [
    "chain_losses",
    "deliveries",
    "record_units",
]


@jit
def chain_losses(life0, filled, defect, from_stock, supplier, sup_transit_hours,
                 central_to_grid_hours, grid_to_pickup_hours, dwell_hours, late_extra_hours,
                 village, late, cold, shelf_life_cold, shelf_life_ambient,
                 complaint_life_fraction, leg_loss_stage):
    """Each order unit's trip down the chain (ODD 7.5): spoiled, low on life, stage of loss.

    Leg hours: supplier transit and central -> grid (0 for units from grid stock, which made
    them already), grid -> pickup and the dwell at the pickup point (town or village, index
    ``[village]``; a late pickup adds ``late_extra_hours``). Each leg uses ``hours / 24 / L`` of
    the unit's life, ``L`` the category's cold or ambient shelf life as the leg ran; the unit is
    lost on the first leg where the cumulative use reaches its starting life
    (:func:`sim.coldchain.leg_of_loss`). Spoiled: supplied and (defective or lost); low on life:
    supplied, not spoiled and arriving with less than ``complaint_life_fraction`` left. The stage
    of loss is the supplier's (0) for a defect, else that of the leg (``leg_loss_stage``; for
    a unit that was not lost, that of the last leg, as NumPy indexes -1).
    """
    m, n_c = life0.shape
    n_s = sup_transit_hours.shape[0]
    # A leg's hours take a few values (leg 0: a supplier's transit or 0 from stock; leg 1:
    # central -> grid or 0; legs 2-3: by area and lateness), so each leg's use of a category's
    # life, hours / 24 / L, is tabled once per value and temperature: the same two divisions,
    # done ~40 times instead of twice per leg and unit (divisions bound the loop).
    k1, k2, k3 = n_s + 1, n_s + 3, n_s + 5  # the first row of legs 1-3 in the table
    hours = np.empty(n_s + 9)
    for s in range(n_s):
        hours[s] = sup_transit_hours[s]
    hours[n_s] = 0.0
    hours[k1], hours[k1 + 1] = central_to_grid_hours, 0.0
    for v in range(2):
        hours[k2 + v] = grid_to_pickup_hours[v]
        hours[k3 + 2 * v] = dwell_hours[v] + 0.0
        hours[k3 + 2 * v + 1] = dwell_hours[v] + late_extra_hours
    used = np.empty((n_s + 9, 2, n_c))  # [hours value, cold, category]
    for k in range(n_s + 9):
        for c in range(n_c):
            used[k, 0, c] = hours[k] / 24.0 / shelf_life_ambient[c]
            used[k, 1, c] = hours[k] / 24.0 / shelf_life_cold[c]
    spoiled = np.empty((m, n_c), np.bool_)
    low_life = np.empty((m, n_c), np.bool_)
    stage = np.empty((m, n_c), np.int64)
    for r in range(m):
        v = 1 if village[r] else 0
        stock = from_stock[r]
        u1 = used[k1 + (1 if stock else 0), 1 if cold[r, 1] else 0]
        u2 = used[k2 + v, 1 if cold[r, 2] else 0]
        u3 = used[k3 + 2 * v + (1 if late[r] else 0), 1 if cold[r, 3] else 0]
        u0 = used[:, 1 if cold[r, 0] else 0]
        for c in range(n_c):
            start = life0[r, c]
            cum0 = u0[n_s if stock else max(supplier[r, c], 0), c]
            cum1 = cum0 + u1[c]
            cum2 = cum1 + u2[c]
            cum3 = cum2 + u3[c]
            leg = -1  # the first leg where the use reaches the starting life
            if cum3 >= start:
                leg = 3
            if cum2 >= start:
                leg = 2
            if cum1 >= start:
                leg = 1
            if cum0 >= start:
                leg = 0
            f, bad = filled[r, c], defect[r, c]
            lost = f & (bad | (leg >= 0))
            spoiled[r, c] = lost
            low_life[r, c] = f & (not lost) & (start - cum3 < complaint_life_fraction)
            stage[r, c] = 0 if bad else leg_loss_stage[leg]
    return spoiled, low_life, stage


@jit
def deliveries(prices, paid, value, filled, spoiled, low_life, consumer, platform, leader,
               spend_yuan, trust, month_complaints, trust_learning_rate, trust_loss_spoiled):
    """What today's deliveries do to the households and leaders, in place (ODD 7.5).

    Each order's refund is the paid share (``paid / value``, 0 for an order of no value) of its
    spoiled units' prices, ``(price * spoiled) * share`` per unit and the row summed as NumPy
    sums it; it comes off the household's spend. An order with a spoiled unit, or else with a
    unit low on life, is a complaint: it counts on the leader's month and cuts the household's
    trust in the platform by ``trust_loss_spoiled``; an order picked up (a unit arrived) without
    complaint pulls trust up, ``tr + rate * (1 - tr)``. Households appear once a day in the
    book. Returns the refunds per unit and per order, complaint, quality complaint (low life,
    nothing spoiled) and picked up, per order.
    """
    m, n_c = prices.shape
    refund_units = np.empty((m, n_c))
    refund = np.empty(m)
    complaint = np.empty(m, np.bool_)
    quality = np.empty(m, np.bool_)
    picked = np.empty(m, np.bool_)
    keep = 1.0 - trust_loss_spoiled
    for r in range(m):
        ia = ahead(consumer, r, GATHER_AHEAD)
        prefetch(spend_yuan, ia)
        prefetch(trust, ia)
        share = paid[r] / value[r] if value[r] > 0 else 0.0
        any_spoiled = False
        any_low = False
        any_filled = False
        for c in range(n_c):
            refund_units[r, c] = prices[r, c] * (1.0 if spoiled[r, c] else 0.0) * share
            any_spoiled = any_spoiled or spoiled[r, c]
            any_low = any_low or low_life[r, c]
            any_filled = any_filled or filled[r, c]
        refund[r] = pairwise_sum(refund_units[r], 0, n_c)
        i, j = consumer[r], platform[r]
        spend_yuan[i] = spend_yuan[i] - refund[r]
        q = (not any_spoiled) and any_low
        quality[r] = q
        complaint[r] = any_spoiled or q
        picked[r] = any_filled
        tr = trust[i, j]
        if complaint[r]:
            month_complaints[leader[r]] += 1
            trust[i, j] = tr * keep
        elif any_filled:
            trust[i, j] = tr + trust_learning_rate * (1.0 - tr)
    return refund_units, refund, complaint, quality, picked


@jit
def record_units(platform, village, filled, spoiled, low_life, stage, refund_units, cost,
                 shipped, spoiled_count, low_life_count, refunds, losses, loss_yuan, spoil_cost):
    """Today's deliveries counted into the supply records, in place: units shipped, spoiled and
    low on life per platform x category; refunds and spoilage cost (yuan) per platform x
    category; losses (units and cost) per platform x category x area (town, village) x stage.
    Yuan are added unit by unit in row order, as ``np.add.at`` adds them."""
    m, n_c = filled.shape
    for r in range(m):
        j = platform[r]
        a = 1 if village[r] else 0
        for c in range(n_c):
            if filled[r, c]:
                shipped[j, c] += 1
            if spoiled[r, c]:
                spoiled_count[j, c] += 1
                losses[j, c, a, stage[r, c]] += 1
                loss_yuan[j, c, a, stage[r, c]] += cost[r, c]
            if low_life[r, c]:
                low_life_count[j, c] += 1
            refunds[j, c] += refund_units[r, c]
            spoil_cost[j, c] += cost[r, c]
