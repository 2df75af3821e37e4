"""What a commission cut costs when customers belong to leaders (ODD 7.3, ODD 8 row 7).

The strategist's question: "we halve the leaders' commission; what do we lose?" Households follow
leaders' groups; a leader who quits takes its members' loyalty with it, its members search for
another group and its successor starts empty. Four scenarios over the same seeds (common random
numbers): commission 10% and 5% (every platform, from day 0), under the ``flat`` and the
``multi_source`` schemes. For each scheme the cut is compared with 10% by paired differences with
95% intervals (sim/study.py) on orders, GMV and the platforms' net margin over days 120-364 and on
leader churn over the whole year (the summary's monthly rate), and the fall in orders is split by
the end-of-run household table: the share of it among households that lost a group to a quit (in
either run of the pair) are the orders lost to quits (the household table counts orders from day
120, so in ``--quick``, whose window starts on day 60, the split covers fewer days than the paired
figures). A full run then repeats the flat pair at the corners of successor_search_days (7 and 60
days, town and village alike) x search_days (3 and 30) to check the sign (the issue's acceptance;
``--no-sweep`` leaves it out, ``--quick --sweep`` adds it to a quick run).

    to run: python experiments/leader_loyalty.py             (6 seeds, 8,000 households, sweep)
            python experiments/leader_loyalty.py --no-sweep  (the four scenarios only)
            python experiments/leader_loyalty.py --quick     (2 seeds, small market, ~1 min)

Prints the tables; writes a figure (PNG and PDF) to experiments/figures/leader_loyalty/.
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

OUT = Path(__file__).resolve().parent / "figures" / "leader_loyalty"
FROM_DAY = 120  # ODD 8 rows 5-7: after the launch months
RATES = (0.10, 0.05)
SCHEMES = ("flat", "multi_source")


def measures(summary: dict, tables: dict, from_day: int) -> dict:
    """One run's figures over days >= ``from_day``."""
    d, p = tables["daily"], tables["platforms"]
    d, p = d[d["day"] >= from_day], p[p["day"] >= from_day]
    net = (p["gmv_yuan"] - p["subsidy_yuan"] - p["refunds_yuan"]).sum()
    return {"churn": summary["leader_monthly_churn_rate"], "orders": float(d["orders"].sum()),
            "gmv": float(d["gmv_yuan"].sum()),
            "margin": float(p["profit_yuan"].sum() / net) if net > 0 else float("nan"),
            "usual_share": summary["usual_leader_order_share"]}


def lost_to_quits(base: pd.DataFrame, cut: pd.DataFrame) -> tuple[float, float]:
    """(fall in orders from the split day, the part of it among households that lost a group
    to a quit in either run), from the paired household tables."""
    fall = base["orders_from_split_day"] - cut["orders_from_split_day"]
    lost = (base["groups_lost_to_quits"] > 0) | (cut["groups_lost_to_quits"] > 0)
    return float(fall.sum()), float(fall[lost].sum())


def compare(base_runs, cut_runs, from_day: int) -> dict:
    a = pd.DataFrame([measures(s, t, from_day) for s, t in base_runs])
    b = pd.DataFrame([measures(s, t, from_day) for s, t in cut_runs])
    row = {}
    for k in ("churn", "orders", "gmv", "margin"):
        pdiff = paired_difference(a[k].to_numpy(), b[k].to_numpy())
        row[k] = a[k].mean()
        row[f"{k}_diff"], row[f"{k}_lo"], row[f"{k}_hi"] = (
            pdiff["difference"], pdiff["ci_low"], pdiff["ci_high"])
    split = [lost_to_quits(ta["households"], tb["households"])
             for (_, ta), (_, tb) in zip(base_runs, cut_runs, strict=True)]
    fall, lost = (np.array(x) for x in zip(*split, strict=True))
    row["orders_lost_to_quits"] = lost.mean()
    row["lost_share_of_fall"] = lost.sum() / fall.sum() if fall.sum() else float("nan")
    row["usual_share"] = a["usual_share"].mean()
    return row


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 seeds, small market, 150 days")
    ap.add_argument("--sweep", action=argparse.BooleanOptionalAction, default=None,
                    help="the search-time corners (default: in a full run, not in --quick)")
    ap.add_argument("--seeds", type=int, default=None, help="number of seeds (default 6)")
    ap.add_argument("--out", type=Path, default=None, help="figure directory")
    args = ap.parse_args(argv)
    args.out = figures.output_dir(OUT, args.quick, args.out)
    seeds = list(range(1, (args.seeds or (2 if args.quick else 6)) + 1))
    base = (["experiment=smoke", "days=150"] if args.quick
            else ["market.consumers=8000"])
    from_day = 60 if args.quick else FROM_DAY
    workers = 1 if args.quick else None

    def pair(extra):
        return [run_seeds(base + extra + [f"incentive.commission_rate={r}"], seeds,
                          workers=workers) for r in RATES]

    rows = []
    for scheme in SCHEMES:
        a, b = pair([f"incentive={scheme}"])
        rows.append({"scheme": scheme, **compare(a, b, from_day)})
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    print(f"Commission 10% -> 5% from day 0 ({len(seeds)} seeds"
          f"{', quick' if args.quick else ''}; days >= {from_day}); paired 95% intervals")
    for _, r in table.iterrows():
        print(f"{r['scheme']}: churn {r['churn']:.3f} {r['churn_diff']:+.3f} "
              f"[{r['churn_lo']:+.3f}, {r['churn_hi']:+.3f}]; orders {r['orders']:.0f} "
              f"{r['orders_diff']:+.0f} [{r['orders_lo']:+.0f}, {r['orders_hi']:+.0f}] "
              f"({100 * r['orders_diff'] / r['orders']:+.1f}%); GMV {r['gmv_diff']:+.0f} yuan "
              f"[{r['gmv_lo']:+.0f}, {r['gmv_hi']:+.0f}]; net margin {r['margin']:.3f} "
              f"{r['margin_diff']:+.4f} [{r['margin_lo']:+.4f}, {r['margin_hi']:+.4f}]")
        print(f"  orders lost to quits {r['orders_lost_to_quits']:.0f} a run, "
              f"{100 * r['lost_share_of_fall']:.0f}% of the fall; usual-leader share of orders "
              f"{r['usual_share']:.3f}")
    sweep = None
    if args.sweep if args.sweep is not None else not args.quick:
        srows = []
        for ssd in (7, 60):
            for sd in (3, 30):
                extra = ["incentive=flat", f"leaders.successor_search_days_town={ssd}",
                         f"leaders.successor_search_days_village={ssd}",
                         f"groups.search_days={sd}"]
                a, b = pair(extra)
                srows.append({"successor_search_days": ssd, "search_days": sd,
                              **compare(a, b, from_day)})
        sweep = pd.DataFrame(srows)
        print("Sweep (flat): fall in orders with the cut, paired 95% interval")
        for _, r in sweep.iterrows():
            print(f"  successor {int(r['successor_search_days']):>2} d, search "
                  f"{int(r['search_days']):>2} d: orders {r['orders_diff']:+.0f} "
                  f"[{r['orders_lo']:+.0f}, {r['orders_hi']:+.0f}], lost to quits "
                  f"{100 * r['lost_share_of_fall']:.0f}% of the fall")
    _figure(table, args.out)
    return {"table": table, "sweep": sweep}


def _figure(table: pd.DataFrame, out: Path) -> None:
    fig, ax = figures.subplots(1, 4, height_in=2.2)
    x = np.arange(len(table))
    for a, k, label in zip(ax, ("churn", "orders", "gmv", "margin"),
                           ("monthly churn", "orders", "GMV, yuan", "net margin"), strict=True):
        mid, lo, hi = table[f"{k}_diff"], table[f"{k}_lo"], table[f"{k}_hi"]
        a.bar(x, mid, color="0.7")
        a.errorbar(x, mid, yerr=[mid - lo, hi - mid], fmt="none", color="k", capsize=2)
        a.axhline(0, color="k", linewidth=0.6)
        a.set_xticks(x, table["scheme"], rotation=30, ha="right")
        a.set_title(f"{label}: 5% - 10%")
    figures.save(fig, out / "commission_cut")


if __name__ == "__main__":
    main()
