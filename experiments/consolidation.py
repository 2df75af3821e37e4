"""Consolidation: two years of competition among five platforms (ODD 8; seed 002 l.2).

``experiment=consolidation``: a regional incumbent, two deep-pocket national entrants, a funded
challenger with less patient investors and a discounter, all running the price war rule, the
entrants' launch subsidy war, and the 2020-21 regulation (ban on below-cost pricing from day
180, fines on day 250). Platforms exit when their cumulative loss passes their investors'
patience. Reports who exits and when, the number of platforms left, the GMV HHI and the end
shares (industry reports for 2024: 2-3 platforms, 44 / 32 / 17%).

    python experiments/consolidation.py            # 6 seeds, 20,000 households, 730 days
    python experiments/consolidation.py --quick    # 2 seeds, 2,000 households, 300 days
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from sim import figures
from sim.api import run_seeds
from sim.study import parse_study_args

OUT = Path(__file__).resolve().parent / "figures" / "consolidation"


def main(argv=None) -> dict:
    a = parse_study_args(argv, __doc__, OUT, days=730, quick_days=300)
    n_seeds, days = len(a.seeds), a.days
    runs = run_seeds(["experiment=consolidation"] + a.base, a.seeds, a.workers)

    names = list(runs[0][1]["platforms"]["platform"].unique())
    daily = [t["daily"] for _, t in runs]
    active = np.array([d["platforms_active"].to_numpy(float) for d in daily])
    hhi = np.array([d["hhi_gmv"].rolling(30, min_periods=1).mean().to_numpy() for d in daily])
    share = {}
    for n in names:
        rows = []
        for _, t in runs:
            p = t["platforms"]
            s = p.loc[p["platform"] == n, "gmv_share"]
            rows.append(s.rolling(30, min_periods=1).mean().to_numpy())
        share[n] = np.array(rows)
    end_active = active[:, -1]
    end_shares = [sorted((v for v in s["gmv_share_last_30_days"].values() if v), reverse=True)
                  for s, _ in runs]
    exits = Counter(e["platform"] for s, _ in runs for e in s["platform_exits"])
    exit_days = {n: [e["day"] for s, _ in runs for e in s["platform_exits"] if e["platform"] == n]
                 for n in exits}
    res = {"platforms_active_end": end_active.tolist(),
           "hhi_end": [s["hhi_gmv_last_30_days"] for s, _ in runs],
           "end_shares": end_shares, "exits": dict(exits), "exit_days": exit_days,
           "mean_end_share": {n: float(share[n][:, -1].mean()) for n in names}}

    fig, ax = figures.subplots(1, 3)
    x = np.arange(days)
    figures.band(ax[0], x, *figures.mean_ci(active))
    ax[0].set_ylabel("active platforms")
    figures.band(ax[1], x, *figures.mean_ci(hhi))
    ax[1].axhline(2500, color="grey", lw=0.6, ls="--")  # DOJ/FTC: highly concentrated above
    ax[1].set_ylabel("HHI of GMV (30-day mean)")
    for n in names:
        figures.band(ax[2], x, *figures.mean_ci(share[n]), label=n)
    ax[2].set_ylabel("GMV share (30-day mean)")
    ax[2].legend(frameon=False, fontsize=6)
    for axis in ax:
        axis.set_xlabel("day")
    figures.save(fig, a.out / "consolidation")

    print(f"consolidation: {n_seeds} seeds, {days} days{' (quick)' if a.quick else ''}")
    print(f"  platforms active at the end: {end_active.astype(int).tolist()} "
          f"(mean {end_active.mean():.2f}; target 2-3)")
    for n, c in exits.items():
        print(f"  {n} exits in {c}/{n_seeds} seeds, days {sorted(exit_days[n])}")
    hh = [h for h in res["hhi_end"] if h is not None]
    print(f"  HHI of GMV, last 30 days: mean {np.mean(hh):.0f} (range {min(hh):.0f}-"
          f"{max(hh):.0f})")
    print("  end GMV shares, largest first: " + "; ".join(
        "/".join(f"{100 * v:.0f}" for v in s) for s in end_shares) + " % (2024: 44/32/17)")
    print("  mean end share by platform: " + ", ".join(
        f"{n} {v:.2f}" for n, v in res["mean_end_share"].items()))
    print(f"  figures: {a.out}/consolidation.png, .pdf")
    return res


if __name__ == "__main__":
    main()
