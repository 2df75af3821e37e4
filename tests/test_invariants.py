"""Invariants on random valid markets (issue 32): every day of hundreds of small markets drawn
from the schema (tests/schema_fuzz.py: group options, keys anywhere in their ranges), checked by
:func:`state_violations` (the live model, every day) and :func:`table_violations` (the tables).

* Money: every yuan paid has a receiver. Consumers' payments plus coupons are the platforms'
  revenue; platform pay plus outside income is leader income, and the leaders' own accounts
  agree; households' spend is what they paid less refunds; each platform's cash moved by
  exactly its profits; the tables agree with the ledger.
* Goods: procured = delivered + spoiled + in the chain + in stock, none negative; the stock
  lots and the tables agree with the ledger.
* Shares in [0, 1], summing to 1 on days with orders; no negative stock or orders; every
  leader's members within the cap (sim.leaders.table.member_cap).
* NaN only in the columns and cases of :data:`NAN_CASES` (the recorder's documented ratios
  over a count that can be zero), and there exactly.
* Same seed => the same tables, bit for bit.

Float tolerances: the same additions in a different order (a ledger total to date against a
table's sum of daily rows) differ by rounding only: relative 1e-9 of the larger side plus 1e-6
yuan (a few ulps of sums of up to ~1e9 yuan), far below one fen.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from sim.model import GroupBuyingMarket
from tests import schema_fuzz
from tests.helpers import SMALL
from tests.schema_fuzz import count, examples, valid_config

REL, ABS = 1e-9, 1e-6


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= REL * max(abs(a), abs(b)) + ABS


# ---------------------------------------------------------------------------------------------
# the checker


def state_violations(model: GroupBuyingMarket) -> list[str]:
    """What is wrong with the model's state at the end of a day (empty: nothing)."""
    bad = []
    g, m = model.ledger.goods, model.ledger.money
    if g["procured"] != g["delivered"] + g["spoiled"] + g["in_chain"] + g["in_stock"]:
        bad.append(f"goods not conserved: {g}")
    if min(g.values()) < 0:
        bad.append(f"negative goods: {g}")
    lots = sum(len(lots) for row in model.supply.stock for lots in row)
    if g["in_stock"] != lots:
        bad.append(f"ledger in_stock={g['in_stock']} but {lots} lots in stock")
    if not _close(m["consumer_paid"] + m["subsidy"], m["platform_revenue"]):
        bad.append(f"consumer_paid + subsidy != platform_revenue: {m}")
    if not _close(m["commission_paid"] + m["service_fees"] + m["government_subsidy"],
                  m["leader_income"]):
        bad.append(f"platform pay + outside income != leader_income: {m}")
    income = float(model.leaders.view("income_to_date_yuan").sum())
    if not _close(income, m["leader_income"]):
        bad.append(f"leaders' accounts {income} != ledger leader_income {m['leader_income']}")
    for p in model.platform_list:
        start = float(p.cfg.initial_cash_yuan) * p.money_scale
        # cash carries the starting cash (up to 1e13 yuan): each day's addition rounds to
        # within an ulp of that magnitude, so the tolerance grows by one ulp a day
        ulps = (model.day + 1) * np.spacing(max(abs(start), abs(p.cash_yuan)))
        # cash moves by profit and by the funding rounds drawn (not profit)
        moved = p.cumulative_profit_yuan + p.funding_drawn_yuan
        if abs(p.cash_yuan - start - moved) > ulps + REL * abs(moved) + ABS:
            bad.append(f"{p.name}: cash moved {p.cash_yuan - start} != profits "
                       f"{p.cumulative_profit_yuan} + funding {p.funding_drawn_yuan}")
        if p.active and p.cash_yuan < 0:
            bad.append(f"{p.name}: in the market with cash {p.cash_yuan} below zero")
    c = model.consumers
    if c.orders.min(initial=0) < 0:
        bad.append("a household with negative orders")
    t, cap, g = model.leaders, model.leadership.member_cap, model.leadership.groups
    for j in range(c.leader_of.shape[1]):
        rows = c.leader_of[c.leader_of[:, j] >= 0, j]
        if len(rows) and not (t.active[rows].all() and (t.platform[rows] == j).all()):
            bad.append(f"platform {j}: a household served by an inactive or foreign leader")
    followers = np.bincount(g.leader[g.leader >= 0], minlength=t.n)
    most = int(followers.max(initial=0))
    if most > cap:
        bad.append(f"a leader with {most} members, cap {cap}")
    if not np.array_equal(followers, g.members[: t.n]):
        bad.append("the groups' member counts are not their followers")
    if np.isnan(c.trust).any() or (c.trust < 0).any() or (c.trust > 1).any():
        bad.append("trust outside [0, 1] or NaN")
    return bad


def _repurchase_nan_expected(buyers: pd.Series, days: pd.Series) -> pd.Series:
    """Repurchase is NaN where there is no cohort: the first 30 days, or no buyers 30 days ago."""
    cohort = pd.Series(buyers.to_numpy(), index=days.to_numpy())
    before = cohort.reindex(days.to_numpy() - 30).to_numpy()
    return pd.Series((np.isnan(before.astype(float))) | (before == 0), index=buyers.index)


def _net(df):
    return df["gmv_yuan"] - df["subsidy_yuan"] - df["refunds_yuan"]


# Where a table may hold NaN: the ratios whose denominator can be zero (sim/records/recorder.py,
# sim/platforms.py), each with the case where it must be NaN, exactly. None: NaN on every day
# or on none (a market without town, or without village, households).
NAN_CASES = {
    "daily": {
        "hhi_orders": lambda d: d["orders"] == 0,
        "hhi_gmv": lambda d: d["gmv_yuan"] <= 0,
        "user_overlap": lambda d: d["buyers_30d"] == 0,
        "repurchase_rate": lambda d: _repurchase_nan_expected(d["buyers_30d"], d["day"]),
        "on_time_pickup_rate": lambda d: d["pickups"] == 0,
        "adoption_rate_town": None,
        "adoption_rate_village": None,
        "basket_size_mean": lambda d: d["orders"] == 0,
    },
    "platforms": {
        "gross_margin": lambda d: _net(d) <= 0,
        "net_margin": lambda d: _net(d) <= 0,
        "repurchase_rate": lambda d: pd.concat(
            [_repurchase_nan_expected(g["buyers_30d"], g["day"])
             for _, g in d.groupby("platform", sort=False)]).reindex(d.index),
        "on_time_pickup_rate": lambda d: d["pickups"] == 0,
    },
}
COUNT_COLUMNS = {
    "daily": ["adopters", "new_adopters", "lapsed", "occasions", "orders", "active_leaders",
              "leader_recruits", "leader_quits", "units_shipped", "units_spoiled", "complaints",
              "goods_in_chain", "buyers_30d", "pickups", "units_unfilled", "goods_in_stock",
              "gmv_yuan", "subsidy_yuan", "refunds_yuan"],
    "platforms": ["orders", "active_leaders", "new_buyers", "buyers_30d", "pickups",
                  "units_unfilled", "gmv_yuan", "subsidy_yuan", "coupon_yuan", "deal_gmv_yuan"],
    "spoilage": ["units_shipped", "units_spoiled", "units_delivered", "units_unfilled",
                 "units_low_life", "units_bought", "units_in_stock"],
}
SHARES = {"daily": ["adoption_rate", "aware_any_share", "leader_coverage", "user_overlap",
                    "repurchase_rate", "on_time_pickup_rate", "adoption_rate_town",
                    "adoption_rate_village"],
          "platforms": ["order_share", "gmv_share", "aware_share", "repurchase_rate",
                        "on_time_pickup_rate", "reputation"]}


def table_violations(tables: dict[str, pd.DataFrame], money: dict | None = None,
                     goods: dict | None = None) -> list[str]:
    """What is wrong with a run's tables (empty: nothing); ``money`` and ``goods``, the ledger's
    totals at the end, are checked against the tables' sums when given."""
    bad = []
    for name, cases in NAN_CASES.items():
        df = tables[name]
        for col in df.columns:
            if df[col].dtype.kind != "f":
                if df[col].isna().any():
                    bad.append(f"{name}.{col}: missing values")
                continue
            isnan = df[col].isna()
            if col not in cases:
                if isnan.any():
                    bad.append(f"{name}.{col}: NaN on day(s) {df.loc[isnan, 'day'].tolist()[:5]}"
                               " (not a column that may be NaN)")
                continue
            rule = cases[col]
            if rule is None:
                if isnan.any() and not isnan.all():
                    bad.append(f"{name}.{col}: NaN on some days only")
                continue
            want = rule(df).astype(bool)
            if (isnan != want).any():
                rows = df.loc[isnan != want, "day"].tolist()[:5]
                bad.append(f"{name}.{col}: NaN where not documented or missing where it is "
                           f"(day(s) {rows})")
    for name in ("spoilage", "losses", "leaders", "leader_stats", "leader_reviews"):
        df = tables[name]
        num = df.select_dtypes("number")
        if num.isna().any().any():
            bad.append(f"{name}: NaN in {list(num.columns[num.isna().any()])}")
    for name, cols in COUNT_COLUMNS.items():
        df = tables[name]
        for col in cols:
            if (df[col] < 0).any():
                bad.append(f"{name}.{col}: negative on day(s) "
                           f"{df.loc[df[col] < 0, 'day'].tolist()[:5]}")
    for name, cols in SHARES.items():
        df = tables[name]
        for col in cols:
            v = df[col].dropna()
            if ((v < 0) | (v > 1)).any():
                bad.append(f"{name}.{col}: outside [0, 1]")
    daily, plat, spo = tables["daily"], tables["platforms"], tables["spoilage"]
    # Order shares sum to 1 on days with orders, GMV shares on days with sales (in stock mode
    # an order nobody could supply is not charged: orders without GMV).
    for col, base in (("order_share", "orders"), ("gmv_share", "gmv_yuan")):
        total = daily.set_index("day")[base]
        sums = plat.groupby("day")[col].sum().reindex(total.index)
        some = total > 0
        if not np.allclose(sums[some], 1.0, rtol=0, atol=1e-9):
            bad.append(f"platforms.{col}: does not sum to 1 on a day with {base}")
        if (sums[~some] != 0).any():
            bad.append(f"platforms.{col}: not 0 on a day without {base}")
    by_day = plat.groupby("day")[["orders", "gmv_yuan", "subsidy_yuan", "refunds_yuan"]].sum()
    for col in by_day.columns:
        d = daily.set_index("day")[col]
        if not all(_close(a, b) for a, b in zip(d, by_day[col].reindex(d.index), strict=True)):
            bad.append(f"daily.{col} != the platforms' sum")
    if not (spo["units_shipped"] == spo["units_delivered"] + spo["units_spoiled"]).all():
        bad.append("spoilage: shipped != delivered + spoiled")
    if not np.allclose(plat["revenue_yuan"], plat["gmv_yuan"], rtol=REL, atol=ABS):
        bad.append("platforms: revenue (paid + coupons) != GMV")
    ls = tables["leader_stats"]
    pay = ls["commission_yuan"] + ls["bonus_yuan"]
    if not np.allclose(plat["commission_yuan"].to_numpy(), pay.to_numpy(), rtol=REL, atol=ABS):
        bad.append("platforms.commission_yuan != leader_stats commission + bonus")
    if goods is not None:
        if spo["units_bought"].sum() != goods["procured"]:
            bad.append("spoilage.units_bought != ledger procured")
        if spo["units_delivered"].sum() != goods["delivered"]:
            bad.append("spoilage.units_delivered != ledger delivered")
        if spo["units_spoiled"].sum() != goods["spoiled"] or \
                tables["losses"]["units_spoiled"].sum() != goods["spoiled"]:
            bad.append("spoilage or losses units_spoiled != ledger spoiled")
    if money is not None:
        if not _close(plat["revenue_yuan"].sum(), money["platform_revenue"]):
            bad.append("platforms.revenue_yuan summed != ledger platform_revenue")
        if not _close(plat["commission_yuan"].sum(), money["commission_paid"]):
            bad.append("platforms.commission_yuan summed != ledger commission_paid")
    return bad


def run_checked(cfg) -> tuple[GroupBuyingMarket, list[str]]:
    """Run ``cfg`` day by day; the violations found (each prefixed with its day)."""
    model = GroupBuyingMarket(cfg)
    bad = []
    for d in range(cfg.days):
        model.step()
        bad += [f"day {d}: {v}" for v in state_violations(model)]
        if bad:
            break
    c, money = model.consumers, model.ledger.money
    refunds = sum(float(r["refunds_yuan"]) for r in model.recorder.platforms)
    if not _close(float(c.spend_yuan.sum()), money["consumer_paid"] - refunds):
        bad.append("households' spend != consumer_paid - refunds")
    bad += table_violations(model.recorder.tables(), money, model.ledger.goods)
    return model, bad


# ---------------------------------------------------------------------------------------------
# the checker can fail


@pytest.fixture(scope="module")
def small_run():
    from sim.api import compose

    # successors found at once: this small market keeps leaders (and members) through day 45
    return run_checked(compose(SMALL + ["days=45", "market.consumers=600",
                                        "leaders.successor_search_days_town=0",
                                        "leaders.successor_search_days_village=0"]))


def test_the_checker_passes_a_sound_run(small_run):
    _, bad = small_run
    assert bad == []


def _broken(tables, name, col, rows, value):
    t = {k: v.copy() for k, v in tables.items()}
    t[name].loc[rows, col] = value
    return t


@pytest.mark.parametrize("name,col,value,needle", [
    ("platforms", "order_share", 0.9, "order_share: does not sum to 1"),
    ("platforms", "gmv_share", 0.0, "gmv_share: does not sum to 1"),
    ("platforms", "orders", -1, "platforms.orders: negative"),
    ("spoilage", "units_in_stock", -3, "spoilage.units_in_stock: negative"),
    ("daily", "gmv_yuan", np.nan, "daily.gmv_yuan: NaN"),
    ("daily", "hhi_orders", np.nan, "hhi_orders: NaN where not documented"),
    ("platforms", "aware_share", 1.5, "aware_share: outside [0, 1]"),
    ("spoilage", "units_spoiled", 10**6, "shipped != delivered + spoiled"),
])
def test_the_checker_catches_a_broken_table(small_run, name, col, value, needle):
    model, _ = small_run
    tables = model.recorder.tables()
    day = int(tables["daily"].loc[tables["daily"]["orders"] > 0, "day"].iloc[-1])
    rows = tables[name].index[tables[name]["day"] == day][:1]
    bad = table_violations(_broken(tables, name, col, rows, value))
    assert any(needle in b for b in bad), bad


def test_the_checker_catches_broken_state(small_run):
    model, _ = small_run
    model.ledger.goods["spoiled"] += 1
    assert any("goods not conserved" in b for b in state_violations(model))
    model.ledger.goods["spoiled"] -= 1
    model.ledger.money["subsidy"] += 0.5
    assert any("platform_revenue" in b for b in state_violations(model))
    model.ledger.money["subsidy"] -= 0.5
    model.platform_list[0].cash_yuan += 1.0
    assert any("cash moved" in b for b in state_violations(model))
    model.platform_list[0].cash_yuan -= 1.0
    model.leadership.member_cap = 0
    assert any("cap 0" in b for b in state_violations(model))


def test_the_generator_builds_what_compose_builds():
    """with_options fills each group from its own composition: the same as composing together."""
    from sim.api import compose

    opts = {"market": "village_cluster", "platforms": "consolidation", "procurement": "stock",
            "incentive": "tiered", "subsidy": "new_user", "coldchain": "full",
            "policy": "samr_2020"}
    composed = compose([f"{g}={o}" for g, o in opts.items()])
    assert schema_fuzz.with_options(opts) == OmegaConf.to_container(composed, resolve=True)
    # and the dataclasses built from it are what the model makes of the composed config
    assert schema_fuzz.to_schema(schema_fuzz.with_options(opts)) == OmegaConf.to_object(composed)


# ---------------------------------------------------------------------------------------------
# random markets


@pytest.mark.slow
@settings(max_examples=examples(500))
@given(valid_config())
def test_invariants_hold_every_day_of_random_markets(drawn):
    cfg = drawn.cfg
    _, bad = run_checked(cfg)
    count("random markets run (invariants checked every day)")
    count("market-days checked", int(cfg.days))
    assert bad == [], f"{drawn}: {bad[:5]}"


@pytest.mark.slow
@settings(max_examples=examples(60))
@given(valid_config(), st.integers(0, 2**32 - 1))
def test_same_seed_gives_the_same_tables_in_random_markets(drawn, seed):
    cfg = drawn.cfg
    cfg.seed = seed
    a = GroupBuyingMarket(copy.deepcopy(cfg))
    a.run()
    b = GroupBuyingMarket(copy.deepcopy(cfg))
    b.run()
    ta, tb = a.recorder.tables(), b.recorder.tables()
    for name in ta:
        pd.testing.assert_frame_equal(ta[name], tb[name], obj=name)
    count("random markets run twice with one seed (tables identical)")
