"""The end-of-run household table and the groups' figures (ODD 7.3, 8 rows 7 and 9).

One row per household at the end of the run: its orders (before and from
:data:`HOUSEHOLD_SPLIT_DAY`), the pickup points and groups it lost, the platform of its last
order, the groups it follows and the platforms it can reach, and how many of its orders went
through its usual leader. Paired with the same table of another scenario (same seed, common
random numbers) it says which households a policy's fall in orders comes from: the orders lost
to quits are the fall among the households that lost a group to a quit (ODD 8 row 7).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["HOUSEHOLD_COLUMNS", "HOUSEHOLD_SPLIT_DAY", "HouseholdRecord", "reachable"]

# The household table splits each household's orders at this day: the leader facts of ODD 8
# (rows 5-7: churn and the commission cut's orders) are measured over days 120-364, after the
# launch months, so the orders of that window per household are what they attribute.
HOUSEHOLD_SPLIT_DAY = 120
# ``orders_from_split_day``: orders on days >= HOUSEHOLD_SPLIT_DAY; ``leaders_lost``: times a
# pickup point serving the household stopped (its leader quit, dropped the platform, or the
# platform exited), with the first and last such day (-1: never); ``usual_leaders_lost`` counts
# only the points of the platform it last ordered from at the time, with the first such day;
# ``groups_lost_to_quits``: followed groups whose leader stopped (quit, or its last platform
# exited; ODD 7.3); ``last_platform``: the platform of its last order ("" if none);
# ``groups_followed``, ``platforms_reachable``: on the last day (ODD 7.3);
# ``orders_via_usual_leader``: orders placed through the leader of its previous order.
HOUSEHOLD_COLUMNS = [
    "household", "neighbourhood", "village", "segment", "adopted", "day_adopted", "orders",
    "orders_from_split_day", "spend_yuan", "day_last_order", "leaders_lost",
    "day_first_leader_lost", "day_last_leader_lost", "usual_leaders_lost",
    "day_first_usual_leader_lost", "groups_lost_to_quits", "last_platform", "groups_followed",
    "platforms_reachable", "orders_via_usual_leader",
]


def reachable(model) -> np.ndarray:
    """Active platforms each household is aware of and has a pickup point of now, (n,)."""
    c = model.consumers
    active = np.array([p.active for p in model.platform_list], bool)
    return (c.aware & (c.leader_of >= 0) & active[None, :]).sum(axis=1)


class HouseholdRecord:
    """Per-household counts the run keeps for the end-of-run table."""

    def __init__(self, model):
        self.model = model
        n = model.consumers.n
        self.leaders_lost = np.zeros(n, np.int32)
        self.day_first_leader_lost = np.full(n, -1, np.int32)
        self.day_last_leader_lost = np.full(n, -1, np.int32)
        self.usual_leaders_lost = np.zeros(n, np.int32)
        self.day_first_usual_leader_lost = np.full(n, -1, np.int32)
        self.orders_before_split: np.ndarray | None = None  # orders on the eve of the split day

    def lost_leader(self, day: int, households: np.ndarray, platform: int) -> None:
        """``households`` lost their pickup point of ``platform`` today (unique)."""
        self.leaders_lost[households] += 1
        first = self.day_first_leader_lost[households]
        self.day_first_leader_lost[households] = np.where(first < 0, day, first)
        self.day_last_leader_lost[households] = day
        usual = households[self.model.consumers.last_platform[households] == platform]
        self.usual_leaders_lost[usual] += 1
        first = self.day_first_usual_leader_lost[usual]
        self.day_first_usual_leader_lost[usual] = np.where(first < 0, day, first)

    def end_of_day(self, d: int) -> None:
        if d == HOUSEHOLD_SPLIT_DAY - 1:
            self.orders_before_split = self.model.consumers.orders.copy()

    def table(self) -> pd.DataFrame:
        """One row per household at the end of the run (HOUSEHOLD_COLUMNS)."""
        m = self.model
        c, g = m.consumers, m.leadership.groups
        before = (self.orders_before_split if self.orders_before_split is not None
                  else c.orders)
        names = np.array(list(m.platform_names) + [""], object)
        return pd.DataFrame({
            "household": np.arange(c.n, dtype=np.int64),
            "neighbourhood": c.neighbourhood.astype(np.int64),
            "village": c.in_village.astype(bool),
            "segment": np.array(m.segment_names, object)[c.segment],
            "adopted": c.adopted.astype(bool),
            "day_adopted": c.day_adopted.astype(np.int64),
            "orders": c.orders.astype(np.int64),
            "orders_from_split_day": (c.orders - before).astype(np.int64),
            "spend_yuan": c.spend_yuan.astype(np.float64),
            "day_last_order": c.day_last_order.astype(np.int64),
            "leaders_lost": self.leaders_lost.astype(np.int64),
            "day_first_leader_lost": self.day_first_leader_lost.astype(np.int64),
            "day_last_leader_lost": self.day_last_leader_lost.astype(np.int64),
            "usual_leaders_lost": self.usual_leaders_lost.astype(np.int64),
            "day_first_usual_leader_lost": self.day_first_usual_leader_lost.astype(np.int64),
            "groups_lost_to_quits": g.lost_groups.astype(np.int64),
            "last_platform": names[c.last_platform.astype(np.int64)],
            "groups_followed": g.followed().astype(np.int64),
            "platforms_reachable": reachable(m).astype(np.int64),
            "orders_via_usual_leader": g.orders_via_usual.astype(np.int64),
        }, columns=HOUSEHOLD_COLUMNS)
