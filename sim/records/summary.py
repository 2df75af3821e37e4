"""Summaries of a run: the headline figures of ``summary.json``, units in the key names.

:func:`summarise` reads the run's tables (:meth:`sim.records.recorder.Recorder.tables`) and the
model's final state; :func:`leader_calibration_summary` and :func:`supply_summary` are the
leader and supply figures it includes, also used on their own by experiments and tests.
"""

from __future__ import annotations

import math

import pandas as pd

from sim.coupons import coupon_summary
from sim.records.economics import economics_summary
from sim.records.recorder import hhi_points

__all__ = ["FULL_DAY_HOURS", "groups_summary", "leader_calibration_summary", "summarise",
           "supply_summary"]


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


def groups_summary(model, households: pd.DataFrame) -> dict:
    """The groups' headline figures (ODD 7.3, 8 row 9): groups followed, platforms reachable,
    user overlap among the buyers who can reach two or more platforms, the usual leader's share
    of orders."""
    c = model.consumers
    ad = households["adopted"].to_numpy()
    reach = households["platforms_reachable"].to_numpy()
    last = c.day_last_order_p
    recent = (last >= 0) & (last > model.day - 1 - 30)
    buyers = recent.any(axis=1)
    two = buyers & (reach >= 2)
    multi = recent.sum(axis=1) >= 2
    orders = households["orders"].sum()

    def share(x, of):
        return round(float(x.sum() / of.sum()), 6) if of.sum() else None

    return {
        "groups_followed_mean": share(households["groups_followed"].to_numpy() * ad, ad),
        "adopters_reaching_0_platforms": share((reach == 0) & ad, ad),
        "adopters_reaching_1_platform": share((reach == 1) & ad, ad),
        "adopters_reaching_2plus_platforms": share((reach >= 2) & ad, ad),
        "buyers_reaching_2plus_last_30_days": share(two, buyers),
        "user_overlap_reaching_2plus_last_30_days": share(multi & two, two),
        "usual_leader_order_share": (round(float(households["orders_via_usual_leader"].sum()
                                                 / orders), 6) if orders else None),
        "groups_lost_to_quits_total": int(households["groups_lost_to_quits"].sum()),
    }


def occasion_summary(model, tables: dict[str, pd.DataFrame], produce: list[str]) -> dict:
    """Baskets, deals and reputation (ODD 7.2): the share of orders by categories in the basket
    (1..C), the share of GMV sold on a daily deal, each platform's final reputation, and the
    complaints (scandals excluded) per order and per delivered produce unit."""
    sizes = model.recorder.basket_sizes
    plat, daily, spo = tables["platforms"], tables["daily"], tables["spoilage"]
    gmv = plat["gmv_yuan"].sum()
    complaints = float(daily["complaints"].sum() - daily["scandal_complaints"].sum())
    orders = float(daily["orders"].sum())
    fresh = float(spo.loc[spo["category"].isin(produce), "units_delivered"].sum())
    return {
        "basket_size_shares": ([_f(x) for x in sizes[1:] / sizes.sum()] if sizes.sum()
                               else None),
        "deal_share_of_gmv": _f(plat["deal_gmv_yuan"].sum() / gmv) if gmv > 0 else None,
        "reputation_final": {p.name: _f(model.reputation.level[j])
                             for j, p in enumerate(model.platform_list)},
        "complaints_per_order": _f(complaints / orders) if orders else None,
        "complaints_per_fresh_unit": _f(complaints / fresh) if fresh else None,
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
        **groups_summary(model, tables["households"]),
        **occasion_summary(model, tables, produce),
        "gross_margin_last_30_days": margin30(
            lambda g: g["gmv_yuan"].sum() - g["subsidy_yuan"].sum() - g["refunds_yuan"].sum()
            - g["cogs_yuan"].sum()),
        "net_margin_last_30_days": margin30(lambda g: g["profit_yuan"].sum()),
        "fines_total_yuan": _f(daily["fine_yuan"].sum()),
        **economics_summary(model, tables),
        **coupon_summary(tables),  # coupon yuan paid, wasted coupon share (sim.coupons)
        **supply_summary(model, tables),
        **leader_calibration_summary(tables, cfg.leaders.review_days),
    }


# ODD 8 (press reports): leaders who work 2+ hours a day earn ~3,000-5,000 yuan a month;
# large leaders handle 70-100 orders a day.
FULL_DAY_HOURS = 2.0


def leader_calibration_summary(rv_or_tables, review_days: int = 30) -> dict:
    """The leader-size and income figures ODD 8 states, from the monthly reviews.

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
