"""Cold chain and pickup: yesterday's orders travel to the pickup points and are collected.

Phase 3 of the day (ODD 3, ODD 7.5). Each order unit uses up ``hours / 24 / L(T)`` of its life on
each leg (supplier -> central warehouse -> grid warehouse -> pickup point -> the wait until the
household collects), refrigerated where its route is cold (:mod:`sim.coldchain.routes`: the first
leg per platform, the grid leg and the last mile per platform and neighbourhood, drawn once) or at
the season's ambient temperature (:mod:`sim.coldchain.formulas`, the Q10 rule). A spoiled unit is
charged to the stage where its life ran out, refunded and complained about; a unit that arrives
with little life left is a quality complaint. This module owns the shelf lives (cold, and ambient
for each day of the year), the platforms' routes and the households' late-pickup chances; it posts
refunds, spoilage and the served routes' costs (logistics) to the ledger and hands the day's
complainers to word of mouth through :class:`sim.day.Day`.
"""

from __future__ import annotations

import numpy as np

from sim.arrays import row_sums, sums_by
from sim.coldchain import kernels
from sim.coldchain.formulas import LEG_LOSS_STAGE, shelf_life_days_banded
from sim.coldchain.routes import Routes

__all__ = ["ColdChain"]


class ColdChain:
    """The cold chain's state and phase (logistics and pickup) for one market."""

    OWNS = ("shelf_ref_days", "shelf_t_ref", "shelf_q10", "shelf_life_cold",
            "shelf_life_by_day_of_year", "shelf_life_ambient", "routes", "late_pickup_prob")
    # Beyond its own state: a pickup's trust and refunds on the households, complaints on the
    # leaders' month, the day's delivery counts and complainers, the ledger.
    WRITES = ("consumers.trust", "consumers.spend_yuan", "leaders.month_complaints",
              "today (deliveries, losses, complaints, complainers, collected orders)", "ledger",
              "pending")

    def __init__(self, market):
        self.m = market
        cfg = market.cfg
        cats = [cfg.products[c] for c in market.category_names]
        self.shelf_ref_days = np.array([c.shelf_life_ref_days for c in cats], float)
        self.shelf_t_ref = np.array([c.t_ref_c for c in cats], float)
        self.shelf_q10 = [tuple(c.q10_bands) for c in cats]
        # Refrigerated legs run at t_cold_c all year: their shelf lives are fixed for the run.
        self.shelf_life_cold = self.shelf_life_at(cfg.coldchain.t_cold_c)
        # The ambient temperature is a function of the day of the year (the calendar's): the
        # ambient shelf lives of the 365 days are computed once, each category's in one
        # whole-array call (the same IEEE operations element by element as shelf_life_at, a
        # test checks every day), instead of ten scalar NumPy calls a day (~0.17 ms).
        temps = np.array(market.calendar.ambient_temperatures())
        self.shelf_life_by_day_of_year = np.stack([
            shelf_life_days_banded(self.shelf_ref_days[c], self.shelf_q10[c], temps,
                                   self.shelf_t_ref[c])
            for c in range(len(self.shelf_ref_days))], axis=1)
        self.shelf_life_ambient = self.shelf_life_by_day_of_year[0].copy()  # set each day
        # Which routes run cold, per platform (and neighbourhood), and what they cost a day.
        self.routes = Routes(market)
        # Late pickup: by town or village, times the household's segment multiplier.
        cc, c = cfg.coldchain, market.consumers
        mult = np.array([cc.late_pickup_segment_multiplier.get(s, 1.0)
                         for s in market.segment_names])
        base = np.where(c.in_village, cc.late_pickup_prob_village, cc.late_pickup_prob_town)
        self.late_pickup_prob = np.minimum(1.0, base * mult[c.segment])

    def shelf_life_at(self, temp_c: float) -> np.ndarray:
        """Shelf life of each category at ``temp_c``, days (banded Q10, ODD 7.5)."""
        return np.array([
            float(shelf_life_days_banded(self.shelf_ref_days[c], self.shelf_q10[c], temp_c,
                                         self.shelf_t_ref[c]))
            for c in range(len(self.shelf_ref_days))
        ])

    def run(self, d: int) -> None:
        """Yesterday's orders travel the chain leg by leg; consumers collect (ODD 7.5).

        Stock-mode purchases arrive in the grid warehouse and leftovers age there first
        (:meth:`sim.supply.phase.Supply.age_stock`). Each order unit then uses up
        ``hours / 24 / L(T)`` of its life on each leg; a unit whose life runs out, or that is
        defective, is spoiled (charged to the stage where it was lost), refunded and complained
        about; a unit that arrives with little life left is a quality complaint. A household that
        does not collect on the day collects a day later, after a longer dwell.
        """
        m = self.m
        # The day of the year's ambient shelf lives (tabled at set-up, see __init__).
        doy = m.today.conditions.day_of_year
        self.shelf_life_ambient = self.shelf_life_by_day_of_year[doy].copy()
        book = m.pending
        m.pending = None
        m.supply.age_stock(d)
        if book is None or len(book) == 0:
            return
        cc = m.cfg.coldchain
        c = m.consumers
        j = book.platform
        village = c.in_village[book.consumer]
        # Which legs run cold: the order's routes (the pickup point's neighbourhood), and the
        # leader's fridge at the pickup point.
        nb = m.leaders.neighbourhood[book.leader]
        cold = np.empty((len(book), 4), bool)
        cold[:, :3] = self.routes.legs_cold(j, nb)
        cold[:, 3] = m.leaders.fridge[book.leader]
        n_p = len(m.platform_list)
        self._post_route_costs(j, nb, book.filled.any(axis=1))
        late = m.streams.uniform_at("pickup.late", d, book.consumer) < \
            self.late_pickup_prob[book.consumer]
        # Stock units already made the first two legs; each leg uses hours / 24 / L(T) of a
        # unit's life (kernels.chain_losses: formulas.leg_of_loss, per unit).
        filled = book.filled
        spoiled, low_life, stage = kernels.chain_losses(
            book.life0, filled, book.defect, book.from_stock, book.supplier,
            m.supply.sup_transit_hours, float(cc.central_to_grid_hours),
            np.array([cc.grid_to_pickup_hours_town, cc.grid_to_pickup_hours_village], float),
            np.array([cc.dwell_hours_town, cc.dwell_hours_village], float),
            float(cc.late_pickup_extra_hours), village, late, cold, self.shelf_life_cold,
            self.shelf_life_ambient, float(cc.complaint_life_fraction),
            LEG_LOSS_STAGE.astype(np.int64))

        # Refunds (the paid share of each spoiled unit's list price) off the households' spend;
        # complaints (a spoiled unit, or one low on life) on the leaders' month; trust: good
        # experiences pull it up, spoiled orders cut it (sim.coldchain.kernels.deliveries).
        w = m.cfg.wom
        refund_units, refund, complaint, quality, picked = kernels.deliveries(
            book.prices, book.paid_yuan, book.value_yuan, filled, spoiled, low_life,
            book.consumer, j, book.leader, c.spend_yuan, c.trust, m.leaders.month_complaints,
            float(w.trust_learning_rate), float(w.trust_loss_spoiled))
        self._record_order_units(book, filled, spoiled, low_life, stage, village, refund_units)
        units, lost = int(filled.sum()), int(spoiled.sum())
        m.ledger.add_goods("in_chain", -(units))
        m.ledger.add_goods("delivered", units - lost)
        m.ledger.add_goods("spoiled", lost)

        t = m.today
        t.quality_complaints_p[:] = np.bincount(j[quality], minlength=n_p)
        t.pickups[:] = np.bincount(j[picked], minlength=n_p)
        t.pickups_on_time[:] = np.bincount(j[picked & ~late], minlength=n_p)
        complaints_p = np.bincount(j[complaint], minlength=n_p)
        t.order_complaints_p[:] = complaints_p
        for pj, (p, s) in enumerate(zip(m.platform_list, sums_by(refund, j, n_p), strict=True)):
            m.ledger.post(p.index, "refunds_yuan", float(s))
            m.ledger.post(p.index, "complaints", int(complaints_p[pj]))
        m.today.complaints = int(complaint.sum())
        m.today.quality_complaints = int(quality.sum())
        # The complaints travel in the word-of-mouth phase (ODD 3, phase 4).
        m.today.complainers = (book.consumer[complaint], j[complaint])
        m.aftersales.complained(d, book.leader[complaint])  # its speed (sim.remedies.aftersales)
        # What was collected, for the commission settlement books on delivered units (ODD 7.3).
        m.today.picked_up = book
        m.today.delivered_prices = np.where(spoiled, 0.0, book.prices)
        m.today.delivered_yuan = row_sums(m.today.delivered_prices)

    def _post_route_costs(self, j: np.ndarray, nb: np.ndarray, delivered: np.ndarray) -> None:
        """Today's served routes' costs as logistics, and the route counts by town and village
        (:mod:`sim.coldchain.routes`)."""
        m = self.m
        _, cost, _, orders = self.routes.costs(j[delivered], nb[delivered])
        for p in m.platform_list:
            k = p.index
            m.ledger.post(k, "logistics_yuan", float(cost[k].sum()))
            m.ledger.post(k, "route_cost_town_yuan", float(cost[k, 0]))
            m.ledger.post(k, "route_cost_village_yuan", float(cost[k, 1]))
            m.ledger.post(k, "route_orders_town", int(orders[k, 0]))
            m.ledger.post(k, "route_orders_village", int(orders[k, 1]))

    def _record_order_units(self, book, filled, spoiled, low_life, stage, village,
                            refund_units) -> None:
        """Counts per platform x category (and area x stage for losses) of today's deliveries."""
        m = self.m
        t = m.today
        cost = book.cost_yuan * spoiled
        kernels.record_units(book.platform, village, filled, spoiled, low_life, stage,
                             refund_units, cost, t.shipped, t.spoiled, t.low_life,
                             t.refunds, t.losses, t.loss_yuan, t.spoil_cost)
        by_platform = sums_by(cost, book.platform, len(m.platform_list))
        for p, s in zip(m.platform_list, by_platform, strict=True):
            m.ledger.post(p.index, "spoilage_cost_yuan", float(s))

