"""Poaching (ODD 7.4, sim.leaders.poaching): a platform offers a rival's largest leaders a
commission premium; those who take it bring their members' orders and cost the premium."""

import numpy as np
import pytest

from sim.api import compose
from sim.leaders.poaching import poach_targets
from sim.leaders.table import person_of
from sim.model import GroupBuyingMarket


def test_targets_are_the_rivals_largest_leaders_once_each_where_the_poacher_covers():
    # rows:        0    1    2    3    4    5    6
    platform = np.array([1, 0, 1, 2, 1, 2, 1])
    active = np.array([1, 1, 1, 1, 0, 1, 1], bool)
    sales = np.array([50., 900., 300., 300., 999., 80., 700.])
    person = np.array([0, 1, 2, 3, 4, 2, 1])  # row 5 is person 2's second service, row 6 is 1's
    neighbourhood = np.array([0, 0, 1, 1, 0, 2, 0])
    covered = np.array([True, True, False])
    serves_0 = np.zeros(7, bool)
    serves_0[1] = True  # person 1 already serves platform 0
    got = poach_targets(platform, active, sales, person, neighbourhood, covered, serves_0, 0, 5)
    # row 1 is platform 0's own; row 4 inactive; row 5 uncovered; row 6 of a leader serving 0
    assert got.tolist() == [2, 3, 0]  # by sales, the tie (300, 300) by row
    assert poach_targets(platform, active, sales, person, neighbourhood, covered, serves_0, 0,
                         2).tolist() == [2, 3]
    # a leader serving two rivals gets one offer, for its larger row
    cov = np.ones(3, bool)
    got = poach_targets(platform, active, sales, person, neighbourhood, cov, serves_0, 0, 9)
    assert got.tolist() == [2, 3, 0]  # person 2's row 5 (80) is left out


OFFER_DAY = 30  # the entrant enters on day 0 and makes its first offers on day 30 (the next on
#                day 60, after the runs' end: every poached leader was poached on day 30)
BASE = ["experiment=smoke", "market.consumers=4000", "days=59", "progress=false",
        "platforms.entrant.entry_day=0"]
POACH = ["platforms.entrant.strategy.rivalry.poach_leaders_per_month=40",
         "platforms.entrant.strategy.rivalry.poach_accept_prob=1.0",
         "platforms.entrant.strategy.rivalry.poach_move_share=1.0"]


def _run(over, seed):
    """A run, and the orders through each (leader, platform) from the offer day on."""
    m = GroupBuyingMarket(compose([*BASE, f"seed={seed}", *over]))
    orders = {}
    book_orders = m.leadership.book_orders

    def book(b):  # settlement books every order on its leader's row
        if m.day > OFFER_DAY and len(b.leader):
            key = person_of(m.leaders)[b.leader] * 10 + b.platform
            k, n = np.unique(key, return_counts=True)
            for a, c in zip(k.tolist(), n.tolist(), strict=True):
                orders[a] = orders.get(a, 0) + c
        book_orders(b)

    m.leadership.book_orders = book
    m.run()
    return m, orders


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_poached_leaders_take_their_members_orders_to_the_poacher_at_a_premium(seed):
    """Runs are identical to the offer day (common random numbers), so the poached leaders are
    the same people in both runs: over the next 29 days the orders through them go to the
    poacher (more than without poaching: 3-135 against 0-28 in seeds 1-5, 4,000 households) and
    less to the rivals they left (0-17 against 4-53); the poacher's orders grow; it pays the
    premium, less than the poached rows' whole pay. Each seed on its own: the moves are
    large against the few orders a leader's members place without them."""
    base, ob = _run([], seed)
    m, op = _run(POACH, seed)
    t = m.leaders
    rows = m.poaching.rows
    assert len(rows) > 0 and (t.platform[rows] == 1).all()
    persons = np.unique(person_of(t)[rows])

    def via(orders, j):
        return sum(orders.get(int(p) * 10 + j, 0) for p in persons)

    assert via(op, 1) > via(ob, 1), "the poached leaders' members order from the poacher"
    assert via(op, 0) + via(op, 2) <= via(ob, 0) + via(ob, 2), "and less from the rivals"
    total = [sum(v for k, v in o.items() if k % 10 == 1) for o in (ob, op)]
    assert total[1] > total[0], f"the poacher's orders after the offers: {total}"
    ev = m.recorder.tables()["platforms"]
    ent = ev[ev["platform"] == "entrant"]
    assert ent["leaders_poached"].sum() == len(rows)
    premium = ent["poach_premium_yuan"].sum()
    assert 0 < premium < t.income_to_date_yuan[rows].sum()  # pay to date includes the premium
    be = base.recorder.tables()["platforms"]
    assert be["poach_premium_yuan"].sum() == 0 and be["leaders_poached"].sum() == 0


def test_a_leader_who_adds_keeps_its_rival_and_one_who_moves_leaves_it():
    add, _ = _run([*POACH[:-1], "platforms.entrant.strategy.rivalry.poach_move_share=0.0"], 2)
    move, _ = _run(POACH, 2)
    for m, left in ((add, False), (move, True)):
        ev = m.recorder.tables()["leaders"]
        assert (ev["event"] == "poached").any() == left, ev["event"].value_counts()


def test_without_offers_nothing_changes_bit_for_bit():
    """A premium or acceptance chance with no offers a month changes nothing."""
    a, _ = _run([], 4)
    b, _ = _run(["platforms.entrant.strategy.rivalry.poach_premium_rate=0.2",
                 "platforms.entrant.strategy.rivalry.poach_accept_prob=1.0"], 4)
    ta, tb = a.recorder.tables()["platforms"], b.recorder.tables()["platforms"]
    assert ta.equals(tb)


def test_the_premium_is_paid_for_its_days_at_its_rate():
    """No premium with a premium of 0 days or a rate of 0, though leaders are poached; with a
    rate, the premium paid is at most the rate times the poached rows' sales to date."""
    for key in ("poach_premium_days=0", "poach_premium_rate=0.0"):
        m, _ = _run([*POACH, f"platforms.entrant.strategy.rivalry.{key}"], 5)
        p = m.recorder.tables()["platforms"]
        assert p["leaders_poached"].sum() > 0 and p["poach_premium_yuan"].sum() == 0, key
    m, _ = _run([*POACH, "platforms.entrant.strategy.rivalry.poach_premium_rate=0.25"], 5)
    p = m.recorder.tables()["platforms"]
    rows = m.poaching.rows
    sales = m.leaders.month_sales_yuan[rows].sum() + m.leaders.last_month_sales_yuan[rows].sum()
    assert 0 < p["poach_premium_yuan"].sum() <= 0.25 * sales + 1e-9
