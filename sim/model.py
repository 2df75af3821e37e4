"""The market model: a builder and the day's recipe (ODD 3).

:class:`GroupBuyingMarket` is a ``mesa.Model``. It builds the world (households on their social
network, platforms, suppliers, the leader table, the ledger) and the mechanisms, each of which
lives in its own module with its state, its phase code, its formulas and its compiled kernels.
One step is one day; the phases run in this order, always (ODD 3):

1. **calendar** (:mod:`sim.seasons`): season temperature, festival and farming-season demand.
2. **terms** (:mod:`sim.platforms`): platforms enter, set prices and coupons (the below-cost ban
   applies here).
3. **logistics and pickup** (:mod:`sim.coldchain.phase`): yesterday's orders travel supplier ->
   central warehouse -> grid warehouse -> pickup point and wait to be collected; shelf life is
   used up leg by leg; households collect fresh or spoiled goods; refunds, complaints, trust.
4. **word of mouth** (:mod:`sim.wom.phase`): adoption of group buying, awareness of platforms,
   complaints spread.
   **reputation** (:mod:`sim.reputation`): each platform's shared name moves with its recent
   complaint rate and is cut by a scandal.
5. **leaders** (:mod:`sim.leaders.phase`): monthly reviews (quit or stay); platforms recruit
   where coverage is missing; households without a pickup point re-home.
6. **orders** (:mod:`sim.choice.phase`): households with an order occasion draw a basket and
   choose a platform (at its daily deals) or the outside option.
7. **procurement** (:mod:`sim.supply.phase`): platforms buy tomorrow's goods (pre-sale: exactly
   the orders).
8. **settlement** (:mod:`sim.settlement`): money moves (household -> platform, platform ->
   leaders, suppliers, logistics); cash updates; a platform out of patience exits.
9. **records** (:mod:`sim.records`): one row of daily metrics.

Phases hand each other today's :class:`sim.day.Day` (``model.today``: the conditions, the order
book, the day's counts) and post money and goods to :class:`sim.ledger.Ledger`
(``model.ledger``). Households are arrays plus one Mesa agent per row (:mod:`sim.consumers`);
leaders a table plus Mesa agents (:mod:`sim.leaders`); platforms and suppliers ordinary Mesa
agents. Every random draw comes from a named stream (:mod:`sim.streams`).
"""

from __future__ import annotations

import logging
import time

import mesa
import numpy as np
from omegaconf import OmegaConf

from sim import jit
from sim.choice.phase import Choice
from sim.coldchain.phase import ColdChain
from sim.config import validate
from sim.consumers import Consumer, ConsumerState
from sim.coupons import Coupons
from sim.day import Day
from sim.incentives import Incentives
from sim.leaders.phase import Leadership
from sim.leaders.poaching import Poaching
from sim.leaders.table import LeaderTable
from sim.ledger import Ledger
from sim.network import build_network
from sim.platforms import Platform, Terms
from sim.pricing import BestResponse
from sim.progress import day_bar
from sim.records import Recorder
from sim.remedies.aftersales import AfterSales
from sim.remedies.quality import QualityControl
from sim.remedies.referrals import Referrals
from sim.remedies.services import CommunityServices
from sim.remedies.training import LeaderTraining
from sim.reputation import Reputation
from sim.seasons import Calendar
from sim.settlement import Settlement
from sim.strategy import platform_strategy
from sim.streams import RandomStreams
from sim.supply.phase import Supply
from sim.supply.suppliers import Supplier, supplier_mix
from sim.wom.phase import WordOfMouth

__all__ = ["PHASES", "GroupBuyingMarket"]

logging.getLogger("MESA").setLevel(logging.WARNING)

# The day's recipe: (phase name, the model attribute whose ``run(day)`` it is), in ODD 3's order.
PHASES = (
    ("calendar", "calendar"),
    ("terms", "terms"),
    ("logistics_and_pickup", "coldchain"),
    ("word_of_mouth", "wom"),
    ("reputation", "reputation"),
    ("leaders", "leadership"),
    ("orders", "choice"),
    ("procurement", "supply"),
    ("settlement", "settlement"),
    ("records", "recorder"),
)


class GroupBuyingMarket(mesa.Model):
    """Community group buying in a county market: households, leaders, platforms, suppliers.

    Args:
        cfg: a composed config (``sim.config.Config`` schema), validated on entry.
    """

    def __init__(self, cfg):
        validate(cfg)
        super().__init__(rng=int(cfg.seed))
        t0 = time.perf_counter()
        # numba's start-up, counted as set-up: first, before the set-up's own draws load kernels
        self.kernels_load_seconds = jit.warm_up()
        # The run reads its configuration thousands of times a day: as plain dataclasses (the
        # ``sim.config`` schema) a read costs ~0.05 us against ~12 us through OmegaConf.
        self.cfg = cfg = OmegaConf.to_object(cfg) if OmegaConf.is_config(cfg) else cfg
        self.day = 0
        self.streams = RandomStreams(int(cfg.seed))

        # Products: reference prices and costs, per category.
        self.category_names = list(cfg.products)
        cats = [cfg.products[c] for c in self.category_names]
        self.unit_cost_ref = np.array([c.unit_cost_yuan for c in cats], float)
        self.reference_prices = np.array([c.reference_price_yuan for c in cats], float)
        self.reference_basket_yuan = float(self.reference_prices.sum())

        # Households on their network.
        self.network = build_network(cfg.market, self.streams.generator("network"))
        self.segment_names = list(cfg.market.segments)
        self.platform_names = list(cfg.platforms)
        # Each platform's levers: the market-wide groups with its own strategy on top.
        self.strategies = [platform_strategy(cfg, name) for name in self.platform_names]
        n, n_p = self.network.n, len(self.platform_names)
        self.consumers = ConsumerState.empty(n, n_p)
        self._init_population()
        # One Mesa agent per household, a view of its row (ODD 7). A plain loop: Mesa's
        # create_agents also builds an AgentSet of them, which the model does not keep
        # (0.29 s instead of 0.58 s at 100,000 households).
        for i in range(n):
            Consumer(self, i)
        self.households_per_neighbourhood = np.bincount(
            self.consumers.neighbourhood, minlength=self.network.n_neighbourhoods)

        # Suppliers and platforms (each platform's unit costs from its supplier mix).
        cat_index = {c: i for i, c in enumerate(self.category_names)}
        self.supplier_list = [Supplier(self, name, scfg, cat_index)
                              for name, scfg in cfg.suppliers.items()]
        self.platform_list: list[Platform] = []
        mixes = []
        mult = np.array([s.cost_multiplier for s in self.supplier_list])
        for j, name in enumerate(self.platform_names):
            pcfg = cfg.platforms[name]
            mix = supplier_mix(dict(pcfg.suppliers), self.supplier_list, len(cats))
            mixes.append(mix)
            share = np.diff(mix, axis=1, prepend=0.0)
            unit_cost = self.unit_cost_ref * (share * mult[None, :]).sum(axis=1)
            p = Platform(self, j, name, pcfg, unit_cost, self.reference_prices)
            u = self.streams.uniform(f"platform.coverage.{name}", 0, self.network.n_neighbourhoods)
            p.covered = u < pcfg.coverage
            self.platform_list.append(p)
        self.supplier_cum_mix = np.stack(mixes)  # (P, C, S)

        # Leaders, the incentive scheme, money and goods, the day's hand-offs.
        self.leaders = LeaderTable()
        self.incentives = Incentives([s.incentive for s in self.strategies],
                                     [cfg.platforms[nm].entry_day for nm in self.platform_names],
                                     self.category_names, self.reference_prices)
        self.ledger = Ledger(self.platform_list)
        self.pending = None  # the order book on its way (procurement -> tomorrow's pickup)
        self.today = Day(0, n_p, len(self.category_names))

        # The mechanisms, each with its state and its phase (PHASES).
        self.calendar = Calendar(self)
        self.coupons = Coupons(self)  # each platform's coupon target and match (phase 2)
        self.terms = Terms(self)
        self.pricing = BestResponse(self)  # recent choosers, while a platform best-responds
        self.supply = Supply(self)
        self.coldchain = ColdChain(self)
        self.wom = WordOfMouth(self)
        self.services = CommunityServices(self)
        self.referrals = Referrals(self)
        self.training = LeaderTraining(self)
        self.aftersales = AfterSales(self)
        self.qc = QualityControl(self)
        self.reputation = Reputation(self)
        self.leadership = Leadership(self)
        self.poaching = Poaching(self)  # rivals' leaders bought with a premium (leaders phase)
        self.choice = Choice(self)
        self.settlement = Settlement(self)
        self.recorder = Recorder(self)
        self.phase_seconds: dict[str, float] | None = None  # set to {} to time each phase
        self.setup_seconds = time.perf_counter() - t0

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

    # -----------------------------------------------------------------------------------------
    # the day

    def step(self) -> None:
        """One day: a fresh :class:`sim.day.Day`, then the phases of :data:`PHASES` in order."""
        d = self.day
        self.today = Day(d, len(self.platform_list), len(self.category_names))
        timed = self.phase_seconds
        for name, attr in PHASES:
            phase = getattr(self, attr)
            if timed is None:
                phase.run(d)
                continue
            t0 = time.perf_counter()
            phase.run(d)
            timed[name] = timed.get(name, 0.0) + time.perf_counter() - t0
        self.day += 1

    def run(self, days: int | None = None) -> None:
        """Run ``days`` days (default: ``cfg.days``)."""
        n = self.cfg.days if days is None else days
        # A bar on a terminal (cfg.progress: null/true), month lines elsewhere if asked (true).
        with day_bar(n, self.cfg.progress, desc=f"seed {self.cfg.seed}") as bar:
            for _ in range(n):
                self.step()
                bar.update(1)
