"""The stylized facts of ODD 8 as criteria: one function per fact, on a run's tables.

ODD 8 (issue 23) states fourteen facts, each with a criterion fixed before measuring, seeds 1-5 at
20,000 households, and the windows and scenarios written beside it; the rows here are numbered as
there (``ODD 8 row N``). A fact holds when its criterion holds in at least 4 of the 5 seeds. Each
function below takes the tables of one seed's run(s) (:meth:`sim.records.Recorder.tables`) and
returns a :class:`Measure`: the headline value, whether the criterion holds, and the parts of a
compound criterion. The scorecard (``experiments/validation.py``) runs the scenarios and calls
them; the unit tests give each a synthetic table that meets it and one that misses it.

Nothing here is tuned: the bounds, windows and targets are ODD 8's, and a fact that misses is
reported with the mechanism that keeps it off, never by moving a bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "CHURN_WINDOW", "CUT_WINDOW", "HOLD_SEEDS", "HOUSEHOLDS", "SEEDS", "Measure",
    "bass_curve", "commission_after_launch", "commission_cut", "complaint_rates", "fact_holds",
    "fresh_losses", "incumbent_margins", "leader_churn", "leader_commission",
    "leader_earnings", "market_end_state", "multi_source_churn", "on_time_pickup",
    "pickup_point_income", "price_war_margin", "subsidy_withdrawal", "user_overlap",
    "window_churn",
]

# ODD 8: seeds 1-5 at the default size; a fact holds in at least 4 of the 5 seeds.
SEEDS = (1, 2, 3, 4, 5)
HOUSEHOLDS = 20_000
HOLD_SEEDS = 4

# ODD 8 row 1: platform pay / GMV in 5-20% (seed 003 Q2)
COMMISSION_BAND = (0.05, 0.20)
# ODD 8 row 2: 9-11% at entry, <= 6% by entry + 180 days (Yicai 2021)
COMMISSION_AT_ENTRY = (0.09, 0.11)
COMMISSION_AFTER = 0.06
COMMISSION_AFTER_DAYS = 180
# ODD 8 row 3: median income of 2+ h/day leader-months 3,000-5,000 yuan; p99 orders/day 70-100
EARNINGS_2H_BAND = (3_000.0, 5_000.0)
ORDERS_P99_BAND = (70.0, 100.0)
# ODD 8 row 4: median income of all leader-months 800-1,500 yuan (seed 002 Case A l.68)
PICKUP_INCOME_BAND = (800.0, 1_500.0)
# ODD 8 row 5: quits per leader-month over days 120-364 in 25-40%; no 30-day window after day
# 30 above 45% (vendor blog)
CHURN_WINDOW = (120, 364)
CHURN_BAND = (0.25, 0.40)
CHURN_SPIKE_MAX = 0.45
CHURN_SPIKE_FROM = 30
CHURN_SPIKE_DAYS = 30
# ODD 8 row 6: churn over days 120-364 -50% to -70% against flat at equal platform spend
MULTI_SOURCE_BAND = (-0.70, -0.50)
# ODD 8 row 7: commission halved from day 0; orders over days 120-364 fall >= 5% (paired), and
# households that lost a leader account for more than half of the fall
CUT_WINDOW = (120, 364)
CUT_FALL_MIN = 0.05
CUT_LOST_SHARE_MIN = 0.5
# ODD 8 row 8: experiment=price_war, days 90-180, GMV-weighted gross margin of the platforms
# trading on day 180 in 10-15% (seed 002)
PRICE_WAR_WINDOW = (90, 180)
PRICE_WAR_BAND = (0.10, 0.15)
# ODD 8 row 9: > 70% of 30-day buyers (last 30 days) in a dense market
OVERLAP_MIN = 0.70
# ODD 8 row 10: on-time pickup >= 95% (seed 002)
ON_TIME_MIN = 0.95
# ODD 8 row 11: withdrawal on day D: the entrant's 30-day repurchase over days D+20 to D+40 at
# least 20% (relative) below the counterfactual with the coupon kept to the horizon
WITHDRAWAL_LAG = (20, 40)
WITHDRAWAL_DROP_MIN = 0.20
# ODD 8 row 12: produce lost 20-30% with no cold chain; < 5% with a full one
LOSS_NONE_BAND = (0.20, 0.30)
LOSS_FULL_MAX = 0.05
# ODD 8 row 13: experiment=consolidation days=730: 2-3 platforms trade on day 729; sorted GMV
# shares over days 640-729 renormalised over the survivors within 6 points of 47/34/18, or of
# 58/42 with two (industry reports 2024)
END_DAY = 729
END_SHARE_WINDOW = (640, 729)
END_SHARES = {3: (0.47, 0.34, 0.18), 2: (0.58, 0.42)}
END_SHARE_TOLERANCE = 0.06
# ODD 8 row 14: the regional incumbent over days 180-364: gross 15-19%, net 1-5%
INCUMBENT_WINDOW = (180, 364)
INCUMBENT_GROSS_BAND = (0.15, 0.19)
INCUMBENT_NET_BAND = (0.01, 0.05)


@dataclass
class Measure:
    """One seed's measurement of a fact: the headline value, whether the criterion holds (None:
    not applicable, the mechanism does not exist), and the parts of a compound criterion."""

    value: float
    holds: bool | None
    parts: dict = field(default_factory=dict)


def fact_holds(holds: list[bool | None]) -> bool | None:
    """ODD 8: a fact holds when its criterion holds in at least 4 of the 5 seeds (with another
    number of seeds, e.g. a quick run's 2, in the same share, rounded up); None when it applies
    to no seed."""
    known = [h for h in holds if h is not None]
    if not known:
        return None
    need = math.ceil(HOLD_SEEDS / len(SEEDS) * len(known) - 1e-9)
    return sum(bool(h) for h in known) >= need


def _in(x: float, band: tuple[float, float]) -> bool:
    return bool(np.isfinite(x) and band[0] <= x <= band[1])


def _days(df: pd.DataFrame, window: tuple[int, int]) -> pd.DataFrame:
    return df[(df["day"] >= window[0]) & (df["day"] <= window[1])]


def leader_commission(tables: dict) -> Measure:
    """ODD 8 row 1: the platforms' pay to leaders (commission and bonuses) over GMV."""
    ls, daily = tables["leader_stats"], tables["daily"]
    gmv = float(daily["gmv_yuan"].sum())
    pay = float(ls["commission_yuan"].sum() + ls["bonus_yuan"].sum())
    v = pay / gmv if gmv > 0 else float("nan")
    return Measure(v, _in(v, COMMISSION_BAND))


def commission_after_launch(tables: dict, entry_days: dict[str, int],
                            decay_configured: bool) -> Measure:
    """ODD 8 row 2: each platform's rate at its entry and by entry + 180 days.

    Applies only where a decay is configured (None otherwise); the value is the lowest rate at
    entry over the platforms (the table's ``commission_rate``)."""
    plat = tables["platforms"]
    at_entry, after = [], []
    for name, entry in entry_days.items():
        p = plat[plat["platform"] == name].set_index("day")["commission_rate"]
        if entry in p.index:
            at_entry.append(float(p[entry]))
        if entry + COMMISSION_AFTER_DAYS in p.index:
            after.append(float(p[entry + COMMISSION_AFTER_DAYS]))
    v = min(at_entry) if at_entry else float("nan")
    parts = {"rate_at_entry_min": v, "rate_after_max": max(after) if after else float("nan")}
    if not decay_configured:
        return Measure(v, None, parts)
    ok = (bool(at_entry) and all(_in(r, COMMISSION_AT_ENTRY) for r in at_entry)
          and len(after) == len(at_entry) and all(r <= COMMISSION_AFTER for r in after))
    return Measure(v, ok, parts)


def leader_earnings(tables: dict, review_days: int = 30, full_day_hours: float = 2.0) -> Measure:
    """ODD 8 row 3: median income of leader-months with 2+ hours a day, and the 99th percentile
    of orders a day over leader-months (the large leaders)."""
    rv = tables["leader_reviews"]
    hours = rv["work_minutes"] / 60.0 / review_days
    full = rv.loc[hours >= full_day_hours, "income_yuan"]
    med = float(full.median()) if len(full) else float("nan")
    p99 = float((rv["orders"] / review_days).quantile(0.99)) if len(rv) else float("nan")
    return Measure(med, _in(med, EARNINGS_2H_BAND) and _in(p99, ORDERS_P99_BAND),
                   {"orders_per_day_p99": p99})


def pickup_point_income(tables: dict) -> Measure:
    """ODD 8 row 4: the median income of all leader-months."""
    inc = tables["leader_reviews"]["income_yuan"]
    v = float(inc.median()) if len(inc) else float("nan")
    return Measure(v, _in(v, PICKUP_INCOME_BAND))


def window_churn(daily: pd.DataFrame, window: tuple[int, int]) -> float:
    """Quits per leader-month over ``window`` (inclusive): leader quits over leader-days / 30
    (the summary's ``leader_monthly_churn_rate``, on a window)."""
    d = _days(daily, window)
    months = float(d["active_leaders"].sum()) / 30.0
    return float(d["leader_quits"].sum()) / months if months > 0 else float("nan")


def leader_churn(tables: dict) -> Measure:
    """ODD 8 row 5: churn over days 120-364 in the band, and no 30-day window starting on day 30
    or later above 45% a month."""
    daily = tables["daily"]
    v = window_churn(daily, CHURN_WINDOW)
    last = int(daily["day"].max())
    spikes = [window_churn(daily, (s, s + CHURN_SPIKE_DAYS - 1))
              for s in range(CHURN_SPIKE_FROM, last - CHURN_SPIKE_DAYS + 2)]
    spike = float(np.nanmax(spikes)) if spikes else float("nan")
    ok = _in(v, CHURN_BAND) and bool(np.isfinite(spike) and spike <= CHURN_SPIKE_MAX)
    return Measure(v, ok, {"max_30_day_churn": spike})


def multi_source_churn(flat: dict, multi: dict) -> Measure:
    """ODD 8 row 6: relative change of the days 120-364 churn, multi_source against flat (the
    same seed; multi_source pays flat's commission, so platform spend is equal)."""
    a, b = window_churn(flat["daily"], CHURN_WINDOW), window_churn(multi["daily"], CHURN_WINDOW)
    v = b / a - 1.0 if a > 0 else float("nan")
    return Measure(v, _in(v, MULTI_SOURCE_BAND), {"churn_flat": a, "churn_multi_source": b})


def commission_cut(base: dict, cut: dict) -> Measure:
    """ODD 8 row 7: the relative fall of orders over days 120-364 with the commission halved
    (same seed), and the share of that fall from households that lost a leader (in the cut run),
    from the end-of-run household tables.

    A household "lost a leader" when the pickup point of the platform it last ordered from
    stopped (``usual_leaders_lost``, its usual leader of ODD 7.3): every household of a
    neighbourhood counts as a member of its points whether or not it orders, so losing any point
    (``leaders_lost``) covers nearly every household in a year of leader churn and cannot tell
    the households a cut costs from the others (reported as ``any_leader_lost_share``)."""
    ob = float(_days(base["daily"], CUT_WINDOW)["orders"].sum())
    oc = float(_days(cut["daily"], CUT_WINDOW)["orders"].sum())
    fall = (ob - oc) / ob if ob > 0 else float("nan")
    hb = base["households"].set_index("household")["orders_from_split_day"]
    hc = cut["households"].set_index("household")
    lost = hc["usual_leaders_lost"] > 0
    drop = hb - hc["orders_from_split_day"]
    total = float(drop.sum())
    share = float(drop[lost].sum()) / total if total > 0 else float("nan")
    ok = bool(np.isfinite(fall) and fall >= CUT_FALL_MIN
              and np.isfinite(share) and share > CUT_LOST_SHARE_MIN)
    any_lost = hc["leaders_lost"] > 0
    share_any = float(drop[any_lost].sum()) / total if total > 0 else float("nan")
    parts = {"lost_leader_share_of_fall": share,
             "households_lost_leader_share": float(lost.mean()),
             "any_leader_lost_share": float(any_lost.mean()),
             "any_leader_lost_share_of_fall": share_any}
    if "groups_lost_to_quits" in hc:  # a followed group lost to a quit (ODD 7.3), either run
        hq = base["households"].set_index("household")["groups_lost_to_quits"]
        quit_lost = (hc["groups_lost_to_quits"] > 0) | (hq > 0)
        parts["quit_group_lost_share_of_fall"] = (float(drop[quit_lost].sum()) / total
                                                  if total > 0 else float("nan"))
    return Measure(fall, ok, parts)


def _margins(plat: pd.DataFrame) -> pd.DataFrame:
    """Per platform over the rows given: GMV, net revenue, gross and net margin (the summary's
    definitions: (net revenue - goods) / net revenue and profit / net revenue)."""
    g = plat.groupby("platform", sort=False)
    out = pd.DataFrame({"gmv": g["gmv_yuan"].sum(),
                        "net": g["gmv_yuan"].sum() - g["subsidy_yuan"].sum()
                        - g["refunds_yuan"].sum(),
                        "cogs": g["cogs_yuan"].sum(), "profit": g["profit_yuan"].sum()})
    pos = out["net"] > 0
    out["gross_margin"] = np.where(pos, (out["net"] - out["cogs"]) / out["net"].where(pos),
                                   np.nan)
    out["net_margin"] = np.where(pos, out["profit"] / out["net"].where(pos), np.nan)
    return out


def price_war_margin(tables: dict) -> Measure:
    """ODD 8 row 8: GMV-weighted gross margin over days 90-180 of the platforms trading on day
    180."""
    plat = tables["platforms"]
    trading = plat[(plat["day"] == PRICE_WAR_WINDOW[1]) & plat["active"].astype(bool)]
    w = _days(plat, PRICE_WAR_WINDOW)
    m = _margins(w[w["platform"].isin(trading["platform"])])
    m = m[np.isfinite(m["gross_margin"])]
    v = float((m["gross_margin"] * m["gmv"]).sum() / m["gmv"].sum()) if m["gmv"].sum() > 0 \
        else float("nan")
    return Measure(v, _in(v, PRICE_WAR_BAND), {"platforms_trading": len(trading)})


def user_overlap(tables: dict) -> Measure:
    """ODD 8 row 9: the share of the last 30 days' buyers who bought from 2+ platforms (the last
    day's ``user_overlap``), with the share of those buyers who can reach 2+ platforms."""
    daily = tables["daily"]
    v = float(daily["user_overlap"].iloc[-1])
    parts = {}
    if "households" in tables:
        h = tables["households"]
        last = int(daily["day"].iloc[-1])
        buyers = h[h["day_last_order"] > last - 30]
        parts["buyers_reaching_2plus"] = (float((buyers["platforms_reachable"] >= 2).mean())
                                          if len(buyers) else float("nan"))
    return Measure(v, bool(np.isfinite(v) and v > OVERLAP_MIN), parts)


def on_time_pickup(tables: dict) -> Measure:
    """ODD 8 row 10: collected orders collected on their pickup day, over the run."""
    d = tables["daily"]
    pickups = float(d["pickups"].sum())
    v = float((d["on_time_pickup_rate"].fillna(0) * d["pickups"]).sum()) / pickups \
        if pickups else float("nan")
    return Measure(v, bool(np.isfinite(v) and v >= ON_TIME_MIN))


def subsidy_withdrawal(withdrawn: dict, kept: dict, platform: str, day: int) -> Measure:
    """ODD 8 row 11: the relative gap of ``platform``'s 30-day repurchase over days D+20 to D+40
    (inclusive), coupon withdrawn on day ``day`` = D against kept to the horizon (same seed)."""
    win = (day + WITHDRAWAL_LAG[0], day + WITHDRAWAL_LAG[1])

    def rep(t):
        p = t["platforms"]
        return float(np.nanmean(_days(p[p["platform"] == platform], win)["repurchase_rate"]))

    a, b = rep(withdrawn), rep(kept)
    v = a / b - 1.0 if b > 0 else float("nan")
    return Measure(v, bool(np.isfinite(v) and v <= -WITHDRAWAL_DROP_MIN),
                   {"repurchase_withdrawn": a, "repurchase_kept": b})


def produce_loss(tables: dict, produce: list[str]) -> float:
    """Produce units spoiled over units shipped (the summary's ``produce_spoilage_rate``)."""
    s = tables["spoilage"]
    s = s[s["category"].isin(produce)]
    shipped = float(s["units_shipped"].sum())
    return float(s["units_spoiled"].sum()) / shipped if shipped else float("nan")


def fresh_losses(none: dict, full: dict, produce: list[str]) -> Measure:
    """ODD 8 row 12: produce lost with no cold chain (the value) and with a full one."""
    a, b = produce_loss(none, produce), produce_loss(full, produce)
    return Measure(a, _in(a, LOSS_NONE_BAND) and bool(np.isfinite(b) and b < LOSS_FULL_MAX),
                   {"loss_full_cold_chain": b})


def market_end_state(tables: dict) -> Measure:
    """ODD 8 row 13: platforms trading on day 729, and the largest gap (points of share) between
    the survivors' sorted GMV shares over days 640-729 and the target for their number."""
    plat = tables["platforms"]
    last = plat[plat["day"] == END_DAY]
    survivors = last.loc[last["active"].astype(bool), "platform"].tolist()
    n = len(survivors)
    w = _days(plat, END_SHARE_WINDOW)
    gmv = w[w["platform"].isin(survivors)].groupby("platform")["gmv_yuan"].sum()
    shares = np.sort((gmv / gmv.sum()).to_numpy())[::-1] if gmv.sum() > 0 else np.array([])
    gap = float("nan")
    if n in END_SHARES and len(shares) == n:
        gap = float(np.max(np.abs(shares - np.array(END_SHARES[n]))))
    ok = n in END_SHARES and bool(np.isfinite(gap) and gap <= END_SHARE_TOLERANCE)
    return Measure(gap, ok, {"survivors": n, "shares": [round(float(s), 3) for s in shares]})


def incumbent_margins(tables: dict, platform: str = "incumbent") -> Measure:
    """ODD 8 row 14: the regional incumbent's gross (the value) and net margin, days 180-364."""
    plat = tables["platforms"]
    m = _margins(_days(plat[plat["platform"] == platform], INCUMBENT_WINDOW))
    if platform not in m.index:
        return Measure(float("nan"), False, {"net_margin": float("nan")})
    g, n = float(m.loc[platform, "gross_margin"]), float(m.loc[platform, "net_margin"])
    return Measure(g, _in(g, INCUMBENT_GROSS_BAND) and _in(n, INCUMBENT_NET_BAND),
                   {"net_margin": n})


def complaint_rates(tables: dict, produce: list[str]) -> dict:
    """ODD 8 (reported beside the facts, assumptions): complaints per order (orders with a
    spoiled or nearly spent unit, scandal complaints excluded) and per delivered produce unit."""
    d, s = tables["daily"], tables["spoilage"]
    complaints = float(d["complaints"].sum() - d["scandal_complaints"].sum())
    orders = float(d["orders"].sum())
    delivered = float(s.loc[s["category"].isin(produce), "units_delivered"].sum())
    return {"complaints_per_order": complaints / orders if orders else float("nan"),
            "complaints_per_fresh_unit": complaints / delivered if delivered else float("nan")}


# ---------------------------------------------------------------------------------------------
# analytic references of the docks


def bass_curve(p: float, q: float, days: int) -> np.ndarray:
    """The discrete Bass recursion F(t+1) = F + (p + qF)(1 - F), F(0) = 0 (Bass 1969)."""
    f, out = 0.0, np.zeros(days)
    for t in range(days):
        f = f + (p + q * f) * (1 - f)
        out[t] = f
    return out


def logit_shares(prices, alpha, b: float) -> np.ndarray:
    """Logit market shares of J platforms with an outside option of utility 0:
    s_j = exp(alpha_j - b p_j) / (1 + sum_k exp(alpha_k - b p_k))."""
    v = np.asarray(alpha, float) - b * np.asarray(prices, float)
    top = max(float(v.max()), 0.0)  # shifted so that exp never overflows
    e = np.exp(v - top)
    return e / (math.exp(-top) + e.sum())


def logit_bertrand_prices(alpha, b: float, cost, rate) -> np.ndarray:
    """The Bertrand-Nash prices of J platforms under logit demand with an outside option
    (Anderson, de Palma & Thisse 1992): platform j keeps (1 - r_j) p_j - c_j of each unit, so
    its first-order condition is p_j - c_j / (1 - r_j) = 1 / (b (1 - s_j)), s_j counting the
    outside option. Solved jointly with a root finder on the closed-form shares; the reference
    of the logit-Bertrand dock, independent of the model's pricing code.

    Args:
        alpha: (J,) each platform's non-price utility; b: per-yuan price sensitivity (> 0);
        cost: (J,) marginal cost per unit, yuan; rate: (J,) commission rate in [0, 1).
    """
    from scipy.optimize import root

    alpha, cost, rate = (np.asarray(x, float) for x in (alpha, cost, rate))
    if b <= 0 or np.any(rate < 0) or np.any(rate >= 1):
        raise ValueError(f"logit_bertrand_prices: b={b} must be > 0 and every rate in [0, 1), "
                         f"got {rate.tolist()}")
    floor = cost / (1.0 - rate)  # the price at which a unit earns nothing

    def foc(markup):
        p = floor + markup
        return markup - 1.0 / (b * (1.0 - logit_shares(p, alpha, b)))

    sol = root(foc, np.full(len(cost), 1.0 / b), method="hybr", tol=1e-13)
    if not sol.success:
        raise RuntimeError(f"logit_bertrand_prices did not converge: {sol.message}")
    return floor + sol.x
