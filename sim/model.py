"""The market model and its day (DESIGN §3).

:class:`GroupBuyingMarket` is a ``mesa.Model``. One step is one day; the day's phases run in this
order, always (DESIGN §3):

1. **calendar**: season temperature, festival and farming-season demand.
2. **terms**: platforms enter, set prices and coupons (the below-cost ban applies here).
3. **logistics and pickup**: yesterday's orders travel supplier -> central warehouse -> grid
   warehouse -> pickup point and wait to be collected; shelf life is used up leg by leg;
   consumers collect fresh or spoiled goods; refunds, complaints, trust.
4. **word of mouth**: adoption of group buying, awareness of platforms, complaints spread.
5. **leaders**: monthly reviews (quit or stay); platforms recruit where coverage is missing;
   households without a pickup point re-home.
6. **orders**: consumers with an order occasion choose a platform or the outside option.
7. **procurement**: platforms buy tomorrow's goods (pre-sale: exactly the orders).
8. **settlement**: money moves (consumer -> platform, platform -> leaders, suppliers, logistics);
   cash updates; a platform out of patience exits.
9. **records**: one row of daily metrics.

Consumers are arrays plus one Mesa agent per row (:mod:`sim.consumers`); leaders a table plus
Mesa agents (:mod:`sim.leaders`); platforms and suppliers ordinary Mesa agents. Every random
draw comes from a named stream (:mod:`sim.streams`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import mesa
import numpy as np
from omegaconf import OmegaConf

from sim import coldchain, kernels
from sim.arrays import any_rows, count_cols, row_sums, sums_by
from sim.config import validate
from sim.consumers import (
    Consumer,
    ConsumerState,
    decay_complaints,
    neighbourhood_reach,
)
from sim.incentives import make_scheme
from sim.leaders import (
    Leader,
    LeaderTable,
    assign_members,
    due_rows,
    lognormal_income,
    person_of,
    pick_recruits,
    recruitment_targets,
    review,
)
from sim.metrics import Recorder
from sim.network import NeighbourCounts, build_network
from sim.platforms import Platform
from sim.procurement import Forecast, Lots, critical_ratio, order_up_to
from sim.progress import day_bar
from sim.seasons import day_conditions
from sim.streams import RandomStreams
from sim.suppliers import Supplier, allocate, supplier_mix

__all__ = ["GroupBuyingMarket"]

logging.getLogger("MESA").setLevel(logging.WARNING)

RECENT_USE_DAYS = 30  # "neighbours who use it": ordered from the platform within 30 days


def _rank(u: np.ndarray) -> np.ndarray:
    """Each entry's position when sorted by its uniform ``u`` (0 = first in the queue)."""
    pos = np.empty(len(u), np.int64)
    pos[np.argsort(u, kind="stable")] = np.arange(len(u))
    return pos


@dataclass
class OrderBook:
    """Orders of one day, one row per order (a consumer orders at most once a day).

    A unit is one category's quantity in an average order, so an order holds one unit of every
    category; ``prices`` are the list prices of its units on the order day.
    """

    consumer: np.ndarray
    platform: np.ndarray
    leader: np.ndarray
    prices: np.ndarray  # (m, C) yuan
    coupon_yuan: np.ndarray
    supplier: np.ndarray | None = None  # (m, C), set at procurement; -1 if unfilled
    life0: np.ndarray | None = None  # (m, C) remaining life fraction at dispatch
    defect: np.ndarray | None = None  # (m, C) bool
    filled: np.ndarray | None = None  # (m, C) bool: the unit was supplied
    cost_yuan: np.ndarray | None = None  # (m, C) the unit's purchase cost (0 if unfilled)
    from_stock: np.ndarray | None = None  # (m,) bool: filled from grid-warehouse stock

    @property
    def value_yuan(self) -> np.ndarray:
        # Read ~10 times a day: summed once per ``prices`` array (which is replaced, never
        # modified in place, when procurement zeroes the unfilled units).
        cached = self.__dict__.get("_value_cache")
        if cached is None or cached[0] is not self.prices:
            cached = (self.prices, row_sums(self.prices))
            self.__dict__["_value_cache"] = cached
        return cached[1]

    @property
    def paid_yuan(self) -> np.ndarray:
        return self.value_yuan - self.coupon_yuan

    def __len__(self) -> int:
        return len(self.consumer)


class GroupBuyingMarket(mesa.Model):
    """Community group buying in a county market: consumers, leaders, platforms, suppliers.

    Args:
        cfg: a composed config (``sim.config.Config`` schema), validated on entry.
    """

    def __init__(self, cfg):
        validate(cfg)
        super().__init__(rng=int(cfg.seed))
        t0 = time.perf_counter()
        # numba's start-up, counted as set-up: first, before the set-up's own draws load kernels
        self.kernels_load_seconds = kernels.warm_up()
        # The run reads its configuration thousands of times a day: as plain dataclasses (the
        # ``sim.config`` schema) a read costs ~0.05 us against ~12 us through OmegaConf.
        self.cfg = cfg = OmegaConf.to_object(cfg) if OmegaConf.is_config(cfg) else cfg
        self.day = 0
        self.streams = RandomStreams(int(cfg.seed))

        self.category_names = list(cfg.products)
        cats = [cfg.products[c] for c in self.category_names]
        self.unit_cost_ref = np.array([c.unit_cost_yuan for c in cats], float)
        self.reference_prices = np.array([c.reference_price_yuan for c in cats], float)
        self.reference_basket_yuan = float(self.reference_prices.sum())
        self._init_shelf_life(cats)

        self.network = build_network(cfg.market, self.streams.generator("network"))
        self.segment_names = list(cfg.market.segments)
        self.platform_names = list(cfg.platforms)
        n, n_p = self.network.n, len(self.platform_names)
        self.consumers = ConsumerState.empty(n, n_p)
        self._init_population()
        # One Mesa agent per household, a view of its row (DESIGN §5.2). A plain loop: Mesa's
        # create_agents also builds an AgentSet of them, which the model does not keep
        # (0.29 s instead of 0.58 s at 100,000 households).
        for i in range(n):
            Consumer(self, i)

        cat_index = {c: i for i, c in enumerate(self.category_names)}
        self.supplier_list = [Supplier(self, name, scfg, cat_index)
                              for name, scfg in cfg.suppliers.items()]
        self.platform_list: list[Platform] = []
        mixes = []
        for j, name in enumerate(self.platform_names):
            pcfg = cfg.platforms[name]
            mix = supplier_mix(dict(pcfg.suppliers), self.supplier_list, len(cats))
            mixes.append(mix)
            share = np.diff(mix, axis=1, prepend=0.0)
            mult = np.array([s.cost_multiplier for s in self.supplier_list])
            unit_cost = self.unit_cost_ref * (share * mult[None, :]).sum(axis=1)
            p = Platform(self, j, name, pcfg, unit_cost, self.reference_prices)
            u = self.streams.uniform(f"platform.coverage.{name}", 0, self.network.n_neighbourhoods)
            p.covered = u < pcfg.coverage
            self.platform_list.append(p)
        self.supplier_cum_mix = np.stack(mixes)  # (P, C, S)
        self.supplier_share = np.diff(self.supplier_cum_mix, axis=2, prepend=0.0)
        self._supplier_arrays()
        self._init_procurement()

        self.leaders = LeaderTable()
        self.scheme = make_scheme(cfg.incentive)
        self.pending: OrderBook | None = None
        self.order_book: OrderBook | None = None
        self.goods = {"procured": 0, "delivered": 0, "spoiled": 0, "in_chain": 0, "in_stock": 0}
        # commission_paid: all platform pay to leaders (commissions, bonuses, prizes); leaders
        # also earn service fees and government subsidies from outside the platforms.
        self.money = {"consumer_paid": 0.0, "subsidy": 0.0, "platform_revenue": 0.0,
                      "commission_paid": 0.0, "leader_income": 0.0, "bonus_paid": 0.0,
                      "service_fees": 0.0, "government_subsidy": 0.0}
        mult = cfg.incentive.platform_rate_multiplier
        self.rate_multiplier = np.array([float(mult.get(nm, 1.0)) for nm in self.platform_names])
        # Sales per neighbourhood x platform over about the last month (exponential, 30 days):
        # what a leader considering a platform hears it pays around here.
        self.nb_sales_month = np.zeros((self.network.n_neighbourhoods, n_p))
        # Neighbour counts read by word of mouth (adopters, leaders, recent users of each
        # platform), kept up to date for the households whose state changed since the last day
        # (``phase_word_of_mouth``); ``_nb_state`` is the state they count (adopted, leader,
        # and for each platform: ordered from it in the last RECENT_USE_DAYS).
        self.neighbour_counts = NeighbourCounts(self.network, 2 + n_p)
        self.households_per_neighbourhood = np.bincount(
            self.consumers.neighbourhood, minlength=self.network.n_neighbourhoods)
        self._nb_state = (np.zeros(n, bool), np.zeros(n, bool), np.zeros((n, n_p), bool))
        # Complaint spreading (``_spread_complaints``): the trust factor ``(1 - loss) ** h`` for
        # h complaints heard about a platform in a day (h is at most a household's degree), as
        # NumPy computes it; and the compiled kernel's zeroed work array.
        if self.network.adjacency is not None:
            max_h = int(self.network.degree.max(initial=0))
            loss = cfg.wom.complaint_trust_loss
            self._complaint_loss_table = (
                np.power(1.0 - loss, np.arange(max_h + 1, dtype=np.float32)) if loss > 0
                else np.zeros(0, np.float32))
            self._complaint_scratch = np.zeros((n, n_p), np.float32)
        self.today: dict = {}
        self.phase_seconds: dict[str, float] | None = None  # set to {} to time each phase
        self._orphans: list[tuple[int, np.ndarray]] = []
        self.recorder = Recorder(self)
        self.setup_seconds = time.perf_counter() - t0

    # -----------------------------------------------------------------------------------------
    # set-up

    def _init_shelf_life(self, cats) -> None:
        self.shelf_ref_days = np.array([c.shelf_life_ref_days for c in cats], float)
        self.shelf_t_ref = np.array([c.t_ref_c for c in cats], float)
        self.shelf_q10 = [tuple(c.q10_bands) for c in cats]
        self.life_min = np.array([c.initial_life_min for c in cats], float)
        self.life_max = np.array([c.initial_life_max for c in cats], float)
        # Refrigerated legs run at t_cold_c all year: their shelf lives are fixed for the run.
        self.shelf_life_cold = self.shelf_life_at(self.cfg.coldchain.t_cold_c)
        # The ambient temperature is a function of the day of the year (sim.seasons): the
        # ambient shelf lives of the 365 days are computed once, each category's in one
        # whole-array call (the same IEEE operations element by element as shelf_life_at, a
        # test checks every day), instead of ten scalar NumPy calls a day (~0.17 ms).
        cal = self.cfg.calendar
        temps = np.array([day_conditions((doy - cal.start_day_of_year) % 365, cal).ambient_temp_c
                          for doy in range(365)])
        self.shelf_life_by_day_of_year = np.stack([
            coldchain.shelf_life_days_banded(self.shelf_ref_days[c], self.shelf_q10[c], temps,
                                             self.shelf_t_ref[c])
            for c in range(len(self.shelf_ref_days))], axis=1)

    def shelf_life_at(self, temp_c: float) -> np.ndarray:
        """Shelf life of each category at ``temp_c``, days (banded Q10, DESIGN §4.5)."""
        return np.array([
            float(coldchain.shelf_life_days_banded(self.shelf_ref_days[c], self.shelf_q10[c],
                                                   temp_c, self.shelf_t_ref[c]))
            for c in range(len(self.shelf_ref_days))
        ])

    def _init_procurement(self) -> None:
        """Procurement mode per platform, empty stocks, forecasts, late-pickup chances."""
        cfg = self.cfg
        self.proc_mode = [cfg.procurement.mode_override or cfg.platforms[name].procurement
                          for name in self.platform_names]
        n_p, n_c = len(self.platform_names), len(self.category_names)
        self.stock = [[Lots() for _ in range(n_c)] for _ in range(n_p)]  # in the grid warehouse
        self.transit = [[Lots() for _ in range(n_c)] for _ in range(n_p)]  # bought, on the way
        self.forecasts = [Forecast(cfg.procurement.forecast_smoothing) for _ in range(n_p)]
        cc, c = cfg.coldchain, self.consumers
        mult = np.array([cc.late_pickup_segment_multiplier.get(s, 1.0)
                         for s in self.segment_names])
        base = np.where(c.in_village, cc.late_pickup_prob_village, cc.late_pickup_prob_town)
        self.late_pickup_prob = np.minimum(1.0, base * mult[c.segment])

    def _init_population(self) -> None:
        """Neighbourhoods, segments and segment parameters, leader candidates."""
        cfg, c, net = self.cfg, self.consumers, self.network
        c.neighbourhood[:] = net.neighbourhood
        c.in_village[:] = net.household_in_village
        segs = [cfg.market.segments[s] for s in self.segment_names]
        g = self.streams.generator("population")
        u_seg = g.random(net.n)
        cum_town = np.cumsum([s.share_town for s in segs])
        cum_vil = np.cumsum([s.share_village for s in segs])
        cum = np.where(c.in_village[:, None], cum_vil[None, :], cum_town[None, :])
        seg = np.minimum((cum <= u_seg[:, None]).sum(axis=1), len(segs) - 1)
        c.segment[:] = seg
        # beta_i = base beta (choice.price_sensitivity) x the segment's relative scale.
        scale = np.array([s.price_sensitivity_scale for s in segs])
        c.price_sensitivity[:] = cfg.choice.price_sensitivity * scale[seg]
        c.p_scale[:] = np.array([s.p_scale for s in segs])[seg]
        c.order_rate[:] = np.array([s.order_rate_per_day for s in segs])[seg]
        rate = np.where(c.in_village, cfg.market.leader_candidate_rate_village,
                        cfg.market.leader_candidate_rate_town)
        c.leader_candidate[:] = g.random(net.n) < rate
        c.trust[:] = np.array([cfg.platforms[p].initial_trust for p in self.platform_names])

    def _supplier_arrays(self) -> None:
        s = self.supplier_list
        self.sup_transit_hours = np.array([x.transit_hours for x in s])
        self.sup_cost_mult = np.array([x.cost_multiplier for x in s])
        self.sup_defect = np.array([x.defect_rate for x in s])
        self.sup_relabel_prob = np.array([x.relabel_prob for x in s])
        self.sup_relabel_age = np.array([x.relabel_age for x in s])

    # -----------------------------------------------------------------------------------------
    # the day

    def step(self) -> None:
        """One day, phases in the order of DESIGN §3 (see the module docstring)."""
        d = self.day
        self.today = {}
        phase = self._phase
        phase(self.phase_calendar, d)
        phase(self.phase_terms, d)
        phase(self.phase_logistics_and_pickup, d)
        phase(self.phase_word_of_mouth, d)
        phase(self.phase_leaders, d)
        phase(self.phase_orders, d)
        phase(self.phase_procurement, d)
        phase(self.phase_settlement, d)
        phase(self.phase_records, d)
        self.day += 1

    def _phase(self, method, d: int) -> None:
        """Run one phase; with ``phase_seconds`` set (a dict), add its wall time there."""
        if self.phase_seconds is None:
            method(d)
            return
        t0 = time.perf_counter()
        method(d)
        name = method.__name__.removeprefix("phase_")
        self.phase_seconds[name] = self.phase_seconds.get(name, 0.0) + time.perf_counter() - t0

    def run(self, days: int | None = None) -> None:
        """Run ``days`` days (default: ``cfg.days``)."""
        n = self.cfg.days if days is None else days
        # A bar on a terminal (cfg.progress: null/true), month lines elsewhere if asked (true).
        with day_bar(n, self.cfg.progress, desc=f"seed {self.cfg.seed}") as bar:
            for _ in range(n):
                self.step()
                bar.update(1)

    # 1 ---------------------------------------------------------------------------------------
    def phase_calendar(self, d: int) -> None:
        self.conditions = day_conditions(d, self.cfg.calendar)
        # = self.shelf_life_at(self.conditions.ambient_temp_c)
        self.shelf_life_ambient = self.shelf_life_by_day_of_year[self.conditions.day_of_year].copy()

    # 2 ---------------------------------------------------------------------------------------
    def phase_terms(self, d: int) -> None:
        """Entry, the fine (for pricing on the days before today), then today's terms.

        Every platform's pricing rule reads its rivals' prices as they stand at the start of the
        day (yesterday's), and all new prices take effect together: the outcome does not depend
        on the order in which the config lists the platforms.
        """
        for p in self.platform_list:
            p.reset_flows()
            if not p.entered and not p.exited and d >= p.cfg.entry_day:
                p.entered = True
            p.assess_fine(d, self.cfg.policy)
        active = [p for p in self.platform_list if p.active]
        prices = [p.rule_prices() for p in active]
        for p, pr in zip(active, prices, strict=True):
            p.set_terms(d, pr)

    # 3 ---------------------------------------------------------------------------------------
    def phase_logistics_and_pickup(self, d: int) -> None:
        """Yesterday's orders travel the chain leg by leg; consumers collect (DESIGN §4.5).

        Stock-mode purchases arrive in the grid warehouse and leftovers age there first
        (:meth:`_age_stock`). Each order unit then uses up ``hours / 24 / L(T)`` of its life on
        each leg; a unit whose life runs out, or that is defective, is spoiled (charged to the
        stage where it was lost), refunded and complained about; a unit that arrives with little
        life left is a quality complaint. A household that does not collect on the day collects
        a day later, after a longer dwell.
        """
        book = self.pending
        self.pending = None
        self._reset_supply_records()
        self._age_stock(d)
        if book is None or len(book) == 0:
            return
        cc = self.cfg.coldchain
        c = self.consumers
        j = book.platform
        village = c.in_village[book.consumer]
        coverage = self._coverage()
        # Which legs run cold: one draw per household and leg (the household's parcel). The
        # three legs' streams and the late pickup's are drawn in one pass (column k is stream
        # k's uniform_at: the same numbers as a call per stream).
        u = self.streams.uniform_at_streams(
            [f"coldchain.leg.{stage}" for stage in coldchain.STAGES[:3]] + ["pickup.late"], d,
            book.consumer)
        cold = np.empty((len(book), 4), bool)
        n_cold = np.zeros(len(book), np.int64)  # refrigerated legs of the three
        for s in range(3):
            cold[:, s] = u[:, s] < coverage[j, s]
            n_cold += cold[:, s]
        cold[:, 3] = self.leaders.fridge[book.leader]
        # The price of the cold chain: a surcharge per refrigerated leg (not the fridge, which
        # the leader owns).
        cold_cost = n_cold * cc.cold_leg_cost_yuan_per_order
        n_p = len(self.platform_list)
        for p, s in zip(self.platform_list, sums_by(cold_cost, j, n_p), strict=True):
            p.flows["logistics_yuan"] += float(s)
        late = u[:, 3] < self.late_pickup_prob[book.consumer]
        # Stock units already made the first two legs; each leg uses hours / 24 / L(T) of a
        # unit's life (sim.kernels.chain_losses: sim.coldchain.leg_of_loss, per unit).
        filled = book.filled
        spoiled, low_life, stage = kernels.chain_losses(
            book.life0, filled, book.defect, book.from_stock, book.supplier,
            self.sup_transit_hours, float(cc.central_to_grid_hours),
            np.array([cc.grid_to_pickup_hours_town, cc.grid_to_pickup_hours_village], float),
            np.array([cc.dwell_hours_town, cc.dwell_hours_village], float),
            float(cc.late_pickup_extra_hours), village, late, cold, self.shelf_life_cold,
            self.shelf_life_ambient, float(cc.complaint_life_fraction),
            coldchain.LEG_LOSS_STAGE.astype(np.int64))

        # Refunds (the paid share of each spoiled unit's list price) off the households' spend;
        # complaints (a spoiled unit, or one low on life) on the leaders' month; trust: good
        # experiences pull it up, spoiled orders cut it (sim.kernels.deliveries).
        w = self.cfg.wom
        refund_units, refund, complaint, quality, picked = kernels.deliveries(
            book.prices, book.paid_yuan, book.value_yuan, filled, spoiled, low_life,
            book.consumer, j, book.leader, c.spend_yuan, c.trust, self.leaders.month_complaints,
            float(w.trust_learning_rate), float(w.trust_loss_spoiled))
        self._record_order_units(book, filled, spoiled, low_life, stage, village, refund_units)
        units, lost = int(filled.sum()), int(spoiled.sum())
        self.goods["in_chain"] -= units
        self.goods["delivered"] += units - lost
        self.goods["spoiled"] += lost

        t = self.today
        t["quality_complaints_p"][:] = np.bincount(j[quality], minlength=n_p)
        t["pickups"][:] = np.bincount(j[picked], minlength=n_p)
        t["pickups_on_time"][:] = np.bincount(j[picked & ~late], minlength=n_p)
        complaints_p = np.bincount(j[complaint], minlength=n_p)
        for pj, (p, s) in enumerate(zip(self.platform_list, sums_by(refund, j, n_p), strict=True)):
            p.flows["refunds_yuan"] += float(s)
            p.flows["complaints"] += int(complaints_p[pj])
        self.today["complaints"] = int(complaint.sum())
        self.today["quality_complaints"] = int(quality.sum())
        # The complaints travel in the word-of-mouth phase (DESIGN §3, phase 4).
        self.today["complainers"] = (book.consumer[complaint], j[complaint])

    def _coverage(self) -> np.ndarray:
        """Cold-chain coverage per platform and tier (central, grid, last mile), (P, 3)."""
        if getattr(self, "_coverage_cache", None) is None:  # config is fixed during a run
            self._coverage_cache = self._coverage_from_config()
        return self._coverage_cache

    def _coverage_from_config(self) -> np.ndarray:
        coverage = np.array([[p.cfg.cold_chain_central, p.cfg.cold_chain_grid,
                              p.cfg.cold_chain_last_mile] for p in self.platform_list])
        if self.cfg.coldchain.coverage_override is not None:
            coverage[:] = self.cfg.coldchain.coverage_override
        return coverage

    def _reset_supply_records(self) -> None:
        n_p, n_c = len(self.platform_list), len(self.category_names)
        t = self.today
        for key in ("shipped", "spoiled", "unfilled", "low_life", "bought"):
            t[key] = np.zeros((n_p, n_c), np.int64)
        t["spoil_cost"] = np.zeros((n_p, n_c))
        t["refunds"] = np.zeros((n_p, n_c))
        shape = (n_p, n_c, len(coldchain.AREAS), len(coldchain.LOSS_STAGES))
        t["losses"] = np.zeros(shape, np.int64)
        t["loss_yuan"] = np.zeros(shape)
        for key in ("pickups", "pickups_on_time", "quality_complaints_p"):
            t[key] = np.zeros(n_p, np.int64)
        t["complaints"] = 0
        t["quality_complaints"] = 0

    def _record_order_units(self, book, filled, spoiled, low_life, stage, village,
                            refund_units) -> None:
        """Counts per platform x category (and area x stage for losses) of today's deliveries."""
        t = self.today
        cost = book.cost_yuan * spoiled
        kernels.record_units(book.platform, village, filled, spoiled, low_life, stage,
                             refund_units, cost, t["shipped"], t["spoiled"], t["low_life"],
                             t["refunds"], t["losses"], t["loss_yuan"], t["spoil_cost"])
        by_platform = sums_by(cost, book.platform, len(self.platform_list))
        for p, s in zip(self.platform_list, by_platform, strict=True):
            p.flows["spoilage_cost_yuan"] += float(s)

    def _record_stock_loss(self, pj: int, ci: int, lots: Lots, gone: np.ndarray,
                           stage: np.ndarray) -> None:
        """Stock units lost before they were assigned to a household (area ``unassigned``)."""
        t, k = self.today, int(gone.sum())
        if k == 0:
            return
        cost = lots.cost_yuan[gone]
        t["shipped"][pj, ci] += k  # they left the chain today
        t["spoiled"][pj, ci] += k
        t["spoil_cost"][pj, ci] += float(cost.sum())
        np.add.at(t["losses"][pj, ci, coldchain.AREAS.index("unassigned")], stage[gone], 1)
        np.add.at(t["loss_yuan"][pj, ci, coldchain.AREAS.index("unassigned")], stage[gone], cost)
        self.platform_list[pj].flows["spoilage_cost_yuan"] += float(cost.sum())
        self.goods["spoiled"] += k

    def _age_stock(self, d: int) -> None:
        """Stock mode: leftovers age 24 h in the grid warehouse, then yesterday's purchases
        arrive (supplier -> central -> grid, then the wait for dispatch). Units whose life runs
        out are lost (stages ``grid_storage``, ``to_central``, ``to_grid``)."""
        cc = self.cfg.coldchain
        c2g_hours, hold_hours = cc.central_to_grid_hours, cc.grid_hold_hours
        coverage = self._coverage()
        grid_stage = coldchain.LOSS_STAGES.index("grid_storage")
        arrival_stage = np.array([coldchain.LOSS_STAGES.index(s)
                                  for s in ("to_central", "to_grid", "grid_storage")])
        for pj, p in enumerate(self.platform_list):
            for ci, cat in enumerate(self.category_names):
                st = self.stock[pj][ci]
                if len(st):
                    life_days = np.where(st.cold, self.shelf_life_cold[ci],
                                         self.shelf_life_ambient[ci])
                    st.life = st.life - 24.0 / 24.0 / life_days
                    gone = st.life <= 0.0
                    self._record_stock_loss(pj, ci, st, gone, np.full(len(st), grid_stage))
                    self.goods["in_stock"] -= int(gone.sum())
                    st = st.take(~gone)
                arr = self.transit[pj][ci]
                n = len(arr)
                if n:
                    u = self.streams.generator(f"stock.{p.name}.{cat}.arrive", d).random((2, n))
                    cold = np.stack([u[0] < coverage[pj, 0], u[1] < coverage[pj, 1], arr.cold],
                                    1)
                    hours = np.stack([self.sup_transit_hours[arr.supplier],
                                      np.full(n, c2g_hours), np.full(n, hold_hours)], 1)
                    life_days = np.where(cold, self.shelf_life_cold[ci],
                                         self.shelf_life_ambient[ci])
                    used = hours / 24.0 / life_days
                    leg = coldchain.leg_of_loss(arr.life, used)
                    gone = leg >= 0
                    self._record_stock_loss(pj, ci, arr, gone, arrival_stage[leg])
                    arr.life = arr.life - used.sum(axis=1)
                    kept = arr.take(~gone)
                    self.goods["in_chain"] -= n
                    self.goods["in_stock"] += len(kept)
                    st = st.join(kept)
                    self.transit[pj][ci] = Lots()
                self.stock[pj][ci] = st

    # 4 ---------------------------------------------------------------------------------------
    def phase_word_of_mouth(self, d: int) -> None:
        """Complaints spread; adoption (Bass on the network, DESIGN §4.1); lapse; awareness.

        Order within the phase: today's complaints (spoiled orders and any quality scandal) reach
        the neighbours first, so that bad news heard today already weighs on today's adoption.
        """
        c, net, w = self.consumers, self.network, self.cfg.wom
        self._todays_complainers(d)
        self._spread_complaints(d)
        nb = self._neighbour_counts(d)
        reach_k = self.neighbourhood_reach_today()
        # Only households that have not adopted can adopt: the probability is computed, and the
        # full-length stream's numbers drawn (RandomStreams.uniform_of), for them alone.
        # sim.consumers.adoption_probability: the terms in one compiled call over the
        # households (sim.kernels.adoption_candidates), the complaints factor and the clip here.
        cand, prob = kernels.adoption_candidates(
            c.adopted, reach_k, c.neighbourhood, nb[:, 0], nb[:, 1], net.degree, c.p_scale,
            float(w.p_external), float(w.q_imitation), float(w.leader_boost))
        if w.complaint_adoption_loss:
            # x ** 0 == 1 and p * 1 == p: only candidates who heard a complaint change (few in
            # the first months, when the candidates are many; NumPy's pow takes ~5 ns each).
            heard = c.complaints_heard[cand]
            some = np.flatnonzero(heard != 0.0)
            prob[some] = prob[some] * np.power(1.0 - w.complaint_adoption_loss, heard[some])
        prob = np.clip(prob, 0.0, 1.0)
        u = self.streams.uniform_of("wom.adopt", d, cand)
        new = cand[u < prob]
        c.adopted[new] = True
        c.day_adopted[new] = d
        self.today["new_adopters"] = len(new)

        lapsed = 0
        if w.lapse:  # adopters who stopped ordering and trust no platform (sim.kernels.lapse)
            lapsed = kernels.lapse(c.adopted, c.is_leader, c.day_last_order, c.day_adopted,
                                   c.trust, d, int(w.lapse_days), float(w.lapse_trust))
        self.today["lapsed"] = int(lapsed)

        for j, p in enumerate(self.platform_list):
            if not p.active:
                continue
            # A platform handing out coupons today markets harder (coupons are how platforms
            # bought users: seed 000 §3.3.1 "大规模补贴用户").
            coupons = p.coupon_yuan > 0 or p.new_user_coupon_yuan > 0  # to all or to new users
            own = p.cfg.awareness_rate_per_day * (1.0 + w.subsidy_marketing_boost * coupons)
            # Awareness only grows: only households not yet aware need the computation and
            # their numbers of the stream (sim.consumers.awareness_probability, compiled:
            # sim.kernels.become_aware).
            cand = kernels.unaware(c.aware, j)
            u = self.streams.uniform_of(f"wom.aware.{p.name}", d, cand)
            kernels.become_aware(c.aware, j, float(own), float(w.awareness_imitation),
                                 nb[:, 2 + j], net.degree, float(w.awareness_from_leader),
                                 c.leader_of, cand, u)

    def _neighbour_counts(self, d: int) -> np.ndarray:
        """Each household's neighbours who adopted, lead a group, recently used each platform.

        Columns: adopters, leaders, then one per platform the households whose last order from
        that platform is at most ``RECENT_USE_DAYS`` old (a household counts for every platform
        it ordered from in that window, ODD 7.1). Only the rows of households whose
        state changed since the last call are recomputed (:class:`sim.network.NeighbourCounts`):
        the counts equal the full product ``A @ X`` exactly.
        """
        c = self.consumers
        rows, delta = kernels.changed_state_rows(
            c.adopted, c.is_leader, c.day_last_order_p, d, RECENT_USE_DAYS,
            *self._nb_state, self.neighbour_counts.counts.shape[1])
        return self.neighbour_counts.add(rows, delta)

    def _todays_complainers(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        """Today's complainers and the platforms they complain about (orders and scandals)."""
        none = np.zeros(0, np.int64)
        who, plat = self.today.pop("complainers", (none, none))
        s_who, s_plat = self._scandal_complainers(d)
        self.today["scandal_complaints"] = len(s_who)
        self.today["complaints"] = self.today.get("complaints", 0) + len(s_who)
        self._complainers_today = (np.concatenate([who, s_who]), np.concatenate([plat, s_plat]))
        return self._complainers_today

    def _spread_complaints(self, d: int) -> None:
        """Today's complaints reach the complainers' neighbours (negative word of mouth).

        Each complaining neighbour cuts a household's trust in that platform by the factor
        ``1 - complaint_trust_loss`` and adds one to the complaints it has heard, which fade with
        half-life ``complaint_memory_days`` and lower its chance to adopt
        (:func:`sim.consumers.adoption_probability`). A quality scandal adds many complainers at
        once (:meth:`_scandal_complainers`). Seed 004 §4.2.1: bad news travels.
        """
        c, w = self.consumers, self.cfg.wom
        n_p = len(self.platform_list)
        if getattr(self, "_complainers_today", None) is None:
            self._todays_complainers(d)  # called on its own (not from phase_word_of_mouth)
        who, plat = self._complainers_today
        self._complainers_today = None
        spread = len(who) and (w.complaint_trust_loss > 0 or w.complaint_adoption_loss > 0)
        rows, inv = np.unique(who, return_inverse=True)
        x = np.zeros((len(rows), n_p), np.float32)
        x[inv, plat] = 1.0  # one complaint per household and platform a day
        a = self.network.adjacency
        if a is not None:
            # The complainers' ties only, in one compiled pass (sim.kernels.spread_complaints:
            # the formulas below, bit for bit).
            if not spread:
                rows, x = rows[:0], x[:0]
            kernels.spread_complaints(
                a.indptr, a.indices, a.data, np.asarray(rows, np.int64), x, c.trust,
                c.complaints_heard, 2.0 ** (-1.0 / w.complaint_memory_days),
                self._complaint_loss_table, self._complaint_scratch)
            return
        new_heard = np.zeros(c.n)
        if spread:
            heard = self.network.neighbour_sum_of_rows(rows, x)
            # Only households that heard something change (x**0 == 1 leaves the rest as is).
            hit = np.flatnonzero(any_rows(heard))
            h = heard[hit]
            if w.complaint_trust_loss > 0:
                c.trust[hit] *= np.power(1.0 - w.complaint_trust_loss, h)
            new_heard[hit] = np.asarray(h, np.float64).sum(axis=1)
        c.complaints_heard = decay_complaints(c.complaints_heard, new_heard,
                                              w.complaint_memory_days)

    def _scandal_complainers(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        """Households who complain because a quality scandal breaks today (``wom.scandals``).

        A scandal (seed 004 §4.2.1: rotten produce sorted for sale at a central warehouse,
        exposed by the press) makes each recent user of the platform (last order from it within
        ``RECENT_USE_DAYS``) complain with probability ``severity``: the complainer's own trust
        drops as after a spoiled order, the complaint lands on its leader's desk, and it spreads
        to the neighbours like any other.
        """
        c, w = self.consumers, self.cfg.wom
        who_parts, plat_parts = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        for sc in w.scandals:
            if int(sc.day) != d:
                continue
            j = self.platform_names.index(sc.platform)
            p = self.platform_list[j]
            u = self.streams.uniform(f"wom.scandal.{p.name}", d, c.n)
            if not p.active:
                continue
            last_j = c.day_last_order_p[:, j]  # its last order from this platform
            recent = (last_j >= 0) & (d - last_j <= RECENT_USE_DAYS)
            idx = np.flatnonzero(recent & (u < sc.severity))
            c.trust[idx, j] *= 1.0 - w.trust_loss_spoiled
            p.flows["complaints"] += len(idx)
            lead = c.leader_of[idx, j]
            np.add.at(self.leaders.month_complaints, lead[lead >= 0], 1)
            who_parts.append(idx.astype(np.int64))
            plat_parts.append(np.full(len(idx), j, np.int64))
        return np.concatenate(who_parts), np.concatenate(plat_parts)

    def neighbourhood_reach_today(self) -> np.ndarray:
        """The platforms' marketing reach in each neighbourhood today (DESIGN §4.1)."""
        w = self.cfg.wom
        return neighbourhood_reach(
            self.leader_presence(), np.array([p.cfg.marketing_reach for p in self.platform_list]),
            np.array([p.active for p in self.platform_list]), self.network.is_village,
            w.reach_without_leader, w.reach_village_scale)

    def leader_presence(self) -> np.ndarray:
        """Whether each platform has an active leader in each neighbourhood, shape (K, P)."""
        t = self.leaders
        k, n_p = self.network.n_neighbourhoods, len(self.platform_list)
        out = np.zeros((k, n_p), bool)
        act = np.flatnonzero(t.view("active"))
        out[t.neighbourhood[act], t.platform[act]] = True
        return out

    # 5 ---------------------------------------------------------------------------------------
    def phase_leaders(self, d: int) -> None:
        """Monthly reviews (pay, quit, drop or add a platform), titles, recruitment, re-homing.

        DESIGN §4.3. Leaders whose month ends today are paid the scheme's monthly bonuses and
        outside income, review (quit or stay), and stayers may drop a platform that does not pay
        for their time or add one whose terms beat theirs (multi-homing). Recognition schemes
        title the top leaders every 30 days. Platforms recruit where coverage is missing, then
        households that lost a pickup point re-home; every household that lost one is accounted
        for (re-homed to the platform, served by another platform, or without a pickup point).
        """
        t, lc = self.leaders, self.cfg.leaders
        n_p = len(self.platform_list)
        self.today["leader_counts"] = np.zeros((n_p, 4), np.int64)  # recruit, quit, drop, add
        self.today.setdefault("member_flows", np.zeros((n_p, 4), np.int64))
        self.today["leader_pay"] = np.zeros((n_p, 3))  # bonus, service fees, gov subsidy
        self._orphans: list[tuple[int, np.ndarray]] = []
        changed = np.zeros(n_p, bool)
        lost = np.zeros((self.network.n_neighbourhoods, n_p), bool)  # a leader quit there
        quits = 0
        if t.n:
            rows = due_rows(t, d, lc.review_days)
            potential = self._potential_ratio(rows)
            self._pay_month(rows, d, potential)
            gross = (t.month_income_yuan[rows] + t.month_bonus_yuan[rows]
                     + t.month_outside_yuan[rows])
            u = self.streams.uniform("leaders.quit", d, t.n)
            reviewed, quitting = review(t, d, u, lc)
            if len(reviewed):
                self.recorder.leader_reviews(d, rows, gross, potential, reviewed, quitting)
            if len(quitting):
                qrows = rows[np.isin(person_of(t)[rows], quitting)]
                short = t.smoothed_net_income_yuan[person_of(t)[qrows]] < \
                    t.reservation_income_yuan[person_of(t)[qrows]]
                reasons = np.where(short, "income_below_reservation", "other")
                self._deactivate_leaders(qrows, d, "quit", reasons)
                np.add.at(self.today["leader_counts"][:, 1], t.platform[qrows], 1)
                lost[t.neighbourhood[qrows], t.platform[qrows]] = True
                changed[np.unique(t.platform[qrows])] = True
                quits = len(quitting)
            if lc.multihoming and len(rows):
                self._multihome(d, rows[t.active[rows]], changed)
            # Titles every review_days, on the day the leaders who joined on day 0 (and those
            # who replaced them on their review days) are reviewed: their month's sales are new.
            if self.scheme.awards_titles and d > 0 and d % lc.review_days == 0:
                self._award_titles()
        self.today["leader_quits"] = quits

        recruited = 0
        for j, p in enumerate(self.platform_list):
            if not p.active:
                continue
            # Every recruit_interval_days the platform fills every gap; on other days it looks
            # for successors only where a leader quit today (replace_on_quit).
            only = None
            if (d - p.cfg.entry_day) % lc.recruit_interval_days:
                if not (lc.replace_on_quit and lost[:, j].any()):
                    continue
                only = lost[:, j]
            m = self._recruit(p, d, only)
            self.today["leader_counts"][j, 0] += m
            recruited += m
            changed[j] = True
        self.today["leader_recruits"] = recruited

        for j in np.flatnonzero(changed):
            self._rehome(j, d)
        self._account_orphans()

    def _pay_month(self, rows: np.ndarray, d: int, potential: np.ndarray) -> None:
        """Pay the month's bonuses (platforms) and outside income (services, government).

        Bonuses go to each service row and are paid by its platform; service fees, government
        subsidies and service work are the leader's, booked on one row per leader.
        """
        if len(rows) == 0:
            return
        t = self.leaders
        j = t.platform[rows].astype(np.int64)
        bonus = self.scheme.monthly_bonus(d, t.month_sales_yuan[rows], potential)
        t.month_bonus_yuan[rows] += bonus
        paid = t.month_bonus_yuan[rows]  # with prizes accrued since the last review
        _, first = np.unique(person_of(t)[rows], return_index=True)
        one = np.zeros(len(rows), bool)
        one[first] = True
        fees, gov = self.scheme.outside_income(len(rows))
        fees, gov = fees * one, gov * one
        t.month_outside_yuan[rows] += fees + gov
        t.month_service_minutes[rows] += self.scheme.service_minutes(len(rows)) * one
        t.income_to_date_yuan[rows] += paid + fees + gov
        pay = self.today["leader_pay"]
        np.add.at(pay[:, 0], j, paid)
        np.add.at(pay[:, 1], j, fees)
        np.add.at(pay[:, 2], j, gov)
        for pj, p in enumerate(self.platform_list):
            p.flows["commission_yuan"] += float(pay[pj, 0])
        self.money["bonus_paid"] += float(paid.sum())
        self.money["service_fees"] += float(fees.sum())
        self.money["government_subsidy"] += float(gov.sum())
        self.money["leader_income"] += float((paid + fees + gov).sum())

    def _potential_ratio(self, rows: np.ndarray) -> np.ndarray:
        """Each row's local potential over its platform's mean (1 = average).

        Local potential = the platform's sales in the leader's neighbourhood over about the last
        month, per leader of the platform there: what the area can buy, which the platform
        observes. Villages with few, older households who order less have a low potential
        (seed 000 §3.2.1); the base of differentiated targets (seed 000 §4.2.2, "引入动态调整机制").
        """
        t = self.leaders
        act = np.flatnonzero(t.view("active"))
        n_p = len(self.platform_list)
        here = np.zeros((self.network.n_neighbourhoods, n_p))
        np.add.at(here.reshape(-1), t.neighbourhood[act] * n_p + t.platform[act], 1)  # flat: faster
        per_leader = np.divide(self.nb_sales_month, here, out=np.zeros_like(here),
                               where=here > 0)
        plat = t.platform[act].astype(np.int64)
        pot_act = per_leader[t.neighbourhood[act], plat]
        tot = np.bincount(plat, weights=pot_act, minlength=n_p)
        cnt = np.bincount(plat, minlength=n_p)
        mean = np.divide(tot, cnt, out=np.zeros(n_p), where=cnt > 0)
        j = t.platform[rows].astype(np.int64)
        ref = mean[j]
        return np.divide(per_leader[t.neighbourhood[rows], j], ref, out=np.ones(len(rows)),
                         where=ref > 0)

    def _award_titles(self) -> None:
        """Monthly titles (月度之星团长, seed 000 §4.2.2): top leaders of each platform by sales."""
        t = self.leaders
        per = person_of(t)
        act = np.flatnonzero(t.view("active"))
        t.recognised[: t.n] = False
        prize = float(self.cfg.incentive.title_prize_yuan)
        for j in range(len(self.platform_list)):
            rows = act[t.platform[act] == j]
            win = rows[self.scheme.title_winners(t.last_month_sales_yuan[rows])]
            t.recognised[per[win]] = True
            t.month_bonus_yuan[win] += prize  # paid by the platform at the leader's review

    def _multihome(self, d: int, rows: np.ndarray, changed: np.ndarray) -> None:
        """Reviewing leaders drop a platform that does not pay or add one whose terms are better.

        Drop: a leader serving several platforms drops each whose month net of the value of
        time is below ``drop_net_below_yuan`` (keeping its best). Add (multi-homing, seed 003
        l.75 "团长多平台运营现象普遍"): the expected commission from an active platform that
        covers the neighbourhood but which it does not serve, ``rate * sales of that platform
        here / (its leaders here + 1)`` (its mean per leader where it has none here), beats the
        leader's pay per platform served by ``add_margin``; it adds the best such platform with
        probability ``add_prob``, and each member follows with probability
        ``member_follow_share`` (up to the group cap).
        """
        t, lc = self.leaders, self.cfg.leaders
        n_p = len(self.platform_list)
        per = person_of(t)
        act = t.view("active")
        n_rows_of = np.bincount(per[act], minlength=t.n)
        net = t.last_month_net_yuan[rows]
        best = np.full(t.n, -np.inf)
        np.maximum.at(best, per[rows], net)
        drop = rows[(n_rows_of[per[rows]] > 1) & (net < lc.drop_net_below_yuan)
                    & (net < best[per[rows]])]
        if len(drop):
            self._deactivate_leaders(drop, d, "dropped", "not_paying")
            np.add.at(self.today["leader_counts"][:, 2], t.platform[drop], 1)
            changed[np.unique(t.platform[drop])] = True
        rows = rows[t.active[rows]]
        if len(rows) == 0:
            return
        persons, pos = np.unique(per[rows], return_inverse=True)
        serves = np.zeros((len(persons), n_p), bool)
        serves[pos, t.platform[rows]] = True
        pay = np.bincount(pos, weights=t.last_month_pay_yuan[rows]) / np.bincount(pos)
        k = self.network.n_neighbourhoods
        act_rows = np.flatnonzero(t.view("active"))
        here = np.zeros((k, n_p))
        np.add.at(here, (t.neighbourhood[act_rows], t.platform[act_rows]), 1)
        s = self.nb_sales_month
        per_leader_all = np.divide(s.sum(axis=0), here.sum(axis=0), out=np.zeros(n_p),
                                   where=here.sum(axis=0) > 0)
        est_sales = np.where(here > 0, s / (here + 1), per_leader_all[None, :])
        rate = self.scheme.rate(d) * self.rate_multiplier
        nb = t.neighbourhood[persons]
        est = est_sales[nb] * rate[None, :]
        open_ = np.array([p.active for p in self.platform_list])[None, :] & \
            np.stack([p.covered for p in self.platform_list], axis=1)[nb] & ~serves
        better = open_ & (est > (1.0 + lc.add_margin) * pay[:, None])
        u = self.streams.uniform("leaders.multihome.add", d, t.n)[persons]
        go = better.any(axis=1) & (u < lc.add_prob)
        if not go.any():
            return
        q = persons[go]
        j_new = np.argmax(np.where(better[go], est[go], -np.inf), axis=1)
        m = len(q)
        cols = {name: getattr(t, name)[q] for name in (
            "home", "neighbourhood", "fridge", "village", "reservation_income_yuan",
            "wage_yuan_per_hour", "minutes_per_order", "minutes_per_complaint")}
        idx = t.append(person=q, platform=j_new, active=np.ones(m, bool),
                       day_joined=np.full(m, d), day_left=np.full(m, -1), **cols)
        self.recorder.leader_events(d, idx, j_new, "added", "better_terms")
        np.add.at(self.today["leader_counts"][:, 3], j_new, 1)
        self._members_follow(d, q, idx, j_new)
        changed[np.unique(j_new)] = True

    def _members_follow(self, d: int, q: np.ndarray, new_rows: np.ndarray,
                        j_new: np.ndarray) -> None:
        """Members of leaders who added a platform follow them to it, in part, up to the cap."""
        t, c, lc = self.leaders, self.consumers, self.cfg.leaders
        per = person_of(t)
        lo = c.leader_of
        u = self.streams.uniform("leaders.multihome.follow", d, c.n)
        for j in np.unique(j_new):
            sel = j_new == j
            new_of = np.full(t.n, -1, np.int64)
            new_of[q[sel]] = new_rows[sel]
            target = np.full(c.n, -1, np.int64)
            for j0 in range(lo.shape[1]):
                if j0 == j:
                    continue
                has = lo[:, j0] >= 0
                r = np.where(has, new_of[per[np.maximum(lo[:, j0], 0)]], -1)
                target = np.where(target < 0, r, target)
            fol = np.flatnonzero((target >= 0) & (u < lc.member_follow_share))
            r = target[fol]
            srt = np.lexsort((u[fol], r))
            first = np.searchsorted(r[srt], r[srt], side="left")
            keep = np.zeros(len(fol), bool)
            keep[srt] = (np.arange(len(srt)) - first) < self.member_cap - 1  # the leader is one
            lo[fol[keep], j] = r[keep]
            lo[t.home[new_rows[sel]], j] = new_rows[sel]
            c.aware[t.home[new_rows[sel]], j] = True

    def _deactivate_leaders(self, idx: np.ndarray, d: int, event: str, reasons) -> None:
        """Service rows ``idx`` stop; their members lose that pickup point (kept for accounts).

        A household whose last service stops is no longer a leader and may not be recruited
        again for ``rejoin_cooldown_days``.
        """
        t, c = self.leaders, self.consumers
        t.active[idx] = False
        t.day_left[idx] = d
        per = person_of(t)
        still = np.bincount(per[t.view("active")], minlength=t.n)
        gone = idx[still[per[idx]] == 0]
        homes = t.home[gone]
        c.is_leader[homes] = False
        c.leader_available_day[homes] = d + self.cfg.leaders.rejoin_cooldown_days
        for j in np.unique(t.platform[idx]):
            col = c.leader_of[:, j]
            lost = np.flatnonzero(np.isin(col, idx[t.platform[idx] == j]))
            col[lost] = -1
            self._orphans.append((int(j), lost))
        self.recorder.leader_events(d, idx, t.platform[idx], event, reasons)

    def _account_orphans(self) -> None:
        """Households that lost a pickup point today: re-homed, served elsewhere or unserved."""
        flows = self.today.setdefault("member_flows",
                                      np.zeros((len(self.platform_list), 4), np.int64))
        active = np.array([p.active for p in self.platform_list])
        lo = self.consumers.leader_of
        for j, h in getattr(self, "_orphans", []):
            same = lo[h, j] >= 0
            other = ~same & ((lo[h] >= 0) & active[None, :]).any(axis=1)
            flows[j] += [len(h), same.sum(), other.sum(), (~same & ~other).sum()]
        self._orphans = []

    def _recruit(self, p: Platform, d: int, only: np.ndarray | None = None) -> int:
        """Platform ``p`` recruits where it has fewer leaders than it wants (in the
        neighbourhoods flagged by ``only``, if given); returns the number recruited."""
        t, c, lc, net = self.leaders, self.consumers, self.cfg.leaders, self.network
        k = net.n_neighbourhoods
        households = self.households_per_neighbourhood
        # Enough leaders for the platform's density target, and for every household to find a
        # place in some leader's WeChat groups (at most 500 a group).
        want = np.maximum(recruitment_targets(households, p.cfg.households_per_leader),
                          recruitment_targets(households, self.member_cap)) * p.covered
        act = np.flatnonzero(t.view("active") & (t.view("platform") == p.index))
        have = np.bincount(t.neighbourhood[act], minlength=k)
        deficit = np.maximum(want - have, 0)
        if only is not None:
            deficit = deficit * only
        if deficit.sum() == 0:
            return 0
        # Candidates, not leading, available, where leaders are wanted (one compiled pass).
        cand = kernels.recruit_candidates(c.leader_candidate, c.is_leader, c.leader_available_day,
                                          d, deficit, c.neighbourhood)
        name = f"leaders.recruit.{p.name}"
        homes = pick_recruits(deficit, None, c.neighbourhood,
                              lambda idx: self.streams.uniform_of(name, d, idx),  # theirs alone
                              candidates=cand)
        m = len(homes)
        if m == 0:
            return 0
        village = c.in_village[homes]
        u = self.streams.generator(f"leaders.traits.{p.name}", d).random((5, m))
        fridge_p = np.where(village, self.cfg.coldchain.fridge_share_village,
                            self.cfg.coldchain.fridge_share_town)
        median = np.where(village, lc.reservation_income_village_yuan,
                          lc.reservation_income_town_yuan)
        res = lognormal_income(median, lc.reservation_income_sigma, u[1])
        mpo = lognormal_income(np.where(village, lc.minutes_per_order_village,
                                        lc.minutes_per_order), lc.minutes_sigma, u[3])
        mpc = lognormal_income(np.where(village, lc.minutes_per_complaint_village,
                                        lc.minutes_per_complaint), lc.minutes_sigma, u[4])
        idx = t.append(
            home=homes, neighbourhood=c.neighbourhood[homes], platform=np.full(m, p.index),
            active=np.ones(m, bool), day_joined=np.full(m, d), day_left=np.full(m, -1),
            fridge=u[0] < fridge_p, village=village, reservation_income_yuan=res,
            wage_yuan_per_hour=np.where(village, lc.wage_yuan_per_hour_village,
                                        lc.wage_yuan_per_hour_town),
            minutes_per_order=mpo, minutes_per_complaint=mpc,
            smoothed_net_income_yuan=res,  # a new leader expects to earn its reservation income
        )
        t.person[idx] = idx
        Leader.create_agents(self, m, index=idx)
        c.is_leader[homes] = True
        c.aware[homes, p.index] = True
        if self.cfg.wom.leaders_adopt and not c.adopted[homes].all():
            new = homes[~c.adopted[homes]]
            c.adopted[new] = True
            c.day_adopted[new] = d
        c.leader_of[homes, p.index] = idx  # a leader is a member of its own group
        self._form_groups(p, idx, d)
        p.flows["recruit_yuan"] += m * p.cfg.recruit_cost_yuan
        self.recorder.leader_events(d, idx, np.full(m, p.index), "recruited", "coverage_gap")
        return m

    def _form_groups(self, p: Platform, new: np.ndarray, d: int) -> None:
        """New leaders draw their groups from their neighbourhood (DESIGN §2.2).

        In a neighbourhood where ``a`` of the platform's ``L`` leaders are new, each household
        (served by an older leader of the platform or not) joins one of the new leaders with
        probability ``a / L``, so that groups are even in expectation; no group passes the cap.
        """
        t, c = self.leaders, self.consumers
        j, k = p.index, self.network.n_neighbourhoods
        act = np.flatnonzero(t.view("active") & (t.view("platform") == j))
        total = np.bincount(t.neighbourhood[act], minlength=k)
        nb_new = t.neighbourhood[new]
        n_new = np.bincount(nb_new, minlength=k)
        order = np.argsort(nb_new, kind="stable")
        sorted_new = new[order]
        start = np.concatenate([[0], np.cumsum(n_new)[:-1]])
        share = np.divide(n_new, total, out=np.zeros(k), where=total > 0)
        col = c.leader_of[:, j]
        nb = c.neighbourhood
        is_new = np.zeros(t.n, bool)
        is_new[new] = True
        # Households of the new leaders' neighbourhoods not already with one of them; only they
        # draw (RandomStreams.uniform_of: the full-length stream's numbers).
        cand = kernels.join_candidates(share, nb, col, is_new)
        u = self.streams.uniform_of(f"leaders.join.{p.name}", d, cand)
        joins = u < share[nb[cand]]
        h, u = cand[joins], u[joins]
        if len(h) == 0:
            return
        pick = start[nb[h]] + np.minimum(np.floor(u / share[nb[h]] * n_new[nb[h]]),
                                         n_new[nb[h]] - 1).astype(np.int64)
        r = sorted_new[pick]
        # Each new group takes its first member_cap - 1 joiners in the order of their uniforms;
        # when no group has more joiners than that, all join (no need to sort them).
        if np.bincount(r).max() - 1 < self.member_cap - 1:
            keep = np.ones(len(h), bool)
        else:
            srt = np.lexsort((u, r))
            first = np.searchsorted(r[srt], r[srt], side="left")
            keep = np.zeros(len(h), bool)
            keep[srt] = (np.arange(len(srt)) - first) < self.member_cap - 1
        col[h[keep]] = r[keep]

    def _rehome(self, j: int, d: int) -> None:
        """Households without a pickup point of platform j join one in their neighbourhood.

        A leader's members are capped at :attr:`member_cap` (its WeChat groups, 500 each).
        """
        t, c = self.leaders, self.consumers
        act = np.flatnonzero(t.view("active") & (t.view("platform") == j))
        col = c.leader_of[:, j]
        members = kernels.member_counts(col, t.n)
        name = f"leaders.assign.{self.platform_names[j]}"
        assign_members(col, c.neighbourhood, act, t.neighbourhood[act],
                       self.network.n_neighbourhoods,
                       lambda idx: self.streams.uniform_of(name, d, idx),  # the unserved only
                       capacity=self.member_cap - members[act])

    @property
    def member_cap(self) -> int:
        """Most members one leader serves for one platform: ``wechat_groups_max`` WeChat groups
        of at most ``group_cap`` (500) members each. DESIGN §2.2 caps each group, not the
        leader; a leader whose group is full opens another (press: leaders run "a handful of
        groups on WeChat", Rest of World 2021)."""
        lc = self.cfg.leaders
        return int(lc.group_cap * lc.wechat_groups_max)

    def leader_coverage(self) -> np.ndarray:
        """Share of households with a pickup point of each platform (active platforms), (P,)."""
        active = np.array([p.active for p in self.platform_list])
        c = self.consumers
        return count_cols(c.leader_of >= 0) / c.n * active

    # 6 ---------------------------------------------------------------------------------------
    def phase_orders(self, d: int) -> None:
        """Order occasions and the logit choice of platform (DESIGN §4.2).

        The formulas are :func:`sim.consumers.choice_utilities`, :func:`~sim.consumers.choose`
        and :func:`~sim.consumers.logsum_surplus_yuan`; the loops over today's choosers run
        compiled (:mod:`sim.kernels`, equal to those functions bit for bit) and NumPy takes the
        exponentials and logarithms.
        """
        c, ch = self.consumers, self.cfg.choice
        cond = self.conditions
        u_occ = self.streams.uniform("orders.occasion", d, c.n)
        active = np.array([p.active for p in self.platform_list])
        # Rate order_rate * demand * (1 + promotion [has a leader]); the choosers are the
        # households with an occasion and a reachable platform (aware of it, a pickup point of
        # it, platform active).
        n_occ, idx, reach = kernels.occasion_choosers(
            c.adopted, c.order_rate, c.in_village, float(cond.demand_multiplier_town),
            float(cond.demand_multiplier_village), c.leader_of, float(ch.leader_promotion),
            u_occ, c.aware, active)
        self.today["occasions"] = int(n_occ)
        n_c = len(self.category_names)
        if len(idx) == 0:
            self.order_book = OrderBook(*(np.zeros(0, np.int64),) * 3, np.zeros((0, n_c)),
                                        np.zeros(0))
            self.today["consumer_surplus_yuan"] = 0.0
            return
        price_index = np.array([p.price_index for p in self.platform_list], float)
        # Coupons per chooser and platform: the everyday coupon plus a first-order coupon for
        # households that have never ordered from the platform (new_user schedule).
        coupon_all = np.array([p.coupon_yuan for p in self.platform_list], float)
        coupon_new = np.array([p.new_user_coupon_yuan for p in self.platform_list], float)
        quality = np.array([p.cfg.quality for p in self.platform_list], float)
        z, vmax, coupon_yuan = kernels.choice_utilities_rows(
            idx, price_index, coupon_all, coupon_new, self.reference_basket_yuan,
            c.day_last_order_p, c.price_sensitivity, c.trust, c.last_platform, quality, reach,
            float(ch.trust_weight), float(ch.habit), float(ch.outside_utility))
        w_exp = np.exp(z)  # shared by the choice and the logsum
        k, total = kernels.choice_probabilities(
            w_exp, self.streams.uniform_at("orders.choice", d, idx))  # choosers only
        # Consumer surplus (Small & Rosen 1981): (ref / beta) (logsum - V_0), summed.
        beta = c.price_sensitivity[idx]
        ls = vmax + np.log(total)
        scale = np.divide(self.reference_basket_yuan, beta, out=np.zeros(len(beta)),
                          where=beta > 0)
        self.today["consumer_surplus_yuan"] = float((scale * (ls - ch.outside_utility)).sum())
        who, j, leader, coupon, first = kernels.record_choices(
            idx, k, d, coupon_yuan, c.leader_of, c.last_platform, c.day_last_order,
            c.day_last_order_p, c.orders, self.recorder.last_order_days.reserve(d))
        for pj, p in enumerate(self.platform_list):
            p.flows["new_buyers"] += float(first[pj])
        prices = np.stack([p.prices for p in self.platform_list]).take(j, axis=0)
        self.order_book = OrderBook(who, j, leader, prices, coupon)

    # 7 ---------------------------------------------------------------------------------------
    def phase_procurement(self, d: int) -> None:
        """Platforms buy: pre-sale buys today's orders, stock mode fills them from the grid
        warehouse and restocks to its newsvendor level (DESIGN §4.6, :mod:`sim.procurement`).

        Suppliers' capacity (cut by weather shocks) is shared out by
        :func:`sim.suppliers.allocate`; order units nobody can supply are unfilled: not
        delivered and not charged.
        """
        book = self.order_book
        m, n_c, n_p = len(book), len(self.category_names), len(self.platform_list)
        n = self.consumers.n
        for sup in self.supplier_list:
            sup.update_shock(d, float(self.streams.uniform(f"supply.shock.{sup.name}", d, 1)[0]))
        capacity = np.array([[sup.capacity_units(d, n) if ci in sup.categories else 0
                              for sup in self.supplier_list] for ci in range(n_c)], np.int64)
        book.supplier = np.full((m, n_c), -1, np.int64)
        book.life0 = np.zeros((m, n_c))
        book.defect = np.zeros((m, n_c), bool)
        book.cost_yuan = np.zeros((m, n_c))
        book.from_stock = np.zeros(m, bool)
        orders = np.bincount(book.platform, minlength=n_p)
        # The household's own draws for each category (common random numbers): its rank in the
        # queue for suppliers and stock, its unit's initial life, relabelling and defect.
        # Counter-based (sim.streams.RandomStreams.uniform_at): only today's orders are drawn.
        u = {key: self.streams.uniform_at_streams(
                 [f"supply.{cat}.{key}" for cat in self.category_names], d, book.consumer)
             for key in ("supplier", "life", "relabel", "defect")}
        demand = np.zeros((n_p, n_c), np.int64)
        for pj in range(n_p):
            if self.proc_mode[pj] == "stock":
                demand[pj] = self._fill_from_stock(pj, book, u["supplier"])
            else:
                demand[pj] = orders[pj]
        alloc = allocate(demand, self.supplier_share, capacity)
        self.today["bought"] += alloc.sum(axis=2)
        filled = book.from_stock[:, None] & (book.supplier >= 0)
        for pj in range(n_p):
            if self.proc_mode[pj] == "stock":
                self._buy_stock(pj, alloc[pj], d)
                continue
            # Orders queue by their own uniform per category; suppliers' units go down the queue
            # (sim.kernels.presale_fill; each unit's life as in _initial_life).
            kernels.presale_fill(
                np.flatnonzero(book.platform == pj), u["supplier"], u["life"], u["relabel"],
                u["defect"], alloc[pj], self.life_min, self.life_max, self.sup_relabel_prob,
                self.sup_relabel_age, self.sup_defect, self.unit_cost_ref, self.sup_cost_mult,
                book.supplier, book.life0, book.defect, book.cost_yuan, filled)
        book.filled = filled
        # The consumer pays only for what arrives (a stockout is not charged).
        book.prices = np.where(filled, book.prices, 0.0)
        book.coupon_yuan = np.minimum(book.coupon_yuan, book.value_yuan)  # prices.sum(axis=1)
        # Unfilled units per platform x category, counted where they are (few), and from them
        # the filled units per platform (a platform's orders are all pre-sale or all stock).
        rows, cats = np.nonzero(~filled)
        unfilled = np.bincount(book.platform[rows] * n_c + cats, minlength=n_p * n_c)
        unfilled = unfilled.reshape(n_p, n_c)
        self.today["unfilled"] += unfilled
        units = orders * n_c - unfilled.sum(axis=1)
        presale = [pj for pj in range(n_p) if self.proc_mode[pj] != "stock"]
        self.goods["procured"] += int(units[presale].sum())
        self.goods["in_chain"] += int(units.sum())  # stock units leave the grid warehouse
        cogs = sums_by(book.cost_yuan, book.platform, n_p)
        for pj, p in enumerate(self.platform_list):
            if self.proc_mode[pj] != "stock":
                p.flows["cogs_yuan"] += float(cogs[pj])
                p.flows["units"] += float(units[pj])
            p.flows["logistics_yuan"] += float(orders[pj]) * p.cfg.logistics_cost_yuan_per_order
        # Pre-sale units by supplier (unfilled units have supplier -1 and are left out).
        bought = np.where(book.from_stock[:, None], -1, book.supplier)
        n_s = len(self.supplier_list)
        sup_units = np.bincount(bought[bought >= 0], minlength=n_s)
        revenue = sums_by(book.cost_yuan, bought, n_s)
        for si, sup in enumerate(self.supplier_list):
            sup.units_sold += int(sup_units[si])
            sup.revenue_yuan += float(revenue[si])
        self.pending = book

    def _initial_life(self, ci: int, u_life, u_relabel, supplier) -> np.ndarray:
        """Remaining life fraction at dispatch: uniform in the category's range, less the
        relabel age for old stock relabelled as fresh (seed 004 §4.2.1)."""
        life = self.life_min[ci] + (self.life_max[ci] - self.life_min[ci]) * u_life
        relabel = u_relabel < self.sup_relabel_prob[supplier]
        return np.where(relabel, life - self.sup_relabel_age[supplier], life)

    def _fill_from_stock(self, pj: int, book: OrderBook, u_rank: np.ndarray) -> np.ndarray:
        """Fill platform pj's orders from its grid stock (FEFO); return tomorrow's purchase per
        category (order-up-to level less what is left)."""
        p = self.platform_list[pj]
        sel = np.flatnonzero(book.platform == pj)
        book.from_stock[sel] = True
        buy = np.zeros(len(self.category_names), np.int64)
        f = self.forecasts[pj]
        if p.active:
            f.update(len(sel))
        pc = self.cfg.procurement
        ratio = critical_ratio(p.prices, p.unit_cost, pc.salvage_share_of_cost * p.unit_cost,
                               pc.stockout_penalty_share_of_price * p.prices)
        level = np.ceil(order_up_to(f.level if p.active else 0.0, f.sigma, ratio))
        for ci in range(len(self.category_names)):
            st = self.stock[pj][ci]
            fefo = np.argsort(st.life, kind="stable")
            k = min(len(sel), len(st))
            pos = _rank(u_rank[sel, ci])
            got = pos < k
            unit = fefo[pos[got]]
            rows = sel[got]
            book.supplier[rows, ci] = st.supplier[unit]
            book.life0[rows, ci] = st.life[unit]
            book.defect[rows, ci] = st.defect[unit]
            book.cost_yuan[rows, ci] = st.cost_yuan[unit]
            st = st.take(fefo[k:])
            self.stock[pj][ci] = st
            self.goods["in_stock"] -= k
            if p.active:
                buy[ci] = max(0, int(level[ci]) - len(st))
        return buy

    def _buy_stock(self, pj: int, alloc: np.ndarray, d: int) -> None:
        """Stock mode: the purchase (units per category x supplier) leaves for the warehouse."""
        p, pc = self.platform_list[pj], self._coverage()[pj]
        for ci, cat in enumerate(self.category_names):
            k = int(alloc[ci].sum())
            if k == 0:
                continue
            s = np.repeat(np.arange(len(self.supplier_list)), alloc[ci])
            g = self.streams.generator(f"stock.{p.name}.{cat}.buy", d).random((4, k))
            lots = Lots(life=self._initial_life(ci, g[0], g[1], s),
                        supplier=s, defect=g[2] < self.sup_defect[s],
                        cost_yuan=self.unit_cost_ref[ci] * self.sup_cost_mult[s],
                        cold=g[3] < pc[1])  # stored in the grid warehouse's cold room
            self.transit[pj][ci] = lots
            self.goods["procured"] += k
            self.goods["in_chain"] += k
            p.flows["cogs_yuan"] += float(lots.cost_yuan.sum())
            p.flows["units"] += k
            n_s = len(self.supplier_list)
            sup_units = np.bincount(s, minlength=n_s)
            revenue = sums_by(lots.cost_yuan, s, n_s)
            for si, sup in enumerate(self.supplier_list):
                sup.units_sold += int(sup_units[si])
                sup.revenue_yuan += float(revenue[si])

    # 8 ---------------------------------------------------------------------------------------
    def phase_settlement(self, d: int) -> None:
        """Money moves; cash and margins update; a platform out of patience exits."""
        book, c, t = self.order_book, self.consumers, self.leaders
        paid = book.paid_yuan
        c.spend_yuan[book.consumer] += paid
        commission = self.scheme.order_commission(d, book.value_yuan) * \
            self.rate_multiplier[book.platform]
        np.add.at(t.month_income_yuan, book.leader, commission)
        np.add.at(t.income_to_date_yuan, book.leader, commission)
        np.add.at(t.month_orders, book.leader, 1)
        np.add.at(t.month_sales_yuan, book.leader, book.value_yuan)
        self.nb_sales_month *= 1.0 - 1.0 / 30.0
        n_p = len(self.platform_list)
        # Added at the flat (K * P) cells: the same additions in the same order as with the
        # (neighbourhood, platform) index pair, which NumPy's add.at does ~6x slower.
        np.add.at(np.reshape(self.nb_sales_month, -1, copy=False),
                  c.neighbourhood[book.consumer] * n_p + book.platform, book.value_yuan)
        orders = np.bincount(book.platform, minlength=n_p)
        gmv, subsidy, paid_p, commission_p = (sums_by(x, book.platform, n_p) for x in (
            book.value_yuan, book.coupon_yuan, paid, commission))
        for pj, p in enumerate(self.platform_list):
            f = p.flows
            f["orders"] += float(orders[pj])
            f["gmv_yuan"] += float(gmv[pj])
            f["subsidy_yuan"] += float(subsidy[pj])
            f["paid_yuan"] += float(paid_p[pj])
            f["revenue_yuan"] += float(paid_p[pj] + subsidy[pj])
            f["commission_yuan"] += float(commission_p[pj])
        self.money["consumer_paid"] += float(paid.sum())
        self.money["subsidy"] += float(book.coupon_yuan.sum())
        self.money["leader_income"] += float(commission.sum())
        self.money["platform_revenue"] += sum(p.flows["revenue_yuan"] for p in self.platform_list)
        self.money["commission_paid"] += sum(p.flows["commission_yuan"]
                                             for p in self.platform_list)
        for p in self.platform_list:
            p.settle(d)
            if p.out_of_patience():
                self._exit_platform(p, d)

    def _exit_platform(self, p: Platform, d: int) -> None:
        """The platform leaves: its leaders stop, its consumers lose their pickup points."""
        p.exited = True
        p.day_exited = d
        t = self.leaders
        idx = np.flatnonzero(t.view("active") & (t.view("platform") == p.index))
        if len(idx):
            self._deactivate_leaders(idx, d, "platform_exit", "platform_exit")
            # They did not quit the job: the remaining platforms may recruit them at once, and
            # their households re-home to the remaining platforms through them.
            self.consumers.leader_available_day[t.home[idx]] = d
        self.consumers.leader_of[:, p.index] = -1
        self._account_orphans()
        self.recorder.platform_exit(d, p)

    # 9 ---------------------------------------------------------------------------------------
    def phase_records(self, d: int) -> None:
        self.recorder.record_day(d)
        total = sum(p.flows["orders"] for p in self.platform_list)
        for p in self.platform_list:
            p.orders_yesterday = int(p.flows["orders"])
            p.new_buyers_yesterday = int(p.flows["new_buyers"])
            p.order_share_yesterday = p.flows["orders"] / total if total else 0.0
