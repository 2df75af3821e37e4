"""Customers belong to leaders (ODD 7.3): behaviour over seeds.

Each test states its direction in its message; the runs share every random number that the
compared setting does not touch (common random numbers), so the differences are the mechanism's.
"""

import numpy as np
import pytest

from sim.api import compose, run_seeds
from sim.model import GroupBuyingMarket
from sim.validation import CHURN_SPIKE_DAYS, CHURN_SPIKE_FROM, CHURN_SPIKE_MAX, window_churn

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


# Launches at market.platform_money_households (20,000) households, where recruits_per_day is
# the platform's own pace unscaled: at 4,000 it rounds up to one a day and a platform's ~15
# leaders are all signed within 15 days either way, so staggering cannot show there.
LAUNCH = ["market.consumers=20000", "days=150"]


@pytest.fixture(scope="module")
def launch_spikes():
    """The worst 30-day churn window starting on days 30-120 (ODD 8 row 5's spike), per seed,
    with recruiting capped (the default pace) and with every gap filled on the first day."""
    def spikes(extra):
        return [max(window_churn(t["daily"], (s, s + CHURN_SPIKE_DAYS - 1))
                    for s in range(CHURN_SPIKE_FROM, 121))
                for _, t in run_seeds(LAUNCH + extra, SEEDS)]
    return spikes([]), spikes(["leaders.recruits_per_day=100000"])


@pytest.mark.slow
def test_staggered_recruiting_lowers_the_launch_churn_spike(launch_spikes):
    """With recruiting capped (a few leaders a day, the default) the worst 30-day churn window
    after day 30 is lower than when every gap is filled on the platform's first day (the churn
    parameters unchanged): fewer leaders are signed before demand exists."""
    for seed, sa, sb in zip(SEEDS, *launch_spikes, strict=True):
        assert sa < sb, f"seed {seed}: launch spike {sa:.2f} capped should be below {sb:.2f}"


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "issue 25 acceptance not met: staggering lowers the spike but a leader's first month at "
    "launch still earns next to nothing (adoption ~4% on day 30; marketing reaches a "
    "neighbourhood only through a pickup point), so its first review quits most; seeds 1-3 "
    "at 20,000 households: worst 30-day churn 1.38-1.79 a month capped, 2.28-3.14 at once"))
def test_staggered_recruiting_removes_the_launch_churn_spike(launch_spikes):
    """Capped, no 30-day window after day 30 exceeds ODD 8 row 5's spike bound."""
    for seed, sa in zip(SEEDS, launch_spikes[0], strict=True):
        assert sa <= CHURN_SPIKE_MAX, f"seed {seed}: launch spike {sa:.2f} a month capped"
