"""Customers belong to leaders (ODD 7.3): behaviour over seeds.

Each test states its direction in its message; the runs share every random number that the
compared setting does not touch (common random numbers), so the differences are the mechanism's.
"""

import numpy as np
import pytest

from sim.api import compose, run_seeds
from sim.model import GroupBuyingMarket
from sim.validation import window_churn

SEEDS = (1, 2, 3)
MARKET = ["market.consumers=4000"]


def _orders_around_quits(seed: int, days: int = 200, window: int = 30):
    """Orders from the quitter's platform per household in the ``window`` days before and after
    its usual leader quit (treated), and the same for households of that platform whose usual
    leader did not quit that day (controls), over quits on days 60 to days - window."""
    model = GroupBuyingMarket(compose(MARKET + [
        f"seed={seed}", f"days={days}",
        # no successor within the run: the members have only the other groups to turn to
        "leaders.successor_search_days_town=10000", "leaders.successor_search_days_village=10000"]))
    n, n_p = model.consumers.n, len(model.platform_list)
    ordered = np.zeros((days, n, n_p), bool)
    cohorts = []
    t = model.leaders
    for d in range(days):
        usual = model.leadership.groups.usual.copy()
        active = t.view("active").copy()
        model.step()
        book = model.today.order_book
        ordered[d, book.consumer, book.platform] = True
        quit_now = np.flatnonzero(active & ~t.view("active")[: len(active)])
        if 60 <= d <= days - window - 1 and len(quit_now):
            cohorts.append((d, usual, quit_now))
    treated, control = [], []
    for d, usual, rows in cohorts:
        for r in rows:
            j = int(t.platform[r])
            person = int(t.person[r]) if t.person[r] >= 0 else int(r)
            hit = np.flatnonzero(usual == person)
            if len(hit) == 0:
                continue
            before = ordered[d - window:d, hit, j].sum()
            after = ordered[d + 1:d + 1 + window, hit, j].sum()
            treated.append((before, after))
            # households of the same platform whose usual leader did not quit
            ctl = np.flatnonzero((usual >= 0) & ~np.isin(usual, rows)
                                 & (t.platform[np.maximum(usual, 0)] == j))
            control.append((ordered[d - window:d, ctl, j].sum(),
                            ordered[d + 1:d + 1 + window, ctl, j].sum()))
    tb, ta = np.sum(treated, axis=0)
    cb, ca = np.sum(control, axis=0)
    return ta / tb, ca / cb


@pytest.mark.slow
def test_members_of_a_leader_who_quits_order_less_from_its_platform_for_a_month():
    """Without a successor, the households whose usual leader quit order less from that
    platform over the next 30 days than over the 30 before, relative to the households of the
    platform whose leader stayed (a difference in differences: the market grows meanwhile)."""
    for seed in SEEDS:
        treated, control = _orders_around_quits(seed)
        assert treated < control, (
            f"seed {seed}: after/before orders {treated:.2f} for a quitter's members should "
            f"be below {control:.2f} for the others")


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "issue 25 acceptance not met: a leader's first month at launch earns next to nothing "
    "(adoption ~5% on day 30, marketing reaches a neighbourhood only through a pickup point), "
    "so its first review quits ~3 in 4 however the recruits are spread; seeds 1-3 at 4,000 "
    "households, days 30-149: worst 30-day churn 2.2-2.5 a month capped (one a day) and "
    "2.0-3.4 all at once"))
def test_staggered_recruiting_removes_the_launch_churn_spike():
    """With recruiting capped (a few leaders a day, the default) the worst 30-day churn window
    after day 30 is lower than when every gap is filled on the platform's first day (the churn
    parameters unchanged): leaders are not all signed before demand exists."""
    days = ["days=150"]
    capped = run_seeds(MARKET + days, SEEDS)
    at_once = run_seeds(MARKET + days + ["leaders.recruits_per_day=100000"], SEEDS)

    def spike(tables):
        d = tables["daily"]
        return max(window_churn(d, (s, s + 29)) for s in range(30, 120))

    for seed, (_, a), (_, b) in zip(SEEDS, capped, at_once, strict=True):
        sa, sb = spike(a), spike(b)
        assert sa < sb, f"seed {seed}: launch spike {sa:.2f} capped should be below {sb:.2f}"
