"""Subsidy war: an entrant buys share with coupons, then withdraws them (ODD 7.4, 8).

The three-way market (regional incumbent, deep-pocket entrant entering on day 60, discounter).
Scenarios, paired over seeds (common random numbers):

* ``no subsidy``: ``subsidy=none``.
* ``withdrawn``: the entrant's coupon for 90 days after entry, then none at once
  (``subsidy=withdrawal``; seed 002 l.15: "一旦补贴退坡,复购率断崖式下跌").
* ``sustained``: the same coupon kept for the whole run (the counterfactual of the withdrawal).

Reports the entrant's order share while it subsidises and its 30-day repurchase rate after the
withdrawal (share of the households that bought from it in the 30 days before who buy from it
again in the next 30), with paired 95% intervals.

    python experiments/subsidy_war.py            # 6 seeds, 20,000 households, 365 days
    python experiments/subsidy_war.py --quick    # 2 seeds, 2,000 households, 200 days
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim import figures
from sim.api import run_seeds
from sim.study import paired_difference, parse_study_args, platform_series

OUT = Path(__file__).resolve().parent / "figures" / "subsidy_war"
ENTRY, SUB_DAYS = 60, 90
WITHDRAW = ENTRY + SUB_DAYS  # day 150
SCENARIOS = {
    "no subsidy": ["subsidy=none"],
    "withdrawn": ["subsidy=withdrawal", f"subsidy.days={SUB_DAYS}"],
    "sustained": ["subsidy=withdrawal", "subsidy.days=100000"],
}



def main(argv=None) -> dict:
    a = parse_study_args(argv, __doc__, OUT, days=365, quick_days=200)
    n_seeds, days = len(a.seeds), a.days
    runs = {k: run_seeds(a.base + v, a.seeds, a.workers) for k, v in SCENARIOS.items()}

    share = {k: platform_series(r, "order_share", "entrant") for k, r in runs.items()}
    rep = {k: platform_series(r, "repurchase_rate", "entrant") for k, r in runs.items()}
    sub_window = slice(ENTRY + 30, WITHDRAW)  # while subsidising (after the first month)
    post = slice(WITHDRAW + 20, WITHDRAW + 40)  # cohorts bought with the coupon, repeat without
    res = {
        "share_subsidy_vs_none": paired_difference(
            share["no subsidy"][:, sub_window].mean(1), share["withdrawn"][:, sub_window].mean(1)),
        "repurchase_withdrawn_vs_sustained": paired_difference(
            np.nanmean(rep["sustained"][:, post], 1), np.nanmean(rep["withdrawn"][:, post], 1)),
        "repurchase_before_withdrawal": float(np.nanmean(rep["withdrawn"][:, WITHDRAW - 20:
                                                                         WITHDRAW])),
        "share_end_withdrawn_vs_none": paired_difference(
            share["no subsidy"][:, -30:].mean(1), share["withdrawn"][:, -30:].mean(1)),
    }

    fig, ax = figures.subplots(1, 2)
    x = np.arange(days)
    for k in SCENARIOS:
        figures.band(ax[0], x, *figures.mean_ci(share[k]), label=k)
        r = np.where(np.isnan(rep[k]), np.nan, rep[k])
        figures.band(ax[1], x, *figures.mean_ci(r), label=k)
    for axis in ax:
        axis.axvline(ENTRY, color="grey", lw=0.6, ls=":")
        axis.axvline(WITHDRAW, color="grey", lw=0.6, ls="--")
        axis.set_xlabel("day")
    ax[0].set_ylabel("entrant order share")
    ax[1].set_ylabel("entrant 30-day repurchase rate")
    ax[0].legend(frameon=False)
    figures.save(fig, a.out / "subsidy_war")

    d = res["share_subsidy_vs_none"]
    print(f"subsidy_war: {n_seeds} seeds, {days} days{' (quick)' if a.quick else ''}")
    print(f"  entrant order share, days {ENTRY + 30}-{WITHDRAW} (subsidising): "
          f"{d['mean_b']:.3f} vs {d['mean_a']:.3f} without subsidy; paired difference "
          f"{d['difference']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]")
    d = res["repurchase_withdrawn_vs_sustained"]
    print(f"  entrant repurchase rate, days {post.start}-{post.stop} (after withdrawal on day "
          f"{WITHDRAW}): {d['mean_b']:.3f} withdrawn vs {d['mean_a']:.3f} sustained "
          f"(before withdrawal {res['repurchase_before_withdrawal']:.3f}); paired difference "
          f"{d['difference']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]")
    d = res["share_end_withdrawn_vs_none"]
    print(f"  entrant order share, last 30 days: {d['mean_b']:.3f} withdrawn vs "
          f"{d['mean_a']:.3f} never subsidised; difference {d['difference']:+.3f} "
          f"[{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]")
    print(f"  figures: {a.out}/subsidy_war.png, .pdf")
    return res


if __name__ == "__main__":
    main()
