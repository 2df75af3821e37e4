"""Records: what a run records each day, as tidy long tables (ODD 10).

One row per day (``daily``), per day x platform (``platforms``, ``leader_stats``), per day x
platform x category (``spoilage``), per leader event (``leaders``) and per leader review
(``leader_reviews``: a leader's month, its income by source and whether it quit), and one row per
household at the end of the run (``households``: orders, pickup points lost, reach). Never a
column per platform.

Supply definitions (issue 9): ``units_shipped`` are units that left the chain today, delivered or
spoiled (``units_shipped = units_delivered + units_spoiled``), so ``spoiled / shipped`` is the loss
rate in both procurement modes; ``units_unfilled`` are order units nobody could supply (not
charged); ``units_low_life`` arrived with little life left (quality complaints). The on-time pickup
rate is the share of collected orders collected on their pickup day (seed 002 l.28: target >= 95%).

The tables are built from plain lists during the run, turned into DataFrames at the end.

Competition metrics (ODD 8), from the per-household, per-platform day of last order
(``ConsumerState.day_last_order_p``):

* ``hhi_orders`` / ``hhi_gmv``: Herfindahl-Hirschman index of the day's order / GMV shares, in
  points (0-10,000; US DOJ/FTC convention: above 2,500 is highly concentrated).
* ``buyers_30d``: households that ordered (from the platform) in the last 30 days.
* ``user_overlap``: share of the last 30 days' buyers who ordered from two or more platforms in
  those 30 days (seed 002 l.8: user overlap between platforms above 70%).
* ``repurchase_rate``: share of the households that ordered (from the platform) in days
  (d-60, d-30] who ordered again (from it) in (d-30, d]; a 30-day cohort measure (seed 002 l.15).
  NaN for the first 30 days.

These three are counted without visiting every household each day (:class:`LastOrderDays`):
the orders phase keeps the number of households by day of last order up to date as it records
the day's orders, and a window's buyers are a sum over those days. The repurchase cohort needs
no snapshot of 30 days ago either, because days of last order only move forward, to the day of
an order: of the cohort's households (the window's buyers 30 days ago, their number kept), those
who did not order again are exactly those whose last order is still in (d-60, d-30].
"""

from __future__ import annotations

from collections import deque

import numpy as np
import pandas as pd

from sim.coldchain.formulas import AREAS, LOSS_STAGES
from sim.ledger import ECONOMICS
from sim.records import kernels
from sim.records.households import HOUSEHOLD_COLUMNS, HOUSEHOLD_SPLIT_DAY, HouseholdRecord

__all__ = ["HOUSEHOLD_COLUMNS", "HOUSEHOLD_SPLIT_DAY", "REPURCHASE_WINDOW_DAYS",
           "LastOrderDays", "Recorder", "hhi_points"]

REPURCHASE_WINDOW_DAYS = 30  # seed 002 l.15 / issue 4: "buy again in the next 30 days"


def hhi_points(shares) -> float:
    """Herfindahl-Hirschman index, ``10,000 * sum_j s_j^2`` of shares that sum to 1; NaN if
    there are no sales."""
    s = np.asarray(shares, float)
    total = s.sum()
    return float(10_000.0 * ((s / total) ** 2).sum()) if total > 0 else float("nan")


def _ratio(a, b):
    return np.divide(a, b, out=np.full(np.shape(a), np.nan), where=np.asarray(b) > 0)

DAILY_COLUMNS = [
    "day", "adopters", "adoption_rate", "new_adopters", "lapsed", "occasions", "orders",
    "gmv_yuan", "subsidy_yuan", "refunds_yuan", "active_leaders", "leader_recruits",
    "leader_quits", "consumer_surplus_yuan", "units_shipped", "units_spoiled", "complaints",
    "ambient_temp_c", "goods_in_chain", "aware_any_share",
    "hhi_orders", "hhi_gmv", "buyers_30d", "user_overlap", "repurchase_rate", "platforms_active",
    "fine_yuan", "quality_complaints", "pickups", "on_time_pickup_rate", "units_unfilled",
    "goods_in_stock", "spoilage_cost_yuan",
    "adoption_rate_town", "adoption_rate_village", "scandal_complaints", "complaints_heard_mean",
    "leader_coverage", "multi_platform_leaders", "basket_size_mean",
]
PLATFORM_COLUMNS = [
    "day", "platform", "active", "orders", "order_share", "price_index", "coupon_yuan",
    "subsidy_yuan", "gmv_yuan", "revenue_yuan", "refunds_yuan", "cogs_yuan", "commission_yuan",
    "logistics_yuan", "fixed_yuan", "recruit_yuan", "gross_margin", "profit_yuan",
    "active_leaders", "cash_yuan", "cumulative_profit_yuan", "aware_share", "commission_rate",
    "gmv_share", "net_margin", "fine_yuan", "coupon_target", "coupon_takers",
    "wasted_coupon_yuan", "coupon_match_rival", "new_buyers",
    "price_cost_ratio_min", "buyers_30d", "repurchase_rate", "procurement", "complaints",
    "quality_complaints", "spoilage_cost_yuan", "pickups", "on_time_pickup_rate",
    "units_unfilled", *ECONOMICS, "funding_drawn_yuan", "reputation", "services_yuan",
    "service_points", "referral_yuan", "referrals", "training_yuan", "trained_leaders",
    "aftersales_yuan", "complaints_retold", "qc_yuan", "qc_rejected",
]
SPOILAGE_COLUMNS = ["day", "platform", "category", "units_shipped", "units_spoiled",
                    "units_delivered", "units_unfilled", "units_low_life", "units_bought",
                    "units_in_stock", "spoilage_cost_yuan", "refunds_yuan"]
LOSS_COLUMNS = ["day", "platform", "category", "area", "stage", "units_spoiled", "loss_yuan"]
LEADER_EVENT_COLUMNS = ["day", "leader_id", "platform", "event", "reason"]
# One row per day x platform. Leaders are counted per platform served (a multi-homing leader
# counts for each); coverage is the share of households with a pickup point of the platform;
# leader pay is what the platform paid leaders today (commission, bonuses, prizes); outside pay
# is service fees and government subsidies booked to its leaders; the member columns account
# for every household that lost its pickup point of the platform today:
# orphaned = rehomed + other_platform + unserved.
LEADER_STATS_COLUMNS = [
    "day", "platform", "active_leaders", "multi_platform_leaders", "coverage", "recruits",
    "quits", "drops", "adds", "commission_yuan", "bonus_yuan", "service_fees_yuan",
    "government_subsidy_yuan", "orphaned_members", "rehomed_members", "other_platform_members",
    "unserved_members",
]
# One row per leader review: the leader's month. Income = platform pay (commission + bonus)
# + service fees + government subsidy (ODD 7.3); net of the value of its time.
LEADER_REVIEW_COLUMNS = [
    "day", "leader_id", "platform", "platforms_served", "village", "income_yuan",
    "platform_pay_yuan", "outside_yuan", "net_income_yuan", "smoothed_net_income_yuan",
    "reservation_income_yuan", "recognised", "quit", "sales_yuan", "potential_ratio",
    "orders", "work_minutes",
]


class LastOrderDays:
    """Households counted by the day of their last order (``ConsumerState.day_last_order_p``).

    ``by_day[j, t]`` for platform ``j``: households whose last order from ``j`` was on day
    ``t``; ``by_day[P, t]``: households whose latest order from any platform was on day ``t``;
    ``by_day[P + 1, t]``: households whose second-latest platform (by day of last order) was
    last ordered from on day ``t``, so that those counted after day ``t`` ordered from two
    platforms or more after it. Counted once from the days of last order, then kept up to
    date by the orders phase as it records each order
    (:func:`sim.choice.kernels.record_choices`, the
    only writer of the days of last order; a day written by other code is not counted): the
    records' 30-day counts are then sums over 30 days instead of a pass over every household
    (at 100k households, ~0.5 ms a day).
    """

    def __init__(self, day_last_order_p: np.ndarray):
        last = np.asarray(day_last_order_p)
        self.n_platforms = n_p = last.shape[1]
        self.by_day = np.zeros((n_p + 2, 0), np.int64)
        top = int(last.max(initial=-1))
        self.reserve(max(top, 0))
        if top < 0:  # nobody has ordered yet (a new model)
            return
        for j in range(n_p):
            days = last[:, j][last[:, j] >= 0]
            self.by_day[j, :] += np.bincount(days, minlength=self.by_day.shape[1])
        latest = np.sort(last, axis=1)[:, ::-1]
        for r in range(min(n_p, 2)):
            days = latest[:, r][latest[:, r] >= 0]
            self.by_day[n_p + r, :] += np.bincount(days, minlength=self.by_day.shape[1])

    def reserve(self, d: int) -> np.ndarray:
        """``by_day``, with room for day ``d`` (doubled when it runs out; new days count 0)."""
        have = self.by_day.shape[1]
        if d >= have:
            grown = np.zeros((self.by_day.shape[0], max(2 * have, d + 1, 64)), np.int64)
            grown[:, :have] = self.by_day
            self.by_day = grown
        return self.by_day

    def between(self, after: int, upto: int) -> np.ndarray:
        """Households whose day is in ``(after, upto]``, per row of ``by_day`` (shape (P + 2,))."""
        return self.by_day[:, max(after + 1, 0):max(upto + 1, 0)].sum(axis=1)


class Recorder:
    """Collects the model's daily records."""

    OWNS = ("daily", "platforms", "spoilage", "_loss_days", "_loss_units", "_loss_yuan",
            "events", "platform_events", "last_order_days", "_cohorts", "leader_stats",
            "reviews", "households", "basket_sizes")
    WRITES = ("platforms (yesterday's orders, new buyers, order share)",)

    def __init__(self, model):
        self.model = model
        self.daily: list[dict] = []
        self.platforms: list[dict] = []
        self.spoilage: list[tuple] = []
        # losses (units, yuan) per day as (P, C, area, stage) arrays; the table is made from
        # them once, in tables() (a row per cell: ~270 rows a day)
        self._loss_days: list[int] = []
        self._loss_units: list[np.ndarray] = []
        self._loss_yuan: list[np.ndarray] = []
        self.events: list[tuple] = []
        self.platform_events: list[dict] = []
        # households by day of last order, kept by the orders phase
        # (sim.choice.kernels.record_choices)
        self.last_order_days = LastOrderDays(model.consumers.day_last_order_p)
        # (day, buyers per platform, buyers) of the last 31 days: the repurchase cohorts' sizes
        self._cohorts: deque[tuple[int, np.ndarray, int]] = deque()
        self.leader_stats: list[tuple] = []
        self.reviews: list[tuple] = []
        # per household: pickup points lost (Leadership.deactivate tells), the orders before
        # the split day; the end-of-run table (sim.records.households)
        self.households = HouseholdRecord(model)
        # orders by basket size (0..C categories) over the run (sim.choice.baskets), sized
        # by the first day's counts
        self.basket_sizes = np.zeros(0, np.int64)

    def _basket_sizes(self, today) -> dict:
        """Today's mean categories per order (NaN without orders); the run's counts move on."""
        sizes = today.basket_sizes
        if len(self.basket_sizes) != len(sizes):
            self.basket_sizes = np.zeros(len(sizes), np.int64)
        self.basket_sizes += sizes
        n = sizes.sum()
        return {"basket_size_mean": float(sizes @ np.arange(len(sizes)) / n) if n
                else float("nan")}

    def households_lost_leader(self, day: int, households: np.ndarray, platform: int) -> None:
        """``households`` lost their pickup point of ``platform`` today (``households`` unique:
        one platform's members)."""
        self.households.lost_leader(day, households, platform)

    def household_table(self) -> pd.DataFrame:
        """One row per household at the end of the run (HOUSEHOLD_COLUMNS)."""
        return self.households.table()

    def competition(self, d: int) -> dict:
        """Buyers, user overlap and repurchase (the module docstring), per platform and total."""
        w = REPURCHASE_WINDOW_DAYS
        days = self.last_order_days
        n_p = days.n_platforms
        # Last order in (d-30, d]: per platform, from any (the latest), from two or more (the
        # second latest).
        now = days.between(d - w, d)
        buyers_p, n_buyers, overlap = now[:n_p], int(now[n_p]), int(now[n_p + 1])
        while self._cohorts and self._cohorts[0][0] < d - w:
            self._cohorts.popleft()
        cohort = self._cohorts[0] if self._cohorts and self._cohorts[0][0] == d - w else None
        self._cohorts.append((d, buyers_p, n_buyers))
        out = {"buyers_p": buyers_p, "buyers": n_buyers,
               "overlap": float(_ratio(overlap, n_buyers)),
               "repurchase_p": np.full(n_p, np.nan), "repurchase": float("nan")}
        if cohort is not None:
            # The cohort (buyers of day d-30's window) less those whose last order is still in
            # (d-60, d-30]: they did not order again.
            _, cohort_p, in_cohort = cohort
            gone = days.between(d - 2 * w, d - w)
            out["repurchase_p"] = _ratio(cohort_p - gone[:n_p], cohort_p)
            out["repurchase"] = float(_ratio(in_cohort - int(gone[n_p]), in_cohort))
        return out

    def leader_reviews(self, day: int, rows: np.ndarray, gross: np.ndarray,
                       potential: np.ndarray, persons: np.ndarray,
                       quitting: np.ndarray) -> None:
        """One row per reviewed leader, from its service rows' month (before the reset).

        ``potential`` is each row's local potential over its platform's mean (members' expected
        orders); a leader's is the mean over the platforms it serves.
        """
        from sim.leaders import person_of

        t = self.model.leaders
        per = person_of(t)[rows]
        pos = np.searchsorted(persons, per)
        k = len(persons)
        income = np.bincount(pos, weights=gross, minlength=k)
        pay = np.bincount(pos, weights=t.last_month_pay_yuan[rows], minlength=k)
        outside = income - pay
        net = np.bincount(pos, weights=t.last_month_net_yuan[rows], minlength=k)
        served = np.bincount(pos, minlength=k)
        sales = np.bincount(pos, weights=t.last_month_sales_yuan[rows], minlength=k)
        pot = np.bincount(pos, weights=potential, minlength=k) / np.maximum(served, 1)
        orders = np.bincount(pos, weights=t.last_month_orders[rows], minlength=k)
        work = np.bincount(pos, weights=t.last_month_work_minutes[rows], minlength=k)
        quit = np.isin(persons, quitting)
        names = self.model.platform_names
        self.reviews.extend(zip(
            [day] * k, persons.tolist(), [names[int(j)] for j in t.platform[persons]],
            served.tolist(), t.village[persons].tolist(), income.tolist(), pay.tolist(),
            outside.tolist(), net.tolist(), t.smoothed_net_income_yuan[persons].tolist(),
            t.reservation_income_yuan[persons].tolist(), t.recognised[persons].tolist(),
            quit.tolist(), sales.tolist(), pot.tolist(), orders.astype(np.int64).tolist(),
            work.tolist(), strict=True))

    def leader_events(self, day: int, idx: np.ndarray, platform: np.ndarray, event: str,
                      reasons) -> None:
        names = self.model.platform_names
        reasons = np.broadcast_to(np.asarray(reasons, dtype=object), idx.shape)
        self.events.extend(
            (day, int(i), names[int(p)], event, str(r))
            for i, p, r in zip(idx.tolist(), platform.tolist(), reasons.tolist(), strict=True)
        )

    def platform_exit(self, day: int, platform) -> None:
        self.platform_events.append({"day": day, "platform": platform.name, "event": "exit",
                                     "reason": platform.exit_reason})

    def record_day(self, d: int) -> None:
        m = self.model
        c, t, today = m.consumers, m.leaders, m.today
        self.households.end_of_day(d)
        from sim.leaders import person_of

        act = t.view("active")
        n_p = len(m.platform_list)
        leaders_by_platform = np.bincount(t.view("platform")[act], minlength=n_p)
        per = person_of(t)[act]
        rows_of = np.bincount(per, minlength=t.n)
        multi_rows = rows_of[per] > 1
        multi_by_platform = np.bincount(t.view("platform")[act][multi_rows], minlength=n_p)
        active = np.array([p.active for p in m.platform_list])
        # Household counts in one compiled call (the shares below are these counts over n).
        (adopters, adopters_town, n_town, adopters_village, n_village, aware_any, aware_p,
         leader_p, covered) = kernels.household_counts(c.adopted, c.in_village, c.aware,
                                                       c.leader_of, active)
        coverage = leader_p / c.n * active  # Leadership.leader_coverage
        flows = [p.flows for p in m.platform_list]
        total_orders = sum(f["orders"] for f in flows)
        shipped, spoiled = today.shipped, today.spoiled
        comp = self.competition(d)
        gmv = np.array([f["gmv_yuan"] for f in flows])
        orders = np.array([f["orders"] for f in flows])
        self.daily.append({
            "day": d,
            "adopters": int(adopters),
            "adoption_rate": adopters / c.n,
            "new_adopters": today.new_adopters,
            "lapsed": today.lapsed,
            "occasions": today.occasions,
            "orders": int(total_orders),
            "gmv_yuan": sum(f["gmv_yuan"] for f in flows),
            "subsidy_yuan": sum(f["subsidy_yuan"] for f in flows),
            "refunds_yuan": sum(f["refunds_yuan"] for f in flows),
            "active_leaders": int((rows_of > 0).sum()),
            "leader_recruits": today.leader_recruits,
            "leader_quits": today.leader_quits,
            "consumer_surplus_yuan": today.consumer_surplus_yuan,
            "units_shipped": int(shipped.sum()),
            "units_spoiled": int(spoiled.sum()),
            "complaints": today.complaints,
            "ambient_temp_c": today.conditions.ambient_temp_c,
            "goods_in_chain": m.ledger.goods["in_chain"],
            "aware_any_share": float(aware_any / c.n),
            "hhi_orders": hhi_points(orders),
            "hhi_gmv": hhi_points(gmv),
            "buyers_30d": comp["buyers"],
            "user_overlap": comp["overlap"],
            "repurchase_rate": comp["repurchase"],
            "platforms_active": int(sum(p.active for p in m.platform_list)),
            "fine_yuan": sum(f["fine_yuan"] for f in flows),
            "quality_complaints": today.quality_complaints,
            "pickups": int(today.pickups.sum()),
            "on_time_pickup_rate": (today.pickups_on_time.sum() / today.pickups.sum()
                                    if today.pickups.sum() else float("nan")),
            "units_unfilled": int(today.unfilled.sum()),
            "goods_in_stock": m.ledger.goods["in_stock"],
            "spoilage_cost_yuan": float(today.spoil_cost.sum()),
            # Word of mouth: adoption in town and villages (NaN where there are none),
            # complaints from scandals (also counted in complaints), bad news remembered.
            "adoption_rate_town": float(adopters_town / n_town) if n_town else float("nan"),
            "adoption_rate_village": (float(adopters_village / n_village) if n_village
                                      else float("nan")),
            "scandal_complaints": today.scandal_complaints,
            "complaints_heard_mean": float(c.complaints_heard.mean()),
            "leader_coverage": float(covered / c.n),
            "multi_platform_leaders": int((rows_of > 1).sum()),
            # categories per order today (sim.choice.baskets; NaN on a day without orders)
            **self._basket_sizes(today),
        })
        counts, pay, mf = today.leader_counts, today.leader_pay, today.member_flows
        for j, p in enumerate(m.platform_list):
            self.leader_stats.append((
                d, p.name, int(leaders_by_platform[j]), int(multi_by_platform[j]),
                float(coverage[j]), *map(int, counts[j]),
                p.flows["commission_yuan"] - float(pay[j, 0]), *map(float, pay[j]),
                *map(int, mf[j])))
        aware_share = aware_p / c.n
        rate = m.incentives.rates(d)
        points, trained = m.services.points(), m.training.counts()
        for j, p in enumerate(m.platform_list):
            f = p.flows
            self.platforms.append({
                "day": d,
                "platform": p.name,
                "active": p.active,
                "orders": int(f["orders"]),
                "order_share": f["orders"] / total_orders if total_orders else 0.0,
                "price_index": p.price_index,
                "coupon_yuan": p.coupon_yuan if p.active else 0.0,
                "subsidy_yuan": f["subsidy_yuan"],
                "gmv_yuan": f["gmv_yuan"],
                "revenue_yuan": f["revenue_yuan"],
                "refunds_yuan": f["refunds_yuan"],
                "cogs_yuan": f["cogs_yuan"],
                "commission_yuan": f["commission_yuan"],
                "logistics_yuan": f["logistics_yuan"],
                "fixed_yuan": f["fixed_yuan"],
                "recruit_yuan": f["recruit_yuan"],
                "gross_margin": p.gross_margin(),
                "profit_yuan": p.profit_yuan(),
                "active_leaders": int(leaders_by_platform[j]),
                "cash_yuan": p.cash_yuan,
                "cumulative_profit_yuan": p.cumulative_profit_yuan,
                "aware_share": float(aware_share[j]),
                "commission_rate": float(rate[j]),
                "gmv_share": f["gmv_yuan"] / gmv.sum() if gmv.sum() else 0.0,
                "net_margin": p.net_margin(),
                "fine_yuan": f["fine_yuan"],
                "coupon_target": m.coupons.label[j],
                "coupon_takers": int(f["coupon_takers"]),
                "wasted_coupon_yuan": f["wasted_coupon_yuan"],
                "coupon_match_rival": (m.platform_names[m.coupons.matching[j]]
                                       if m.coupons.matching[j] >= 0 else ""),
                "new_buyers": int(f["new_buyers"]),
                "price_cost_ratio_min": p.price_cost_ratio_min(),
                "buyers_30d": int(comp["buyers_p"][j]),
                "repurchase_rate": float(comp["repurchase_p"][j]),
                "procurement": m.supply.proc_mode[j],
                "complaints": int(f["complaints"]),
                "quality_complaints": int(today.quality_complaints_p[j]),
                "spoilage_cost_yuan": f["spoilage_cost_yuan"],
                "pickups": int(today.pickups[j]),
                "on_time_pickup_rate": (today.pickups_on_time[j] / today.pickups[j]
                                        if today.pickups[j] else float("nan")),
                "units_unfilled": int(today.unfilled[j].sum()),
                **{k: f[k] for k in ECONOMICS}, "funding_drawn_yuan": p.funding_drawn_yuan,
                "reputation": float(m.reputation.level[j]),  # R_j at the day's end (ODD 7.2)
                "services_yuan": f["services_yuan"], "service_points": int(points[j]),
                "referral_yuan": f["referral_yuan"], "referrals": int(f["referrals"]),
                "training_yuan": f["training_yuan"], "trained_leaders": int(trained[j]),
                "aftersales_yuan": f["aftersales_yuan"],
                "complaints_retold": int(f["complaints_retold"]), "qc_yuan": f["qc_yuan"],
                "qc_rejected": int(f["qc_rejected"]),
            })
            for ci, cat in enumerate(m.category_names):
                self.spoilage.append((
                    d, p.name, cat, int(shipped[j, ci]), int(spoiled[j, ci]),
                    int(shipped[j, ci] - spoiled[j, ci]), int(today.unfilled[j, ci]),
                    int(today.low_life[j, ci]), int(today.bought[j, ci]),
                    len(m.supply.stock[j][ci]), float(today.spoil_cost[j, ci]),
                    float(today.refunds[j, ci])))
        self._loss_days.append(d)
        self._loss_units.append(today.losses.copy())
        self._loss_yuan.append(today.loss_yuan.copy())

    def loss_table(self) -> pd.DataFrame:
        """Losses by day, platform, category, area and stage (LOSS_COLUMNS): one row per cell,
        days, platforms, categories, areas and stages in that order."""
        if not self._loss_days:
            return pd.DataFrame([], columns=LOSS_COLUMNS)
        units, yuan = np.stack(self._loss_units), np.stack(self._loss_yuan)
        day, plat, cat, area, stage = np.indices(units.shape).reshape(units.ndim, -1)
        m = self.model
        return pd.DataFrame({
            "day": np.array(self._loss_days, np.int64)[day],
            "platform": np.array(m.platform_names, object)[plat],
            "category": np.array(m.category_names, object)[cat],
            "area": np.array(AREAS, object)[area],
            "stage": np.array(LOSS_STAGES, object)[stage],
            "units_spoiled": units.ravel().astype(np.int64),
            "loss_yuan": yuan.ravel().astype(np.float64),
        }, columns=LOSS_COLUMNS)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The run's tables as DataFrames, keyed by file stem."""
        return {
            "daily": pd.DataFrame(self.daily, columns=DAILY_COLUMNS),
            "platforms": pd.DataFrame(self.platforms, columns=PLATFORM_COLUMNS),
            "spoilage": pd.DataFrame(self.spoilage, columns=SPOILAGE_COLUMNS),
            "losses": self.loss_table(),
            "leaders": pd.DataFrame(self.events, columns=LEADER_EVENT_COLUMNS),
            "leader_stats": pd.DataFrame(self.leader_stats, columns=LEADER_STATS_COLUMNS),
            "leader_reviews": pd.DataFrame(self.reviews, columns=LEADER_REVIEW_COLUMNS),
            "households": self.household_table(),
        }

    def run(self, d: int) -> None:
        """Phase 9 of the day: one row of daily metrics; the platforms remember the day's orders
        (what tomorrow's coupon budget and pricing rules read)."""
        self.record_day(d)
        platforms = self.model.platform_list
        total = sum(p.flows["orders"] for p in platforms)
        for p in platforms:
            p.orders_yesterday = int(p.flows["orders"])
            p.new_buyers_yesterday = int(p.flows["new_buyers"])
            p.coupon_takers_yesterday = int(p.flows["coupon_takers"])
            p.order_share_yesterday = p.flows["orders"] / total if total else 0.0
