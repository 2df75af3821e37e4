"""Cold chain x season x procurement mode: what spoils, and what it costs (issue 9).

A strategist's question: how much does a cold-chain investment cut produce losses, in summer and
in winter, under pre-sale (以销定采) and under stock-mode procurement, and what does it do to
margin, complaints and the share of shopping that goes to group buying?

Design: cold-chain coverage x in {0, 0.25, 0.5, 0.75, 1} applied to every tier of every platform
(``coldchain.coverage_*=x`` market-wide and in every platform's strategy,
:func:`sim.strategy.every_platform`) with the same share of pickup points holding a fridge
(``coldchain.fridge_share_*=x``); procurement mode for every platform (``procurement=presale`` or
``stock``); the same seeds in every cell (common random numbers). Runs start on 1 March so that
adoption has ramped up before summer (June-August, days 92-183) and winter (December-February,
days 275-364), which are read from the same run. Bands and intervals are 95% over seeds.

    python experiments/cold_chain.py            # 5 seeds, 5,000 households (~3 min on 2 cores)
    python experiments/cold_chain.py --quick    # 2 seeds, 400 households, 240 days, coverage 0, 1

Figures (PNG + PDF) go to ``experiments/figures/cold_chain/``: ``spoilage`` (produce loss rate
against coverage by season, one panel per mode), ``effects`` (gross margin, complaints per 1,000
orders, group-buying share of order occasions) and ``stages`` (where produce is lost); the
numbers behind them go to ``results.csv`` (``--replot`` redraws from it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim import figures  # noqa: E402
from sim.api import run_seeds  # noqa: E402
from sim.coldchain import LOSS_STAGES  # noqa: E402
from sim.stats import t_quantile  # noqa: E402
from sim.strategy import every_platform  # noqa: E402
from sim.study import paired_difference  # noqa: E402

START_DAY_OF_YEAR = 59  # 1 March
SEASONS = {"summer": (152, 244), "winter": (335, 59)}  # day-of-year windows [from, to)
MODES = ("presale", "stock")


def _in_season(doy: pd.Series, season: str) -> pd.Series:
    lo, hi = SEASONS[season]
    return (doy >= lo) & (doy < hi) if lo < hi else (doy >= lo) | (doy < hi)


def measure(summary: dict, tables: dict, produce: list[str], start: int) -> dict:
    """The numbers of one run: loss rates by season and stage, margin, complaints, share."""
    spo, daily, plat, loss = (tables[k] for k in ("spoilage", "daily", "platforms", "losses"))
    doy = (start + spo["day"]) % 365
    sp = spo[spo["category"].isin(produce)]
    out = {}
    for season in ("year", *SEASONS):
        sel = sp if season == "year" else sp[_in_season(doy[sp.index], season)]
        shipped = sel["units_shipped"].sum()
        out[f"spoilage_{season}"] = sel["units_spoiled"].sum() / shipped if shipped else np.nan
    lp = loss[loss["category"].isin(produce)]
    shipped = sp["units_shipped"].sum()
    for stage in LOSS_STAGES:
        out[f"stage_{stage}"] = lp.loc[lp["stage"] == stage, "units_spoiled"].sum() / shipped
    net = (plat["gmv_yuan"] - plat["subsidy_yuan"] - plat["refunds_yuan"]).sum()
    out["gross_margin"] = (net - plat["cogs_yuan"].sum()) / net
    # after logistics, cold-chain surcharges included: what the cold chain buys, net of its price
    costs = plat["cogs_yuan"].sum() + plat["logistics_yuan"].sum()
    out["contribution_margin"] = (net - costs) / net
    out["complaints_per_1000_orders"] = 1000 * daily["complaints"].sum() / daily["orders"].sum()
    out["group_buying_share"] = daily["orders"].sum() / daily["occasions"].sum()
    out["fill_rate"] = summary["fill_rate"]
    out["on_time_pickup_rate"] = summary["on_time_pickup_rate"]
    return out


def run_grid(coverages, seeds, base: list[str], workers: int | None = None) -> pd.DataFrame:
    from sim.api import compose

    cfg = compose(base)
    produce = [c for c, v in cfg.products.items() if v.produce]
    start = int(cfg.calendar.start_day_of_year)
    rows = []
    for mode in MODES:
        for x in coverages:
            overrides = base + [f"procurement={mode}", *every_platform(
                                    list(cfg.platforms), **{f"coldchain__coverage_{t}": x
                                                            for t in ("central", "grid",
                                                                      "last_mile")}),
                                f"coldchain.fridge_share_town={x}",
                                f"coldchain.fridge_share_village={x}"]
            for seed, (summary, tables) in zip(seeds, run_seeds(overrides, seeds), strict=True):
                rows.append({"mode": mode, "coverage": x, "seed": seed,
                             **measure(summary, tables, produce, start)})
            print(f"  ran {mode} coverage={x}", flush=True)
    return pd.DataFrame(rows)


def _curve(df: pd.DataFrame, mode: str, col: str):
    sub = df[df["mode"] == mode].pivot(index="seed", columns="coverage", values=col)
    return sub.columns.to_numpy(float), figures.mean_ci(sub.to_numpy(), axis=0)


def plot(df: pd.DataFrame, out: Path) -> list[Path]:
    paths = []
    fig, ax = figures.subplots(1, 2, sharey=True)
    for a, mode in zip(ax, MODES, strict=True):
        for season, label in (("summer", "summer (Jun-Aug)"), ("year", "whole year"),
                              ("winter", "winter (Dec-Feb)")):
            x, (m, lo, hi) = _curve(df, mode, f"spoilage_{season}")
            figures.band(a, x, 100 * m, 100 * lo, 100 * hi, label=label)
        a.axhspan(20, 30, color="0.85", zorder=0, label="20-30%: no cold chain (ODD 8)")
        a.axhline(5, color="0.5", ls=":", lw=0.8, label="5%: with a cold chain")
        a.set(title=f"{'Pre-sale' if mode == 'presale' else 'Stock mode'}",
              xlabel="cold-chain coverage (every tier, and fridges)",
              ylabel="produce lost, % of units")
    ax[0].legend(frameon=False)
    paths += figures.save(fig, out / "spoilage")

    fig, ax = figures.subplots(1, 3)
    panels = (("contribution_margin", 100, "margin after goods and logistics, %"),
              ("complaints_per_1000_orders", 1, "complaints per 1,000 orders"),
              ("group_buying_share", 100, "group buying, % of order occasions"))
    for a, (col, scale, label) in zip(ax, panels, strict=True):
        for mode in MODES:
            x, (m, lo, hi) = _curve(df, mode, col)
            figures.band(a, x, scale * m, scale * lo, scale * hi, label=mode)
        a.set(xlabel="cold-chain coverage", ylabel=label)
    ax[0].legend(frameon=False)
    paths += figures.save(fig, out / "effects")

    fig, a = figures.subplots(1, 1)
    means = df.groupby(["mode", "coverage"])[[f"stage_{s}" for s in LOSS_STAGES]].mean()
    labels = [f"{'pre-sale' if m == 'presale' else 'stock'} {c:g}" for m, c in means.index]
    bottom = np.zeros(len(means))
    for s in LOSS_STAGES:
        v = 100 * means[f"stage_{s}"].to_numpy()
        a.bar(labels, v, bottom=bottom, label=s)
        bottom += v
    a.set(ylabel="produce lost, % of units", xlabel="mode, coverage",
          title="Where produce is lost (mean over seeds)")
    a.tick_params(axis="x", rotation=60)
    a.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    paths += figures.save(fig, out / "stages")
    return paths


def report(df: pd.DataFrame) -> None:
    cols = ["spoilage_year", "spoilage_summer", "spoilage_winter", "gross_margin",
            "contribution_margin",
            "complaints_per_1000_orders", "group_buying_share", "fill_rate",
            "on_time_pickup_rate"]
    g = df.groupby(["mode", "coverage"])[cols]
    mean, half = g.mean(), t_quantile(g.count() - 1) * g.std(ddof=1) / np.sqrt(g.count())
    pd.set_option("display.width", 160)
    print("\nMeans over seeds (95% half-widths below):")
    print(mean.round(4).to_string())
    print(half.round(4).to_string())
    print("\nStock minus pre-sale, produce loss over the year (paired by seed):")
    for x in sorted(df["coverage"].unique()):
        a = df[(df["mode"] == "presale") & (df["coverage"] == x)].sort_values("seed")
        b = df[(df["mode"] == "stock") & (df["coverage"] == x)].sort_values("seed")
        d = paired_difference(a["spoilage_year"], b["spoilage_year"])
        print(f"  coverage {x:g}: {100 * d['mean_a']:.1f}% -> {100 * d['mean_b']:.1f}%, "
              f"difference {100 * d['difference']:+.1f} points "
              f"[{100 * d['ci_low']:+.1f}, {100 * d['ci_high']:+.1f}]")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="2 seeds, 400 households, 240 days, coverage 0 and 1")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--replot", action="store_true",
                    help="redraw the figures from the saved results.csv without running")
    args = ap.parse_args(argv)
    args.out = figures.output_dir(ROOT / "experiments" / "figures" / "cold_chain", args.quick,
                                  args.out)
    if args.replot:
        df = pd.read_csv(args.out / "results.csv")
        report(df)
        for p in plot(df, args.out):
            print(f"wrote {p}")
        return
    if args.quick:
        # 1 June to 27 January: summer while adoption ramps up, then December-January.
        base = ["experiment=smoke", "market.consumers=400", "days=240",
                "calendar.start_day_of_year=151"]
        coverages, seeds, workers = (0.0, 1.0), (1, 2), 1
    else:
        base = ["market.consumers=5000", "days=365",
                f"calendar.start_day_of_year={START_DAY_OF_YEAR}"]
        coverages, seeds, workers = (0.0, 0.25, 0.5, 0.75, 1.0), (1, 2, 3, 4, 5), None
    df = run_grid(coverages, seeds, base, workers)
    args.out.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out / "results.csv", index=False)  # one row per mode x coverage x seed
    report(df)
    for p in plot(df, args.out):
        print(f"wrote {p}")


if __name__ == "__main__":
    main()
