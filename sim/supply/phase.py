"""Suppliers and procurement: platforms buy tomorrow's goods (pre-sale or stock).

Phase 7 of the day (ODD 3, ODD 7.6). Pre-sale (以销定采) buys exactly today's orders; stock mode
fills them from the grid warehouse (first expiry, first out) and restocks to its newsvendor
level (:mod:`sim.supply.procurement`). Suppliers' capacity, cut by weather shocks, is shared out
by :func:`sim.supply.suppliers.allocate`; order units nobody can supply are unfilled: not
delivered and not charged. This module owns the platforms' procurement modes, grid-warehouse
stock, purchases in transit and demand forecasts, and the suppliers' arrays (transit hours,
cost multipliers, defect and relabelling rates); stock ageing runs at the start of the
logistics phase (:meth:`Supply.age_stock`). Goods and costs are posted to the ledger.
"""

from __future__ import annotations

import numpy as np

from sim.arrays import sums_by
from sim.coldchain.formulas import AREAS, LOSS_STAGES, leg_of_loss
from sim.day import OrderBook
from sim.supply import kernels
from sim.supply.procurement import Forecast, Lots, critical_ratio, order_up_to
from sim.supply.suppliers import allocate

__all__ = ["Supply"]


def _rank(u: np.ndarray) -> np.ndarray:
    """Each entry's position when sorted by its uniform ``u`` (0 = first in the queue)."""
    pos = np.empty(len(u), np.int64)
    pos[np.argsort(u, kind="stable")] = np.arange(len(u))
    return pos


class Supply:
    """Procurement's state and phase for one market."""

    OWNS = ("life_min", "life_max", "sup_transit_hours", "sup_cost_mult", "sup_defect",
            "sup_relabel_prob", "sup_relabel_age", "supplier_share", "proc", "proc_mode",
            "grid_hold_hours", "stock", "transit", "forecasts")
    WRITES = ("today.order_book (supplier, life, defects, cost of each unit)",
              "today (bought, unfilled, stock losses)", "suppliers (shocks, sales)", "ledger",
              "pending")

    def __init__(self, market):
        self.m = market
        cfg = market.cfg
        cats = [cfg.products[c] for c in market.category_names]
        self.life_min = np.array([c.initial_life_min for c in cats], float)
        self.life_max = np.array([c.initial_life_max for c in cats], float)
        s = market.supplier_list
        self.sup_transit_hours = np.array([x.transit_hours for x in s])
        self.sup_cost_mult = np.array([x.cost_multiplier for x in s])
        self.sup_defect = np.array([x.defect_rate for x in s])
        self.sup_relabel_prob = np.array([x.relabel_prob for x in s])
        self.sup_relabel_age = np.array([x.relabel_age for x in s])
        self.supplier_share = np.diff(market.supplier_cum_mix, axis=2, prepend=0.0)
        # Each platform's procurement (its strategy: mode, forecast, newsvendor).
        self.proc = [s.procurement for s in market.strategies]
        self.proc_mode = [pc.mode for pc in self.proc]
        n_p, n_c = len(market.platform_names), len(market.category_names)
        self.stock = [[Lots() for _ in range(n_c)] for _ in range(n_p)]  # in the grid warehouse
        self.transit = [[Lots() for _ in range(n_c)] for _ in range(n_p)]  # bought, on the way
        self.forecasts = [Forecast(pc.forecast_smoothing) for pc in self.proc]
        # Stock mode: the grid warehouse's hold before dispatch, per platform.
        self.grid_hold_hours = [s.coldchain.grid_hold_hours for s in market.strategies]

    def run(self, d: int) -> None:
        """Platforms buy: pre-sale buys today's orders, stock mode fills them from the grid
        warehouse and restocks to its newsvendor level (ODD 7.6, :mod:`sim.supply.procurement`).

        Suppliers' capacity (cut by weather shocks) is shared out by
        :func:`sim.supply.suppliers.allocate`; order units nobody can supply are unfilled: not
        delivered and not charged.
        """
        m = self.m
        book = m.today.order_book
        n_orders, n_c, n_p = len(book), len(m.category_names), len(m.platform_list)
        n = m.consumers.n
        for sup in m.supplier_list:
            sup.update_shock(d, float(m.streams.uniform(f"supply.shock.{sup.name}", d, 1)[0]))
        capacity = np.array([[sup.capacity_units(d, n) if ci in sup.categories else 0
                              for sup in m.supplier_list] for ci in range(n_c)], np.int64)
        book.supplier = np.full((n_orders, n_c), -1, np.int64)
        book.life0 = np.zeros((n_orders, n_c))
        book.defect = np.zeros((n_orders, n_c), bool)
        book.cost_yuan = np.zeros((n_orders, n_c))
        book.from_stock = np.zeros(n_orders, bool)
        # The units ordered: each order's basket (sim.choice.baskets), per platform x category.
        ordered = book.ordered
        rows, cats = np.nonzero(ordered)
        ordered_units = np.bincount(book.platform[rows] * n_c + cats,
                                    minlength=n_p * n_c).reshape(n_p, n_c)
        # The household's own draws for each category (common random numbers): its rank in the
        # queue for suppliers and stock, its unit's initial life, relabelling and defect.
        # Counter-based (sim.streams.RandomStreams.uniform_at): only today's orders are drawn.
        u = {key: m.streams.uniform_at_streams(
                 [f"supply.{cat}.{key}" for cat in m.category_names], d, book.consumer)
             for key in ("supplier", "life", "relabel", "defect")}
        demand = np.zeros((n_p, n_c), np.int64)
        for pj in range(n_p):
            if self.proc_mode[pj] == "stock":
                demand[pj] = self._fill_from_stock(pj, book, ordered, u["supplier"])
            else:
                demand[pj] = ordered_units[pj]
        alloc = allocate(demand, self.supplier_share, capacity)
        m.today.bought += alloc.sum(axis=2)
        filled = book.from_stock[:, None] & (book.supplier >= 0)
        for pj in range(n_p):
            if self.proc_mode[pj] == "stock":
                self._buy_stock(pj, alloc[pj], d)
                continue
            # Orders queue by their own uniform per category; suppliers' units go down the queue
            # (sim.supply.kernels.presale_fill; each unit's life as in _initial_life).
            kernels.presale_fill(
                np.flatnonzero(book.platform == pj), ordered, u["supplier"], u["life"],
                u["relabel"], u["defect"], alloc[pj], self.life_min, self.life_max,
                self.sup_relabel_prob, self.sup_relabel_age, self.sup_defect, m.unit_cost_ref,
                self.sup_cost_mult, book.supplier, book.life0, book.defect, book.cost_yuan, filled)
        book.filled = filled
        # The consumer pays only for what arrives (a stockout is not charged).
        book.prices = np.where(filled, book.prices, 0.0)
        book.coupon_yuan = np.minimum(book.coupon_yuan, book.value_yuan)  # prices.sum(axis=1)
        # Unfilled units (ordered, not supplied) per platform x category, counted where they
        # are (few), and from them the filled units per platform (a platform's orders are all
        # pre-sale or all stock).
        rows, cats = np.nonzero(ordered & ~filled)
        unfilled = np.bincount(book.platform[rows] * n_c + cats, minlength=n_p * n_c)
        unfilled = unfilled.reshape(n_p, n_c)
        m.today.unfilled += unfilled
        units = ordered_units.sum(axis=1) - unfilled.sum(axis=1)
        presale = [pj for pj in range(n_p) if self.proc_mode[pj] != "stock"]
        m.ledger.add_goods("procured", int(units[presale].sum()))
        m.ledger.add_goods("in_chain", int(units.sum()))  # stock units leave the grid warehouse
        cogs = sums_by(book.cost_yuan, book.platform, n_p)
        for pj, p in enumerate(m.platform_list):
            if self.proc_mode[pj] != "stock":
                m.ledger.post(p.index, "cogs_yuan", float(cogs[pj]))
                m.ledger.post(p.index, "units", float(units[pj]))
        # Pre-sale units by supplier (unfilled units have supplier -1 and are left out).
        bought = np.where(book.from_stock[:, None], -1, book.supplier)
        n_s = len(m.supplier_list)
        sup_units = np.bincount(bought[bought >= 0], minlength=n_s)
        revenue = sums_by(book.cost_yuan, bought, n_s)
        for si, sup in enumerate(m.supplier_list):
            sup.units_sold += int(sup_units[si])
            sup.revenue_yuan += float(revenue[si])
        m.qc.inspect(d, book, u["relabel"])  # quality control (sim.remedies.quality)
        m.pending = book

    def _initial_life(self, ci: int, u_life, u_relabel, supplier) -> np.ndarray:
        """Remaining life fraction at dispatch: uniform in the category's range, less the
        relabel age for old stock relabelled as fresh (seed 004 §4.2.1)."""
        life = self.life_min[ci] + (self.life_max[ci] - self.life_min[ci]) * u_life
        relabel = u_relabel < self.sup_relabel_prob[supplier]
        return np.where(relabel, life - self.sup_relabel_age[supplier], life)

    def _fill_from_stock(self, pj: int, book: OrderBook, ordered: np.ndarray,
                         u_rank: np.ndarray) -> np.ndarray:
        """Fill platform pj's orders' units (``ordered``: their baskets) from its grid stock
        (FEFO); return tomorrow's purchase per category (order-up-to level less what is left).
        The forecast is of orders; a category's level is for its share of them, the purchase
        frequency b_c (the forecast's level and spread times b_c)."""
        m = self.m
        p = m.platform_list[pj]
        sel = np.flatnonzero(book.platform == pj)
        book.from_stock[sel] = True
        buy = np.zeros(len(m.category_names), np.int64)
        f = self.forecasts[pj]
        if p.active:
            f.update(len(sel))
        pc = self.proc[pj]
        ratio = critical_ratio(p.prices, p.unit_cost, pc.salvage_share_of_cost * p.unit_cost,
                               pc.stockout_penalty_share_of_price * p.prices)
        b = m.choice.purchase_frequency
        level = np.ceil(order_up_to((f.level if p.active else 0.0) * b, f.sigma * b, ratio))
        for ci in range(len(m.category_names)):
            st = self.stock[pj][ci]
            fefo = np.argsort(st.life, kind="stable")
            sel_c = sel[ordered[sel, ci]]
            k = min(len(sel_c), len(st))
            pos = _rank(u_rank[sel_c, ci])
            got = pos < k
            unit = fefo[pos[got]]
            rows = sel_c[got]
            book.supplier[rows, ci] = st.supplier[unit]
            book.life0[rows, ci] = st.life[unit]
            book.defect[rows, ci] = st.defect[unit]
            book.cost_yuan[rows, ci] = st.cost_yuan[unit]
            st = st.take(fefo[k:])
            self.stock[pj][ci] = st
            m.ledger.add_goods("in_stock", -(k))
            if p.active:
                buy[ci] = max(0, int(level[ci]) - len(st))
        return buy

    def _buy_stock(self, pj: int, alloc: np.ndarray, d: int) -> None:
        """Stock mode: the purchase (units per category x supplier) leaves for the warehouse."""
        m = self.m
        p = m.platform_list[pj]
        cold_room = bool(m.coldchain.routes.cold_grid_trunk[pj])
        for ci, cat in enumerate(m.category_names):
            k = int(alloc[ci].sum())
            if k == 0:
                continue
            s = np.repeat(np.arange(len(m.supplier_list)), alloc[ci])
            g = m.streams.generator(f"stock.{p.name}.{cat}.buy", d).random((3, k))
            lots = Lots(life=self._initial_life(ci, g[0], g[1], s),
                        supplier=s, defect=g[2] < self.sup_defect[s],
                        cost_yuan=m.unit_cost_ref[ci] * self.sup_cost_mult[s],
                        # stored in the grid warehouse's cold room, if it has one
                        cold=np.full(k, cold_room))
            m.qc.inspect_lots(d, pj, ci, lots, g[1])  # quality control (sim.remedies.quality)
            self.transit[pj][ci] = lots
            m.ledger.add_goods("procured", k)
            m.ledger.add_goods("in_chain", k)
            m.ledger.post(p.index, "cogs_yuan", float(lots.cost_yuan.sum()))
            m.ledger.post(p.index, "units", k)
            n_s = len(m.supplier_list)
            sup_units = np.bincount(s, minlength=n_s)
            revenue = sums_by(lots.cost_yuan, s, n_s)
            for si, sup in enumerate(m.supplier_list):
                sup.units_sold += int(sup_units[si])
                sup.revenue_yuan += float(revenue[si])

    def age_stock(self, d: int) -> None:
        """Stock mode: leftovers age 24 h in the grid warehouse, then yesterday's purchases
        arrive (supplier -> central -> grid, then the wait for dispatch). Units whose life runs
        out are lost (stages ``grid_storage``, ``to_central``, ``to_grid``)."""
        m = self.m
        cc = m.cfg.coldchain
        c2g_hours = cc.central_to_grid_hours
        routes = m.coldchain.routes
        grid_stage = LOSS_STAGES.index("grid_storage")
        arrival_stage = np.array([LOSS_STAGES.index(s)
                                  for s in ("to_central", "to_grid", "grid_storage")])
        for pj in range(len(m.platform_list)):
            for ci in range(len(m.category_names)):
                st = self.stock[pj][ci]
                if len(st):
                    life_days = np.where(st.cold, m.coldchain.shelf_life_cold[ci],
                                         m.coldchain.shelf_life_ambient[ci])
                    st.life = st.life - 24.0 / 24.0 / life_days
                    gone = st.life <= 0.0
                    self._record_stock_loss(pj, ci, st, gone, np.full(len(st), grid_stage))
                    m.ledger.add_goods("in_stock", -(int(gone.sum())))
                    st = st.take(~gone)
                arr = self.transit[pj][ci]
                n = len(arr)
                if n:
                    # the platform's first leg and its trunk to the grid warehouse (routes)
                    cold = np.stack([np.full(n, routes.cold_central[pj]),
                                     np.full(n, routes.cold_grid_trunk[pj]), arr.cold], 1)
                    hours = np.stack([self.sup_transit_hours[arr.supplier],
                                      np.full(n, c2g_hours),
                                      np.full(n, self.grid_hold_hours[pj])], 1)
                    life_days = np.where(cold, m.coldchain.shelf_life_cold[ci],
                                         m.coldchain.shelf_life_ambient[ci])
                    used = hours / 24.0 / life_days
                    leg = leg_of_loss(arr.life, used)
                    gone = leg >= 0
                    self._record_stock_loss(pj, ci, arr, gone, arrival_stage[leg])
                    arr.life = arr.life - used.sum(axis=1)
                    kept = arr.take(~gone)
                    m.ledger.add_goods("in_chain", -(n))
                    m.ledger.add_goods("in_stock", len(kept))
                    st = st.join(kept)
                    self.transit[pj][ci] = Lots()
                self.stock[pj][ci] = st

    def _record_stock_loss(self, pj: int, ci: int, lots: Lots, gone: np.ndarray,
                           stage: np.ndarray) -> None:
        """Stock units lost before they were assigned to a household (area ``unassigned``)."""
        m = self.m
        t, k = m.today, int(gone.sum())
        if k == 0:
            return
        cost = lots.cost_yuan[gone]
        t.shipped[pj, ci] += k  # they left the chain today
        t.spoiled[pj, ci] += k
        t.spoil_cost[pj, ci] += float(cost.sum())
        np.add.at(t.losses[pj, ci, AREAS.index("unassigned")], stage[gone], 1)
        np.add.at(t.loss_yuan[pj, ci, AREAS.index("unassigned")], stage[gone], cost)
        m.ledger.post(pj, "spoilage_cost_yuan", float(cost.sum()))
        m.ledger.add_goods("spoiled", k)

