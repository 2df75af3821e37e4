"""The seeds' remedies against the default, each at its cost (ODD 7.7; issue 29).

The strategist's and the regulator's question: "which remedy buys the most retention per yuan?"
Our platform (the incumbent) runs each remedy from day 0 while the rivals do not; every remedy is
compared with the default over the same seeds (common random numbers) by paired differences with
95% intervals (sim/study.py), over days 120-364 (after the launch months, as ODD 8 rows 5-7), on
the incumbent's:

* orders per 30-day buyer (orders over the window / its mean 30-day buyers), repurchase rate
  (mean of the daily 30-day repurchase rate), orders;
* leader churn (quits per leader-month) and its leaders' mean monthly net income at review;
* complaints per order and produce spoilage (units spoiled / shipped, fruit and vegetables);
* net margin (profit / (GMV - coupons - refunds)).

A remedy's **cost** is every yuan its programme moves over the window: the platform's own
(``services_yuan``, ``referral_yuan``, ``training_yuan``, ``aftersales_yuan``, ``qc_yuan``) and the
money from outside (couriers' fees, government subsidies: ``leader_stats``), since a programme a
regulator funds is no cheaper to society. Cost per retained leader is that cost over the quits it
avoids; per retained customer, over the 30-day buyers it adds (mean over the window). The figure
ranks the remedies by orders gained and quits avoided per 10,000 yuan.

Remedies (ODD 7.7): community services at every one of the incumbent's points, the same with the
members' added visits switched off (the income channel alone), referral rewards of 5 yuan to the
inviter and the invitee, training of every leader (300 yuan each), after-sales that resolves a
complaint within the hour (seed 000 §4.4.2's standard, against the 24-hour reference), and
inspection of every pre-sale unit it receives (supplier quality control).

    to run: python experiments/remedies.py          (6 seeds, 8,000 households, a year)
            python experiments/remedies.py --quick  (2 seeds, small market, ~1 min)

Prints the table; writes a figure (PNG and PDF) to experiments/figures/remedies/.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim import figures  # noqa: E402
from sim.api import compose, run_seeds  # noqa: E402
from sim.study import paired_difference  # noqa: E402

OUT = Path(__file__).resolve().parent / "figures" / "remedies"
FROM_DAY = 120  # ODD 8 rows 5-7: after the launch months
OURS = "incumbent"
_S = f"platforms.{OURS}.strategy.services"
# name -> (label, overrides that switch it on for our platform)
REMEDIES = {
    "services": ("community services (seed 002 Case A)", [f"{_S}.share_of_points=1.0"]),
    "services_income_only": ("community services, no added visits",
                             [f"{_S}.share_of_points=1.0", f"{_S}.order_chance_per_visit=0"]),
    "referral": ("referral rewards, 5 yuan each side",
                 [f"platforms.{OURS}.strategy.referral.reward_yuan=5"]),
    "training": ("leader training, every leader",
                 [f"platforms.{OURS}.strategy.training.share_of_leaders=1.0"]),
    "aftersales": ("after-sales within 1 hour (seed 000 §4.4.2)",
                   [f"platforms.{OURS}.strategy.aftersales.resolution_hours=1.0"]),
    "qc": ("supplier QC, every unit inspected",
           [f"platforms.{OURS}.strategy.qc.share_inspected=1.0"]),
}
METRICS = ("orders_per_buyer", "repurchase", "orders", "churn", "leader_income",
           "complaints_per_order", "produce_spoilage", "net_margin")


def measures(tables: dict, from_day: int, produce: list[str]) -> dict:
    """Our platform's figures over days >= ``from_day`` in one run, and the programme's cost."""
    p, ls = tables["platforms"], tables["leader_stats"]
    rv, sp = tables["leader_reviews"], tables["spoilage"]
    p = p[(p["platform"] == OURS) & (p["day"] >= from_day)]
    ls = ls[(ls["platform"] == OURS) & (ls["day"] >= from_day)]
    rv = rv[(rv["platform"] == OURS) & (rv["day"] >= from_day)]
    sp = sp[(sp["platform"] == OURS) & (sp["day"] >= from_day) & sp["category"].isin(produce)]
    orders = float(p["orders"].sum())
    buyers = float(p["buyers_30d"].mean())
    net = float((p["gmv_yuan"] - p["subsidy_yuan"] - p["refunds_yuan"]).sum())
    leader_months = float(ls["active_leaders"].sum()) / 30.0
    shipped = float(sp["units_shipped"].sum())
    return {
        "orders_per_buyer": orders / buyers if buyers else float("nan"),
        "repurchase": float(p["repurchase_rate"].mean()),
        "orders": orders,
        "buyers": buyers,
        "quits": float(ls["quits"].sum()),
        "churn": float(ls["quits"].sum()) / leader_months if leader_months else float("nan"),
        "leader_income": float(rv["net_income_yuan"].mean()),
        "complaints_per_order": float(p["complaints"].sum()) / orders if orders else float("nan"),
        "produce_spoilage": float(sp["units_spoiled"].sum()) / shipped if shipped else float("nan"),
        "net_margin": float(p["profit_yuan"].sum()) / net if net > 0 else float("nan"),
        "cost": float(p[["services_yuan", "referral_yuan", "training_yuan", "aftersales_yuan",
                         "qc_yuan"]].to_numpy().sum()
                      + ls["service_fees_yuan"].sum() + ls["government_subsidy_yuan"].sum()),
    }


def compare(base: pd.DataFrame, remedy: pd.DataFrame) -> dict:
    """Paired differences remedy - base per metric, and the costs per retained leader and
    customer (means over seeds)."""
    row = {}
    for k in METRICS:
        d = paired_difference(base[k].to_numpy(), remedy[k].to_numpy())
        row[k] = d["mean_a"]
        row[f"{k}_diff"], row[f"{k}_lo"], row[f"{k}_hi"] = d["difference"], d["ci_low"], \
            d["ci_high"]
    cost = float((remedy["cost"] - base["cost"]).mean())
    kept_leaders = float((base["quits"] - remedy["quits"]).mean())
    kept_buyers = float((remedy["buyers"] - base["buyers"]).mean())
    row["cost"] = cost
    row["cost_per_retained_leader"] = cost / kept_leaders if kept_leaders > 0 else float("nan")
    row["cost_per_retained_customer"] = cost / kept_buyers if kept_buyers > 0 else float("nan")
    row["orders_per_10k_yuan"] = 1e4 * row["orders_diff"] / cost if cost > 0 else float("nan")
    row["quits_avoided_per_10k_yuan"] = 1e4 * kept_leaders / cost if cost > 0 else float("nan")
    return row


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 seeds, small market, 150 days")
    ap.add_argument("--seeds", type=int, default=None, help="number of seeds (default 6)")
    ap.add_argument("--out", type=Path, default=None, help="figure directory")
    args = ap.parse_args(argv)
    args.out = figures.output_dir(OUT, args.quick, args.out)
    seeds = list(range(1, (args.seeds or (2 if args.quick else 6)) + 1))
    common = ["experiment=smoke", "days=150"] if args.quick else ["market.consumers=8000"]
    from_day = 60 if args.quick else FROM_DAY
    workers = 1 if args.quick else None

    cfg = compose(common)
    produce = [c for c in cfg.products if cfg.products[c].produce]

    def runs(extra):
        out = run_seeds(common + extra, seeds, workers=workers)
        return pd.DataFrame([measures(t, from_day, produce) for _, t in out])

    base = runs([])
    rows = [{"remedy": name, "label": label, **compare(base, runs(extra))}
            for name, (label, extra) in REMEDIES.items()]
    table = pd.DataFrame(rows)
    print(f"Remedies for the {OURS} against the default ({len(seeds)} seeds"
          f"{', quick' if args.quick else ''}; days >= {from_day}); paired 95% intervals")
    for _, r in table.iterrows():
        print(f"{r['remedy']}: {r['label']}")
        for k in METRICS:
            print(f"  {k:<21} {r[k]:10.4g} {r[f'{k}_diff']:+10.4g} "
                  f"[{r[f'{k}_lo']:+.4g}, {r[f'{k}_hi']:+.4g}]")
        print(f"  programme money {r['cost']:,.0f} yuan (platform + outside); per retained "
              f"leader {r['cost_per_retained_leader']:,.0f}, per retained customer "
              f"{r['cost_per_retained_customer']:,.0f}; per 10,000 yuan: "
              f"{r['orders_per_10k_yuan']:+.0f} orders, "
              f"{r['quits_avoided_per_10k_yuan']:.2f} quits avoided")
    _figure(table, args.out)
    return {"table": table}


def _figure(table: pd.DataFrame, out: Path) -> None:
    fig, ax = figures.subplots(1, 2, height_in=1.2 + 0.35 * len(table))
    order = table.sort_values("orders_per_10k_yuan")
    y = np.arange(len(order))
    for a, k, label in zip(ax, ("orders_per_10k_yuan", "quits_avoided_per_10k_yuan"),
                           ("orders gained per 10,000 yuan", "quits avoided per 10,000 yuan"),
                           strict=True):
        a.barh(y, order[k], color="0.6")
        a.set_yticks(y, order["label"] if a is ax[0] else [""] * len(order))
        a.axvline(0, color="k", linewidth=0.6)
        a.set_xlabel(label)
    ax[0].set_title(f"Remedies for the {OURS}, ranked")
    figures.save(fig, out / "remedies_per_yuan")


if __name__ == "__main__":
    main()
