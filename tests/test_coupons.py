"""Targeted coupons, the wasted coupon share and coupon_match (sim.coupons; ODD 7.4)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.api import compose
from sim.arrays import sums_by
from sim.choice import kernels as choice_k
from sim.config import ConfigError
from sim.coupons import coupon_summary, parse_target
from sim.model import GroupBuyingMarket
from tests.helpers import SMALL

SEGMENTS = ["elderly", "working", "young_family"]


def _incumbent_coupon(target: str, budget: float, days: int = 150) -> list[str]:
    """The incumbent (in the market from day 0) pays a 10-yuan coupon to ``target`` for the
    whole run within ``budget`` a day (for 20,000 households; the smoke market's 2,000 get a
    tenth); nobody else pays coupons."""
    s = "platforms.incumbent.strategy.subsidy"
    return [f"days={days}", "subsidy=none", f"{s}.schedule=withdrawal", f"{s}.days=10000",
            f"{s}.coupon_yuan_per_order=10.0", f"{s}.daily_budget_yuan={budget}",
            f"{s}.target={target}"]


def test_parse_target_and_one_line_errors():
    assert parse_target(["all"], SEGMENTS) == (0, -1)
    assert parse_target(["lapsed", "village"], SEGMENTS) == (2 | 4, -1)
    assert parse_target(["segment:working", "price_sensitive"], SEGMENTS) == (16 | 32, 1)
    for bad, words in ((["vilage"], "not a coupon target"), (["segment:old"], "not a segment"),
                       (["village", "town"], "reach no household"), ([], "empty")):
        with pytest.raises(ValueError, match=words):
            parse_target(bad, SEGMENTS)
    # In a config: one line naming the key, the value and what is allowed.
    key = "platforms.incumbent.strategy.subsidy.target"
    with pytest.raises(ConfigError) as e:
        GroupBuyingMarket(compose(SMALL + [f"{key}=[lapsed,vilage]"]))
    msg = str(e.value)
    assert "\n" not in msg and key in msg and "vilage" in msg and "segment:<name>" in msg
    with pytest.raises(ConfigError, match="segment:elderly, segment:working"):
        GroupBuyingMarket(compose(SMALL + ["subsidy.target=[segment:retired]"]))


def test_wasted_coupon_yuan_equals_the_choice_recomputed_without_the_coupon(monkeypatch):
    """Day by day, the wasted coupon yuan recorded for the incumbent equals the coupon yuan of
    the orders that the same choosers, with the same baskets, deals and uniforms, would still
    have placed with the incumbent had its coupon been removed: recomputed here by running the
    utility kernel again with the incumbent's coupon zeroed, NumPy's exp and the logit draw."""
    model = GroupBuyingMarket(compose(SMALL + _incumbent_coupon("[lapsed,village]", 300.0, 60)
                                      + ["platforms.incumbent.strategy.subsidy.lapsed_days=10"]))
    j = model.platform_names.index("incumbent")
    calls = []
    real = choice_k.choice_utilities_rows

    def spy(*args):
        # the arguments as they were (the day's records change the households' rows later)
        calls.append([a.copy() if isinstance(a, np.ndarray) else a for a in args])
        return real(*args)

    monkeypatch.setattr(choice_k, "choice_utilities_rows", spy)
    checked = 0
    for d in range(60):
        calls.clear()
        model.step()
        if not calls:
            continue
        args = calls[0]
        coupon_of = args[5]
        if coupon_of[j] <= 0:
            continue
        idx = args[0]
        u = model.streams.uniform_at("orders.choice", d, idx)
        z, _, coupon, *_ = real(*args)
        k, _ = choice_k.choice_probabilities(np.exp(z), u)
        free = list(args)
        free[5] = coupon_of.copy()
        free[5][j] = 0.0
        z0, *_ = real(*free)
        k0, _ = choice_k.choice_probabilities(np.exp(z0), u)
        wasted = (k == j + 1) & (coupon[:, j] > 0) & (k0 == j + 1)
        book = model.today.order_book
        buyers = k > 0
        np.testing.assert_array_equal(book.coupon_wasted, wasted[buyers])
        expected = sums_by(np.where(wasted[buyers], book.coupon_yuan, 0.0), book.platform,
                           len(model.platform_list))[j]
        row = [r for r in model.recorder.platforms if r["day"] == d][j]
        assert row["wasted_coupon_yuan"] == expected
        # the coupon moved some choices (not every coupon is wasted) on some day
        checked += int((k != k0).any())
        assert (k0[k == j + 1] != j + 1).sum() + wasted.sum() == ((k == j + 1)
                                                                  & (coupon[:, j] > 0)).sum()
    assert checked > 0, "no day where the coupon changed a choice: the test would prove nothing"


SEEDS = (1, 2, 3)


def test_all_coupon_wastes_more_than_a_lapsed_coupon_of_equal_yuan():
    """Equal money, different targets: an `all` coupon spread over every buyer mostly pays
    households who order from the incumbent anyway; a win-back coupon to lapsed households pays
    those at the margin. Budgets: the lapsed coupon pays 10 yuan within 300 a day (30 in this
    market), bound from ~day 40 once households have lapsed (~4-5 takers a day); the `all`
    coupon gets 70 a day (7 here) over 150 days, so that both pay about the same in total (the
    test asserts within 30%; measured 1,158-1,273 vs 1,110-1,432 yuan). Measured (seeds 1-3):
    wasted share 0.71-0.80 for `all`, 0.33-0.41 for `lapsed`; the test asserts the direction on
    every seed (a gap of ~0.4, four times the seed-to-seed spread of ~0.1)."""
    for seed in SEEDS:
        out = {}
        for target, budget in (("[all]", 70.0), ("[lapsed]", 300.0)):
            m = GroupBuyingMarket(compose(SMALL + _incumbent_coupon(target, budget)
                                          + [f"seed={seed}"]))
            m.run()
            s = coupon_summary(m.recorder.tables())
            out[target] = (s["coupon_paid_yuan"]["incumbent"],
                           s["wasted_coupon_share"]["incumbent"])
        (paid_all, w_all), (paid_lapsed, w_lapsed) = out["[all]"], out["[lapsed]"]
        print(f"seed {seed}: all paid {paid_all:.0f} wasted {w_all:.3f}; "
              f"lapsed paid {paid_lapsed:.0f} wasted {w_lapsed:.3f}")
        assert paid_lapsed > 0 and abs(paid_all / paid_lapsed - 1.0) < 0.3, \
            f"seed {seed}: coupon yuan paid not comparable ({paid_all:.0f} vs {paid_lapsed:.0f})"
        assert w_all > w_lapsed, (f"seed {seed}: an `all` coupon wastes a larger share than a "
                                  f"lapsed one ({w_all:.3f} vs {w_lapsed:.3f})")


def _platform_rows(model, name):
    p = model.recorder.tables()["platforms"]
    return p[p["platform"] == name].set_index("day")


def test_targeted_coupon_reaches_only_its_target():
    """A village coupon is paid on village orders only, a lapsed one on orders from households
    that had not ordered from the platform in ``lapsed_days``."""
    m = GroupBuyingMarket(compose(SMALL + _incumbent_coupon("[lapsed,village]", 2000.0, 60)
                                  + ["platforms.incumbent.strategy.subsidy.lapsed_days=10"]))
    c = m.consumers
    j = m.platform_names.index("incumbent")
    paid_any = False
    for d in range(60):
        before = c.day_last_order_p[:, j].copy()
        m.step()
        book = m.today.order_book
        got = (book.platform == j) & (book.coupon_yuan > 0)
        ok = c.in_village[book.consumer] & (before[book.consumer] >= 0) \
            & (d - before[book.consumer] > 10)
        assert not (got & ~ok).any(), f"day {d}: a coupon outside its target"
        inc = book.platform == j
        # every eligible incumbent order got it while the coupon was paid
        if m.platform_list[j].coupon_yuan > 0:
            assert (got == (inc & ok)).all()
        paid_any |= got.any()
    assert paid_any
    assert set(_platform_rows(m, "incumbent")["coupon_target"]) == {"lapsed+village"}


def test_coupon_match_follows_a_rival_coupon_after_its_share_falls():
    """The incumbent (coupon_match, no coupon of its own) matches the entrant's launch coupon
    once its share has fallen 5 points over 14 days, with the entrant's amount and target,
    within its budget, and stops when the entrant stops paying."""
    s = "platforms.incumbent.strategy.subsidy"
    base = SMALL + ["days=140", "platforms.entrant.entry_day=20", "subsidy.days=40",
                    "subsidy.taper_days=10"]
    m = GroupBuyingMarket(compose(base + [f"{s}.response=coupon_match"]))
    m.run()
    ref = GroupBuyingMarket(compose(base))
    ref.run()
    inc, ent = _platform_rows(m, "incumbent"), _platform_rows(m, "entrant")
    matched = inc["coupon_match_rival"] == "entrant"
    assert matched.any(), "the incumbent never matched"
    first = int(matched.idxmax())
    share = inc["order_share"]
    # triggered by the share it saw at the start of the day: yesterday's vs 14 days before
    assert share[first - 15] - share[first - 1] >= 0.05
    assert not (inc.loc[:first - 1, "coupon_yuan"] > 0).any()
    on = inc.index[matched]
    # the rival's amount (or less, within its own budget), never more
    assert (inc.loc[on, "coupon_yuan"] <= ent.loc[on, "coupon_yuan"] + 1e-12).all()
    assert (inc.loc[on, "coupon_yuan"] > 0).all()
    # the entrant stops paying after 50 days: so does the match
    stop = ent.index[(ent.index > 20) & (ent["coupon_yuan"] == 0)].min()
    assert not matched[stop:].any()
    # before the first match the runs are identical; the match moves orders back
    r_inc = _platform_rows(ref, "incumbent")
    assert inc.loc[:first - 1, "orders"].equals(r_inc.loc[:first - 1, "orders"])
    assert inc.loc[first:stop, "orders"].sum() > r_inc.loc[first:stop, "orders"].sum()


def test_same_seed_same_tables_and_a_late_coupon_leaves_earlier_days():
    """Same seed, same tables (bit for bit); an entrant entering on day 30 with a lapsed
    coupon leaves days before 30 identical to the run without it."""
    over = ["days=50", "platforms.entrant.entry_day=30", "subsidy.target=[lapsed]",
            "subsidy.lapsed_days=5"]
    a, b = (GroupBuyingMarket(compose(SMALL + over)) for _ in range(2))
    a.run()
    b.run()
    ta, tb = a.recorder.tables(), b.recorder.tables()
    for name in ("daily", "platforms", "households"):
        assert ta[name].equals(tb[name]), name
    none = GroupBuyingMarket(compose(SMALL + over + ["subsidy=none"]))
    none.run()
    tn = none.recorder.tables()
    early = ta["daily"]["day"] < 30
    assert ta["daily"][early].equals(tn["daily"][tn["daily"]["day"] < 30])
    assert not ta["daily"].equals(tn["daily"])


def test_a_programme_from_day_d_leaves_the_days_before_it_identical():
    """``subsidy.start_day`` D: the incumbent's coupon to all from day 80 (its days counted
    from 80, so ``days=30`` pays on days 80-109 only); every table row of days < 80 is the
    status quo's bit for bit (a policy from day D), coupons are paid on days 80-109 and none
    after."""
    s = "platforms.incumbent.strategy.subsidy"
    base = SMALL + ["days=130", "subsidy=none", "market.consumers=4000"]
    quo = GroupBuyingMarket(compose(base))
    quo.run()
    pol = GroupBuyingMarket(compose(base + [f"{s}.schedule=withdrawal", f"{s}.days=30",
                                            f"{s}.start_day=80", f"{s}.coupon_yuan_per_order=5",
                                            f"{s}.daily_budget_yuan=20000"]))
    pol.run()
    tq, tp = quo.recorder.tables(), pol.recorder.tables()
    for name in ("daily", "platforms", "spoilage"):
        a, b = (t[name][t[name]["day"] < 80].reset_index(drop=True) for t in (tq, tp))
        assert a.equals(b), name
    paid = tp["platforms"].query("platform == 'incumbent'").set_index("day")["subsidy_yuan"]
    assert paid.loc[80:109].gt(0).sum() >= 25 and paid.loc[110:].eq(0).all(), paid.loc[75:115]
    assert not tq["daily"].equals(tp["daily"])
