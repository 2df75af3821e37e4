"""Baskets, daily deals and reputation (issue 27, ODD 7.2): the rules with exact expectations,
the order book's mask through procurement, and the behaviour over seeds.

Behaviour tests compare paired runs (same seed: common random numbers, so a pair differs only
through what the test changes) on several seeds, and assert the direction in every seed.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.api import compose
from sim.choice.baskets import basket_mask, basket_sizes
from sim.choice.deals import daily_discounts
from sim.config import ConfigError
from sim.model import GroupBuyingMarket
from sim.reputation import reputation_step

SMALL = ["experiment=smoke"]  # 2,000 households
SEEDS = [1, 2, 3]
CATEGORIES = ("leafy_veg", "fruit", "meat_eggs", "chilled_frozen", "dry_goods")


# --- the rules (ODD 7.2) ----------------------------------------------------------------------


def test_a_basket_holds_the_categories_whose_uniform_is_below_their_frequency():
    b = np.array([0.5, 0.2, 0.0, 1.0])
    u = np.array([[0.4, 0.3, 0.0, 0.99],   # 0 and 3 in; 2 never (b = 0), even at u = 0
                  [0.6, 0.1, 0.5, 0.999]])  # 1 and 3 in
    np.testing.assert_array_equal(basket_mask(u, b), [[True, False, False, True],
                                                      [False, True, False, True]])


def test_an_empty_draw_takes_the_category_with_the_smallest_uniform_over_frequency():
    b = np.array([0.5, 0.2, 0.0, 0.1])
    # u / b = 1.6, 1.5, inf, 9: the second; no resampling, so the row's uniforms decide
    u = np.array([[0.8, 0.3, 0.01, 0.9]])
    np.testing.assert_array_equal(basket_mask(u, b), [[False, True, False, False]])
    assert basket_mask(u, b).sum() == 1
    np.testing.assert_array_equal(basket_sizes(basket_mask(u, b)), [0, 1, 0, 0, 0])


def test_baskets_follow_the_purchase_frequencies():
    rng = np.random.default_rng(0)
    b = np.array([0.7, 0.5, 0.4, 0.2, 0.3])
    basket = basket_mask(rng.random((200_000, 5)), b)
    p_empty = np.prod(1 - b)  # the empty draws (~5%) add one category each
    # each share within 0.01 of b_c plus its part of the empty draws (binomial s.e. ~0.001)
    assert (basket.mean(axis=0) >= b - 0.005).all()
    assert abs(basket.sum(axis=1).mean() - (b.sum() + p_empty)) < 0.01


def test_a_deal_is_drawn_with_its_probability_and_depth():
    u_on = np.array([0.1, 0.25, 0.19999, 0.5])
    u_depth = np.array([0.0, 0.9, 1.0 - 1e-12, 0.5])
    d = daily_discounts(u_on, u_depth, 0.2, 0.1, 0.3)
    np.testing.assert_allclose(d, [0.1, 0.0, 0.3, 0.0])


def test_reputation_halves_its_gap_to_the_target_in_a_half_life():
    level = np.array([0.2, 0.9, 0.5])
    complaints, orders = np.array([10, 0, 5]), np.array([100, 50, 0])
    level2 = level
    for _ in range(30):
        level2 = reputation_step(level2, complaints, orders, 2.0, 30.0)
    # targets 1 - 2 x 0.1 = 0.8 and 1 - 0 = 1; no orders: the third keeps its level
    np.testing.assert_allclose(level2[:2], [0.8 - 0.6 / 2, 1.0 - 0.1 / 2], rtol=1e-12)
    assert level2[2] == 0.5
    # a complaint rate above 1 / scale clips the target at 0
    assert reputation_step(np.array([0.5]), np.array([9]), np.array([10]), 2.0, 1.0)[0] == 0.25


@pytest.mark.parametrize("override, key", [
    (["choice.deal_discount_min=0.4", "choice.deal_discount_max=0.2"], "deal_discount_min=0.4"),
    ([f"products.{c}.purchase_frequency=0" for c in CATEGORIES], "purchase_frequency"),
])
def test_bad_deal_or_basket_settings_fail_with_one_line(override, key):
    with pytest.raises(ConfigError, match=key) as e:
        GroupBuyingMarket(compose(SMALL + override))
    assert "\n" not in str(e.value)


# --- the order book's mask through the day ------------------------------------------------------


def test_orders_hold_their_baskets_only_and_the_supply_follows():
    model = GroupBuyingMarket(compose(SMALL + ["days=40", "seed=1"]))
    books = []
    real = model.supply.run

    def keep(d):
        real(d)
        books.append((model.pending, model.choice.deals.discount.copy(),
                      np.stack([p.prices for p in model.platform_list])))

    model.supply.run = keep
    model.run()
    sizes = []
    for book, discount, prices in books:
        if len(book) == 0:
            continue
        out = ~book.basket
        assert (book.prices[out] == 0).all() and not book.filled[out].any()
        assert (book.supplier[out] == -1).all() and (book.cost_yuan[out] == 0).all()
        # a filled unit is at the day's deal price of its platform
        r, c = np.nonzero(book.filled)
        j = book.platform[r]
        np.testing.assert_allclose(book.prices[r, c], prices[j, c] * (1 - discount[j, c]))
        sizes.append(book.basket.sum(axis=1))
    sizes = np.concatenate(sizes)
    assert sizes.min() >= 1 and sizes.max() <= len(CATEGORIES)
    assert 1.5 < sizes.mean() < 3.0, "baskets of ~2.2 categories (products/standard.yaml)"
    t = model.recorder.tables()
    # every unit bought was an ordered unit (pre-sale buys exactly the orders' baskets)
    bought = t["spoilage"]["units_bought"].sum()
    assert bought == sum(int(bk.filled.sum()) for bk, *_ in books)
    deal = t["platforms"]["deal_gmv_yuan"].sum() / t["platforms"]["gmv_yuan"].sum()
    assert 0.05 < deal < 0.5, "deals one day in five per category: a part of GMV, not all"


def test_deals_are_each_platforms_own_stream():
    """A platform added to the market leaves the others' deals as they were."""
    a = GroupBuyingMarket(compose(SMALL + ["platforms=two_platform", "seed=4"]))
    b = GroupBuyingMarket(compose(SMALL + ["platforms=three_way", "seed=4"]))
    for d in (0, 7, 30):
        da, db = a.choice.deals, b.choice.deals
        da.post(d)
        db.post(d)
        for j, name in enumerate(a.platform_names):
            np.testing.assert_array_equal(da.discount[j],
                                          db.discount[b.platform_names.index(name)])


# --- behaviour over seeds ---------------------------------------------------------------------


def _category_share(model_overrides, seed, force=None, days=90, from_day=45):
    """The incumbent's share of leafy-vegetable units bought over days ``from_day``.. (the
    spoilage table's units bought, pre-sale: the orders' units), with the incumbent's leafy
    vegetables on a 25% deal every day from ``from_day`` if ``force``."""
    model = GroupBuyingMarket(compose(SMALL + [f"days={days}", f"seed={seed}"]
                                      + model_overrides))
    deals = model.choice.deals
    real = deals.post
    j = model.platform_names.index("incumbent")

    def post(d):
        real(d)
        if force and d >= from_day:
            deals.discount[j, 0] = 0.25
            deals.deal_prices = np.stack([p.prices for p in model.platform_list]) \
                * (1.0 - deals.discount)
        return deals.deal_prices

    deals.post = post
    model.run()
    s = model.recorder.tables()["spoilage"]
    s = s[s["day"] >= from_day]
    share = {}
    for cat in ("leafy_veg", "dry_goods"):
        c = s[s["category"] == cat]
        share[cat] = c.loc[c["platform"] == "incumbent", "units_bought"].sum() \
            / c["units_bought"].sum()
    return share


@pytest.mark.slow
def test_a_deal_on_a_category_moves_its_orders_toward_the_platform_that_posts_it():
    for seed in SEEDS:
        base = _category_share([], seed)
        deal = _category_share([], seed, force=True)
        # Direction in every seed: a 25% deal on 3-yuan leafy vegetables is ~0.4 of utility at
        # beta 6 for a ~12-yuan basket that holds them, several standard errors of a share
        # measured on ~3,000 units.
        assert deal["leafy_veg"] > base["leafy_veg"], (seed, deal, base)
        # it moves the category that is on deal more than one that is not
        assert deal["leafy_veg"] - base["leafy_veg"] > deal["dry_goods"] - base["dry_goods"], \
            (seed, deal, base)


# A steady market for the scandal: leaders never quit, gaps are filled at once and groups are
# kept. In the default market leaders quit ~60% a month (issue 27's smaller orders), and two
# paired paths diverge within two months of the scandal (seed 2: the incumbent's share of
# 15-day windows swings 0.19-0.47 in the run without it), so the loss 90 days later would
# measure that divergence rather than the scandal's mark on the name.
STEADY = ["leaders.churn_base_logit=-50", "leaders.churn_shortfall_slope=0",
          "leaders.recruits_per_day=100000", "groups.group_idle_days=100000"]


def _incumbent_share(overrides, seed, days=240, n=5000):
    model = GroupBuyingMarket(compose(SMALL + STEADY + [f"days={days}", f"seed={seed}",
                                                        f"market.consumers={n}"] + overrides))
    model.run()
    p = model.recorder.tables()["platforms"]
    orders = p.pivot(index="day", columns="platform", values="orders")
    return orders["incumbent"], orders.sum(axis=1)


@pytest.mark.slow
def test_a_scandal_keeps_half_its_share_loss_90_days_later():
    # Reputation half-life 180 days (configs/config.yaml, fixed before this was measured).
    day = 120
    scandal = [f"+wom.scandals=[{{day:{day},platform:incumbent,severity:0.5}}]"]

    def share(o, t, lo):
        return o.loc[lo:lo + 29].sum() / t.loc[lo:lo + 29].sum()

    for seed in SEEDS:
        a, ta = _incumbent_share([], seed)
        b, tb = _incumbent_share(scandal, seed)
        first = share(a, ta, day) - share(b, tb, day)
        late = share(a, ta, day + 90) - share(b, tb, day + 90)
        assert first > 0, (seed, first)
        # ODD 7.2 / issue 27: at least half of the first month's loss is left on days 210-239
        assert late >= 0.5 * first, (seed, first, late)


def _complaints_by_basket_size(seed):
    """Today's collected orders' basket sizes, complaints and units, over a 150-day run."""
    model = GroupBuyingMarket(compose(SMALL + ["days=150", f"seed={seed}"]))
    rows = []
    real = model.coldchain.run

    def run(d):
        book = model.pending
        real(d)
        if book is None or len(book) == 0:
            return
        who, _ = model.today.complainers  # one order per household a day
        units = book.filled.sum(axis=1)
        got = units > 0
        rows.append((book.basket.sum(axis=1)[got], np.isin(book.consumer, who)[got], units[got]))

    model.coldchain.run = run
    model.run()
    return (np.concatenate(x) for x in zip(*rows, strict=True))


@pytest.mark.slow
def test_smaller_baskets_lower_complaints_per_order_but_not_per_unit():
    # In one market (the same cold chain, platforms and days), one-category orders against
    # orders of three or more: an order complains once, whatever the number of its bad units.
    for seed in SEEDS:
        size, complaint, units = _complaints_by_basket_size(seed)
        small, large = size == 1, size >= 3
        assert small.sum() > 500 and large.sum() > 500
        per_order = [complaint[s].mean() for s in (small, large)]
        per_unit = [complaint[s].sum() / units[s].sum() for s in (small, large)]
        assert per_order[0] < per_order[1], (seed, per_order)
        # Per unit the small baskets' rate is not lower: allowed three standard errors of the
        # difference, each rate a Poisson count of complaints over its units (~50-300).
        se = np.sqrt(sum(complaint[s].sum() / units[s].sum() ** 2 for s in (small, large)))
        assert per_unit[0] > per_unit[1] - 3 * se, (seed, per_unit, se)
