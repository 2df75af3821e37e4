"""How long the sparse network presets take to build, and how much memory, at a million households.

Each preset is built in a fresh process (so the peak resident memory is its own) from the project
config with ``market.consumers`` set; the script prints build seconds, ties, mean degree, the
adjacency's size and the process's peak resident memory. No dense matrix is ever built: the
adjacency is a ``scipy.sparse`` CSR matrix assembled from edge arrays (ODD 7.1, 2).

Run: ``python experiments/network_scale.py`` (``--households N``, ``--presets a,b``; ``--quick``
for 100,000 households). It makes no figure: the numbers are quoted in the README.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, resource, sys, time
import numpy as np
sys.path.insert(0, {root!r})
from sim.api import compose
from sim.network import build_network
from sim.streams import RandomStreams
cfg = compose(["market={preset}", "market.consumers={n}"])
t0 = time.perf_counter()
net = build_network(cfg.market, RandomStreams(0).generator("network"))
dt = time.perf_counter() - t0
a = net.adjacency
nbytes = a.data.nbytes + a.indices.nbytes + a.indptr.nbytes
print(json.dumps({{"preset": "{preset}", "households": net.n, "build_seconds": dt,
                  "ties": net.n_edges, "mean_degree": float(net.degree.mean()),
                  "neighbourhoods": net.n_neighbourhoods, "adjacency_mib": nbytes / 2**20,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def measure(preset: str, n: int) -> dict:
    code = CHILD.format(root=str(ROOT), preset=preset, n=n)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=1_000_000)
    ap.add_argument("--presets", default="county,village_cluster,small_world")
    ap.add_argument("--quick", action="store_true", help="100,000 households")
    args = ap.parse_args(argv)
    n = 100_000 if args.quick else args.households
    # The baseline: a process that imports the same modules and builds nothing.
    base = measure("county", 10)
    print(f"python + imports (10 households): peak RSS {base['peak_rss_mib']:.0f} MiB")
    print(f"{'preset':16s} {'households':>10s} {'build s':>8s} {'ties':>11s} {'degree':>7s} "
          f"{'adjacency MiB':>13s} {'peak RSS MiB':>12s}")
    for preset in args.presets.split(","):
        r = measure(preset, n)
        print(f"{preset:16s} {r['households']:>10,d} {r['build_seconds']:8.2f} {r['ties']:>11,d} "
              f"{r['mean_degree']:7.2f} {r['adjacency_mib']:13.1f} {r['peak_rss_mib']:12.0f}")


if __name__ == "__main__":
    main()
