"""What the phases of one day hand each other: today's order book and the day's :class:`Day`.

The phases run in the order of ODD 3 and pass data forward through one typed object per day
instead of a dict of string keys: the calendar's conditions, the order book, the counts that
the records read at the end of the day. Each field says which phase writes it; a later phase
only reads it. Money and goods move through :class:`sim.ledger.Ledger`, not through here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.arrays import row_sums
from sim.coldchain.formulas import AREAS, LOSS_STAGES
from sim.seasons import DayConditions

__all__ = ["Day", "OrderBook"]


@dataclass
class OrderBook:
    """Orders of one day, one row per order (a consumer orders at most once a day).

    Written by the orders phase (who, which platform, through which leader, its basket, at which
    prices and coupon), completed by procurement (supplier, life, defects, cost of each unit),
    carried to the next day's logistics and pickup. A unit is one category's quantity in an
    order that holds it; an order holds one unit of each category of its basket
    (:mod:`sim.choice.baskets`), and ``prices`` are its units' prices on the order day at that
    day's deals (0 outside the basket).
    """

    consumer: np.ndarray
    platform: np.ndarray
    leader: np.ndarray
    prices: np.ndarray  # (m, C) yuan
    coupon_yuan: np.ndarray
    basket: np.ndarray | None = None  # (m, C) bool: the categories ordered (None: all)
    supplier: np.ndarray | None = None  # (m, C), set at procurement; -1 if unfilled
    life0: np.ndarray | None = None  # (m, C) remaining life fraction at dispatch
    defect: np.ndarray | None = None  # (m, C) bool
    filled: np.ndarray | None = None  # (m, C) bool: the unit was supplied
    cost_yuan: np.ndarray | None = None  # (m, C) the unit's purchase cost (0 if unfilled)
    from_stock: np.ndarray | None = None  # (m,) bool: filled from grid-warehouse stock
    coupon_wasted: np.ndarray | None = None  # (m,) bool: chosen without its coupon too

    @classmethod
    def empty(cls, n_categories: int) -> OrderBook:
        none = np.zeros(0, np.int64)
        return cls(none, none, none, np.zeros((0, n_categories)), np.zeros(0),
                   np.zeros((0, n_categories), bool))

    @property
    def ordered(self) -> np.ndarray:
        """(m, C) bool: the units ordered (the basket; every category where none is given)."""
        if self.basket is None:
            return np.ones(self.prices.shape, bool)
        return self.basket

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


def _none() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(0, np.int64), np.zeros(0, np.int64)


@dataclass
class Day:
    """One day's hand-offs between phases, zeroed when the day starts (:meth:`start`).

    Per-platform arrays have one row per platform (P), per-category ones a column per category
    (C); losses are (P, C, area, stage) as :data:`sim.coldchain.formulas.AREAS` and
    :data:`~sim.coldchain.formulas.LOSS_STAGES`.
    """

    d: int
    n_platforms: int
    n_categories: int
    # 1 calendar
    conditions: DayConditions | None = None
    # 3 logistics and pickup (cold chain; stock losses by procurement's stock)
    shipped: np.ndarray = field(init=False)  # (P, C) units that left the chain today
    spoiled: np.ndarray = field(init=False)  # (P, C)
    low_life: np.ndarray = field(init=False)  # (P, C) delivered with little life left
    spoil_cost: np.ndarray = field(init=False)  # (P, C) yuan, purchase cost of spoiled units
    refunds: np.ndarray = field(init=False)  # (P, C) yuan
    losses: np.ndarray = field(init=False)  # (P, C, area, stage) units
    loss_yuan: np.ndarray = field(init=False)  # (P, C, area, stage) yuan
    pickups: np.ndarray = field(init=False)  # (P,)
    pickups_on_time: np.ndarray = field(init=False)  # (P,)
    quality_complaints_p: np.ndarray = field(init=False)  # (P,)
    order_complaints_p: np.ndarray = field(init=False)  # (P,) spoiled or low-life orders
    complaints: int = 0  # spoiled or low-life orders, plus (word of mouth) scandal complaints
    quality_complaints: int = 0
    complainers: tuple[np.ndarray, np.ndarray] = field(default_factory=_none)  # who, platform
    picked_up: OrderBook | None = None  # the orders collected today (yesterday's)
    delivered_prices: np.ndarray | None = None  # their units' list prices, 0 where spoiled
    delivered_yuan: np.ndarray | None = None  # their delivered units' list value (commission)
    # 4 word of mouth
    scandal_complaints: int = 0
    new_adopters: int = 0
    lapsed: int = 0
    # 5 leaders
    leader_counts: np.ndarray = field(init=False)  # (P, 4): recruited, quit, dropped, added
    member_flows: np.ndarray = field(init=False)  # (P, 4): orphaned, re-homed, other, unserved
    leader_pay: np.ndarray = field(init=False)  # (P, 3): bonus, service fees, gov. subsidy
    leader_quits: int = 0
    leader_recruits: int = 0
    # 6 orders
    occasions: int = 0
    basket_sizes: np.ndarray = field(init=False)  # (C + 1,) orders by categories in the basket
    consumer_surplus_yuan: float = 0.0
    order_book: OrderBook | None = None
    # 7 procurement
    unfilled: np.ndarray = field(init=False)  # (P, C) order units nobody could supply
    bought: np.ndarray = field(init=False)  # (P, C) units bought from suppliers

    def __post_init__(self):
        n_p, n_c = self.n_platforms, self.n_categories
        for name in ("shipped", "spoiled", "unfilled", "low_life", "bought"):
            setattr(self, name, np.zeros((n_p, n_c), np.int64))
        self.spoil_cost = np.zeros((n_p, n_c))
        self.refunds = np.zeros((n_p, n_c))
        shape = (n_p, n_c, len(AREAS), len(LOSS_STAGES))
        self.losses = np.zeros(shape, np.int64)
        self.loss_yuan = np.zeros(shape)
        self.basket_sizes = np.zeros(n_c + 1, np.int64)
        for name in ("pickups", "pickups_on_time", "quality_complaints_p", "order_complaints_p"):
            setattr(self, name, np.zeros(n_p, np.int64))
        self.leader_counts = np.zeros((n_p, 4), np.int64)
        self.member_flows = np.zeros((n_p, 4), np.int64)
        self.leader_pay = np.zeros((n_p, 3))
