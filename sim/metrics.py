"""Metrics: what a run records each day, as tidy long tables (DESIGN §5.5).

One row per day (``daily``), per day x platform (``platforms``, ``leader_stats``), per day x
platform x category (``spoilage``), per leader event (``leaders``) and per leader review
(``leader_reviews``: a leader's month, its income by source and whether it quit). Never a column
per platform.

Supply definitions (issue 9): ``units_shipped`` are units that left the chain today, delivered or
spoiled (``units_shipped = units_delivered + units_spoiled``), so ``spoiled / shipped`` is the
loss rate in both procurement modes; ``units_unfilled`` are order units nobody could supply
(not charged); ``units_low_life`` arrived with little life left (quality complaints). The on-time
pickup rate is the share of collected orders collected on their pickup day (seed 002 l.28:
target >= 95%).

The tables are built from plain lists during the run and turned into pandas DataFrames at the
end.

Competition metrics (DESIGN §6, issue 4), from the per-household, per-platform day of last order
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

import math
from collections import deque

import numpy as np
import pandas as pd

from sim import kernels
from sim.coldchain import AREAS, LOSS_STAGES

__all__ = ["FULL_DAY_HOURS", "REPURCHASE_WINDOW_DAYS", "LastOrderDays", "Recorder", "hhi_points",
           "leader_calibration_summary", "summarise"]

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
    "fine_yuan",
    "quality_complaints", "pickups", "on_time_pickup_rate", "units_unfilled", "goods_in_stock",
    "spoilage_cost_yuan",
    "adoption_rate_town", "adoption_rate_village", "scandal_complaints", "complaints_heard_mean",
    "leader_coverage", "multi_platform_leaders",
]
PLATFORM_COLUMNS = [
    "day", "platform", "active", "orders", "order_share", "price_index", "coupon_yuan",
    "subsidy_yuan", "gmv_yuan", "revenue_yuan", "refunds_yuan", "cogs_yuan", "commission_yuan",
    "logistics_yuan", "fixed_yuan", "recruit_yuan", "gross_margin", "profit_yuan",
    "active_leaders", "cash_yuan", "cumulative_profit_yuan", "aware_share", "commission_rate",
    "gmv_share", "net_margin", "fine_yuan", "new_user_coupon_yuan", "new_buyers",
    "price_cost_ratio_min", "buyers_30d", "repurchase_rate",
    "procurement", "complaints", "quality_complaints", "spoilage_cost_yuan", "pickups",
    "on_time_pickup_rate", "units_unfilled",
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
# + service fees + government subsidy (DESIGN §4.3); net of the value of its time.
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
    date by the orders phase as it records each order (:func:`sim.kernels.record_choices`, the
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
        # households by day of last order, kept by the orders phase (sim.kernels.record_choices)
        self.last_order_days = LastOrderDays(model.consumers.day_last_order_p)
        # (day, buyers per platform, buyers) of the last 31 days: the repurchase cohorts' sizes
        self._cohorts: deque[tuple[int, np.ndarray, int]] = deque()
        self.leader_stats: list[tuple] = []
        self.reviews: list[tuple] = []

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
        self.platform_events.append({"day": day, "platform": platform.name, "event": "exit"})

    def record_day(self, d: int) -> None:
        m = self.model
        c, t, today = m.consumers, m.leaders, m.today
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
        coverage = leader_p / c.n * active  # GroupBuyingMarket.leader_coverage
        flows = [p.flows for p in m.platform_list]
        total_orders = sum(f["orders"] for f in flows)
        shipped, spoiled = today["shipped"], today["spoiled"]
        comp = self.competition(d)
        gmv = np.array([f["gmv_yuan"] for f in flows])
        orders = np.array([f["orders"] for f in flows])
        self.daily.append({
            "day": d,
            "adopters": int(adopters),
            "adoption_rate": adopters / c.n,
            "new_adopters": today.get("new_adopters", 0),
            "lapsed": today.get("lapsed", 0),
            "occasions": today.get("occasions", 0),
            "orders": int(total_orders),
            "gmv_yuan": sum(f["gmv_yuan"] for f in flows),
            "subsidy_yuan": sum(f["subsidy_yuan"] for f in flows),
            "refunds_yuan": sum(f["refunds_yuan"] for f in flows),
            "active_leaders": int((rows_of > 0).sum()),
            "leader_recruits": today.get("leader_recruits", 0),
            "leader_quits": today.get("leader_quits", 0),
            "consumer_surplus_yuan": today.get("consumer_surplus_yuan", 0.0),
            "units_shipped": int(shipped.sum()),
            "units_spoiled": int(spoiled.sum()),
            "complaints": today.get("complaints", 0),
            "ambient_temp_c": m.conditions.ambient_temp_c,
            "goods_in_chain": m.goods["in_chain"],
            "aware_any_share": float(aware_any / c.n),
            "hhi_orders": hhi_points(orders),
            "hhi_gmv": hhi_points(gmv),
            "buyers_30d": comp["buyers"],
            "user_overlap": comp["overlap"],
            "repurchase_rate": comp["repurchase"],
            "platforms_active": int(sum(p.active for p in m.platform_list)),
            "fine_yuan": sum(f["fine_yuan"] for f in flows),
            "quality_complaints": today.get("quality_complaints", 0),
            "pickups": int(today["pickups"].sum()),
            "on_time_pickup_rate": (today["pickups_on_time"].sum() / today["pickups"].sum()
                                    if today["pickups"].sum() else float("nan")),
            "units_unfilled": int(today["unfilled"].sum()),
            "goods_in_stock": m.goods["in_stock"],
            "spoilage_cost_yuan": float(today["spoil_cost"].sum()),
            # Word of mouth: adoption in town and villages (NaN where there are none),
            # complaints from scandals (also counted in complaints), bad news remembered.
            "adoption_rate_town": float(adopters_town / n_town) if n_town else float("nan"),
            "adoption_rate_village": (float(adopters_village / n_village) if n_village
                                      else float("nan")),
            "scandal_complaints": today.get("scandal_complaints", 0),
            "complaints_heard_mean": float(c.complaints_heard.mean()),
            "leader_coverage": float(covered / c.n),
            "multi_platform_leaders": int((rows_of > 1).sum()),
        })
        counts = today.get("leader_counts", np.zeros((n_p, 4), np.int64))
        pay = today.get("leader_pay", np.zeros((n_p, 3)))
        mf = today.get("member_flows", np.zeros((n_p, 4), np.int64))
        for j, p in enumerate(m.platform_list):
            self.leader_stats.append((
                d, p.name, int(leaders_by_platform[j]), int(multi_by_platform[j]),
                float(coverage[j]), *map(int, counts[j]),
                p.flows["commission_yuan"] - float(pay[j, 0]), *map(float, pay[j]),
                *map(int, mf[j])))
        aware_share = aware_p / c.n
        rate = m.scheme.rate(d)
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
                "commission_rate": rate,
                "gmv_share": f["gmv_yuan"] / gmv.sum() if gmv.sum() else 0.0,
                "net_margin": p.net_margin(),
                "fine_yuan": f["fine_yuan"],
                "new_user_coupon_yuan": p.new_user_coupon_yuan if p.active else 0.0,
                "new_buyers": int(f["new_buyers"]),
                "price_cost_ratio_min": p.price_cost_ratio_min(),
                "buyers_30d": int(comp["buyers_p"][j]),
                "repurchase_rate": float(comp["repurchase_p"][j]),
                "procurement": m.proc_mode[j],
                "complaints": int(f["complaints"]),
                "quality_complaints": int(today["quality_complaints_p"][j]),
                "spoilage_cost_yuan": f["spoilage_cost_yuan"],
                "pickups": int(today["pickups"][j]),
                "on_time_pickup_rate": (today["pickups_on_time"][j] / today["pickups"][j]
                                        if today["pickups"][j] else float("nan")),
                "units_unfilled": int(today["unfilled"][j].sum()),
            })
            for ci, cat in enumerate(m.category_names):
                self.spoilage.append((
                    d, p.name, cat, int(shipped[j, ci]), int(spoiled[j, ci]),
                    int(shipped[j, ci] - spoiled[j, ci]), int(today["unfilled"][j, ci]),
                    int(today["low_life"][j, ci]), int(today["bought"][j, ci]),
                    len(m.stock[j][ci]), float(today["spoil_cost"][j, ci]),
                    float(today["refunds"][j, ci])))
        self._loss_days.append(d)
        self._loss_units.append(today["losses"].copy())
        self._loss_yuan.append(today["loss_yuan"].copy())

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
        }


def _first_day(daily: pd.DataFrame, column: str, level: float) -> int | None:
    """First day on which ``column`` reaches ``level`` (None if never)."""
    hit = daily[column] >= level
    return int(daily.loc[hit, "day"].iloc[0]) if hit.any() else None


def _f(x) -> float | None:
    x = float(x)
    return None if math.isnan(x) else round(x, 6)


def _leader_summary(tables: dict[str, pd.DataFrame], leader_days: float) -> dict:
    """Leader income distribution, platform payout per leader-month, multi-homing, coverage."""
    rv, ls, daily = tables["leader_reviews"], tables["leader_stats"], tables["daily"]
    inc = rv["income_yuan"]
    pay = float(ls["commission_yuan"].sum() + ls["bonus_yuan"].sum())
    months = leader_days / 30.0

    def q(x: float) -> float | None:
        return _f(inc.quantile(x)) if len(inc) else None

    return {
        "leader_income_mean_yuan_per_month": _f(inc.mean()) if len(inc) else None,
        "leader_income_p10_yuan_per_month": q(0.1),
        "leader_income_median_yuan_per_month": q(0.5),
        "leader_income_p90_yuan_per_month": q(0.9),
        "leader_platform_pay_total_yuan": _f(pay),
        "leader_outside_income_total_yuan": _f(ls["service_fees_yuan"].sum()
                                               + ls["government_subsidy_yuan"].sum()),
        "leader_payout_per_leader_month_yuan": _f(pay / months) if months else None,
        "leader_pay_share_of_gmv": _f(pay / daily["gmv_yuan"].sum())
        if daily["gmv_yuan"].sum() else None,
        "multi_platform_leader_share": _f(daily["multi_platform_leaders"].sum() / leader_days)
        if leader_days else None,
        "leader_coverage_mean": _f(daily["leader_coverage"].mean()),
        "village_leader_quits": int(rv.loc[rv["village"], "quit"].sum()),
        "town_leader_quits": int(rv.loc[~rv["village"].astype(bool), "quit"].sum()),
    }


def summarise(model, tables: dict[str, pd.DataFrame]) -> dict:
    """Headline figures of a run, units in the key names."""
    daily, plat, spo, ev = (tables[k] for k in ("daily", "platforms", "spoilage", "leaders"))
    last = daily.iloc[-1]
    cfg = model.cfg
    # Monthly churn: leaders quitting per leader-month of activity.
    leader_days = float(daily["active_leaders"].sum())
    quits = int(daily["leader_quits"].sum())
    churn = quits / (leader_days / 30.0) if leader_days else float("nan")
    produce = [c for c in model.category_names if model.cfg.products[c].produce]
    sf = spo[spo["category"].isin(produce)]
    shipped = sf["units_shipped"].sum()
    last30 = plat[plat["day"] > last["day"] - 30]
    orders30 = last30.groupby("platform")["orders"].sum()
    share30 = (orders30 / orders30.sum()) if orders30.sum() else orders30 * 0.0
    gmv30 = last30.groupby("platform")["gmv_yuan"].sum()
    gshare30 = (gmv30 / gmv30.sum()) if gmv30.sum() else gmv30 * 0.0

    def margin30(col_num):
        g = last30.groupby("platform")
        net = g["gmv_yuan"].sum() - g["subsidy_yuan"].sum() - g["refunds_yuan"].sum()
        return {k: (_f(v / net[k]) if net[k] > 0 else None) for k, v in col_num(g).items()}

    return {
        "seed": int(cfg.seed),
        "days": int(cfg.days),
        "consumers": int(model.consumers.n),
        "network": cfg.market.network,
        "neighbourhoods": int(model.network.n_neighbourhoods),
        "network_edges": int(model.network.n_edges),
        "final_adoption_rate": _f(last["adoption_rate"]),
        "day_half_adopted": (int(daily.loc[daily["adoption_rate"] >= 0.5, "day"].iloc[0])
                             if (daily["adoption_rate"] >= 0.5).any() else None),
        "day_half_adopted_town": _first_day(daily, "adoption_rate_town", 0.5),
        "day_half_adopted_village": _first_day(daily, "adoption_rate_village", 0.5),
        "day_peak_new_adopters": int(daily.loc[daily["new_adopters"].idxmax(), "day"]),
        "scandal_complaints_total": int(daily["scandal_complaints"].sum()),
        "orders_total": int(daily["orders"].sum()),
        "gmv_total_yuan": _f(daily["gmv_yuan"].sum()),
        "subsidy_total_yuan": _f(daily["subsidy_yuan"].sum()),
        "consumer_surplus_total_yuan": _f(daily["consumer_surplus_yuan"].sum()),
        "active_leaders_final": int(last["active_leaders"]),
        "leaders_recruited_total": int((ev["event"] == "recruited").sum()),
        "leader_quits_total": quits,
        "leader_monthly_churn_rate": _f(churn),
        **_leader_summary(tables, leader_days),
        "produce_spoilage_rate": _f(sf["units_spoiled"].sum() / shipped) if shipped else None,
        "spoilage_rate_all": _f(spo["units_spoiled"].sum() / max(1, spo["units_shipped"].sum())),
        "complaints_total": int(daily["complaints"].sum()),
        "platforms_active_final": int(sum(p.active for p in model.platform_list)),
        "order_share_last_30_days": {k: _f(v) for k, v in share30.items()},
        "cash_final_yuan": {p.name: _f(p.cash_yuan) for p in model.platform_list},
        "platform_exits": model.recorder.platform_events,
        "gmv_share_last_30_days": {k: _f(v) for k, v in gshare30.items()},
        "hhi_gmv_last_30_days": _f(hhi_points(gmv30.to_numpy())) if gmv30.sum() else None,
        # The last day's values: each is already over the last 30 days (the buyers of days
        # d-29..d; the cohort of d-59..d-30 buying again in d-29..d), where a mean of the last
        # 30 daily values would reach back 59 and 89 days.
        "user_overlap_last_30_days": _f(last["user_overlap"]),
        "repurchase_rate_last_30_days": _f(last["repurchase_rate"]),
        "gross_margin_last_30_days": margin30(
            lambda g: g["gmv_yuan"].sum() - g["subsidy_yuan"].sum() - g["refunds_yuan"].sum()
            - g["cogs_yuan"].sum()),
        "net_margin_last_30_days": margin30(lambda g: g["profit_yuan"].sum()),
        "fines_total_yuan": _f(daily["fine_yuan"].sum()),
        **supply_summary(model, tables),
        **leader_calibration_summary(tables, cfg.leaders.review_days),
    }


# DESIGN §6 (press reports): leaders who work 2+ hours a day earn ~3,000-5,000 yuan a month;
# large leaders handle 70-100 orders a day.
FULL_DAY_HOURS = 2.0


def leader_calibration_summary(rv_or_tables, review_days: int = 30) -> dict:
    """The leader-size and income figures DESIGN §6 states, from the monthly reviews.

    One leader-month is one row of ``leader_reviews`` (all platforms a leader serves summed).
    Hours a day = the month's work minutes (orders, complaints, service work) / 60 /
    ``review_days``; orders a day likewise. ``leader_income_median_2h_yuan_per_month`` is the
    median income of the leader-months with at least :data:`FULL_DAY_HOURS` hours a day (the
    conditional fact: part-time leaders earn less), and ``leader_orders_per_day_p99`` the 99th
    percentile of orders a day over leader-months: the large leaders.
    """
    rv = rv_or_tables["leader_reviews"] if isinstance(rv_or_tables, dict) else rv_or_tables
    if len(rv) == 0:
        return {k: None for k in (
            "leader_orders_per_day_median", "leader_orders_per_day_p99",
            "leader_orders_per_day_max", "leader_work_hours_per_day_median",
            "leader_income_per_work_hour_yuan", "leader_months_2h_share",
            "leader_income_median_2h_yuan_per_month")}
    opd = rv["orders"] / review_days
    hours = rv["work_minutes"] / 60.0 / review_days
    full = rv.loc[hours >= FULL_DAY_HOURS, "income_yuan"]
    total_h = float(rv["work_minutes"].sum()) / 60.0
    return {
        "leader_orders_per_day_median": _f(opd.median()),
        "leader_orders_per_day_p99": _f(opd.quantile(0.99)),
        "leader_orders_per_day_max": _f(opd.max()),
        "leader_work_hours_per_day_median": _f(hours.median()),
        "leader_income_per_work_hour_yuan": _f(rv["income_yuan"].sum() / total_h)
        if total_h > 0 else None,
        "leader_months_2h_share": _f(len(full) / len(rv)),
        "leader_income_median_2h_yuan_per_month": _f(full.median()) if len(full) else None,
    }


def supply_summary(model, tables: dict[str, pd.DataFrame]) -> dict:
    """Headline supply figures (issue 9): losses, refunds, complaints, pickups, fill rate."""
    daily, spo, loss = tables["daily"], tables["spoilage"], tables["losses"]
    produce = [c for c in model.category_names if model.cfg.products[c].produce]
    lp = loss[loss["category"].isin(produce)]
    shipped = spo.loc[spo["category"].isin(produce), "units_shipped"].sum()
    by_stage = lp.groupby("stage", sort=False)["units_spoiled"].sum()
    ordered = daily["orders"].sum() * len(model.category_names)  # one unit per category
    pickups = daily["pickups"].sum()
    on_time = (daily["on_time_pickup_rate"].fillna(0) * daily["pickups"]).sum()
    return {
        "produce_spoilage_rate_by_stage": {
            k: _f(v / shipped) if shipped else None for k, v in by_stage.items()},
        "spoilage_cost_total_yuan": _f(spo["spoilage_cost_yuan"].sum()),
        "refunds_total_yuan": _f(spo["refunds_yuan"].sum()),
        "quality_complaints_total": int(daily["quality_complaints"].sum()),
        "on_time_pickup_rate": _f(on_time / pickups) if pickups else None,
        "fill_rate": _f(1.0 - spo["units_unfilled"].sum() / ordered) if ordered else None,
        "supplier_shock_days": {s.name: s.shock_days_total for s in model.supplier_list},
    }
