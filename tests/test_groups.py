"""Followed groups (ODD 7.1) and what a quit costs (ODD 7.3): exact rules on hand-built tables,
then the mechanism inside the model."""

import numpy as np
import pytest

from sim.api import compose
from sim.leaders import kernels as gk
from sim.leaders import person_of
from sim.leaders.recruiting import daily_recruits
from sim.model import GroupBuyingMarket
from tests.helpers import SMALL

# A hand-built network of five households in two neighbourhoods:
#   0 (nbhd 0) -- 1 (nbhd 1), 0 -- 2 (nbhd 1); 3 (nbhd 0) -- 4 (nbhd 0).
# Leaders are persons 0 (lives in nbhd 0) and 1 (nbhd 1); households 1 and 2 follow leader 1.
NB = np.array([0, 1, 1, 0, 0], np.int32)
INDPTR = np.array([0, 2, 3, 4, 5, 6], np.int64)
INDICES = np.array([1, 2, 0, 0, 4, 3], np.int64)
DEGREE = np.array([2, 1, 1, 1, 1], np.float32)
OWN_PTR = np.array([0, 1, 2], np.int64)  # nbhd 0: leader 0; nbhd 1: leader 1
OWN_PERSONS = np.array([0, 1], np.int64)


def _table(n=5, n_g=3):
    leader = np.full((n, n_g), -1, np.int64)
    day_used = np.full((n, n_g), -1, np.int32)
    leader[1, 0] = leader[2, 0] = 1
    day_used[1, 0] = day_used[2, 0] = 0
    return leader, day_used


def _join(households, u, u_pick, leader, day_used, h_own=0.1, h_tie=0.3, search=None,
          mult=1.0, open_=(True, True), members=(0, 2), cap=1500, weight=(1.0, 1.0), via=False):
    search = np.full(5, -1, np.int32) if search is None else search
    members = np.array(members, np.int64)
    tie_open = gk.tie_counts(leader, INDPTR, INDICES)
    takes = np.full(leader.shape, -1, np.int64)
    service_of = np.array([[10], [11]], np.int64)  # each leader serves platform 0
    out = gk.join_exact(np.array(households, np.int64), np.array(u, float),
                        np.array(u_pick, float), leader, day_used, takes, service_of, NB,
                        OWN_PTR, OWN_PERSONS, np.ones(2, bool), np.array(open_), members, cap,
                        INDPTR, INDICES, False, DEGREE, h_own, h_tie, search, 5, mult, tie_open,
                        np.array(weight), max(weight))
    # the ties' counts, kept up to date by the join, equal a recount
    np.testing.assert_array_equal(tie_open, gk.tie_counts(leader, INDPTR, INDICES))
    return (out if via else out[:2]), members


def test_joining_chance_is_own_plus_ties_share():
    """h_0L = h_own [L next door] + h_tie (ties following L) / k: leader 0 next door 0.1,
    leader 1 followed by both of household 0's ties 0.3 x 2 / 2; they add to 0.4."""
    leader, day_used = _table()
    (joined, to), _ = _join([0], [0.399], [0.1 / 0.4 - 1e-9], leader, day_used)
    assert joined.tolist() == [0] and to.tolist() == [0]  # the first 0.1 of 0.4: leader 0
    leader, day_used = _table()
    (joined, to), members = _join([0], [0.399], [0.1 / 0.4 + 1e-9], leader, day_used)
    assert to.tolist() == [1] and members.tolist() == [0, 3]
    assert leader[0].tolist() == [1, -1, -1] and day_used[0, 0] == 5
    leader, day_used = _table()
    (joined, _), _ = _join([0], [0.401], [0.0], leader, day_used)
    assert len(joined) == 0 and (leader[0] == -1).all()


def test_followed_and_full_leaders_are_left_out_and_search_multiplies():
    leader, day_used = _table()
    leader[0, 0] = 1  # household 0 follows leader 1 already: only leader 0 is left, 0.1
    (joined, _), _ = _join([0], [0.101], [0.0], leader, day_used)
    assert len(joined) == 0
    (joined, to), _ = _join([0], [0.099], [0.9], leader, day_used)
    assert to.tolist() == [0] and leader[0, :2].tolist() == [1, 0]
    # Leader 1's groups are full: a draw that lands on it joins nobody, one on leader 0 joins
    # it (so the chance of joining leader 0 stays its 0.1 of the 0.4).
    leader, day_used = _table()
    (joined, _), _ = _join([0], [0.15], [0.9], leader, day_used, open_=(True, False))
    assert len(joined) == 0
    (joined, to), _ = _join([0], [0.15], [0.1], leader, day_used, open_=(True, False))
    assert to.tolist() == [0]
    leader, day_used = _table()
    search = np.full(5, -1, np.int32)
    search[0] = 6  # searching until day 6 (today is 5): chances x 2, 0.8
    (joined, _), _ = _join([0], [0.79], [0.0], leader, day_used, search=search, mult=2.0)
    assert joined.tolist() == [0]


def test_a_group_closes_when_it_reaches_the_cap():
    leader, day_used = _table()
    (joined, to), members = _join([0, 3], [0.0, 0.0], [0.99, 0.0], leader, day_used,
                                  members=(0, 2), cap=3)
    # household 0 joins leader 1 (its third member: now full); household 3 then has leader 0
    assert to.tolist() == [1, 0] and members.tolist() == [1, 3]


def test_joining_frequencies_are_the_hazards():
    """Over many draws the share joining each leader is its h_iL (binomial: 4 standard errors,
    a correct rule fails with probability ~6e-5)."""
    rng = np.random.default_rng(0)
    n, hits = 40_000, np.zeros(2)
    u, up = rng.random(n), rng.random(n)
    for k in range(n):
        leader, day_used = _table()
        (joined, to), _ = _join([0], [u[k]], [up[k]], leader, day_used)
        if len(joined):
            hits[to[0]] += 1
    for got, want in zip(hits / n, (0.1, 0.3), strict=True):
        assert abs(got - want) < 4 * np.sqrt(want * (1 - want) / n), (got, want)


def test_a_referral_reward_weights_invitations_exactly_by_thinning():
    """Leader 0 next door (0.1) and leader 1 through both ties (0.3 x 2 / 2) for household 0,
    with leader 0's invitations weighted 2 (a reward) and leader 1's 1: the draw takes the ties'
    part at the largest weight (0.6) and keeps leader 1 half the time, so over a grid of pick
    uniforms (the join's uniform 0: it always tries) leader 0 is joined 0.1 / 0.7 of the time,
    leader 1 0.3 / 0.7 (its exact chance over the bound), and only leader 1 through a tie."""
    n = 7000
    picks = (np.arange(n) + 0.5) / n
    got = {0: 0, 1: 0}
    for up in picks:
        leader, day_used = _table()
        (joined, to, via), _ = _join([0], [0.0], [up], leader, day_used, weight=(2.0, 1.0),
                                     via=True)
        if len(to):
            got[int(to[0])] += 1
            assert bool(via[0]) == (to[0] == 1)
    assert got[0] == pytest.approx(n * 0.1 / 0.7, abs=1)
    assert got[1] == pytest.approx(n * 0.3 / 0.7, abs=1)
    # weighted 2 itself, leader 1 is kept whenever drawn: 0.6 / 0.7
    got1 = 0
    for up in picks:
        leader, day_used = _table()
        (_, to), _ = _join([0], [0.0], [up], leader, day_used, weight=(1.0, 2.0))
        got1 += int(len(to) > 0 and to[0] == 1)
    assert got1 == pytest.approx(n * 0.6 / 0.7, abs=1)


def test_the_screen_bounds_the_exact_chance():
    """The screen's bound (its neighbourhood's leaders it does not follow, its ties' groups it
    does not follow) is never below the exact sum, on random tables; so screening with the same
    uniform loses nobody. On these tables, where no group is full, it is exact."""
    rng = np.random.default_rng(1)
    for _ in range(50):
        leader = np.full((5, 3), -1, np.int64)
        for i in range(5):
            k = rng.integers(0, 3)
            leader[i, :k] = rng.choice(2, k, replace=False)
        tie_open = gk.tie_counts(leader, INDPTR, INDICES)
        _, _, cand, bound = gk.idle_and_screen(
            leader, np.zeros((5, 3), np.int32), np.zeros((5, 3), np.int64), 5, -1,
            np.full(5, -1), np.zeros(2, np.int64), INDPTR, INDICES, tie_open,
            np.zeros(2, bool), 14, np.ones(5, bool), NB, np.array([1.0, 1.0]),
            np.ones(2, bool), np.array([0, 1]), DEGREE, 0.1, 0.3, np.full(5, -1, np.int32), 1.0,
            False, 0, 1.0)
        for i, b in zip(cand, bound, strict=True):
            exact = 0.1 * (NB[i] not in leader[i])  # leader L lives in neighbourhood L
            for e in range(INDPTR[i], INDPTR[i + 1]):
                exact += 0.3 * sum(L >= 0 and L not in leader[i] for L in leader[INDICES[e]]) \
                    / DEGREE[i]
            assert b == pytest.approx(exact, abs=1e-12)


def test_pickup_point_is_next_door_first_else_most_recent():
    """Leaders 0 (nbhd 0) and 1, 2 (nbhd 1) all serve platform 0; household 0 lives in nbhd 0."""
    leader = np.array([[1, 0, 2], [1, 2, -1]], np.int64)
    day_used = np.array([[9, 3, 7], [4, 8, -1]], np.int32)
    service_of = np.array([[10, -1], [11, 21], [12, 22]], np.int64)  # leader 0: platform 0 only
    leader_of = np.full((2, 2), -7, np.int32)
    takes = np.full((2, 3), -1, np.int64)
    gk.pickup_rows(np.array([0, 1]), leader, day_used, takes, np.array([0, 0], np.int32),
                   np.array([0, 1, 1]), service_of, leader_of)
    # household 0: platform 0 from the neighbour leader 0 (though used longer ago); platform 1
    # from leader 1 (day 9) rather than 2 (day 7). Household 1: leader 2 (day 8) for both.
    assert leader_of.tolist() == [[10, 21], [12, 22]]
    # Household 1 did not follow leader 2 to platform 1 (bit 1 clear): leader 1 serves it there.
    takes[1, 1] = 1
    gk.pickup_rows(np.array([1]), leader, day_used, takes, np.array([0, 0], np.int32),
                   np.array([0, 1, 1]), service_of, leader_of)
    assert leader_of[1].tolist() == [12, 21]


def _pass(leader, day_used, takes, idle_days, leads, members, gone, search_until):
    ties = (np.zeros(4, np.int64), np.zeros(0, np.int64), np.zeros(3, np.int64))  # no ties
    return gk.idle_and_screen(
        leader, day_used, takes, 100, idle_days, leads, members, *ties, gone, 14,
        np.zeros(3, bool), np.zeros(3, np.int32), np.zeros(1), np.ones(3, bool),
        np.zeros(3, np.int64), np.zeros(3, np.float32), 0.1, 0.1, search_until, 1.0, False, 0,
        1.0)


def test_idle_and_quitting_leaders_groups_are_left():
    leader = np.array([[0, 1, 2], [2, -1, -1], [1, 0, -1]], np.int64)
    day_used = np.array([[10, 100, 50], [10, -1, -1], [5, 5, -1]], np.int32)
    takes = np.array([[1, 2, 4], [8, 0, 0], [16, 32, 0]], np.int64)
    members = np.array([2, 2, 2], np.int64)
    leads = np.array([-1, -1, 1])  # household 2 leads leader 1: its own group is never idle
    search = np.full(3, -1, np.int32)
    rows, lost, cand, _ = _pass(leader, day_used, takes, 60, leads, members,
                                np.zeros(3, bool), search)
    assert rows.tolist() == [0, 1, 2] and not lost.any()
    assert len(cand) == 0  # nobody adopted: nobody screened
    assert leader.tolist() == [[1, 2, -1], [-1, -1, -1], [1, -1, -1]]
    assert day_used[0].tolist() == [100, 50, -1] and members.tolist() == [0, 2, 1]
    assert takes.tolist() == [[2, 4, 0], [0, 0, 0], [16, 0, 0]]  # each slot's platforms move
    assert (search == -1).all()
    gone = np.array([False, True, False])  # leader 1 quit: its members leave and search
    rows, lost, _, _ = _pass(leader, day_used, takes, -1, leads, members, gone, search)
    assert rows.tolist() == [0, 2] and lost.tolist() == [True, True]
    assert leader.tolist() == [[2, -1, -1], [-1, -1, -1], [-1, -1, -1]]
    assert search.tolist() == [114, -1, 114]


def test_a_new_leader_follows_its_own_group_in_place_of_its_stalest():
    leader = np.array([[0, 1, 2]], np.int64)
    day_used = np.array([[9, 3, 7]], np.int32)
    members = np.array([1, 1, 1, 0])
    gk.follow(np.array([0]), np.array([3]), leader, day_used, np.zeros((1, 3), np.int64), 12,
              members,
              np.zeros(2, np.int64), np.zeros(0, np.int64), np.zeros(1, np.int64))
    assert leader.tolist() == [[0, 3, 2]] and day_used[0, 1] == 12
    assert members.tolist() == [1, 0, 1, 1]


def test_recruiting_capacity_scales_with_the_market():
    assert daily_recruits(3, 20_000, 20_000) == 3
    assert daily_recruits(3, 100_000, 20_000) == 15
    assert daily_recruits(3, 500, 20_000) == 1  # a small market still signs one a day
    assert daily_recruits(0, 500, 20_000) == 0


# --- inside the model ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def market():
    model = GroupBuyingMarket(compose(SMALL + ["days=150"]))
    model.run()
    return model


def test_tie_counts_are_kept_exactly(market):
    """The ties' counts of groups they follow and the household does not, kept incrementally
    through a run's joins, idle groups, quits and recruits, equal a recount."""
    g = market.leadership.groups
    a = market.network.adjacency
    np.testing.assert_array_equal(
        g.tie_open, gk.tie_counts(g.leader, a.indptr.astype(np.int64),
                                  a.indices.astype(np.int64)))
    assert g.tie_open.sum() > 0


def test_households_follow_leaders_of_other_neighbourhoods_and_reach_more(market):
    c, g, t = market.consumers, market.leadership.groups, market.leaders
    follows = g.leader >= 0
    far = follows & (t.neighbourhood[np.maximum(g.leader, 0)] != c.neighbourhood[:, None])
    assert far.any(), "some households follow a leader of a tie's neighbourhood"
    assert g.followed().max() <= market.cfg.groups.max_groups
    assert (g.followed()[~c.adopted & ~c.is_leader] == 0).all(), "only adopters join"


def test_recruits_per_day_caps_each_platforms_recruiting(market):
    ev = market.recorder.tables()["leaders"]
    rec = ev[ev["event"] == "recruited"].groupby(["day", "platform"]).size()
    cap = market.leadership.recruiting.per_day  # per platform (its own recruiting lever)
    names = list(market.platform_names)
    for (_day, platform), n in rec.items():
        assert n <= cap[names.index(platform) if isinstance(platform, str) else platform]


def test_successors_start_empty_and_members_lose_loyalty(market):
    """A quitter's members lose the group and search; none keeps it as usual leader."""
    t, g, c = market.leaders, market.leadership.groups, market.consumers
    gone = np.flatnonzero(~t.view("active") & (person_of(t) == np.arange(t.n)))
    assert len(gone), "some leaders quit in 150 days"
    assert not np.isin(g.leader, gone).any() and not np.isin(g.usual, gone).any()
    assert (g.lost_groups > 0).sum() > 0 and (g.search_until > 0).any()
    # habit went with the leader: some household that lost its usual leader has none now
    assert (c.habit_platform < 0).sum() > (c.last_platform < 0).sum()


def test_commission_is_booked_at_pickup_on_delivered_units():
    """Each collected order pays its leader the order day's rate of each unit's category on the
    units delivered: a decaying rate (so the order day and the pickup day differ) and a
    category multiplier make a wrong day or a flat rate show."""
    model = GroupBuyingMarket(compose(SMALL + [
        "days=40", "incentive.decay_start_day=0", "incentive.decay_to_rate=0.05",
        "incentive.decay_days=20", "+incentive.category_rate_multiplier.fruit=2"]))
    days_differ = spoiled_left_out = 0
    for _ in range(40):
        model.step()
        book = model.today.picked_up
        if book is None or not len(book):
            continue
        got = sum(p.flows["commission_yuan"] for p in model.platform_list)
        delivered = model.today.delivered_prices
        # a unit is paid at its list price or, spoiled, not at all
        assert np.all((delivered == 0) | (delivered == book.prices))
        spoiled_left_out += bool(delivered.sum() < book.prices.sum())

        def commission(day, platform=book.platform, delivered=delivered):
            return (model.incentives.category_rates(day)[platform] * delivered).sum()

        # the order day (the day before pickup; model.day has moved on past today)
        assert got == pytest.approx(commission(model.day - 2), rel=1e-12)
        days_differ += commission(model.day - 1) != pytest.approx(got, rel=1e-9)
    assert days_differ > 0 and spoiled_left_out > 0


def test_no_successor_before_the_search_ends(market):
    """Where a leader of platform j quit in neighbourhood k on day q, platform j signs nobody
    there before day q + successor_search_days (14 in a compound, 30 in a village)."""
    t, lc = market.leaders, market.cfg.leaders
    ev = market.recorder.tables()["leaders"]
    ev = ev.assign(nb=t.neighbourhood[ev["leader_id"].to_numpy()])
    village = market.network.is_village
    quits = ev[ev["event"] == "quit"]
    rec = ev[ev["event"] == "recruited"]
    checked = 0
    for q in quits.itertuples():
        wait = (lc.successor_search_days_village if village[q.nb]
                else lc.successor_search_days_town)
        after = rec[(rec["platform"] == q.platform) & (rec["nb"] == q.nb)
                    & (rec["day"] >= q.day)]
        assert (after["day"] >= q.day + wait).all(), (q, after["day"].tolist())
        checked += len(after)
    assert checked > 0, "some successors were signed in 150 days"


def test_a_capped_launch_signs_its_capacity_every_day_until_the_gaps_it_can_fill_are_filled():
    """Surveys come every 30 days here, so a backlog dropped between surveys would show: on
    each day of a platform's first month it signs its daily capacity, unless no covered
    neighbourhood lacking leaders has a candidate left (ODD 7.3)."""
    model = GroupBuyingMarket(compose(SMALL + [
        "days=30", "leaders.recruit_interval_days=30", "leaders.recruits_per_day=20",
        # dense targets and few candidates: some gaps have fewer candidates than leaders wanted
        "platforms.incumbent.households_per_leader=50",
        "platforms.discounter.households_per_leader=50",
        "market.leader_candidate_rate_town=0.02", "market.leader_candidate_rate_village=0.02"]))
    rec, c = model.leadership.recruiting, model.consumers
    checked = 0
    for d in range(30):
        model.step()
        ev = model.recorder.tables()["leaders"]
        today = ev[(ev["event"] == "recruited") & (ev["day"] == d)]
        free = c.leader_candidate & ~c.is_leader & (c.leader_available_day <= d + 1)
        pool = np.bincount(c.neighbourhood[free], minlength=model.network.n_neighbourhoods)
        for p in model.platform_list:
            if not p.active or not p.cfg.entry_day <= d < p.cfg.entry_day + 30:
                continue
            n = int((today["platform"] == p.name).sum())
            fillable = int(((rec._deficit(p) > 0) & (pool > 0)).sum())
            checked += 1
            assert n == rec.per_day[p.index] or fillable == 0, (
                f"day {d}, {p.name}: signed {n} of {rec.per_day[p.index]} a day while "
                f"{fillable} neighbourhoods lacking leaders have candidates")
    assert checked >= 30, "every platform's first month was checked"
