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

The launch spike (ODD 8 row 5: no 30-day window after day 30 above 45% a month): a full run also
launches the default market at 20,000 households (market.platform_money_households, where
``leaders.recruits_per_day`` is the platforms' own pace, unscaled) with every gap filled on the
first day and with 3 (the default), 2 and 1 recruits a day, the churn parameters unchanged, and
reports per pace the worst 30-day window starting on days 30-120 (the launch) and on days
121-210 (after it), and churn over days 120-239 (``--no-launch`` leaves it out).

    to run: python experiments/leader_loyalty.py             (6 seeds, 8,000 households, sweep,
                                                              launch paces)
            python experiments/leader_loyalty.py --no-sweep --no-launch  (the four scenarios)
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
from sim.validation import (  # noqa: E402
    CHURN_SPIKE_DAYS,
    CHURN_SPIKE_FROM,
    CHURN_SPIKE_MAX,
    window_churn,
)

OUT = Path(__file__).resolve().parent / "figures" / "leader_loyalty"
FROM_DAY = 120  # ODD 8 rows 5-7: after the launch months
RATES = (0.10, 0.05)
SCHEMES = ("flat", "multi_source")
# The launch: recruits a day per 20,000 households (None: every gap on the first day), and the
# market and windows they are read in.
PACES = (None, 3, 2, 1)
LAUNCH = ["market.consumers=20000", "days=240"]
LAUNCH_STARTS = (CHURN_SPIKE_FROM, 120)  # windows starting on these days are the launch's
LATER_STARTS = (121, 210)  # ... and these after it (same number of starts, inside 240 days)


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
    ap.add_argument("--launch", action=argparse.BooleanOptionalAction, default=None,
                    help="the launch spike by recruiting pace (default: in a full run)")
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
    launch = None
    if args.launch if args.launch is not None else not args.quick:
        launch = launch_by_pace(seeds, workers)
        print(f"Launch spike by recruiting pace ({len(seeds)} seeds, 20,000 households; the "
              f"worst 30-day window starting on days {LAUNCH_STARTS[0]}-{LAUNCH_STARTS[1]} and "
              f"{LATER_STARTS[0]}-{LATER_STARTS[1]}; ODD 8 row 5's bound {CHURN_SPIKE_MAX})")
        for pace, g in launch.groupby("pace", sort=False):
            spiked = int((g["launch"] > g["later"]).sum())
            print(f"  {pace:>8}: launch {_span(g['launch'])}, after {_span(g['later'])}, "
                  f"churn 120-239 {_span(g['churn'])}; launch above after in {spiked} of "
                  f"{len(g)} seeds, above {CHURN_SPIKE_MAX} in "
                  f"{int((g['launch'] > CHURN_SPIKE_MAX).sum())}")
    _figure(table, args.out)
    return {"table": table, "sweep": sweep, "launch": launch}


def _span(x: pd.Series) -> str:
    return f"{x.min():.2f}-{x.max():.2f}"


def worst_window(daily: pd.DataFrame, starts: tuple[int, int]) -> float:
    """The highest churn (quits per leader-month) of the 30-day windows starting on days
    ``starts[0]`` to ``starts[1]``."""
    return max(window_churn(daily, (s, s + CHURN_SPIKE_DAYS - 1))
               for s in range(starts[0], starts[1] + 1))


def launch_by_pace(seeds, workers) -> pd.DataFrame:
    """Per pace and seed: the worst launch window, the worst later window, churn 120-239."""
    rows = []
    for pace in PACES:
        extra = [f"leaders.recruits_per_day={100000 if pace is None else pace}"]
        for seed, t in run_seeds(LAUNCH + extra, seeds, workers=workers):
            d = t["daily"]
            rows.append({"pace": "at once" if pace is None else f"{pace} a day", "seed": seed,
                         "launch": worst_window(d, LAUNCH_STARTS),
                         "later": worst_window(d, LATER_STARTS),
                         "churn": window_churn(d, (120, 239))})
    return pd.DataFrame(rows)


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
