"""Decisions under uncertainty (issue 30): Morris, Sobol', PRIM and a calibration, one command.

The two questions of :data:`sim.decision.sensitivity.QUESTIONS` ("multi_source - flat, leader
churn" and "coupon on - off, entrant share"), paired, over the uncertainty registry:

1. Morris screening over every registry parameter (``--r`` trajectories, 3 seeds a point).
2. Sobol' indices over the ``--keep`` parameters Morris keeps (``--n`` base samples).
3. PRIM boxes on the Sobol' points: where B fails to beat A by the question's ``x``.
4. The parameters a calibration fits: the Morris screen of the default scenario's *levels* of
   the fitted facts' summary figures (leader churn and median leader income), top ``--cal-k``;
   then ``gbsim-calibrate``'s fit (Optuna) and the held-out facts, ensemble against the hand
   calibration.

    python experiments/decision.py                      (the acceptance run: ~1 h on 2 cores)
    python experiments/decision.py --part calibration   (step 4 alone, after step 1)
    python experiments/decision.py --quick              (a small smoke version, a few minutes)

Tables and the figure go to ``--out`` (default ``docs/decision/``; quick: a temporary
directory); the runs are kept under ``batch/decision/`` (resumable: a second call reuses them).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim.decision import calibrate as cal  # noqa: E402
from sim.decision import discovery, figures  # noqa: E402
from sim.decision import sensitivity as sa  # noqa: E402
from sim.study import SMALL_MARKET  # noqa: E402
from sim.uncertainty import load  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LEVEL_METRICS = ["leader_monthly_churn_rate", "leader_income_median_yuan_per_month"]


def run_sensitivity(a, out: Path, batch: Path) -> dict:
    reg = load("default", base=a.base)
    if a.quick:  # a handful of parameters: a smoke test of the pipeline, not a screen
        reg = sa.subregistry(reg, reg.keys[:a.quick_params])
    m = sa.morris(reg, base=a.base, seeds=a.seeds, r=a.r, batch_dir=batch / "morris", out=out,
                  workers=a.workers)
    for q, df in m["indices"].items():
        print(f"Morris, {q} ({m['meta']['points']} points x {len(a.seeds)} seeds x 3 "
              f"scenarios, {m['meta']['wall_seconds']:.0f} s):")
        print(df.sort_values("mu_star", ascending=False).head(8).to_string(index=False))
    lv = sa.morris_levels(m, "default", LEVEL_METRICS)  # the calibration's keys: step 4
    lv.to_csv(out / "morris_levels.csv", index=False)
    print("Morris of the default's levels (scaled mu*):")
    print(lv.head(8).to_string(index=False))
    kept = sa.keep(m["indices"], a.keep)
    print(f"Morris keeps: {', '.join(kept)}")
    s = sa.sobol(reg, kept, base=a.base, seeds=a.seeds, n=a.n, batch_dir=batch / "sobol",
                 out=out, workers=a.workers)
    for q, df in s["indices"].items():
        print(f"Sobol', {q} ({s['meta']['points']} points, {s['meta']['wall_seconds']:.0f} s):")
        print(df.to_string(index=False))
    for q in sa.QUESTIONS:
        e = s["effects"][q.name]
        fails = ~q.beats(e["effect"])
        bx = discovery.boxes(e[kept], fails)
        bx.to_csv(out / f"prim_{q.name}.csv", index=False)
        print(f"PRIM, {q.name}: B fails to beat A by {q.x:g} at {int(fails.sum())} of "
              f"{len(e)} points")
        print(bx.to_string(index=False))
    labels = {q.name: q.label for q in sa.QUESTIONS}
    figures.save(figures.sensitivity_figure(m["indices"], s["indices"], labels),
                 out / "sensitivity")
    return {"morris": m, "sobol": s, "levels": lv}


def run_calibration(a, out: Path, batch: Path) -> None:
    if a.keys:
        keys = a.keys
    else:
        lv_path = out / "morris_levels.csv"
        if not lv_path.is_file():
            sys.exit(f"decision: {lv_path} is missing: run --part sensitivity first (or --keys)")
        import pandas as pd

        keys = list(pd.read_csv(lv_path)["parameter"].head(a.cal_k))
    print(f"calibrating: {', '.join(keys)} to ODD 8 rows {cal.FIT}; held out {a.held_out}")
    res = cal.calibrate(keys, base=a.cal_base, fit=cal.FIT, held_out=a.held_out,
                        seeds=a.seeds, trials=a.trials, ensemble=a.ensemble,
                        out=out / "calibration", workers=a.workers)
    print(f"fit: {a.trials} trials x {len(a.seeds)} seeds in {res['meta']['wall_seconds']:.0f} s;"
          f" best loss {res['ensemble']['loss'].min():.3f}")
    val = cal.validate(res["ensemble"], keys, base=a.cal_base, held_out=a.held_out,
                       seeds=a.seeds, out=out / "calibration", workers=a.workers)
    print(cal.summary_table(val["facts"]).to_string(index=False))
    print(f"validation: {val['wall_seconds']:.0f} s")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--part", default="all", choices=("all", "sensitivity", "calibration"))
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--r", type=int, default=None, help="Morris trajectories (default 4)")
    ap.add_argument("--n", type=int, default=None, help="Sobol' N (default 16)")
    ap.add_argument("--keep", type=int, default=5, help="parameters Morris keeps for Sobol'")
    ap.add_argument("--cal-k", type=int, default=6, help="parameters the calibration fits")
    ap.add_argument("--keys", nargs="*", default=None, help="calibrate these keys instead")
    ap.add_argument("--trials", type=int, default=None, help="Optuna trials (default 30)")
    ap.add_argument("--ensemble", type=int, default=None, help="ensemble size (default 8)")
    a = ap.parse_args(argv)
    a.seeds = sa.SEEDS
    a.held_out = cal.HELD_OUT
    if a.quick:
        a.base = [*SMALL_MARKET, "market.consumers=1000", "days=90"]
        a.cal_base = [*SMALL_MARKET, "market.consumers=1000", "days=130"]
        a.held_out = (3, 6)  # row 14 reads days 180-364
        a.quick_params = 4
        a.r, a.n = a.r or 2, a.n or 4
        a.keep = min(a.keep, 3)
        a.trials, a.ensemble = a.trials or 3, a.ensemble or 2
    else:
        a.base, a.cal_base = list(sa.BASE), ["market.consumers=5000"]
        a.r, a.n = a.r or 4, a.n or 16
        a.trials, a.ensemble = a.trials or 30, a.ensemble or 8
    tmp = tempfile.TemporaryDirectory(prefix="gbsim-decision-") if a.quick else None
    out = a.out or (Path(tmp.name) if tmp else ROOT / "docs" / "decision")
    batch = Path(tmp.name) / "batch" if tmp else ROOT / "batch" / "decision"
    out.mkdir(parents=True, exist_ok=True)
    if a.part in ("all", "sensitivity"):
        run_sensitivity(a, out, batch)
    if a.part in ("all", "calibration"):
        run_calibration(a, out, batch)
    print(f"decision: tables and figure in {out}")


if __name__ == "__main__":
    main()
