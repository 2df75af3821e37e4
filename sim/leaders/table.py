"""Group leaders (团长): income, work, churn, recruitment and multi-homing (ODD 2, 7.3).

A leader is a resident, a node of the social graph and often a corner-shop owner (seed 003 FAQ
Q5), who runs a WeChat group and a pickup point for one or more platforms. Leaders are at most
tens of thousands, so their state lives in a growable table of arrays (:class:`LeaderTable`)
with **one row per (leader, platform) service**: a leader's first service is its primary row and
holds its own state (reservation income, wage, minutes of work per order and per complaint,
smoothed income, tenure, recognition); a platform it adds later is another row pointing back
through ``person``. ``consumers.leader_of[i, j]`` is the service row serving household i for
platform j. Each leader is one Mesa agent (:class:`Leader`) viewing its primary row; the monthly
review is bulk arithmetic over the table.

Monthly review (ODD 7.3). Each leader sums its services' month, income net of the value of
its time::

    income    = commission + bonuses + service fees + government subsidy
    work      = minutes_per_order * orders + minutes_per_complaint * complaints + service minutes
    net_month = income - wage/60 * work
    S <- (1 - w) * S + w * net_month
    shortfall = (reservation_income - S) / reservation_income
    P(quit) = logistic(a + b * shortfall - c_tenure * ln(1 + tenure_months) - c_rec * recognised)

so churn rises as smoothed net income falls below the reservation income (the low order volumes
and order splitting of seed 000 §3.2.3), and falls with tenure and recognition (seed 000 §4.2.2).
Reservation income and minutes of work are lognormal per leader, lower in villages. A quitter's
members lose its group and search for another (:mod:`sim.leaders.groups`). Platforms recruit
replacements from a limited pool of candidate households, scarcer in villages where the young
have left (seed 000 §3.2.1), after a search, at a cost per recruit, at most a few a day
(:mod:`sim.leaders.recruiting`); a new leader's group starts empty and fills by joining; no
leader's groups exceed the WeChat cap of 500 members a group (:func:`member_cap`).

Multi-homing (seed 003 l.75, "团长多平台运营现象普遍"): at its review a leader drops a platform
that does not pay for its time and adds one whose expected commission beats its pay per platform
by a margin; part of its members follow it (:meth:`sim.leaders.phase.Leadership._multihome`).
"""

from __future__ import annotations

from collections.abc import Callable

import mesa
import numpy as np
from scipy.special import ndtri

from sim.views import row_property

__all__ = [
    "Leader",
    "LeaderTable",
    "Uniforms",
    "due_rows",
    "lognormal_income",
    "member_cap",
    "month_net_income",
    "month_work_minutes",
    "person_of",
    "pick_recruits",
    "quit_probability",
    "recruitment_targets",
    "review",
    "uniforms_of",
]

NONE = -1

# Households' uniforms: one per household, or a function giving those of the households it is
# passed (``lambda idx: streams.uniform_of(name, day, idx)``, the same numbers), so that a rule
# that needs a few households' numbers does not draw the rest.
Uniforms = np.ndarray | Callable[[np.ndarray], np.ndarray]


def uniforms_of(u: Uniforms, idx: np.ndarray) -> np.ndarray:
    """The uniforms ``u`` of households ``idx``."""
    return np.asarray(u(idx), float) if callable(u) else np.asarray(u, float)[idx]


def quit_probability(shortfall, tenure_months, recognised, base_logit: float,
                     shortfall_slope: float, tenure_effect: float, recognition_effect: float):
    """Monthly probability that a leader quits (ODD 7.3): a logistic in the shortfall.

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
    # name: (dtype, fill). One row per (leader, platform) service: a leader serving two
    # platforms has two rows sharing ``person`` (the row of its first service, which also holds
    # the leader's own state: reservation income, smoothed income, tenure, recognition).
    "home": (np.int64, NONE),  # household index of the leader
    "person": (np.int64, NONE),  # the leader's primary row (NONE: the row itself)
    "neighbourhood": (np.int32, NONE),
    "platform": (np.int16, NONE),
    "active": (bool, False),
    "day_joined": (np.int32, NONE),
    "day_left": (np.int32, NONE),
    "fridge": (bool, False),
    "village": (bool, False),
    "reservation_income_yuan": (np.float64, 0.0),  # per month
    "wage_yuan_per_hour": (np.float64, 0.0),
    "minutes_per_order": (np.float64, np.nan),  # NaN: leaders.minutes_per_order
    "minutes_per_complaint": (np.float64, np.nan),
    "smoothed_net_income_yuan": (np.float64, 0.0),  # per month
    "month_income_yuan": (np.float64, 0.0),  # commission since the last review
    "month_bonus_yuan": (np.float64, 0.0),  # platform bonuses and prizes, this month
    "month_outside_yuan": (np.float64, 0.0),  # service fees + government subsidy, this month
    "month_service_minutes": (np.float64, 0.0),
    "month_sales_yuan": (np.float64, 0.0),  # list value of the month's orders
    "month_orders": (np.int64, 0),
    "month_complaints": (np.int64, 0),
    "last_month_sales_yuan": (np.float64, 0.0),
    "last_month_pay_yuan": (np.float64, 0.0),  # commission + bonus of the last month
    "last_month_net_yuan": (np.float64, 0.0),  # the row's last month net of time
    "last_month_orders": (np.int64, 0),
    "last_month_work_minutes": (np.float64, 0.0),  # orders, complaints and service work
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
    """A group leader (团长): a Mesa agent whose state is its primary row of the leader table.

    The primary row is the leader's first service; further platforms it serves are extra rows
    of the table pointing back to it through ``person`` (:meth:`service_rows`).
    """

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
        """The platform of the leader's first service."""
        return self.model.platform_list[self.platform].name

    def service_rows(self) -> np.ndarray:
        """The leader's active service rows, one per platform served."""
        t = self.model.leaders
        return np.flatnonzero((person_of(t) == self.index) & t.view("active"))

    @property
    def platforms(self) -> list[str]:
        """Names of the platforms the leader serves now (more than one when multi-homing)."""
        t = self.model.leaders
        return [self.model.platform_list[int(t.platform[r])].name for r in self.service_rows()]

    @property
    def members(self) -> int:
        """Households that follow this leader's groups (ODD 7.3)."""
        return int(self.model.leadership.groups.members[self.index])

    def quit_probability(self) -> float:
        """This leader's quit probability at its next review, from its current state."""
        lc = self.model.cfg.leaders
        tenure = (self.model.day - self.day_joined) / lc.review_days
        res = self.reservation_income_yuan
        shortfall = (res - self.smoothed_net_income_yuan) / res if res > 0 else 0.0
        return float(quit_probability(shortfall, tenure, self.model.leaders.recognised[self.index],
                                      lc.churn_base_logit, lc.churn_shortfall_slope,
                                      lc.churn_tenure_effect, lc.churn_recognition_effect))


def person_of(t: LeaderTable) -> np.ndarray:
    """The leader (its primary row) of every service row."""
    p = t.person[: t.n]
    return np.where(p >= 0, p, np.arange(t.n))


def due_rows(t: LeaderTable, day: int, review_days: int) -> np.ndarray:
    """Active service rows whose leader's month ended yesterday (months count from its first
    join, ODD 7.3: "every 30 days from its first join").

    The review runs in phase 5, before the day's orders (phase 6) and settlement (phase 8): a
    leader who joined on day J is reviewed on days J + 30, J + 60, ..., each review covering the
    orders of the ``review_days`` days before it (J to J + 29 for the first).
    """
    joined = t.day_joined[person_of(t)]
    since = day - joined
    return np.flatnonzero(t.active[: t.n] & (since > 0) & (since % review_days == 0))


def month_work_minutes(t: LeaderTable, idx: np.ndarray, lc) -> np.ndarray:
    """Minutes of work in the month so far, per row (ODD 7.3):
    minutes per order x orders + minutes per complaint x complaints + service minutes."""
    mpo = t.minutes_per_order[idx]
    mpc = t.minutes_per_complaint[idx]
    mpo = np.where(np.isnan(mpo), lc.minutes_per_order, mpo)
    mpc = np.where(np.isnan(mpc), lc.minutes_per_complaint, mpc)
    return mpo * t.month_orders[idx] + mpc * t.month_complaints[idx] + \
        t.month_service_minutes[idx]


def month_net_income(t: LeaderTable, idx: np.ndarray, lc) -> np.ndarray:
    """Income of the month just ended net of the value of the leader's time, yuan, per row.

    income = commission + bonuses + service fees + government subsidy (ODD 7.3);
    work = :func:`month_work_minutes`.
    """
    minutes = month_work_minutes(t, idx, lc)
    income = t.month_income_yuan[idx] + t.month_bonus_yuan[idx] + t.month_outside_yuan[idx]
    return income - t.wage_yuan_per_hour[idx] * minutes / 60.0


def review(t: LeaderTable, day: int, u: np.ndarray, lc) -> tuple[np.ndarray, np.ndarray]:
    """Monthly review of the leaders whose month ends today (ODD 7.3).

    Each leader sums the net income of all its service rows (one per platform served), updates
    its smoothed net income, and the month's counters of its rows are reset (the row keeps the
    month as ``last_month_*``). Who quits is drawn with ``u`` (one uniform per row, read at the
    leader's primary row).

    Returns:
        (reviewed leaders, quitting leaders), both as primary row indices.
    """
    rows = due_rows(t, day, lc.review_days)
    if len(rows) == 0:
        return rows, rows
    net_row = month_net_income(t, rows, lc)
    t.last_month_net_yuan[rows] = net_row
    t.last_month_sales_yuan[rows] = t.month_sales_yuan[rows]
    t.last_month_pay_yuan[rows] = t.month_income_yuan[rows] + t.month_bonus_yuan[rows]
    t.last_month_orders[rows] = t.month_orders[rows]
    t.last_month_work_minutes[rows] = month_work_minutes(t, rows, lc)
    persons, inv = np.unique(person_of(t)[rows], return_inverse=True)
    net = np.bincount(inv, weights=net_row, minlength=len(persons))
    w = lc.income_smoothing
    t.smoothed_net_income_yuan[persons] = (1 - w) * t.smoothed_net_income_yuan[persons] + w * net
    res = t.reservation_income_yuan[persons]
    shortfall = np.divide(res - t.smoothed_net_income_yuan[persons], res,
                          out=np.zeros(len(persons)), where=res > 0)
    tenure = (day - t.day_joined[persons]) / lc.review_days  # whole months at the review
    p = quit_probability(shortfall, tenure, t.recognised[persons], lc.churn_base_logit,
                         lc.churn_shortfall_slope, lc.churn_tenure_effect,
                         lc.churn_recognition_effect)
    for name in ("month_income_yuan", "month_bonus_yuan", "month_outside_yuan",
                 "month_service_minutes", "month_sales_yuan"):
        getattr(t, name)[rows] = 0.0
    t.month_orders[rows] = 0
    t.month_complaints[rows] = 0
    return persons, persons[u[persons] < p]


def recruitment_targets(households: np.ndarray, households_per_leader: int) -> np.ndarray:
    """Leaders a platform wants per neighbourhood it covers: ceil(households / per leader)."""
    return np.ceil(households / households_per_leader).astype(np.int64)


def pick_recruits(deficit: np.ndarray, eligible: np.ndarray | None, neighbourhood: np.ndarray,
                  priority: Uniforms, candidates: np.ndarray | None = None) -> np.ndarray:
    """Households recruited: in each neighbourhood the ``deficit`` eligible ones of lowest priority.

    Args:
        deficit: leaders wanted per neighbourhood.
        eligible: whether each household can be recruited now.
        neighbourhood: neighbourhood of each household.
        priority: one uniform per household (lower is recruited first), or a function giving
            those of the households it is passed (:data:`Uniforms`).
        candidates: the eligible households in neighbourhoods with a deficit, ascending, if the
            caller has them already (``eligible`` is then not read).
    """
    if candidates is None:
        candidates = np.flatnonzero(eligible & (deficit[neighbourhood] > 0))
    cand = candidates
    if len(cand) == 0:
        return cand
    nb = neighbourhood[cand]
    order = np.lexsort((uniforms_of(priority, cand), nb))
    cand, nb = cand[order], nb[order]
    first = np.searchsorted(nb, nb, side="left")
    rank = np.arange(len(cand)) - first
    return cand[rank < deficit[nb]]


def lognormal_income(median: np.ndarray, sigma: float, u: np.ndarray) -> np.ndarray:
    """Reservation incomes: lognormal with ``median`` and log-sd ``sigma`` from uniforms ``u``."""
    z = ndtri(np.clip(u, 1e-12, 1 - 1e-12))
    return median * np.exp(sigma * z)


def member_cap(lc) -> int:
    """Most members one leader serves for one platform: ``wechat_groups_max`` WeChat groups of
    at most ``group_cap`` (500) members each. ODD 2 caps each group, not the leader; a leader
    whose group is full opens another (press: leaders run "a handful of groups on WeChat",
    Rest of World 2021)."""
    return int(lc.group_cap * lc.wechat_groups_max)
