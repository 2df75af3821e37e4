"""Price war: margins with and without the below-cost ban (ODD 7.4, 8; seed 002 l.10).

The three-way market; the entrant enters on day 60. Scenarios, paired over seeds (common random
numbers):

* ``cost-plus``: every platform prices at cost plus its markup (no war).
* ``price war``: every platform runs ``price_war`` (``experiment=price_war``): undercut the
  cheapest rival while below its target share, down to its own floor (the entrant below cost).
* ``war + ban``: the same with the below-cost ban from day 120 (SAMR/MOFCOM, 22 Dec 2020).

Reports the incumbents' gross margin during the war (days 90-180: seed 002 l.10 has 10-15%) and
the entrant's lowest price / unit cost before and after the ban.

    python experiments/price_war.py            # 6 seeds, 20,000 households, 365 days
    python experiments/price_war.py --quick    # 2 seeds, 2,000 households, 180 days
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim import figures
from sim.api import run_seeds
from sim.study import paired_difference, parse_study_args, platform_series

OUT = Path(__file__).resolve().parent / "figures" / "price_war"
BAN_DAY = 120
WAR = slice(90, 180)  # the entrant is in (day 60) and its launch month is over
SCENARIOS = {
    "cost-plus": [],
    "price war": ["experiment=price_war"],
    "war + ban": ["experiment=price_war", f"policy.below_cost_ban_day={BAN_DAY}"],
}



def rolling(x, w=7):
    """Trailing mean over ``w`` days per row (NaN-aware), to read daily margins."""
    out = np.full_like(x, np.nan)
    for i in range(x.shape[1]):
        out[:, i] = np.nanmean(x[:, max(0, i - w + 1):i + 1], axis=1)
    return out


def main(argv=None) -> dict:
    a = parse_study_args(argv, __doc__, OUT, days=365, quick_days=180)
    n_seeds, days = len(a.seeds), a.days
    runs = {k: run_seeds(a.base + v, a.seeds, a.workers) for k, v in SCENARIOS.items()}

    gm = {k: platform_series(r, "gross_margin", "incumbent") for k, r in runs.items()}
    ratio = {k: platform_series(r, "price_cost_ratio_min", "entrant") for k, r in runs.items()}
    res = {
        "incumbent_gross_margin": paired_difference(np.nanmean(gm["cost-plus"][:, WAR], 1),
                                                    np.nanmean(gm["price war"][:, WAR], 1)),
        "entrant_min_ratio_before_ban": float(np.min(ratio["price war"][:, 60:BAN_DAY])),
        "entrant_min_ratio_after_ban_war": float(np.min(ratio["price war"][:, BAN_DAY:])),
        "entrant_min_ratio_after_ban_banned": float(np.min(ratio["war + ban"][:, BAN_DAY:])),
        "discounter_gross_margin_war": float(np.nanmean(platform_series(
            runs["price war"], "gross_margin", "discounter")[:, WAR])),
    }

    fig, ax = figures.subplots(1, 2)
    x = np.arange(days)
    for k in SCENARIOS:
        figures.band(ax[0], x, *figures.mean_ci(rolling(gm[k])), label=k)
        figures.band(ax[1], x, *figures.mean_ci(ratio[k]), label=k)
    ax[0].axhspan(0.10, 0.15, color="grey", alpha=0.15, lw=0)  # seed 002 l.10
    ax[0].set_ylabel("incumbent gross margin (7-day mean)")
    ax[1].axhline(1.0, color="k", lw=0.6)
    ax[1].set_ylabel("entrant lowest price / unit cost")
    for axis in ax:
        axis.axvline(BAN_DAY, color="grey", lw=0.6, ls="--")
        axis.set_xlabel("day")
    ax[0].legend(frameon=False)
    figures.save(fig, a.out / "price_war")

    d = res["incumbent_gross_margin"]
    print(f"price_war: {n_seeds} seeds, {days} days{' (quick)' if a.quick else ''}")
    print(f"  regional incumbent gross margin, days {WAR.start}-{WAR.stop}: "
          f"{d['mean_b']:.3f} in the price war vs {d['mean_a']:.3f} cost-plus; paired difference "
          f"{d['difference']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}] (seed 002: 10-15%)")
    print(f"  discounter gross margin in the war: {res['discounter_gross_margin_war']:.3f}")
    print(f"  entrant lowest price / unit cost: {res['entrant_min_ratio_before_ban']:.3f} "
          f"before day {BAN_DAY}; after it {res['entrant_min_ratio_after_ban_war']:.3f} without "
          f"the ban, {res['entrant_min_ratio_after_ban_banned']:.3f} with the ban")
    print(f"  figures: {a.out}/price_war.png, .pdf")
    return res


if __name__ == "__main__":
    main()
