"""War game: our platform's policies against the rivals' responses (ODD 7.4-7.5; issue 28).

The strategist's question: "what if *we* do X while the rivals do Y?". Our platform (the
regional incumbent) plays each policy of :data:`POLICIES`; the rivals (the entrant and the
discounter) play each response of :data:`RESPONSES`. Every cell (policy, response) is compared
with our status quo under the *same* response, over the same seeds (common random numbers), by
paired differences with 95% intervals (``sim.study``), over days 120-364 (after the launch
months, as ODD 8 rows 5-7), on our:

* order share (our orders / every platform's orders over the window);
* net margin (profit / (GMV - coupons - refunds));
* cash on the last day (yuan);
* leader churn (quits per leader-month).

A last row, "status quo", gives what each response alone does to us (against no response).
The figure is the effect matrix: one panel per measure, a cell per (policy, response), its
paired difference written in it with its interval; cells whose interval crosses zero are pale.

Policies and responses are overrides of the per-platform levers (``platforms.<name>...``); a
response a build does not have yet (its pricing rule or lever missing from the config schema)
is left out with a note, so the experiment runs on any commit. The amounts (a 4-yuan coupon for
90 days, the playbooks' values) are those of the configs they name, assumptions to sweep.

Outside ``make figures`` and ``make test`` (a full run is 6 seeds x (policies + 1) x responses
years):

    python experiments/war_game.py            (6 seeds, 8,000 households, a year)
    python experiments/war_game.py --quick    (2 seeds, small market, 150 days)

Prints the table; writes ``war_game.{png,pdf}`` and ``war_game.csv`` to
experiments/figures/war_game/.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim import figures  # noqa: E402
from sim.api import check_overrides, run_seeds  # noqa: E402
from sim.config import ConfigError  # noqa: E402
from sim.study import paired_difference, parse_study_args  # noqa: E402

OUT = Path(__file__).resolve().parent / "figures" / "war_game"
FROM_DAY = 120  # ODD 8 rows 5-7: after the launch months
OURS = "incumbent"
RIVALS = ("entrant", "discounter")
# Poaching offers a month per 20,000 households (sim.leaders.poaching; the rivalry group's
# premium, acceptance and move share): a setting of this experiment, an assumption.
POACH_PER_MONTH = 20.0

# name -> (label, overrides for our platform)
POLICIES: dict[str, tuple[str, list[str]]] = {
    "multi_source": ("multi-source leaders (services)",
                     [f"+playbook@platforms.{OURS}.strategy=multi_source"]),
    "coupon_all": ("coupon war, every order",
                   [f"+playbook@platforms.{OURS}.strategy=launch_war"]),
    "coupon_lapsed_village": ("win-back coupon, lapsed village households",
                              [f"+playbook@platforms.{OURS}.strategy=lapsed_village"]),
    "multi_source_lapsed_village": ("multi-source leaders + the win-back coupon",
                                    [f"+playbook@platforms.{OURS}.strategy=multi_source",
                                     f"platforms.{OURS}.strategy.subsidy.target=[lapsed,village]",
                                     f"platforms.{OURS}.strategy.subsidy.schedule=withdrawal",
                                     f"platforms.{OURS}.strategy.subsidy.coupon_yuan_per_order=8",
                                     f"platforms.{OURS}.strategy.subsidy.days=100000"]),
}


def _rivals(**keys) -> list[str]:
    """``key=value`` for every rival platform (``__`` for a dot in the key)."""
    return [f"platforms.{r}.{k.replace('__', '.')}={v}" for r in RIVALS for k, v in keys.items()]


# name -> (label, overrides for the rivals)
RESPONSES: dict[str, tuple[str, list[str]]] = {
    "none": ("no response (cost-plus)", []),
    "price_war": ("price war (undercut)", _rivals(pricing="price_war")),
    "coupon_match": ("match our coupon", _rivals(strategy__subsidy__response="coupon_match")),
    "best_response": ("best-response prices", _rivals(pricing="best_response")),
    "poaching": ("poach our largest leaders",
                 _rivals(strategy__rivalry__poach_leaders_per_month=POACH_PER_MONTH)),
}
METRICS = {"order_share": "our order share", "net_margin": "our net margin",
           "cash": "our cash at the end (yuan)", "churn": "our leader churn (a month)"}
GOOD_WHEN_LOWER = {"churn"}  # the figure colours a change good for us blue


def available(named: dict[str, tuple[str, list[str]]], common: list[str]) -> dict:
    """The entries whose overrides this build accepts (others are reported and left out)."""
    out = {}
    for name, (label, extra) in named.items():
        try:
            check_overrides(common + extra)
        except ConfigError as exc:  # an unknown lever or rule: a later build has it
            print(f"  left out {name!r}: {str(exc).splitlines()[0]}")
            continue
        out[name] = (label, extra)
    return out


def measures(tables: dict, from_day: int) -> dict:
    """Our platform's figures over days >= ``from_day`` in one run."""
    p, ls = tables["platforms"], tables["leader_stats"]
    p = p[p["day"] >= from_day]
    ours = p[p["platform"] == OURS]
    ls = ls[(ls["platform"] == OURS) & (ls["day"] >= from_day)]
    orders_all = float(p["orders"].sum())
    net = float((ours["gmv_yuan"] - ours["subsidy_yuan"] - ours["refunds_yuan"]).sum())
    leader_months = float(ls["active_leaders"].sum()) / 30.0
    return {
        "order_share": float(ours["orders"].sum()) / orders_all if orders_all else float("nan"),
        "net_margin": float(ours["profit_yuan"].sum()) / net if net > 0 else float("nan"),
        "cash": float(ours["cash_yuan"].iloc[-1]) if len(ours) else float("nan"),
        "churn": float(ls["quits"].sum()) / leader_months if leader_months else float("nan"),
    }


def effect(base: pd.DataFrame, other: pd.DataFrame) -> dict:
    """Paired differences other - base per measure (means over seeds)."""
    row = {}
    for k in METRICS:
        d = paired_difference(base[k].to_numpy(), other[k].to_numpy())
        row[k] = d["mean_a"]
        row[f"{k}_diff"], row[f"{k}_lo"], row[f"{k}_hi"] = d["difference"], d["ci_low"], \
            d["ci_high"]
    return row


def play(common: list[str], seeds: list[int], from_day: int, workers: int | None,
         policies: dict, responses: dict) -> pd.DataFrame:
    """Every (policy, response) cell against our status quo under that response, and each
    response's own effect on our status quo (policy "status_quo", against no response)."""
    def runs(extra):
        out = run_seeds(common + extra, seeds, workers=workers)
        return pd.DataFrame([measures(t, from_day) for _, t in out])

    rows, status_quo = [], {}
    for rname, (_, rextra) in responses.items():
        status_quo[rname] = runs(rextra)
        for pname, (_, pextra) in policies.items():
            rows.append({"policy": pname, "response": rname,
                         **effect(status_quo[rname], runs(pextra + rextra))})
    if "none" in status_quo:
        for rname in responses:
            if rname != "none":
                rows.append({"policy": "status_quo", "response": rname,
                             **effect(status_quo["none"], status_quo[rname])})
    return pd.DataFrame(rows)


def _figure(table: pd.DataFrame, policies: dict, responses: dict, out: Path) -> list[Path]:
    """The effect matrix: a panel per measure, a cell per (policy, response)."""
    import matplotlib.pyplot as plt

    pol = [p for p in [*policies, "status_quo"] if p in set(table["policy"])]
    res = list(responses)
    labels = {**{k: v[0] for k, v in policies.items()},
              "status_quo": "status quo (the response alone)"}
    fig, axes = plt.subplots(2, 2, figsize=(4.2 + 2.0 * len(res), 2.2 + 1.4 * len(pol)))
    for ax, (k, title) in zip(axes.flat, METRICS.items(), strict=True):
        z = np.full((len(pol), len(res)), np.nan)
        for _, r in table.iterrows():
            z[pol.index(r["policy"]), res.index(r["response"])] = r[f"{k}_diff"]
        lim = np.nanmax(np.abs(z)) if np.isfinite(z).any() and np.nanmax(np.abs(z)) > 0 else 1.0
        # muted (the range past the largest effect) so the numbers stay readable on the cells
        ax.imshow(z, cmap="RdBu_r" if k in GOOD_WHEN_LOWER else "RdBu", vmin=-2 * lim,
                  vmax=2 * lim, aspect="auto")
        for _, r in table.iterrows():
            i, j = pol.index(r["policy"]), res.index(r["response"])
            sig = r[f"{k}_lo"] > 0 or r[f"{k}_hi"] < 0
            scale, fmt = (1e-3, "{:+,.1f}k") if k == "cash" else (1.0, "{:+.3f}")
            lo, mid, hi = (fmt.format(scale * r[f"{k}_{s}"]) for s in ("lo", "diff", "hi"))
            ax.text(j, i, f"{mid}\n[{lo}, {hi}]", ha="center", va="center", fontsize=7,
                    color="black" if sig else "0.45")
        ax.set_xticks(range(len(res)), [responses[r][0] for r in res], fontsize=7,
                      rotation=15)
        ax.set_yticks(range(len(pol)), [labels[p] for p in pol], fontsize=7)
        ax.set_title(f"change in {title}", fontsize=9)
    fig.suptitle(f"War game: the {OURS}'s policies against the rivals' responses (paired 95% "
                 "intervals; grey: crosses zero; blue: good for us)", fontsize=9)
    fig.tight_layout()
    return figures.save(fig, out / "war_game")


def main(argv=None) -> dict:
    args = parse_study_args(argv, __doc__, OUT, days=365, quick_days=150)
    seeds = list(args.seeds)
    common = args.base + ([] if args.quick else ["market.consumers=8000"])
    from_day = 60 if args.quick else FROM_DAY
    workers = args.workers

    policies, responses = available(POLICIES, common), available(RESPONSES, common)
    table = play(common, seeds, from_day, workers, policies, responses)
    print(f"War game: the {OURS}'s policies against the rivals' responses ({len(seeds)} seeds"
          f"{', quick' if args.quick else ''}; days >= {from_day}); paired 95% intervals "
          "against our status quo under the same response")
    for _, r in table.iterrows():
        print(f"{r['policy']} | {r['response']}")
        for k in METRICS:
            print(f"  {k:<12} {r[k]:12.4g} {r[f'{k}_diff']:+12.4g} "
                  f"[{r[f'{k}_lo']:+.4g}, {r[f'{k}_hi']:+.4g}]")
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "war_game.csv", index=False)
    paths = _figure(table, policies, responses, args.out)
    print("figures: " + ", ".join(str(p) for p in paths))
    return {"table": table}


if __name__ == "__main__":
    main()
