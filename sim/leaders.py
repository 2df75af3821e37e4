"""Group leaders (团长): income, work, churn and recruitment (DESIGN §2.2, §4.3).

A leader is a resident, a node of the social graph and often a corner-shop owner (seed 003 FAQ
Q5), who runs a WeChat group and a pickup point for a platform. Leaders are at most tens of
thousands, so their state lives in a growable table of arrays (:class:`LeaderTable`), and each is
a Mesa agent (:class:`Leader`) reading its own row; the monthly review is bulk arithmetic over the
table.

Monthly review (DESIGN §4.3). Each leader keeps an exponentially smoothed monthly income net of
the value of its time::

    net_month = income - wage/60 * (minutes_per_order * orders + minutes_per_complaint * complaints)
    S <- (1 - w) * S + w * net_month
    shortfall = (reservation_income - S) / reservation_income
    P(quit) = logistic(a + b * shortfall - c_tenure * ln(1 + tenure_months) - c_rec * recognised)

so churn rises as smoothed net income falls below the reservation income (the low order volumes
and order splitting of seed 000 §3.2.3), and falls with tenure and recognition (seed 000 §4.2.2).
A quitter's members move to another leader of that platform in the neighbourhood, or lose their
pickup point for that platform. Platforms recruit replacements from a limited pool of candidate
households, scarcer in villages where the young have left (seed 000 §3.2.1), at a cost per recruit.
"""

from __future__ import annotations

import mesa
import numpy as np
from scipy.special import ndtri

from sim.views import row_property

__all__ = [
    "Leader",
    "LeaderTable",
    "assign_members",
    "lognormal_income",
    "month_net_income",
    "pick_recruits",
    "quit_probability",
    "recruitment_targets",
    "review",
]

NONE = -1


def quit_probability(shortfall, tenure_months, recognised, base_logit: float,
                     shortfall_slope: float, tenure_effect: float, recognition_effect: float):
    """Monthly probability that a leader quits (DESIGN §4.3): a logistic in the shortfall.

    Args:
        shortfall: (reservation income - smoothed net income) / reservation income.
        tenure_months: months since the leader joined.
        recognised: 1 if the leader holds a recognition title this month, else 0.
        base_logit: logit of the quit probability at zero shortfall and tenure.
        shortfall_slope: logit change per unit relative shortfall.
        tenure_effect: logit reduction per ln(1 + tenure months).
        recognition_effect: logit reduction with recognition.
    """
    z = (base_logit + shortfall_slope * np.asarray(shortfall, float)
         - tenure_effect * np.log1p(np.asarray(tenure_months, float))
         - recognition_effect * np.asarray(recognised, float))
    return 1.0 / (1.0 + np.exp(-z))


_FIELDS = {
    # name: (dtype, fill)
    "home": (np.int64, NONE),  # household index of the leader
    "neighbourhood": (np.int32, NONE),
    "platform": (np.int16, NONE),
    "active": (bool, False),
    "day_joined": (np.int32, NONE),
    "day_left": (np.int32, NONE),
    "fridge": (bool, False),
    "reservation_income_yuan": (np.float64, 0.0),  # per month
    "wage_yuan_per_hour": (np.float64, 0.0),
    "smoothed_net_income_yuan": (np.float64, 0.0),  # per month
    "month_income_yuan": (np.float64, 0.0),  # since the last review
    "month_orders": (np.int64, 0),
    "month_complaints": (np.int64, 0),
    "income_to_date_yuan": (np.float64, 0.0),
    "recognised": (bool, False),
}


class LeaderTable:
    """Leader state as arrays, one row per leader ever recruited (rows are never reused)."""

    def __init__(self, capacity: int = 256):
        self.n = 0
        self._cap = max(1, capacity)
        for name, (dt, fill) in _FIELDS.items():
            setattr(self, name, np.full(self._cap, fill, dtype=dt))

    def _grow(self, needed: int) -> None:
        cap = self._cap
        while cap < needed:
            cap *= 2
        for name, (dt, fill) in _FIELDS.items():
            old = getattr(self, name)
            new = np.full(cap, fill, dtype=dt)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)
        self._cap = cap

    def append(self, **cols) -> np.ndarray:
        """Add rows (each keyword an array of the same length); returns their indices."""
        m = len(next(iter(cols.values())))
        if self.n + m > self._cap:
            self._grow(self.n + m)
        idx = np.arange(self.n, self.n + m)
        for name, values in cols.items():
            getattr(self, name)[idx] = values
        self.n += m
        return idx

    def view(self, name: str) -> np.ndarray:
        """The filled part of column ``name``."""
        return getattr(self, name)[: self.n]


class Leader(mesa.Agent):
    """A group leader (团长): a Mesa agent whose state is its row of the model's leader table."""

    def __init__(self, model, index: int):
        super().__init__(model)
        self.index = index

    home = row_property("leaders", "home", "household index of the leader")
    neighbourhood = row_property("leaders", "neighbourhood", "neighbourhood served")
    platform = row_property("leaders", "platform", "platform index served")
    active = row_property("leaders", "active", "still running the pickup point")
    day_joined = row_property("leaders", "day_joined", "day recruited")
    day_left = row_property("leaders", "day_left", "day quit, -1 if active")
    fridge = row_property("leaders", "fridge", "fridge at the pickup point")
    reservation_income_yuan = row_property("leaders", "reservation_income_yuan", "yuan per month")
    smoothed_net_income_yuan = row_property("leaders", "smoothed_net_income_yuan", "yuan per month")
    income_to_date_yuan = row_property("leaders", "income_to_date_yuan", "commission earned, yuan")

    @property
    def platform_name(self) -> str:
        return self.model.platform_list[self.platform].name

    @property
    def members(self) -> int:
        """Households whose pickup point for this leader's platform is this leader."""
        return int((self.model.consumers.leader_of[:, self.platform] == self.index).sum())

    def quit_probability(self) -> float:
        """This leader's quit probability at its next review, from its current state."""
        lc = self.model.cfg.leaders
        tenure = (self.model.day - self.day_joined) / lc.review_days
        res = self.reservation_income_yuan
        shortfall = (res - self.smoothed_net_income_yuan) / res if res > 0 else 0.0
        return float(quit_probability(shortfall, tenure, self.model.leaders.recognised[self.index],
                                      lc.churn_base_logit, lc.churn_shortfall_slope,
                                      lc.churn_tenure_effect, lc.churn_recognition_effect))


def month_net_income(t: LeaderTable, idx: np.ndarray, lc) -> np.ndarray:
    """Income of the month just ended net of the value of the leader's time, yuan."""
    minutes = lc.minutes_per_order * t.month_orders[idx] + lc.minutes_per_complaint * \
        t.month_complaints[idx]
    return t.month_income_yuan[idx] - t.wage_yuan_per_hour[idx] * minutes / 60.0


def review(t: LeaderTable, day: int, u: np.ndarray, lc) -> tuple[np.ndarray, np.ndarray]:
    """Monthly review of the leaders whose month ends today.

    Updates the smoothed net income and resets the month's counters of every reviewing leader,
    then draws who quits with ``u`` (one uniform per leader row).

    Returns:
        (reviewed leader indices, quitting leader indices).
    """
    n = t.n
    act = t.active[:n]
    joined = t.day_joined[:n]
    due = act & ((day - joined) % lc.review_days == lc.review_days - 1)
    idx = np.flatnonzero(due)
    if len(idx) == 0:
        return idx, idx
    w = lc.income_smoothing
    t.smoothed_net_income_yuan[idx] = (1 - w) * t.smoothed_net_income_yuan[idx] + w * \
        month_net_income(t, idx, lc)
    res = t.reservation_income_yuan[idx]
    shortfall = np.divide(res - t.smoothed_net_income_yuan[idx], res, out=np.zeros(len(idx)),
                          where=res > 0)
    tenure = (day - joined[idx] + 1) / lc.review_days
    p = quit_probability(shortfall, tenure, t.recognised[idx], lc.churn_base_logit,
                         lc.churn_shortfall_slope, lc.churn_tenure_effect,
                         lc.churn_recognition_effect)
    t.month_income_yuan[idx] = 0.0
    t.month_orders[idx] = 0
    t.month_complaints[idx] = 0
    return idx, idx[u[idx] < p]


def recruitment_targets(households: np.ndarray, households_per_leader: int) -> np.ndarray:
    """Leaders a platform wants per neighbourhood it covers: ceil(households / per leader)."""
    return np.ceil(households / households_per_leader).astype(np.int64)


def pick_recruits(deficit: np.ndarray, eligible: np.ndarray, neighbourhood: np.ndarray,
                  priority: np.ndarray) -> np.ndarray:
    """Households recruited: in each neighbourhood the ``deficit`` eligible ones of lowest priority.

    Args:
        deficit: leaders wanted per neighbourhood.
        eligible: whether each household can be recruited now.
        neighbourhood: neighbourhood of each household.
        priority: one uniform per household (lower is recruited first).
    """
    cand = np.flatnonzero(eligible & (deficit[neighbourhood] > 0))
    if len(cand) == 0:
        return cand
    nb = neighbourhood[cand]
    order = np.lexsort((priority[cand], nb))
    cand, nb = cand[order], nb[order]
    first = np.searchsorted(nb, nb, side="left")
    rank = np.arange(len(cand)) - first
    return cand[rank < deficit[nb]]


def assign_members(leader_of_col: np.ndarray, neighbourhood: np.ndarray, leader_idx: np.ndarray,
                   leader_nb: np.ndarray, n_neighbourhoods: int, u: np.ndarray) -> np.ndarray:
    """Give every household without a leader of this platform one from its neighbourhood.

    Each unserved household in a neighbourhood with active leaders of the platform joins one
    of them drawn uniformly with its own uniform ``u``. Returns the households assigned.
    """
    if len(leader_idx) == 0:
        return np.zeros(0, np.int64)
    order = np.argsort(leader_nb, kind="stable")
    sorted_leaders = leader_idx[order]
    count = np.bincount(leader_nb, minlength=n_neighbourhoods)
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    unserved = np.flatnonzero((leader_of_col < 0) & (count[neighbourhood] > 0))
    nb = neighbourhood[unserved]
    pick = start[nb] + np.floor(u[unserved] * count[nb]).astype(np.int64)
    leader_of_col[unserved] = sorted_leaders[pick]
    return unserved


def lognormal_income(median: np.ndarray, sigma: float, u: np.ndarray) -> np.ndarray:
    """Reservation incomes: lognormal with ``median`` and log-sd ``sigma`` from uniforms ``u``."""
    z = ndtri(np.clip(u, 1e-12, 1 - 1e-12))
    return median * np.exp(sigma * z)

