"""Benchmark: wall time, speed, memory and time per phase of the model at growing sizes.

For each size it runs the default scenario (county network, 3 platforms) for ``--days`` days in a
fresh process and prints: wall seconds (set-up and simulation), household-days per second, peak
resident memory, and the time per phase of the day. In the same run it times a per-agent Mesa
reference: households as Mesa agents whose ``step()`` applies the adoption rule (DESIGN §4.1) and
the logit choice (DESIGN §4.2) one agent at a time on the same network, activated with
``shuffle_do`` (the way Mesa models are usually written), and prints the speed ratio.

Results are also written as JSON (with the git commit) to ``experiments/results/benchmark.json``
so they can be compared across commits.

It ends with the issue-7 targets and whether each holds in this run: the default scenario (the
``make run`` size) under 5 s, 100k under 15 s (stretch 7 s), 1M under 200 s and 8 GB, 10x the
households costing at most 12x the time, and at least 50x the reference's household-days per
second at 100k. Timings depend on the machine and its load; the targets are for a 2-core box.

    python experiments/benchmark.py                 # 10k, default, 100k, 1M x 365 days;
                                                    # reference 10k, 100k x 365 days
    python experiments/benchmark.py --sizes 10000 100000 --reference-sizes 10000
    python experiments/benchmark.py --quick         # a small check (used by the tests)
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

import mesa
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


# ---------------------------------------------------------------------------------------------
# the vectorised model


def bench_model(consumers: int, days: int, seed: int = 0) -> dict:
    """Run the default scenario at ``consumers`` households for ``days`` days (this process)."""
    from sim.cli import compose
    from sim.model import GroupBuyingMarket

    cfg = compose([f"market.consumers={consumers}", f"days={days}", f"seed={seed}"])
    t0 = time.perf_counter()
    model = GroupBuyingMarket(cfg)
    t1 = time.perf_counter()
    model.phase_seconds = {}
    model.run()
    t2 = time.perf_counter()
    return {
        "consumers": consumers,
        "days": days,
        "setup_s": t1 - t0,
        "simulate_s": t2 - t1,
        "wall_s": t2 - t0,
        "consumer_days_per_s": consumers * days / (t2 - t1),
        "peak_rss_mb": _peak_rss_mb(),
        "phase_s": model.phase_seconds,
    }


# ---------------------------------------------------------------------------------------------
# the per-agent Mesa reference


class RefConsumer(mesa.Agent):
    """A household that applies the adoption and choice rules to itself, one agent at a time."""

    def __init__(self, model, neighbours: list[int], beta: float, order_rate: float,
                 p_scale: float):
        super().__init__(model)
        self.neighbours = neighbours
        self.beta = beta
        self.order_rate = order_rate
        self.p_scale = p_scale
        self.adopted = False
        self.trust = [0.5] * len(model.prices)
        self.last = -1

    def step(self) -> None:
        m = self.model
        if not self.adopted:
            # DESIGN §4.1: P = p * reach + q * A / k, reading each neighbour agent's state.
            k = len(self.neighbours)
            a = sum(1 for j in self.neighbours if m.households[j].adopted)
            prob = m.p * self.p_scale + (m.q * a / k if k else 0.0)
            if self.random.random() < prob:
                self.adopted = True
            return
        if self.random.random() >= self.order_rate:
            return
        # DESIGN §4.2: logit over the platforms and the outside option.
        weights = [math.exp(m.outside)]
        for j, price in enumerate(m.prices):
            v = -self.beta * price + m.theta * self.trust[j] + (m.kappa if j == self.last else 0.0)
            weights.append(math.exp(v))
        u = self.random.random() * sum(weights)
        acc, choice = 0.0, len(weights) - 1
        for k, w in enumerate(weights):
            acc += w
            if u < acc:
                choice = k
                break
        if choice > 0:
            self.last = choice - 1
            self.trust[self.last] += 0.1 * (1.0 - self.trust[self.last])


class RefModel(mesa.Model):
    """The per-agent reference: Mesa agents stepped with ``shuffle_do`` on the model's network."""

    def __init__(self, consumers: int, seed: int = 0):
        super().__init__(rng=seed)
        from sim.cli import compose
        from sim.model import GroupBuyingMarket

        cfg = compose([f"market.consumers={consumers}", "days=1", f"seed={seed}"])
        vec = GroupBuyingMarket(cfg)  # the same network and households as the model
        w, ch = cfg.wom, cfg.choice
        self.p, self.q = w.p_external, w.q_imitation
        self.theta, self.kappa, self.outside = ch.trust_weight, ch.habit, ch.outside_utility
        self.prices = [p.price_index for p in vec.platform_list]
        a = vec.network.adjacency
        c = vec.consumers
        self.households = [
            RefConsumer(self, a.indices[a.indptr[i]:a.indptr[i + 1]].tolist(),
                        float(c.price_sensitivity[i]), float(c.order_rate[i]),
                        float(c.p_scale[i]))
            for i in range(c.n)
        ]
        self.ref_agents = self.agents_by_type[RefConsumer]

    def step(self) -> None:
        self.ref_agents.shuffle_do("step")


def bench_reference(consumers: int, days: int, seed: int = 0) -> dict:
    t0 = time.perf_counter()
    ref = RefModel(consumers, seed)
    t1 = time.perf_counter()
    for _ in range(days):
        ref.step()
    t2 = time.perf_counter()
    return {"consumers": consumers, "days": days, "setup_s": t1 - t0, "simulate_s": t2 - t1,
            "consumer_days_per_s": consumers * days / (t2 - t1),
            "adopted_share": float(np.mean([h.adopted for h in ref.households]))}


# ---------------------------------------------------------------------------------------------


def _default_consumers() -> int:
    from sim.cli import compose

    return int(compose([]).market.consumers)


def _targets(results: dict, default_n: int, days: int) -> list[dict]:
    """The issue-7 targets that this run measured, each with its figure and whether it holds.

    Wall time counts set-up (network, households, agents) and the simulated days."""
    if days != 365:
        return []
    by_n = {r["consumers"]: r for r in results["model"]}
    out = []

    def add(target, measured, holds):
        out.append({"target": target, "measured": measured, "holds": bool(holds)})

    if default_n in by_n:
        w = by_n[default_n]["wall_s"]
        add(f"default scenario ({default_n:,}) x 365 days < 5 s", f"{w:.1f} s", w < 5)
    if 100_000 in by_n:
        w = by_n[100_000]["wall_s"]
        add("100k x 365 days < 15 s (stretch 7 s)", f"{w:.1f} s", w < 15)
    if 1_000_000 in by_n:
        r = by_n[1_000_000]
        add("1M x 365 days < 200 s, peak memory < 8 GB",
            f"{r['wall_s']:.0f} s, {r['peak_rss_mb'] / 1024:.1f} GB",
            r["wall_s"] < 200 and r["peak_rss_mb"] < 8 * 1024)
    for a, b in ((10_000, 100_000), (100_000, 1_000_000)):
        if a in by_n and b in by_n:
            g = by_n[b]["simulate_s"] / by_n[a]["simulate_s"]
            add(f"{a:,} -> {b:,} households: time x <= 12", f"x{g:.1f}", g <= 12)
    ref = next((r for r in results["reference"] if r["consumers"] == 100_000), None)
    if ref and ref.get("speed_ratio"):
        add(">= 50x the per-agent reference's household-days/s at 100k",
            f"x{ref['speed_ratio']:.1f}", ref["speed_ratio"] >= 50)
    return out


def _in_subprocess(kind: str, consumers: int, days: int) -> dict:
    """Run one measurement in a fresh process, so peak memory is that run's own."""
    out = subprocess.run([sys.executable, __file__, "--one", kind, str(consumers), str(days)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=None,
                    help="households per run (default: 10k, the default scenario's size, 100k, 1M)")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--reference-sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--reference-days", type=int, default=None,
                    help="days of the per-agent reference (default: --days, the same year: "
                         "early days, with few adopters, are cheaper per household)")
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    ap.add_argument("--out", type=Path, default=ROOT / "experiments" / "results" /
                    "benchmark.json")
    ap.add_argument("--one", nargs=3, metavar=("KIND", "N", "DAYS"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        kind, n, days = args.one[0], int(args.one[1]), int(args.one[2])
        res = bench_model(n, days) if kind == "model" else bench_reference(n, days)
        print(json.dumps(res))
        return res
    default_n = _default_consumers()
    if args.sizes is None:
        args.sizes = sorted({10_000, default_n, 100_000, 1_000_000})
    if args.quick:
        args.sizes, args.days = [1_000, 3_000], 20
        args.reference_sizes = [1_000]
    args.reference_days = args.reference_days or args.days

    results = {"commit": _git_commit(), "days": args.days, "model": [], "reference": []}
    print(f"groupbuy-sim benchmark (commit {results['commit']}), default scenario, "
          f"{args.days} days")
    print(f"{'households':>11} {'set-up s':>9} {'simulate s':>11} {'hh-days/s':>12} "
          f"{'peak MB':>8}")
    for n in args.sizes:
        r = _in_subprocess("model", n, args.days)
        results["model"].append(r)
        print(f"{n:>11,} {r['setup_s']:>9.2f} {r['simulate_s']:>11.2f} "
              f"{r['consumer_days_per_s']:>12,.0f} {r['peak_rss_mb']:>8.0f}")
    print("time per phase, seconds (share of the simulation):")
    for r in results["model"]:
        total = sum(r["phase_s"].values())
        parts = ", ".join(f"{k} {v:.2f} ({v / total:.0%})" for k, v in r["phase_s"].items())
        print(f"  {r['consumers']:>9,}: {parts}")
    m = results["model"]
    for a, b in zip(m, m[1:], strict=False):
        growth = b["simulate_s"] / a["simulate_s"]
        print(f"scaling {a['consumers']:,} -> {b['consumers']:,} households "
              f"(x{b['consumers'] / a['consumers']:.0f}): time x{growth:.1f}")
    print(f"per-agent Mesa reference ({args.reference_days} days; adoption and choice only):")
    for n in args.reference_sizes:
        r = _in_subprocess("reference", n, args.reference_days)
        results["reference"].append(r)
        mine = next((x for x in m if x["consumers"] == n), None)
        ratio = (f", model is x{mine['consumer_days_per_s'] / r['consumer_days_per_s']:.0f} "
                 "faster (the whole day, all phases)") if mine else ""
        print(f"  {n:>9,} households: {r['consumer_days_per_s']:>10,.0f} hh-days/s{ratio}")
        r["speed_ratio"] = (mine["consumer_days_per_s"] / r["consumer_days_per_s"]
                            if mine else None)
    results["targets"] = _targets(results, default_n, args.days)
    if results["targets"]:
        print("targets (issue 7, on a 2-core machine):")
        for t in results["targets"]:
            print(f"  [{'holds' if t['holds'] else 'MISSED'}] {t['target']}: {t['measured']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written {args.out}")
    return results


if __name__ == "__main__":
    main()
