"""Word of mouth on low-tier social networks (issue 3; ODD 7.1).

Three questions, one figure each, confidence bands over seeds:

1. **Network structure alone** (``adoption_dock``): the Bass dock (``experiment=bass_dock``:
   reach 1 everywhere, no leader boost, no lapse, no complaints) on the complete, small-world,
   county and village-cluster networks at equal p and q, with the discrete Bass curve
   F(t+1) = F + (p + qF)(1 - F) (Bass 1969) overlaid.
2. **The full mechanism** (``adoption_model``): the default market (leaders carry the platforms'
   reach, elderly villagers adopt later, leader boost, lapse, complaints) on the same networks at
   the default p and q; the county split into town and villages.
3. **A quality scandal** (``scandal``): the default market with a scandal on the regional
   incumbent (seed 004 §4.2.1) against the same seeds without: the incumbent's order share and
   complaints per day, and the paired difference in its share after the scandal.

Run: ``python experiments/word_of_mouth.py`` (``--quick``: 1,000 households, 2 seeds, shorter
runs). Figures go to ``experiments/figures/word_of_mouth/`` as PNG and PDF; the numbers quoted in
the README are printed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim import figures  # noqa: E402
from sim.api import run_seeds  # noqa: E402
from sim.study import paired_difference  # noqa: E402
from sim.validation import bass_curve  # noqa: E402

OUT = Path(__file__).resolve().parent / "figures" / "word_of_mouth"
NETWORKS = ["complete", "small_world", "county", "village_cluster"]
LABELS = {"complete": "complete", "small_world": "small world", "county": "county",
          "village_cluster": "village clusters"}
SCANDAL_PLATFORM = "incumbent"
WORKERS: int | None = None  # None: one process per core; --quick runs in this process


def run_seeds_w(overrides, seeds):
    return run_seeds(overrides, seeds, workers=WORKERS)


def first_day(curve: np.ndarray, level: float = 0.5) -> float:
    hit = np.flatnonzero(curve >= level)
    return float(hit[0]) if len(hit) else float("nan")


def curves(runs, column: str) -> np.ndarray:
    return np.array([t["daily"][column].to_numpy() for _, t in runs])


def fmt_ci(values) -> str:
    """Mean [95% CI] over the seeds that reached the level; says how many did if not all."""
    v = np.asarray(values, float)
    reached = v[~np.isnan(v)]
    if len(reached) == 0:
        return "never"
    m, lo, hi = figures.mean_ci(reached)
    out = f"{float(m):6.1f} [{float(lo):.1f}, {float(hi):.1f}]"
    return out if len(reached) == len(v) else f"{out} ({len(reached)} of {len(v)} seeds)"


def dock(seeds, households: int, days: int):
    """Question 1: the pure Bass process on each network."""
    from sim.api import compose

    cfg = compose(["experiment=bass_dock"])
    p, q = cfg.wom.p_external, cfg.wom.q_imitation
    bass = bass_curve(p, q, days)
    fig, ax = figures.subplots(1, 1, height_in=2.6)
    x = np.arange(1, days + 1)
    print(f"\n1. Bass dock (p = {p}, q = {q} per day, {households} households, {len(seeds)} "
          f"seeds): day adoption reaches 50% (mean [95% CI])")
    print(f"   {'Bass recursion':22s} {first_day(bass):6.1f}")
    for net in NETWORKS:
        runs = run_seeds_w(["experiment=bass_dock", f"market={net}",
                          f"market.consumers={households}", f"days={days}"], seeds)
        f = curves(runs, "adoption_rate")
        figures.band(ax, x, *figures.mean_ci(f), label=LABELS[net])
        dev = np.abs(f.mean(axis=0) - bass).max()
        print(f"   {LABELS[net]:22s} {fmt_ci([first_day(c) for c in f])}   "
              f"max |mean - Bass| = {dev:.4f}")
    ax.plot(x, bass, "k--", lw=1, label="Bass recursion")
    ax.set(xlabel="day", ylabel="adopted share", ylim=(0, 1.02),
           title=f"Bass dock, equal p = {p}, q = {q}")
    ax.legend(frameon=False)
    return figures.save(fig, OUT / "adoption_dock")


def model(seeds, households: int, days: int):
    """Question 2: the full mechanism on each network at the default p and q."""
    from sim.api import compose

    cfg = compose([])
    p, q = cfg.wom.p_external, cfg.wom.q_imitation
    fig, ax = figures.subplots(1, 1, height_in=2.6)
    x = np.arange(1, days + 1)
    print(f"\n2. Full model (default market, p = {p}, q = {q} per day, {households} households, "
          f"{len(seeds)} seeds): day adoption reaches 50% (mean [95% CI])")
    for net in NETWORKS:
        runs = run_seeds_w([f"market={net}", f"market.consumers={households}", f"days={days}"],
                         seeds)
        groups = [("adoption_rate", LABELS[net])]
        if net == "county":
            groups = [("adoption_rate_town", "county: town"),
                      ("adoption_rate_village", "county: villages")]
        for column, label in groups:
            f = curves(runs, column)
            figures.band(ax, x, *figures.mean_ci(f), label=label)
            print(f"   {label:22s} {fmt_ci([first_day(c) for c in f])}   "
                  f"adopted at the end {f[:, -1].mean():.3f}")
    ax.plot(x, bass_curve(p, q, days), "k--", lw=1, label="Bass recursion")
    ax.set(xlabel="day", ylabel="adopted share", ylim=(0, 1.02),
           title=f"Full model, equal p = {p}, q = {q}")
    ax.legend(frameon=False)
    return figures.save(fig, OUT / "adoption_model")


def scandal(seeds, households: int, days: int, day: int, severity: float):
    """Question 3: a quality scandal against the same seeds without it."""
    base = [f"market.consumers={households}", f"days={days}"]
    event = [f"wom.scandals=[{{day:{day},platform:{SCANDAL_PLATFORM},severity:{severity}}}]"]
    without = run_seeds_w(base, seeds)
    with_ = run_seeds_w(base + event, seeds)

    def share(runs):
        out = []
        for _, t in runs:
            plat = t["platforms"]
            orders = plat.pivot(index="day", columns="platform", values="orders")
            week = orders.rolling(7, min_periods=1).sum()
            out.append((week[SCANDAL_PLATFORM] / week.sum(axis=1).replace(0, np.nan)).fillna(0))
        return np.array(out)

    def share_after(runs):
        vals = []
        for _, t in runs:
            plat = t["platforms"]
            after = plat[plat["day"] >= day].groupby("platform")["orders"].sum()
            vals.append(after[SCANDAL_PLATFORM] / after.sum())
        return np.array(vals)

    x = np.arange(days)
    fig, ax = figures.subplots(1, 2, height_in=2.4)
    for runs, label in ((without, "no scandal"), (with_, f"scandal on day {day}")):
        figures.band(ax[0], x, *figures.mean_ci(share(runs)), label=label)
        figures.band(ax[1], x, *figures.mean_ci(curves(runs, "complaints")), label=label)
    for a in ax:
        a.axvline(day, color="grey", lw=0.6, ls=":")
    ax[0].set(xlabel="day", ylabel=f"{SCANDAL_PLATFORM} order share (7-day)",
              title="Order share of the scandal platform")
    ax[1].set(xlabel="day", ylabel="complaints per day", title="Complaints", yscale="symlog")
    ax[1].set_ylim(bottom=0)
    ax[0].legend(frameon=False)
    paths = figures.save(fig, OUT / "scandal")
    d = paired_difference(share_after(without), share_after(with_))
    complaints = np.array([s["scandal_complaints_total"] for s, _ in with_])
    print(f"\n3. Quality scandal on the {SCANDAL_PLATFORM}, day {day}, severity {severity} "
          f"({households} households, {len(seeds)} paired seeds)")
    print(f"   complaints injected: {complaints.mean():.0f} (mean over seeds)")
    print(f"   {SCANDAL_PLATFORM} order share from day {day}: {d['mean_a']:.3f} without, "
          f"{d['mean_b']:.3f} with; difference {d['difference']:+.3f} "
          f"[{d['ci_low']:+.3f}, {d['ci_high']:+.3f}] (paired 95% CI; unpaired half-width "
          f"{d['unpaired_half_width']:.3f} vs paired {d['paired_half_width']:.3f})")
    return paths


def main(argv=None) -> None:
    global WORKERS, OUT
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1,000 households, 2 seeds, short runs")
    ap.add_argument("--out", type=Path, default=None, help=f"figure directory (default {OUT})")
    args = ap.parse_args(argv)
    OUT = figures.output_dir(OUT, args.quick, args.out)
    if args.quick:
        # Small enough to run inside the test suite: starting worker processes would cost more
        # than the runs themselves.
        WORKERS = 1
        seeds, households, dock_days, days, sc_day = range(1, 3), 1000, 40, 90, 45
    else:
        seeds, households, dock_days, days, sc_day = range(1, 9), 20000, 120, 365, 150
    paths = dock(seeds, households, dock_days)
    paths += model(seeds, households, days)
    paths += scandal(seeds, households, days, sc_day, 0.5)
    print("\nfigures:", *(str(p) for p in paths), sep="\n  ")


if __name__ == "__main__":
    main()
