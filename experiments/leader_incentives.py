"""Leader incentive schemes at equal spend: churn, coverage, orders and payout per leader.

The question of ODD 1's strategist: "what happens to leader churn if we switch from a flat
10% commission to another scheme?" Every scheme of ``configs/incentive/`` runs on the default
market over the same seeds (common random numbers), and each is compared with ``flat`` by paired
differences with 95% intervals (sim/study.py).

Equal spend. A scheme's platform spend is its pay to leaders (commissions, bonuses, prizes) per
yuan of sales. Round 1 runs every scheme as configured and measures its spend rate s_k (mean
over seeds); round 2 reruns each scheme whose spend differs from flat's by more than 0.05 points
with its base commission rate shifted by (s_flat - s_k) / (s_flat / r_flat). Flat pays commission
only, so s_flat / r_flat is the spend a point of base rate buys (below one: not every yuan of
sales earns commission), and the bonuses do not move with the rate. The tables report the spend
rate after matching.
Bonuses count in a scheme's spend however they are earned: ``complaint_evaluation``'s
evaluation bonus (sales target reached and complaints at most a share of orders, seed 004 §5.3)
is matched as ``target_bonus``'s sales-target bonus is, by shifting its base rate.
``multi_source`` pays the same commission as ``flat``; its service fees and government subsidy
come from outside the platform (seed 002 Case B l.76), so its platform spend is flat's.

    to run: python experiments/leader_incentives.py            (10 seeds, default market, ~5 min)
            python experiments/leader_incentives.py --quick    (2 seeds, small market, ~30 s)

Prints the table and the multi_source versus flat churn reduction beside the seed's 60% (seed
002 Case B l.78); writes figures (PNG and PDF) to experiments/figures/leader_incentives/.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim import figures  # noqa: E402
from sim.api import run_seeds  # noqa: E402
from sim.study import paired_difference  # noqa: E402

# flat first: the others are matched to its spend. Every scheme of configs/incentive/ is here
# (tests/test_experiment_leader_incentives.py).
SCHEMES = ["flat", "tiered", "target_bonus", "differentiated_target", "multi_source",
           "recognition", "complaint_evaluation"]
OUT = Path(__file__).resolve().parent / "figures" / "leader_incentives"
SPEND_TOLERANCE = 0.0005  # rate points: closer than this to flat's spend counts as equal
SEED_REDUCTION = 0.60  # seed 002 Case B l.78: "团长流失率下降60%"

METRICS = {
    "churn": ("leader_monthly_churn_rate", "monthly leader churn"),
    "coverage": ("leader_coverage_mean", "coverage (share of households)"),
    "orders": ("orders_total", "orders"),
    "payout": ("leader_payout_per_leader_month_yuan", "platform pay per leader-month, yuan"),
    "income": ("leader_income_mean_yuan_per_month", "leader income, yuan/month"),
    "spend": ("leader_pay_share_of_gmv", "platform leader pay / sales"),
    "multi": ("multi_platform_leader_share", "multi-platform leader share"),
    "complaints": ("complaints_per_order", "complaints per order"),  # complaint_evaluation's aim
}


def small_village_quits(tables) -> int:
    """Quits of village leaders whose local potential is below their platform's mean."""
    rv = tables["leader_reviews"]
    small = rv["village"].astype(bool) & (rv["potential_ratio"] < 1.0)
    return int(rv.loc[small, "quit"].sum())


def run_scheme(base: list[str], scheme: str, seeds, extra: list[str] | None = None,
               workers: int | None = None):
    results = run_seeds(base + [f"incentive={scheme}"] + (extra or []), seeds, workers=workers)
    rows = []
    for seed, (summary, tables) in zip(seeds, results, strict=True):
        row = {"scheme": scheme, "seed": seed}
        row.update({k: summary[col] for k, (col, _) in METRICS.items()})
        row["small_village_quits"] = small_village_quits(tables)
        rows.append(row)
    leaders = pd.concat([t["daily"][["day", "active_leaders", "leader_coverage"]].assign(seed=s)
                         for s, (_, t) in zip(seeds, results, strict=True)])
    return pd.DataFrame(rows), leaders.assign(scheme=scheme)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 seeds, small market, 60 days")
    ap.add_argument("--seeds", type=int, default=None, help="number of seeds (default 10)")
    ap.add_argument("--out", type=Path, default=None, help="figure directory")
    args = ap.parse_args(argv)
    args.out = figures.output_dir(OUT, args.quick, args.out)
    n_seeds = args.seeds or (2 if args.quick else 10)
    seeds = list(range(1, n_seeds + 1))
    base = ["experiment=smoke", "days=60"] if args.quick else []
    # Small runs take less time than starting worker processes: run them in this process.
    workers = 1 if args.quick else None

    results, series, base_rate = {}, {}, {}
    for scheme in SCHEMES:
        results[scheme], series[scheme] = run_scheme(base, scheme, seeds, workers=workers)
    flat_spend = results["flat"]["spend"].mean()
    from sim.api import compose

    # spend bought by a point of base rate: flat's spend is its commission alone
    per_rate = flat_spend / float(compose(base + ["incentive=flat"]).incentive.commission_rate)
    for scheme in SCHEMES:
        rate = float(compose(base + [f"incentive={scheme}"]).incentive.commission_rate)
        gap = flat_spend - results[scheme]["spend"].mean()
        if abs(gap) > SPEND_TOLERANCE:
            rate = rate + gap / per_rate
            results[scheme], series[scheme] = run_scheme(
                base, scheme, seeds, [f"incentive.commission_rate={rate:.6f}"], workers)
        base_rate[scheme] = rate

    flat = results["flat"].sort_values("seed")
    rows = []
    for scheme in SCHEMES:
        r = results[scheme].sort_values("seed")
        row = {"scheme": scheme, "base_rate": base_rate[scheme]}
        for k in ("spend", "churn", "coverage", "orders", "payout", "income", "multi",
                  "complaints", "small_village_quits"):
            row[k] = r[k].mean()
        for k in ("churn", "coverage", "orders", "payout", "small_village_quits"):
            pd_ = paired_difference(flat[k].to_numpy(), r[k].to_numpy())
            row[f"{k}_diff_lo"], row[f"{k}_diff_hi"] = pd_["ci_low"], pd_["ci_high"]
        rel = r["churn"].to_numpy() / flat["churn"].to_numpy() - 1.0
        m, lo, hi = figures.mean_ci(rel[:, None])
        row["churn_change"], row["churn_change_lo"], row["churn_change_hi"] = m[0], lo[0], hi[0]
        rows.append(row)
    table = pd.DataFrame(rows)

    pd.set_option("display.width", 200)
    print(f"Leader incentive schemes at equal spend ({n_seeds} seeds"
          f"{', quick' if args.quick else ''}); paired 95% intervals versus flat")
    show = table[["scheme", "base_rate", "spend", "churn", "churn_change", "churn_change_lo",
                  "churn_change_hi", "coverage", "orders", "payout", "income", "multi",
                  "complaints", "small_village_quits"]]
    print(show.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    ms = table.set_index("scheme").loc["multi_source"]
    reduction = -ms["churn_change"]
    print(f"multi_source vs flat: leader churn {100 * reduction:.0f}% lower "
          f"(95% CI {100 * -ms['churn_change_hi']:.0f}% to {100 * -ms['churn_change_lo']:.0f}%); "
          f"seed 002 Case B l.78 reports {100 * SEED_REDUCTION:.0f}%")
    tb = table.set_index("scheme")
    svq = tb["small_village_quits"]
    print(f"small village leaders quitting (mean per run): target_bonus "
          f"{svq['target_bonus']:.1f} vs differentiated_target {svq['differentiated_target']:.1f}")
    print(f"complaints per order: complaint_evaluation "
          f"{tb.loc['complaint_evaluation', 'complaints']:.4f} vs flat "
          f"{tb.loc['flat', 'complaints']:.4f}")

    _figures(table, pd.concat(series.values()), args.out)
    return {"table": table, "multi_source_churn_reduction": reduction}


def _figures(table: pd.DataFrame, series: pd.DataFrame, out: Path) -> None:
    fig, ax = figures.subplots(2, 2, height_in=4.6)
    x = np.arange(len(table))
    for a, k, label in ((ax[0, 0], "churn", "monthly churn, change vs flat"),
                        (ax[0, 1], "coverage", "coverage, difference vs flat"),
                        (ax[1, 0], "orders", "orders, difference vs flat"),
                        (ax[1, 1], "payout", "pay per leader-month, diff. vs flat (yuan)")):
        if k == "churn":
            mid, lo, hi = table["churn_change"], table["churn_change_lo"], table["churn_change_hi"]
        else:
            lo, hi = table[f"{k}_diff_lo"], table[f"{k}_diff_hi"]
            mid = (lo + hi) / 2
        a.bar(x, mid, color="0.7")
        a.errorbar(x, mid, yerr=[mid - lo, hi - mid], fmt="none", color="k", capsize=2)
        a.axhline(0, color="k", linewidth=0.6)
        a.set_xticks(x, table["scheme"], rotation=30, ha="right")
        a.set_title(label)
    figures.save(fig, out / "schemes_vs_flat")

    fig, ax = figures.subplots(1, 2)
    for scheme, g in series.groupby("scheme", sort=False):
        for a, col in ((ax[0], "active_leaders"), (ax[1], "leader_coverage")):
            wide = g.pivot(index="seed", columns="day", values=col)
            mean, lo, hi = figures.mean_ci(wide.to_numpy())
            figures.band(a, wide.columns, mean, lo, hi, label=scheme)
    ax[0].set(title="Active leaders", xlabel="day", ylabel="leaders")
    ax[1].set(title="Coverage", xlabel="day", ylabel="share of households")
    ax[0].legend(frameon=False, ncol=2)  # seven schemes: one column would cover the lines
    figures.save(fig, out / "leaders_over_time")


if __name__ == "__main__":
    main()
