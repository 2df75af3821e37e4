"""``gbsim-brief A B``: a policy brief in one self-contained HTML page.

It runs A and B with the same seeds at the configured values (common random numbers) and over
each member of a calibrated ensemble (``--calibration DIR``, from ``gbsim-calibrate``), and
gathers what a sensitivity analysis stored (``--analysis DIR``, from ``experiments/decision.py``:
Morris, Sobol', PRIM tables of a named ``--question``). The page shows

* the effect B - A with its paired 95% interval over seeds (Student's t, :func:`sim.study.
  paired_difference`) beside the unpaired one, at the default;
* its distribution over the calibrated ensemble (each member's seed mean), and in how many
  members B beats A;
* the Morris screen and the Sobol' indices with bootstrap intervals, and the PRIM boxes;
* the run budget (runs and wall time: this brief's, the analysis's, the calibration's) and the
  provenance (overrides, seeds, registry, code version of each part).

With ``--pdf`` it also prints the page to PDF where headless Chromium is available.

    gbsim-brief incentive=flat incentive=multi_source --metric leader_monthly_churn_rate \\
        --base market.consumers=5000 days=150 --out brief.html
"""

from __future__ import annotations

import argparse
import html
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sim.batch import run_many
from sim.config import ConfigError
from sim.decision import figures
from sim.decision.sensitivity import wide_runs
from sim.study import paired_difference
from sim.version import code_version

__all__ = ["brief", "main", "to_pdf"]


def _split(text: str) -> list[str]:
    return text.split()


def _effects(runs: pd.DataFrame, metric: str, by: list[str]) -> pd.DataFrame:
    if metric not in runs.columns:
        allowed = ", ".join(c for c in runs.columns if runs[c].dtype.kind == "f")[:400]
        raise ConfigError(f"--metric {metric}: not a figure of the runs' summary; allowed e.g. "
                          f"{allowed}, ...")
    a = runs[runs["scenario"] == "A"].set_index(by + ["seed"])[metric]
    b = runs[runs["scenario"] == "B"].set_index(by + ["seed"])[metric]
    return pd.DataFrame({"a": a, "b": b}).reset_index()


def _read(dir_: Path | None, name: str):
    if dir_ is None:
        return None
    p = Path(dir_) / name
    if not p.is_file():
        return None
    return json.loads(p.read_text()) if p.suffix == ".json" else pd.read_csv(p)


def _table(df: pd.DataFrame | None, digits: int = 3) -> str:
    if df is None or df.empty:
        return "<p><em>not available</em></p>"
    return df.to_html(index=False, float_format=lambda x: f"{x:.{digits}g}", border=0,
                      classes="t")


def brief(a: str, b: str, metric: str, *, base=(), seeds=(1, 2, 3), better: str = "lower",
          x: float = 0.0, analysis=None, question: str | None = None, calibration=None,
          out: Path = Path("brief.html"), workers=None, backend: str = "loky") -> dict:
    """Run the comparison, gather the analyses, write the HTML page; returns its numbers."""
    if better not in ("lower", "higher"):
        raise ConfigError(f"--better {better}: allowed lower, higher")
    if len(seeds) < 2:
        raise ConfigError(f"--seeds: {len(seeds)} seed; allowed: at least 2 (a paired interval)")
    if analysis is not None and not Path(analysis).is_dir():
        raise ConfigError(f"--analysis {analysis}: no such directory")
    if analysis is not None:
        have = sorted(p.stem.removeprefix("morris_") for p in Path(analysis).glob("morris_*.csv")
                      if p.stem != "morris_levels")
        if question not in have:
            raise ConfigError(f"--question {question}: not a question of --analysis {analysis}; "
                              f"allowed: {', '.join(have) or '(none: no morris_*.csv there)'}")
    if calibration is not None and not (Path(calibration) / "ensemble.csv").is_file():
        raise ConfigError(f"--calibration {calibration}: no ensemble.csv there (run "
                          "gbsim-calibrate --out DIR first)")
    t0 = time.perf_counter()
    scen = {"A": _split(a), "B": _split(b)}
    dflt = run_many(list(base), None, list(seeds), scenarios=scen, workers=workers,
                    backend=backend, progress=False)
    e = _effects(wide_runs(dflt), metric, [])
    pd_ = paired_difference(e["a"], e["b"])
    runs, ens_means, ens_table = len(dflt.runs), None, None
    cal_meta = _read(calibration, "calibration.json")
    if cal_meta is not None:
        ens = pd.read_csv(Path(calibration) / "ensemble.csv")
        design = ens[cal_meta["keys"]]
        eb = run_many(list(base), design, list(seeds), scenarios=scen, workers=workers,
                      backend=backend, progress=False)
        runs += len(eb.runs)
        ee = _effects(wide_runs(eb), metric, list(design.columns))
        ee["d"] = ee["b"] - ee["a"]
        ens_table = ee.groupby(list(design.columns), sort=False)["d"].agg(["mean", "std"])
        ens_table = ens_table.reset_index().rename(columns={"mean": "B − A (seed mean)",
                                                            "std": "sd over seeds"})
        ens_means = ens_table["B − A (seed mean)"].to_numpy(float)
    wall = time.perf_counter() - t0
    sign = -1.0 if better == "lower" else 1.0
    beats = None if ens_means is None else int(np.sum(sign * ens_means >= x))
    q = question
    tabs = {k: _read(analysis, f"{k}_{q}.csv") if q else None for k in ("morris", "sobol", "prim")}
    if tabs["morris"] is not None:  # the screen's leaders first
        tabs["morris"] = tabs["morris"].sort_values("mu_star", ascending=False, kind="stable")
    metas = {k: _read(analysis, f"{k}.json") for k in ("morris", "sobol")}
    sens_fig = None
    if tabs["morris"] is not None or tabs["sobol"] is not None:
        sens_fig = figures.png_data_uri(figures.sensitivity_figure(
            {q: tabs["morris"]} if tabs["morris"] is not None else {},
            {q: tabs["sobol"]} if tabs["sobol"] is not None else {}))
    eff_fig = figures.png_data_uri(figures.effect_figure(
        (e["b"] - e["a"]).to_numpy(float), ens_means, metric))
    budget = [{"part": "this brief (default + ensemble)", "runs": runs,
               "wall_seconds": round(wall, 1), "worker_seconds_all_runs": None}]
    for k, m in (*metas.items(), ("calibration", cal_meta)):
        if m is not None:  # wall: the last call (a resumed batch reuses runs); worker: all runs
            budget.append({"part": k, "runs": m.get("runs"),
                           "wall_seconds": round(float(m.get("wall_seconds", float("nan"))), 1),
                           "worker_seconds_all_runs": m.get("worker_seconds_all_runs")})
    prov = {"A": scen["A"], "B": scen["B"], "base": list(base), "seeds": list(seeds),
            "metric": metric, "better": better, "x": x, "question": q,
            "brief code_version": code_version(),
            **{f"{k} ({m.get('registry')})": {kk: m.get(kk) for kk in
                                             ("base", "seeds", "code_version", "points")}
               for k, m in metas.items() if m is not None},
            **({"calibration": {k: cal_meta.get(k) for k in
                                ("keys", "fit", "held_out", "base", "seeds", "trials",
                                 "code_version")}} if cal_meta else {})}
    res = {"paired": pd_, "ensemble_effects": ens_means, "ensemble_beats": beats,
           "runs": runs, "wall_seconds": wall, "provenance": prov}
    _write(Path(out), res, tabs, ens_table, budget, sens_fig, eff_fig)
    return res


def _write(out: Path, res, tabs, ens_table, budget, sens_fig, eff_fig) -> None:
    p, prov = res["paired"], res["provenance"]
    esc = html.escape
    line = (f"B − A = {p['difference']:.4g}, paired 95% CI [{p['ci_low']:.4g}, "
            f"{p['ci_high']:.4g}] over {p['n']} seeds (unpaired half-width "
            f"{p['unpaired_half_width']:.3g} vs paired {p['paired_half_width']:.3g})")
    ens = res["ensemble_effects"]
    ens_line = "<p><em>no calibrated ensemble given (--calibration)</em></p>" if ens is None else (
        f"<p>Over the {len(ens)} ensemble members: median {np.median(ens):.4g}, range "
        f"[{ens.min():.4g}, {ens.max():.4g}]; B beats A by at least x = {prov['x']:g} "
        f"({prov['better']} is better) in {res['ensemble_beats']} of {len(ens)}.</p>"
        + _table(ens_table))
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Policy brief</title><style>"
        "body{font:14px/1.45 system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
        "table.t{border-collapse:collapse;font-size:12px;display:block;overflow-x:auto}"
        "table.t td,table.t th{padding:2px 8px;"
        "border-bottom:1px solid #ddd;text-align:right}pre{background:#f6f6f6;padding:.6em;"
        "font-size:11px;overflow:auto}img{max-width:100%}</style></head><body>",
        f"<h1>Policy brief: {esc(' '.join(prov['B']) or 'the default')} against "
        f"{esc(' '.join(prov['A']) or 'the default')}</h1>",
        f"<p>Metric: <code>{esc(prov['metric'])}</code> ({esc(prov['better'])} is better); "
        f"shared overrides: <code>{esc(' '.join(prov['base']) or '(none)')}</code>.</p>",
        "<h2 id='effect'>Effect at the default</h2>", f"<p id='headline'>{esc(line)}</p>",
        f"<img alt='effect' src='{eff_fig}'>",
        "<h2 id='ensemble'>Over the calibrated ensemble</h2>", ens_line,
        "<h2 id='sensitivity'>Sensitivity of B − A</h2>",
        f"<p>Question: <code>{esc(str(prov['question']))}</code></p>" if prov["question"] else
        "<p><em>no sensitivity analysis given (--analysis, --question)</em></p>",
        f"<img alt='sensitivity' src='{sens_fig}'>" if sens_fig else "",
        "<h3>Morris screen</h3>", _table(tabs["morris"]),
        "<h3>Sobol' indices (bootstrap 95% intervals)</h3>", _table(tabs["sobol"]),
        "<h2 id='prim'>Where B fails to beat A: PRIM boxes</h2>", _table(tabs["prim"]),
        "<h2 id='budget'>Run budget</h2>", _table(pd.DataFrame(budget)),
        "<h2 id='provenance'>Provenance</h2>",
        f"<pre>{esc(json.dumps(prov, indent=1, default=str))}</pre></body></html>"]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(parts), encoding="utf-8")


def to_pdf(page: Path, pdf: Path) -> str | None:
    """Print the page to PDF with headless Chromium (Playwright driving ``GBSIM_CHROMIUM`` or
    Debian's ``/usr/bin/chromium``); returns why not when no renderer is available."""
    import os

    chromium = os.environ.get("GBSIM_CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).exists():
        return f"no Chromium at {chromium}"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "the Python package playwright is not installed (the dev extra)"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])
        try:
            tab = browser.new_page()
            tab.goto(Path(page).resolve().as_uri())
            tab.pdf(path=str(pdf), format="A4", print_background=True)
        finally:
            browser.close()
    return None


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``gbsim-brief``."""
    ap = argparse.ArgumentParser(prog="gbsim-brief", description=__doc__.splitlines()[0])
    ap.add_argument("a", help="scenario A's overrides, quoted: 'incentive=flat'")
    ap.add_argument("b", help="scenario B's overrides, quoted: 'incentive=multi_source'")
    ap.add_argument("--metric", default="leader_monthly_churn_rate",
                    help="a summary figure (or NAME.PLATFORM)")
    ap.add_argument("--better", default="lower", help="lower or higher")
    ap.add_argument("--x", type=float, default=0.0, help="B beats A by at least x")
    ap.add_argument("--base", nargs="*", default=[], help="overrides A and B share")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--analysis", type=Path, help="experiments/decision.py's output directory")
    ap.add_argument("--question", help="the analysis's question (its tables' suffix)")
    ap.add_argument("--calibration", type=Path, help="gbsim-calibrate's --out directory")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--out", type=Path, default=Path("brief.html"))
    ap.add_argument("--pdf", action="store_true", help="also print it to PDF (headless Chromium)")
    a = ap.parse_args(argv)
    try:
        res = brief(a.a, a.b, a.metric, base=a.base, seeds=a.seeds, better=a.better, x=a.x,
                    analysis=a.analysis, question=a.question, calibration=a.calibration,
                    out=a.out, workers=a.workers)
    except ConfigError as e:
        print(f"gbsim-brief: error: {e}", file=sys.stderr)
        sys.exit(2)
    p = res["paired"]
    print(f"gbsim-brief: B - A = {p['difference']:.4g} [{p['ci_low']:.4g}, {p['ci_high']:.4g}] "
          f"({res['runs']} runs, {res['wall_seconds']:.1f} s); wrote {a.out}")
    if a.pdf:
        why = to_pdf(a.out, a.out.with_suffix(".pdf"))
        print(f"gbsim-brief: no PDF: {why}" if why else
              f"gbsim-brief: wrote {a.out.with_suffix('.pdf')}")


if __name__ == "__main__":
    main()
