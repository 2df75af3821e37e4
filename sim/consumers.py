"""Consumers (households): state as arrays, one Mesa agent per row, whole-array phases.

Consumers are many and alike in structure, so their state lives in numpy arrays with one row per
household (:class:`ConsumerState`) and every phase updates all of them at once (ODD 7).
Each household is still a Mesa agent (:class:`Consumer`) that reads and writes its own row, so
``model.agents_by_type[Consumer]``, the dashboard and per-agent inspection work.

Which phase writes which columns: word of mouth (:mod:`sim.wom`) ``adopted``, ``aware``,
``trust`` (complaints heard) and ``complaints_heard``; leaders (:mod:`sim.leaders`)
``leader_of`` (read from the groups each household follows, :mod:`sim.leaders.groups`),
``is_leader``, ``leader_available_day``, ``habit_platform`` (cleared with the usual leader);
choice (:mod:`sim.choice`) the
order history; the cold chain (:mod:`sim.coldchain`) ``trust`` after a pickup and
``spend_yuan`` (refunds); settlement ``spend_yuan``. The rules themselves live with
their mechanisms.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from sim.views import row_property

__all__ = ["Consumer", "ConsumerState"]

NONE = -1  # "no platform" / "no leader" / "never"


@dataclass
class ConsumerState:
    """One row per household. Platform-indexed arrays have one column per platform.

    Timers are days (``day_adopted``, ``day_last_order``), compared with today; -1 means never.
    """

    neighbourhood: np.ndarray  # int32, the household's neighbourhood
    in_village: np.ndarray  # bool
    segment: np.ndarray  # int8, index into the segment list
    price_sensitivity: np.ndarray  # float64, beta_i of ODD 7.2
    p_scale: np.ndarray  # float64, segment multiplier of p_external
    order_rate: np.ndarray  # float64, order occasions per day
    adopted: np.ndarray  # bool, has adopted group buying
    day_adopted: np.ndarray  # int32
    aware: np.ndarray  # bool (n, P)
    trust: np.ndarray  # float64 (n, P), in [0, 1]
    leader_of: np.ndarray  # int32 (n, P), leader index serving the household, or -1
    last_platform: np.ndarray  # int16, or -1
    habit_platform: np.ndarray  # int16, the platform of kappa_P's habit (ODD 7.2), or -1
    day_last_order: np.ndarray  # int32, or -1
    day_last_order_p: np.ndarray  # int32 (n, P), day of last order from each platform, or -1
    orders: np.ndarray  # int64, orders to date
    spend_yuan: np.ndarray  # float64, paid to date net of refunds
    leader_candidate: np.ndarray  # bool, could run a pickup point (often a corner shop)
    leader_available_day: np.ndarray  # int32, first day the household may be recruited
    is_leader: np.ndarray  # bool, runs a pickup point now
    complaints_heard: np.ndarray | None = None  # float64, complaints heard, fading (half-life)

    def __post_init__(self):
        if self.complaints_heard is None:
            self.complaints_heard = np.zeros(len(self.adopted))

    @classmethod
    def empty(cls, n: int, n_platforms: int) -> ConsumerState:
        return cls(
            neighbourhood=np.zeros(n, np.int32),
            in_village=np.zeros(n, bool),
            segment=np.zeros(n, np.int8),
            price_sensitivity=np.zeros(n),
            p_scale=np.ones(n),
            order_rate=np.zeros(n),
            adopted=np.zeros(n, bool),
            day_adopted=np.full(n, NONE, np.int32),
            aware=np.zeros((n, n_platforms), bool),
            trust=np.zeros((n, n_platforms)),
            leader_of=np.full((n, n_platforms), NONE, np.int32),
            last_platform=np.full(n, NONE, np.int16),
            habit_platform=np.full(n, NONE, np.int16),
            day_last_order=np.full(n, NONE, np.int32),
            day_last_order_p=np.full((n, n_platforms), NONE, np.int32),
            orders=np.zeros(n, np.int64),
            spend_yuan=np.zeros(n),
            leader_candidate=np.zeros(n, bool),
            leader_available_day=np.zeros(n, np.int32),
            is_leader=np.zeros(n, bool),
            complaints_heard=np.zeros(n),
        )

    @property
    def n(self) -> int:
        return len(self.adopted)


class Consumer(mesa.Agent):
    """A household: a Mesa agent whose state is its row of the model's consumer arrays.

    Reading ``agent.trust`` gives a copy of the row; assigning writes it back, so per-agent
    inspection and the dashboard see exactly what the vectorised phases see.
    """

    def __init__(self, model, index: int):
        super().__init__(model)
        self.index = index

    neighbourhood = row_property("consumers", "neighbourhood", "neighbourhood index")
    in_village = row_property("consumers", "in_village", "lives in a village (else the town)")
    segment = row_property("consumers", "segment", "segment index")
    price_sensitivity = row_property("consumers", "price_sensitivity", "beta_i")
    adopted = row_property("consumers", "adopted", "has adopted group buying")
    day_adopted = row_property("consumers", "day_adopted", "day of adoption, -1 never")
    aware = row_property("consumers", "aware", "aware of each platform")
    trust = row_property("consumers", "trust", "trust in each platform, [0, 1]")
    leader_of = row_property("consumers", "leader_of", "pickup point (leader row) per platform, "
                             "-1 none")
    habit_platform = row_property("consumers", "habit_platform", "platform of its habit, -1 none")
    last_platform = row_property("consumers", "last_platform", "last platform used, -1 none")
    day_last_order = row_property("consumers", "day_last_order", "day of last order, -1 never")
    day_last_order_p = row_property("consumers", "day_last_order_p",
                                    "day of last order from each platform, -1 never")
    orders = row_property("consumers", "orders", "orders to date")
    spend_yuan = row_property("consumers", "spend_yuan", "paid to date net of refunds, yuan")
    is_leader = row_property("consumers", "is_leader", "runs a pickup point now")
    complaints_heard = row_property("consumers", "complaints_heard", "complaints heard, fading")

    @property
    def segment_name(self) -> str:
        return self.model.segment_names[self.segment]

    @property
    def neighbours(self) -> np.ndarray:
        """Indices of the household's neighbours in the social network."""
        a = self.model.network.adjacency
        if a is None:
            return np.delete(np.arange(self.model.network.n), self.index)
        return a.indices[a.indptr[self.index]:a.indptr[self.index + 1]].copy()
