"""War game: our platform's policies against the rivals' responses (ODD 7.4; issue 28).

The strategist's question: "if we launch with this scheme and these coupons, and the rivals
answer, where do we end up?" Our platform is the deep-pocket entrant; its policies are an
incentive scheme (``flat``; ``multi_source``, the playbook) x a coupon schedule (the market's
``launch_war``; ``none``). The rivals (the regional incumbent and the discounter) respond with

* ``none``: they keep cost-plus prices and recruit as before;
* ``best_response``: both price by best response (every ``rivalry.reprice_days``, damped,
  over their recent choosers: sim/pricing.py);
* ``poaching``: both offer our largest leaders a commission premium each month
  (``rivalry.poach_leaders_per_month`` = :data:`POACH_PER_MONTH` per 20,000 households, the
  ``rivalry`` group's premium, acceptance and move share: sim/leaders/poaching.py).

(``coupon_match`` joins the responses when it is built.) Every cell runs over the same seeds
(common random numbers); each is compared with our default policy against no response (flat,
launch_war, none) by paired differences with 95% intervals (sim/study.py), over the days from
our entry + 30 to the end, on our:

* order share (mean of the daily share of orders);
* net margin (profit / (GMV - coupons - refunds));
* cash at the end, yuan (with the funding rounds drawn);
* leader churn (our leaders' quits per leader-month).

Not part of ``make figures`` nor ``make test`` (the Makefile leaves it out): a full run is 24
scenarios x 6 seeds.

    to run: python experiments/war_game.py          (6 seeds, 8,000 households, a year)
            python experiments/war_game.py --quick  (2 seeds, small market, 150 days)

Prints the effect table; writes it (CSV) and the effect matrix (PNG and PDF) to
experiments/figures/war_game/.
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

OUT = Path(__file__).resolve().parent / "figures" / "war_game"
US = "entrant"
RIVALS = ("incumbent", "discounter")
POACH_PER_MONTH = 20.0  # offers a month per 20,000 households (assumption of the experiment)
POLICIES = {
    "flat + launch war": [],
    "flat, no coupons": [f"platforms.{US}.strategy.subsidy.schedule=none"],
    "multi_source + launch war": [f"+playbook@platforms.{US}.strategy=multi_source"],
    "multi_source, no coupons": [f"+playbook@platforms.{US}.strategy=multi_source",
                                 f"platforms.{US}.strategy.subsidy.schedule=none"],
}
RESPONSES = {
    "none": [],
    "best_response": [f"platforms.{r}.pricing=best_response" for r in RIVALS],
    "poaching": [f"platforms.{r}.strategy.rivalry.poach_leaders_per_month={POACH_PER_MONTH}"
                 for r in RIVALS],
}
METRICS = {"share": "order share", "margin": "net margin", "cash": "cash at end, yuan",
           "churn": "leader churn / month"}


def measures(tables: dict, from_day: int) -> dict:
    """Our platform's figures over days >= ``from_day`` of one run."""
    p = tables["platforms"]
    p = p[(p["platform"] == US) & (p["day"] >= from_day)]
    net = float((p["gmv_yuan"] - p["subsidy_yuan"] - p["refunds_yuan"]).sum())
    ev = tables["leaders"]
    quits = ((ev["platform"] == US) & (ev["event"] == "quit") & (ev["day"] >= from_day)).sum()
    months = float(p["active_leaders"].sum()) / 30.0
    return {"share": float(p["order_share"].mean()),
            "margin": float(p["profit_yuan"].sum()) / net if net > 0 else float("nan"),
            "cash": float(p["cash_yuan"].iloc[-1]),
            "churn": float(quits) / months if months > 0 else float("nan")}


def effects(runs: dict, from_day: int) -> pd.DataFrame:
    """Each (policy, response) cell against (our default policy, no response), paired."""
    m = {cell: pd.DataFrame([measures(t, from_day) for _, t in rs]) for cell, rs in runs.items()}
    ref = m[(next(iter(POLICIES)), "none")]
    rows = []
    for (policy, response), df in m.items():
        row = {"policy": policy, "response": response}
        for k in METRICS:
            d = paired_difference(ref[k].to_numpy(), df[k].to_numpy())
            row[k] = df[k].mean()
            row[f"{k}_diff"], row[f"{k}_lo"], row[f"{k}_hi"] = (d["difference"], d["ci_low"],
                                                                d["ci_high"])
        rows.append(row)
    return pd.DataFrame(rows)


def main(argv=None) -> pd.DataFrame:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 seeds, small market, 150 days")
    ap.add_argument("--seeds", type=int, default=None, help="number of seeds (default 6)")
    ap.add_argument("--out", type=Path, default=None, help="figure directory")
    args = ap.parse_args(argv)
    args.out = figures.output_dir(OUT, args.quick, args.out)
    seeds = list(range(1, (args.seeds or (2 if args.quick else 6)) + 1))
    base = (["experiment=smoke", "days=150"] if args.quick else ["market.consumers=8000"])
    from_day = 60 + 30  # the entrant enters on day 60 (platforms/three_way)
    workers = 1 if args.quick else None
    runs = {(pol, resp): run_seeds(base + po + ro, seeds, workers=workers)
            for pol, po in POLICIES.items() for resp, ro in RESPONSES.items()}
    table = effects(runs, from_day)
    pd.set_option("display.width", 200)
    print(f"War game: our platform ({US}) x the rivals' responses ({len(seeds)} seeds"
          f"{', quick' if args.quick else ''}; days >= {from_day}); each cell against "
          f"'{next(iter(POLICIES))}' with no response, paired 95% intervals")
    for _, r in table.iterrows():
        print(f"{r['policy']:>27} | {r['response']:<13}: " + "; ".join(
            f"{k} {r[k]:.4g} {r[f'{k}_diff']:+.4g} [{r[f'{k}_lo']:+.4g}, {r[f'{k}_hi']:+.4g}]"
            for k in METRICS))
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "effects.csv", index=False)
    _figure(table, args.out, len(seeds))
    return table


def _figure(table: pd.DataFrame, out: Path, n_seeds: int) -> None:
    """The effect matrix: a panel per figure of ours, policies x responses, each cell the
    paired difference from the reference cell with its 95% interval; blue is better for us
    (more share, margin and cash, less churn), red worse, grey where the interval holds 0."""
    pols, resps = list(POLICIES), list(RESPONSES)
    fig, axes = figures.subplots(2, 2, height_in=4.6)
    for ax, (k, label) in zip(axes.ravel(), METRICS.items(), strict=True):
        grid = np.full((len(pols), len(resps)), np.nan)
        text = {}
        for _, r in table.iterrows():
            i, j = pols.index(r["policy"]), resps.index(r["response"])
            sig = not (r[f"{k}_lo"] <= 0 <= r[f"{k}_hi"])
            grid[i, j] = r[f"{k}_diff"] if sig else np.nan
            scale, unit = (1e3, "k") if k == "cash" else (1.0, "")
            text[i, j] = (f"{r[f'{k}_diff'] / scale:+.3g}{unit}\n[{r[f'{k}_lo'] / scale:+.2g}, "
                          f"{r[f'{k}_hi'] / scale:+.2g}]")
        lim = np.nanmax(np.abs(grid)) if np.isfinite(grid).any() else 1.0
        ax.imshow(np.ones_like(grid), cmap="Greys", vmin=0, vmax=6, aspect="auto")  # grey
        ax.imshow(grid, cmap="RdBu_r" if k == "churn" else "RdBu", vmin=-lim, vmax=lim,
                  aspect="auto")
        for (i, j), s in text.items():
            dark = np.isfinite(grid[i, j]) and abs(grid[i, j]) > 0.6 * lim
            ax.text(j, i, s, ha="center", va="center", fontsize=6,
                    color="white" if dark else "black")
        ax.set_xticks(range(len(resps)), resps)
        left = ax in axes[:, 0]
        ax.set_yticks(range(len(pols)), pols if left else [""] * len(pols))
        ax.set_title(f"our {label}")
    fig.suptitle(f"War game: our platform (the entrant) against the rivals' responses. Each "
                 f"cell: minus '{pols[0]}' against no response,\npaired over {n_seeds} seeds, "
                 "95% interval; blue better for us, red worse, grey: the interval holds 0",
                 fontsize=7)
    figures.save(fig, out / "effect_matrix")


if __name__ == "__main__":
    main()
