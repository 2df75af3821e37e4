"""Community services at pickup points (ODD 7.7; seed 002 Case A, "15分钟社区服务圈").

A platform may run a programme at its pickup points: parcel collection (~50 parcels a day per
point), housekeeping bookings, errands for the government. It is a lever of each platform
(``platforms.<name>.strategy.services.*`` over the market-wide ``services`` group); the
``multi_source`` incentive scheme (seed 002 Case B) runs it at every point of its platform.

* **Which points.** A leader's point runs the services for platform j when the leader's own
  draw (stream ``services.point``, one uniform per leader for the whole run) is below j's
  ``share_of_points``, or j's scheme is ``multi_source``. A point serving several platforms runs
  them once: for a household it is one place to visit, for the leader one job.
* **The leader** (its monthly review, :meth:`month`): fees ``parcels_per_day x yuan_per_parcel``
  a day (paid by the couriers, not the platform) plus ``government_subsidy_yuan_per_month``, and
  ``parcels_per_day x minutes_per_parcel`` minutes a day of its time; both count in its net
  income and so in its churn (ODD 7.3). With the defaults a point earns 800 yuan a month more
  (seed 002 Case A l.68: 800-1,500).
* **The members** (:meth:`extra_occasions`): a household whose usual leader's point runs the
  services visits it ``visits_per_month_with`` instead of ``visits_per_month_without`` times a
  month (seed 002 Case A l.66-67: 2.1 -> 5.7); each added visit is an order occasion with
  chance ``order_chance_per_visit``, so its daily occasion rate gains
  ``(with - without) / 30 x order_chance_per_visit``. The orders phase adds it
  (:func:`sim.choice.kernels.occasion_choosers`); the household then chooses among every
  platform it reaches, as on any occasion.
* **The platform** (:meth:`run`, in the leaders phase): ``cost_yuan_per_point_per_month / 30`` a
  day per served point of its own, the ledger account ``services_yuan``; the platforms table
  records its ``service_points``.
"""

from __future__ import annotations

import numpy as np

from sim.incentives import SCHEMES
from sim.leaders.table import person_of

__all__ = ["CommunityServices"]

MONTH_DAYS = 30.0  # the seeds' rates are per month; a day is a thirtieth of one


class CommunityServices:
    """The community-services programmes of one market (one per platform)."""

    OWNS = ("share", "always", "parcels", "fee", "minutes", "subsidy", "cost", "visits_without",
            "visits_with", "chance", "extra_rate")
    WRITES = ("leaders (month_outside_yuan, month_service_minutes: via the review's pay)",
              "ledger (services_yuan)")

    def __init__(self, market):
        self.m = market
        own = [s.services for s in market.strategies]
        self.share = np.array([s.share_of_points for s in own], float)
        # a scheme whose leaders are community service specialists (multi_source): every point
        self.always = np.array([SCHEMES[s.incentive.scheme].runs_services
                                for s in market.strategies])
        self.parcels = np.array([s.parcels_per_day for s in own], float)
        self.fee = np.array([s.yuan_per_parcel for s in own], float)
        self.minutes = np.array([s.minutes_per_parcel for s in own], float)
        self.subsidy = np.array([s.government_subsidy_yuan_per_month for s in own], float)
        self.cost = np.array([s.cost_yuan_per_point_per_month for s in own], float)
        self.visits_without = np.array([s.visits_per_month_without for s in own], float)
        self.visits_with = np.array([s.visits_per_month_with for s in own], float)
        self.chance = np.array([s.order_chance_per_visit for s in own], float)
        # the daily occasions a served point adds to its usual members' rate
        self.extra_rate = (np.maximum(self.visits_with - self.visits_without, 0.0) / MONTH_DAYS
                           * self.chance)

    @property
    def on(self) -> bool:
        """Whether any platform runs the programme anywhere."""
        return bool((self.always | (self.share > 0)).any())

    def served_rows(self, rows: np.ndarray) -> np.ndarray:
        """Whether each leader service row's point runs its platform's services."""
        t = self.m.leaders
        j = t.platform[rows].astype(np.int64)
        u = self.m.streams.uniform_of("services.point", 0, person_of(t)[rows])
        return self.always[j] | (u < self.share[j])

    def _first_served(self, rows: np.ndarray, served: np.ndarray) -> np.ndarray:
        """Among ``rows``, each leader's first served row: a point runs the services once, under
        the programme of the first of its platforms (in row order) that runs them there."""
        first = np.zeros(len(rows), bool)
        idx = np.flatnonzero(served)
        if len(idx):
            _, at = np.unique(person_of(self.m.leaders)[rows[idx]], return_index=True)
            first[idx[at]] = True
        return first

    def month(self, rows: np.ndarray):
        """The month's (fees, subsidy, minutes) per service row at its leader's review, on the
        leader's first served row (zero on the others)."""
        n = len(rows)
        if n == 0 or not self.on:
            return np.zeros(n), np.zeros(n), np.zeros(n)
        first = self._first_served(rows, self.served_rows(rows))
        j = self.m.leaders.platform[rows].astype(np.int64)
        days = float(self.m.cfg.leaders.review_days)
        fees = np.where(first, self.parcels[j] * self.fee[j] * days, 0.0)
        gov = np.where(first, self.subsidy[j] * days / MONTH_DAYS, 0.0)
        minutes = np.where(first, self.parcels[j] * self.minutes[j] * days, 0.0)
        return fees, gov, minutes

    def _active_served(self) -> np.ndarray:
        """The active service rows whose point runs their platform's services."""
        act = np.flatnonzero(self.m.leaders.view("active"))
        return act[self.served_rows(act)] if self.on else act[:0]

    def points(self) -> np.ndarray:
        """Served points per platform today (its active rows that run its services)."""
        rows = self._active_served()
        return np.bincount(self.m.leaders.platform[rows].astype(np.int64),
                           minlength=len(self.share))

    def extra_occasions(self) -> tuple[np.ndarray, float]:
        """The orders phase's inputs: the added daily occasion rate of a household whose usual
        leader this is, per leader (its primary row; 0 where its point runs no services), and
        the largest of them (the bound of the occasion screen)."""
        t = self.m.leaders
        extra = np.zeros(t.n)
        rows = self._active_served()
        if len(rows) == 0:
            return extra, 0.0
        first = self._first_served(rows, np.ones(len(rows), bool))
        extra[person_of(t)[rows[first]]] = self.extra_rate[t.platform[rows[first]].astype(np.int64)]
        return extra, float(extra.max())

    def run(self, d: int) -> None:
        """The day's programme costs: each platform pays ``cost_yuan_per_point_per_month / 30``
        for each of its served points (the leaders phase, after recruiting and quits)."""
        if not self.on or not self.cost.any():
            return
        points = self.points()
        for p in self.m.platform_list:
            self.m.ledger.post(p.index, "services_yuan",
                               float(points[p.index] * self.cost[p.index] / MONTH_DAYS))
