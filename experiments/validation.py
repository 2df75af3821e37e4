"""The validation scorecard: every stylized fact of ODD 8 and the analytic docks, one command.

Issue 23. For each of the 14 facts of ODD 8 (criteria, windows and scenarios as written there,
as constants in :mod:`sim.validation`) the scenarios it needs run over seeds 1-5 at 20,000
households, and one row per fact gives the target, the criterion, the mean and range over seeds,
the seeds holding, held / missed / n/a (the mechanism does not exist yet) and its kind:

* **emergent**: no config key that bears on it was set by looking at it;
* **check**: an input sets it by construction (a commission rate, a late-pickup probability);
* **fitted**: used to calibrate a parameter (the keys are named); validation is judged on the
  facts held out of the calibration;
* **held out**: with ``--calibration DIR`` (a ``gbsim-calibrate`` run), the facts that run
  declared held out; its fitted facts are marked fitted (docs/decision.md).

Beside the facts: complaints per order and per delivered fresh unit (scandals excluded). Then
the analytic docks at parameter values the tests do not use: Bass on the complete graph against
the exact finite-N process, the Fibich-Gibori bounds, multinomial logit shares with the outside
option and habit, Q10 shelf life, the newsvendor, logit-Bertrand (n/a: no best-response rule).

Nothing is tuned here: a fact that misses is reported with the mechanism that keeps it off.

    to run: make validate                              (or python experiments/validation.py)
            python experiments/validation.py --quick   (small market, 2 seeds, short runs: a
                                                        smoke test; writes to a temp dir)

Writes ``report.md`` (with the one-line score), ``scorecard.csv``, ``seeds.csv`` and the figure
``facts_by_seed`` (PNG, PDF) to ``experiments/results/validation/`` (``--out`` elsewhere).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim import figures  # noqa: E402
from sim import validation as v  # noqa: E402
from sim.outputs import atomic_write  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "experiments" / "results" / "validation"

# ---------------------------------------------------------------------------------------------
# scenarios: what each fact needs (ODD 8). Runs stop after the last day a fact reads: the model
# is causal and reads its horizon nowhere but in the run loop (grep cfg.days), so a shorter run
# gives the same tables up to its last day; this only saves time.

ENTRANT, ENTRANT_ENTRY, SUBSIDY_DAYS = "entrant", 60, 90  # configs/platforms/three_way.yaml,
WITHDRAWAL_DAY = ENTRANT_ENTRY + SUBSIDY_DAYS              # configs/subsidy/launch_war.yaml
DENSE = [f"platforms.{p}.coverage=1.0" for p in ("incumbent", "entrant", "discounter")]


def _cold_chain(x: float) -> list[str]:
    """Every route of every platform of the default market at coverage ``x`` (a platform's own
    coverage would otherwise survive the market-wide coldchain option)."""
    from sim.api import compose
    from sim.strategy import every_platform

    return every_platform(list(compose([]).platforms),
                          **{f"coldchain__coverage_{t}": x for t in ("central", "grid",
                                                                     "last_mile")})


def scenarios(default_rate: float) -> dict[str, list[str]]:
    """The scenarios of ODD 8, as override lists (days included)."""
    return {
        # rows 1, 3, 4, 5, 9 (county report), 10, 14; flat for rows 6 and 7
        "default": ["days=365"],
        "multi_source": ["incentive=multi_source", "days=365"],           # row 6
        # row 7: commission halved from day 0 for every platform
        "commission_halved": [f"incentive.commission_rate={default_rate / 2:.6g}", "days=365"],
        "price_war": ["experiment=price_war", f"days={v.PRICE_WAR_WINDOW[1] + 1}"],  # row 8
        "dense": DENSE + ["days=365"],                                     # row 9
        # row 11: withdrawal on day D = entry + 90; the counterfactual keeps the coupon to the
        # horizon (the subsidy_war experiment's "sustained")
        "withdrawal": ["subsidy=withdrawal", f"days={WITHDRAWAL_DAY + v.WITHDRAWAL_LAG[1] + 1}"],
        "coupon_kept": ["subsidy=withdrawal", "subsidy.days=100000",
                        f"days={WITHDRAWAL_DAY + v.WITHDRAWAL_LAG[1] + 1}"],
        "no_cold_chain": ["coldchain=none", *_cold_chain(0.0), "days=365"],  # row 12
        "full_cold_chain": ["coldchain=full", *_cold_chain(1.0), "days=365"],
        "consolidation": ["experiment=consolidation", "days=730"],         # row 13
    }


# Relative cost of a scenario's run (days x platforms, roughly), to start the longest first.
COST = {"consolidation": 3.0, "price_war": 0.5, "withdrawal": 0.55, "coupon_kept": 0.55}

# ---------------------------------------------------------------------------------------------
# the facts: target, criterion, kind and the config keys that bear on each (ODD 8 rows)


@dataclass(frozen=True)
class Fact:
    row: int
    name: str
    target: str
    criterion: str
    kind: str          # emergent / check / fitted
    keys: str          # the config keys that bear on it
    why: str           # why the kind (what the configs' comments say)
    unit: str = "share"


FACTS = [
    Fact(1, "leader commission", "pay / GMV 5-20%", "platform pay / GMV in [0.05, 0.20]",
         "check", "incentive.commission_rate",
         "pay / GMV is the commission rate by construction (configs/incentive/flat.yaml, 10%); "
         "category rates exist (the category_rates playbook) but the default sets none, so only "
         "the 5-20% band applies"),
    Fact(2, "commission after launch", "9-11% at entry, <= 6% by +180 d",
         "each platform's rate at entry in [0.09, 0.11] and <= 0.06 at entry + 180, where a "
         "decay is configured", "check", "incentive.decay_start_day, incentive.decay_to_rate",
         "the decay schedule, counted from each platform's own entry day, sets the rates; the "
         "default configures none (n/a)"),
    Fact(3, "leader earnings", "2+ h/day median 3,000-5,000 yuan; p99 70-100 orders/day",
         "median income of 2h+ leader-months in [3000, 5000] and p99 orders/day in [70, 100]",
         "fitted", "market.county.compound_size, leaders.minutes_per_order, "
         "leaders.minutes_per_complaint, leaders.wechat_groups_max",
         "the leader calibration of issue 5 (ODD 8) set compound size and minutes to reach it",
         "yuan"),
    Fact(4, "pickup-point income", "median 800-1,500 yuan a month",
         "median income of all leader-months in [800, 1500]", "fitted",
         "leaders.reservation_income_town_yuan, incentive.commission_rate, "
         "leaders.churn_base_logit",
         "reservation incomes cite this range (configs/config.yaml) and the churn calibration "
         "decides which leaders remain", "yuan"),
    Fact(5, "leader churn", "25-40% a month, no spike > 45%",
         "quits per leader-month over days 120-364 in [0.25, 0.40], and no 30-day window after "
         "day 30 above 0.45", "fitted", "leaders.churn_base_logit",
         "churn_base_logit was calibrated so that flat-10% churn is ~28% (configs/config.yaml)"),
    Fact(6, "multi-source incentives", "churn -50% to -70% vs flat",
         "churn over days 120-364, multi_source against flat (same seed), relative change in "
         "[-0.70, -0.50]", "emergent",
         "services.parcels_per_day, services.yuan_per_parcel, "
         "services.government_subsidy_yuan_per_month, services.minutes_per_parcel, "
         "services.visits_per_month_*, services.order_chance_per_visit, "
         "leaders.churn_shortfall_slope",
         "the programme's income and visits come from seed 002 Case A (parcels, +800 yuan a "
         "month, 2.1 -> 5.7 visits), not from the -60% churn"),
    Fact(7, "commission cut costs customers", "orders fall >= 5%, lost leaders > half",
         "commission halved from day 0: orders over days 120-364 fall >= 0.05 (paired), and "
         "households that lost a leader make > 0.5 of the fall", "emergent",
         "incentive.commission_rate, leaders.reservation_income_*, "
         "leaders.churn_shortfall_slope, leaders.successor_search_days_*, "
         "leaders.recruits_per_day, groups.search_days, groups.join_*_per_day, "
         "groups.leader_loyalty, choice.habit",
         "none of these was set by looking at a commission cut (assumptions or sources)"),
    Fact(8, "gross margin in a price war", "10-15%",
         "experiment=price_war, days 90-180: GMV-weighted gross margin of the platforms trading "
         "on day 180 in [0.10, 0.15]", "check",
         "platforms.*.min_markup, platforms.*.markup, platforms.*.undercut_step, "
         "platforms.*.funding_rounds (who is still trading on day 180)",
         "the incumbent's floor min_markup 0.15 was chosen to fall inside 10-15% "
         "(configs/platforms/three_way.yaml)"),
    Fact(9, "user overlap between platforms", "> 70% in a dense market",
         "dense market (every platform in every neighbourhood): user overlap of the last 30 "
         "days > 0.70", "emergent",
         "choice.price_sensitivity, choice.habit, groups.leader_loyalty, choice.trust_weight, "
         "groups.max_groups, groups.join_*_per_day, groups.group_idle_days, "
         "platforms.*.coverage",
         "ODD 8: overlap is not yet calibrated; habit cites seed 000 §3.4.1, the groups' keys "
         "are assumptions"),
    Fact(10, "on-time pickup", ">= 95%", "collected on the pickup day / collected >= 0.95",
         "check", "coldchain.late_pickup_prob_town, coldchain.late_pickup_prob_village, "
         "coldchain.late_pickup_segment_multiplier",
         "the late-pickup probabilities set the rate by construction"),
    Fact(11, "subsidy withdrawal", "repurchase >= 20% below kept",
         "withdrawal on day D = 150: the entrant's 30-day repurchase over days D+20 to D+40 at "
         "least 20% (relative) below the coupon kept to the horizon", "emergent",
         "subsidy.coupon_yuan_per_order, subsidy.daily_budget_yuan (the entrant's programme, "
         "inherited from the market-wide group), choice.habit, choice.price_sensitivity",
         "coupon amounts are assumptions (configs/subsidy/launch_war.yaml), not fitted to it"),
    Fact(12, "fresh losses", "20-30% without, < 5% with a full cold chain",
         "produce spoiled / shipped in [0.20, 0.30] with coldchain=none and < 0.05 with "
         "coldchain=full", "check", "products.*.initial_life_min, coldchain.*_hours",
         "initial_life_min was calibrated to these losses (configs/products/standard.yaml)"),
    Fact(13, "market end state", "2-3 survivors, shares 47/34/18 or 58/42",
         "experiment=consolidation days=730: 2-3 platforms on day 729, sorted GMV shares over "
         "days 640-729 within 0.06 of 47/34/18 (or 58/42)", "emergent",
         "platforms (consolidation).*.patience_yuan, *.initial_cash_yuan, *.funding_rounds, "
         "*.funding_yuan, *.markup, *.target_share, *.fixed_cost_yuan_per_day, "
         "coldchain.route_cost_yuan_per_day_*, policy (samr_2020)",
         "patience, cash, funding and route costs are assumptions (configs/platforms/"
         "consolidation.yaml, configs/coldchain/standard.yaml)"),
    Fact(14, "regional incumbent margins", "gross 15-19%, net 1-5%",
         "the incumbent over days 180-364: gross in [0.15, 0.19] and net in [0.01, 0.05]",
         "check", "platforms.incumbent.markup (gross); incentive.commission_rate, "
         "coldchain.route_cost_yuan_per_day_town/_village, coldchain.cold_route_premium, "
         "platforms.incumbent.fixed_cost_yuan_per_day (net)",
         "cost-plus markup 0.22 sets gross 18% by construction (ODD 8: a check while the "
         "pricing rule is cost-plus); the net margin follows from route costs derived before "
         "measuring (configs/coldchain/standard.yaml), not fitted"),
]


# What keeps a fact off when it misses: diagnosed when the scorecard was built (issue 23; the
# first full run, seed 1's tables read month by month), printed in the report for missed rows
# only. A mechanism issue that moves a fact should re-check its note.
OFF_BY = {
    3: "issue 27: with baskets (~12 yuan at reference prices against 30) and half the "
       "occasions lost to the outside option (scaled to the basket, ODD 7.2) GMV falls ~75% "
       "and 2h+ leader-months earn a median 1,341-1,766 yuan (seeds 1-5); before it: "
       "a calibration that held on seeds 0-3 (ODD 8: 4,464-5,252 yuan) before the followed "
       "groups and route costs: the few 2h+ leader-months (~6%) are large town compounds; with "
       "issues 25 and 26 together their median is 4,402-6,284 yuan (seeds 1-5, mean 5,412). "
       "Issue 26 traced its own part (mean 5,397 alone) to the thin discounter, which loses "
       "money on its village routes, leaves earlier and hands its members to the large compound "
       "leaders; issue 25's part (5,117 alone on seeds 0-3) is not diagnosed. Not re-fitted",
    4: "issue 27: GMV per household falls ~75% (baskets of ~12 yuan, half the occasions to the "
       "wet market, ODD 7.2), so the median leader-month earns 192-219 yuan (seeds 1-5). The "
       "outside option's scaling is not the whole of it: with u_outside unscaled (a diagnosis "
       "on a patched copy, not a change) the median is 331-385 yuan, 2h+ leader-months earn "
       "2,015-2,728 and churn is 50-58% a month (seeds 1-5): the ~12-yuan basket (assumed "
       "purchase frequencies) pays a leader ~1.2 yuan an order",
    5: "issue 27: leaders earn a quarter of what they did and churn 61-64% a month over days "
       "120-364 (seeds 1-5); before it: "
       "the launch months: a new leader's first month earns next to nothing (marketing reaches "
       "a neighbourhood only through a pickup point), so most quit at the first review, and "
       "since issue 25 their successors start with empty groups: the worst 30-day window after "
       "day 30 is 138-198% a month (seeds 1-5). Days 120-364 sit at 20-28%, 3 seeds of 5 below "
       "the band (issues 25 and 26 merged; not diagnosed). Recruiting pace (seeds 1-6, 20,000 "
       "households, experiments/leader_loyalty.py): the worst launch window is 1.73-3.29 a "
       "month with every gap filled at once, 1.40-1.98 at 3 recruits a day (the default), "
       "1.29-1.82 at 2 and 0.79-1.07 at 1, where it is no higher than the worst window after "
       "day 120 in 2 seeds of 6; after day 120 churn is 0.59-0.76 at every pace, so the "
       "45% bound is out of reach while leader pay stays below row 4's band",
    6: "issue 27: flat churn 62.5%, multi-source 15.3%: -72% to -78% (seeds 1-5), the outside "
       "income now a larger part of a smaller pay; before it: "
       "outside income of 800 yuan a month (service fees + subsidy) lifts nearly every leader "
       "above its reservation income (~550-650 yuan), where the logistic in the shortfall is "
       "near its floor: churn falls 69-87% against flat (seeds 1-5), beyond the seed's 60%",
    7: "issues 25 and 26 merged (seeds 1-5): orders over days 120-364 fall 4.8-10.3% with the "
       "commission halved and 84-95% of the fall is among households whose usual leader "
       "stopped; the seed that misses misses on the size of the fall (5%), an assumption of "
       "ODD 8",
    8: "issue 27: deals of 10-30% on a fifth of category-days come on top of below-cost prices: "
       "GMV-weighted gross margin -0.33 to -0.36 (seeds 1-5); before it: "
       "the price_war rule lets the entrant price below cost for the whole window (min_markup "
       "-0.15): the incumbent's own gross margin is inside 10-15% (~0.13), the entrant's is "
       "~-0.26 and the discounter's ~-0.13 although its floor is 5% above unit cost (not "
       "diagnosed further: refunds and the goods of spoiled orders are candidates), so the "
       "GMV-weighted mean over the three is below zero (-0.04 to -0.10, seeds 1-5, issues 25 "
       "and 26 merged; gross margin leaves out logistics, so route costs move it only through "
       "who still trades)",
    9: "issue 27 (baskets, deals, reputation; kappa_P 0.3, kappa_L 0.7, deals 0.2 at 10-30% "
       "fixed before measuring): overlap 26-30% (seeds 1-5), 31-32% among the buyers who reach "
       "2+ platforms (65-79% of them: with half the occasions going to the wet market, groups "
       "go idle and are left); the usual leader takes 59% of orders. A buyer orders ~2.8 "
       "times in 30 days, enough to shop around, but a deal on one category of a ~12-yuan "
       "basket is worth ~0.3-0.6 of utility against trust gaps (theta 2 x own experience, "
       "learned only on the platform used, and reputations 0.44-0.85) and habit plus loyalty "
       "(1.0): with kappa_L = kappa_P = 0 overlap is still only 34-35% (seeds 1-2, a diagnosis, "
       "not a setting)",
    11: "the coupon (4 yuan on a ~25-yuan basket, ~1 unit of utility at beta 6) bought habit "
        "and trust that outlast it: the withdrawn cohort repurchases 9-14% less than with the "
        "coupon kept (seeds 1-5, issues 25 and 26 merged: the entrant's own programme), not "
        "20%; targeted coupons and wasted-coupon accounting are not built",
    13: "three platforms survive in every seed, but their sorted GMV shares miss 47/34/18 by "
        "5-14 points (seeds 1-5, 1 of 5 within 6 points: the shares are flatter, ~37/33/29; "
        "not diagnosed further: who survives is decided by patience before cash, every "
        "entrant's patience being below its cash, so no funding round is drawn, and no "
        "mechanism sets how shares settle among survivors)",
    14: "issue 27: deals (10-30% off on a fifth of category-days) cut the incumbent's gross margin"
        " to 0.119-0.126; on a quarter of the GMV, route, fixed and recruiting costs leave net "
        "-0.20 (seeds 1-5, not diagnosed further); before it: "
        "gross margin is in band (0.160-0.164: cost-plus 0.22 less refunds and spoiled goods), "
        "but commission (~10% of net revenue), route costs (~0.3 yuan an order on town routes, "
        "~2.8 on village routes), fixed costs and recruiting leave a net margin of -0.5% to "
        "+0.5% over days 180-364 (seeds 1-5, issues 25 and 26 merged), below the 1-5% band. "
        "Route costs are a derivation fixed before measuring (configs/coldchain/standard.yaml), "
        "not tuned to this row",
}

# ---------------------------------------------------------------------------------------------
# running: one small function, so that a batch runner (e.g. sim.batch.run_many) can replace it

KEEP_TABLES = ("daily", "platforms", "spoilage", "leader_stats", "leader_reviews",
               "households")


def _run_job(job):
    """One (scenario, overrides, seed) in a worker: the tables the facts read (not losses)."""
    from sim.api import run_one

    name, overrides, seed = job
    _, tables = run_one(overrides, seed)
    return name, seed, {k: tables[k] for k in KEEP_TABLES}


def run_jobs(jobs, workers: int) -> dict:
    """Run every ``(name, overrides, seed)``; returns {(name, seed): tables}, with progress.

    The longest jobs start first (the pool then ends evenly). ``workers=1`` runs in this process.
    """
    out, t0, n = {}, time.perf_counter(), len(jobs)

    def done(name, seed, tables):
        out[(name, seed)] = tables
        print(f"  [{len(out):3d}/{n}] {name:18s} seed {seed}  "
              f"{time.perf_counter() - t0:7.1f} s", flush=True)

    jobs = sorted(jobs, key=lambda j: -COST.get(j[0], 1.0))
    if workers <= 1:
        for j in jobs:
            done(*_run_job(j))
        return out
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")  # as sim.api.run_seeds: no fork with threads
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as ex:
        for f in as_completed([ex.submit(_run_job, j) for j in jobs]):
            done(*f.result())
    return out


# ---------------------------------------------------------------------------------------------
# measuring


def measure(runs: dict, seeds, produce: list[str], entries: dict[str, int]) -> dict:
    """{row: [Measure per seed]} and the complaint rates per seed."""
    res: dict[int, list] = {f.row: [] for f in FACTS}
    complaints = []
    for s in seeds:
        r = {name: tables for (name, seed), tables in runs.items() if seed == s}
        d = r["default"]
        res[1].append(v.leader_commission(d))
        res[2].append(v.commission_after_launch(d, entries, decay_configured=False))
        res[3].append(v.leader_earnings(d))
        res[4].append(v.pickup_point_income(d))
        res[5].append(v.leader_churn(d))
        res[6].append(v.multi_source_churn(d, r["multi_source"]))
        res[7].append(v.commission_cut(d, r["commission_halved"]))
        res[8].append(v.price_war_margin(r["price_war"]))
        m9 = v.user_overlap(r["dense"])
        county = v.user_overlap(d)
        m9.parts.update({"county_overlap": county.value,
                         "county_buyers_reaching_2plus": county.parts["buyers_reaching_2plus"]})
        res[9].append(m9)
        res[10].append(v.on_time_pickup(d))
        res[11].append(v.subsidy_withdrawal(r["withdrawal"], r["coupon_kept"], ENTRANT,
                                            WITHDRAWAL_DAY))
        res[12].append(v.fresh_losses(r["no_cold_chain"], r["full_cold_chain"], produce))
        res[13].append(v.market_end_state(r["consolidation"]))
        res[14].append(v.incumbent_margins(d))
        complaints.append(v.complaint_rates(d, produce))
    return res, complaints


def _fmt(x: float, unit: str) -> str:
    if x is None or not np.isfinite(x):
        return "nan"
    return f"{x:,.0f}" if unit == "yuan" else f"{x:.3f}"


def scorecard(res: dict, seeds) -> pd.DataFrame:
    rows = []
    for f in FACTS:
        ms = res[f.row]
        vals = np.array([m.value for m in ms], float)
        held = v.fact_holds([m.holds for m in ms])
        n_hold = sum(bool(m.holds) for m in ms if m.holds is not None)
        parts = {}
        for m in ms:
            for k, x in m.parts.items():
                parts.setdefault(k, []).append(x)
        extra = "; ".join(
            f"{k} {np.nanmean(np.asarray(x, float)):.3f}" for k, x in parts.items()
            if all(isinstance(e, (int, float)) for e in x))
        fin = vals[np.isfinite(vals)]
        rows.append({
            "row": f.row, "fact": f.name, "target": f.target, "criterion": f.criterion,
            "mean": float(fin.mean()) if len(fin) else float("nan"),
            "min": float(fin.min()) if len(fin) else float("nan"),
            "max": float(fin.max()) if len(fin) else float("nan"),
            "seeds_holding": f"{n_hold}/{len(seeds)}" if held is not None else "-",
            "status": {True: "held", False: "missed", None: "n/a"}[held],
            "kind": f.kind, "keys": f.keys, "why": f.why, "also": extra, "unit": f.unit,
        })
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# analytic docks, at parameter values the tests do not use (grep tests/: the Bass dock there
# runs p = 0.01, q = 0.15; the logit tests beta 6, theta 2, kappa 1; Q10 at 0/10/20/30/40 °C)

DOCK_P, DOCK_Q = 0.004, 0.11  # per day: Bass peak at ln(q/p)/(p+q) ~ 29 days


def bass_runs(seeds, households: int, days: int, network: list[str]) -> np.ndarray:
    """The Bass dock (experiment=bass_dock) at the dock's p and q: (seeds, days) adopted
    fractions. Small runs: in this process (a worker pool costs more to start than they take)."""
    from sim.api import run_one

    ov = ["experiment=bass_dock", f"wom.p_external={DOCK_P}", f"wom.q_imitation={DOCK_Q}",
          f"market.consumers={households}", f"days={days}"] + network
    return np.array([run_one(ov, s)[1]["daily"]["adoption_rate"].to_numpy() for s in seeds])


def exact_bass_process(n: int, p: float, q: float, days: int, reps: int, rng) -> np.ndarray:
    """The finite-N Bass process on the complete graph, by simulation independent of the model:
    each day each of the N - A non-adopters adopts with probability p + q A / (N - 1) (its
    neighbours are everyone else). Returns (reps, days) adopted fractions after each day."""
    a = np.zeros(reps, np.int64)
    out = np.empty((reps, days))
    for t in range(days):
        prob = np.minimum(1.0, p + q * a / (n - 1))
        a = a + rng.binomial(n - a, prob)
        out[:, t] = a / n
    return out


def lattice_1d_process(n: int, p: float, q: float, days: int, reps: int, rng) -> np.ndarray:
    """The Bass process on a 1-D ring lattice (two neighbours each), by simulation: the lower
    bound of Fibich & Gibori (2010, Oper. Res. 58(5)). Returns (reps, days) fractions."""
    out = np.empty((reps, days))
    for r in range(reps):
        x = np.zeros(n, bool)
        for t in range(days):
            a = np.roll(x, 1).astype(float) + np.roll(x, -1)
            x = x | (rng.random(n) < p + q * a / 2.0)
            out[r, t] = x.mean()
    return out


# A dock holds when the model's 5-seed mean stays within Z_DOCK standard errors of the reference
# on every day (plus a floor): with ~100 correlated days a 4-SE band keeps the false alarm rate
# of a correct model small, and is still far narrower than the gaps a wrong formula makes.
Z_DOCK = 4.0
DOCK_FLOOR = 0.005


def dock_bass(seeds, households, days) -> dict:
    f = bass_runs(seeds, households, days, ["market=complete"])
    rng = np.random.default_rng(20231)
    ref = exact_bass_process(households, DOCK_P, DOCK_Q, days, 2000, rng)
    se = np.sqrt(ref.var(axis=0) / len(seeds) + ref.var(axis=0) / len(ref))
    gap = np.abs(f.mean(axis=0) - ref.mean(axis=0))
    allowed = Z_DOCK * se + DOCK_FLOOR
    ok = bool(np.all(gap <= allowed))
    rec = np.abs(f.mean(axis=0) - v.bass_curve(DOCK_P, DOCK_Q, days)).max()
    return {"dock": "Bass, complete graph", "holds": ok,
            "detail": f"p={DOCK_P}, q={DOCK_Q}, N={households}: max |model - exact finite-N| "
                      f"{gap.max():.4f} (allowed {float(allowed[gap.argmax()]):.4f}); "
                      f"max |model - recursion| {rec:.4f}"}


def dock_fibich_gibori(seeds, households, days) -> dict:
    from sim.api import compose

    sw = compose(["market=small_world"]).market.small_world
    f = bass_runs(seeds, households, days, ["market=small_world"])
    rng = np.random.default_rng(20232)
    low = lattice_1d_process(households, DOCK_P, DOCK_Q, days, 20, rng)
    high = v.bass_curve(DOCK_P, DOCK_Q, days)
    mean = f.mean(axis=0)
    se = f.std(axis=0, ddof=1) / np.sqrt(len(seeds)) if len(seeds) > 1 else 0.0
    tol = Z_DOCK * se + DOCK_FLOOR
    below = (low.mean(axis=0) - mean).max()
    above = (mean - high).max()
    ok = bool(np.all(mean >= low.mean(axis=0) - tol) and np.all(mean <= high + tol))
    return {"dock": "Fibich-Gibori bounds", "holds": ok,
            "detail": f"small world (k={sw.neighbors}, rewiring {sw.rewire_prob}), "
                      f"p={DOCK_P}, q={DOCK_Q}: largest excursion below the 1-D lattice "
                      f"{below:+.4f}, above Bass {above:+.4f}"}


def dock_logit() -> dict:
    """Multinomial logit shares with the outside option and habit: the model's compiled choice
    kernels (sim.choice.kernels, what the orders phase runs) against the closed form."""
    from sim.choice.kernels import choice_probabilities, choice_utilities_rows

    rng = np.random.default_rng(20233)
    beta, theta, kappa, u0 = 4.3, 1.3, 0.7, -3.7
    price = np.array([0.93, 1.02, 1.11])
    coupon_all = np.array([0.0, 1.5, 0.0])
    quality = np.array([0.2, 0.0, -0.1])
    ref_yuan = 25.0
    m = 4  # four kinds of chooser: no habit, habit on each platform
    trust = np.array([[0.6, 0.5, 0.4]] * m)
    last = np.array([-1, 0, 1, 2], np.int16)
    reach = np.ones((m, 3), bool)
    reach[3, 0] = False  # one chooser cannot reach the first platform
    dlo = np.ones((m, 3), np.int32)  # every chooser has ordered: no first-order coupon
    idx = np.arange(m, dtype=np.int64)
    # ODD 7.2's special case: one category (the reference basket, price index x ref_yuan), in
    # every basket, no deals, reputation weight w = 0, no loyalty to a leader (kappa_L = 0) and
    # no trip (own pickups)
    one = np.ones(1)
    every = np.zeros(3, np.int64)  # the coupon's target: every household (sim.coupons)
    z, *_ = choice_utilities_rows(idx, (price * ref_yuan)[:, None], one * ref_yuan,
                                  np.zeros((m, 1)), one, coupon_all, every, every, every, 0,
                                  np.zeros(m, bool), np.zeros(m, np.int8), np.zeros(m, bool),
                                  False, ref_yuan, dlo, np.full(m, beta), trust, last, quality,
                                  reach, theta, kappa, u0, np.zeros((m, 3)), np.full(3, 0.9),
                                  0.0)
    w = np.exp(z)
    model_p = w / w.sum(axis=1, keepdims=True)
    # closed form, written out here
    vv = -beta * (price - coupon_all / ref_yuan)[None, :] + theta * trust + quality[None, :]
    for r, j in enumerate(last):
        if j >= 0:
            vv[r, j] += kappa
    vv = np.where(reach, vv, -np.inf)
    full = np.column_stack([np.full(m, u0), vv])
    ref = np.exp(full - full.max(axis=1, keepdims=True))
    ref /= ref.sum(axis=1, keepdims=True)
    exact = float(np.abs(model_p - ref).max())
    # realised shares of the inversion draw over many uniforms (what choosers actually take)
    draws = 200_000
    worst = 0.0
    for r in range(m):
        k, _ = choice_probabilities(np.repeat(w[r:r + 1], draws, axis=0), rng.random(draws))
        freq = np.bincount(k, minlength=4) / draws
        se = np.sqrt(ref[r] * (1 - ref[r]) / draws)
        worst = max(worst, float(np.max(np.abs(freq - ref[r]) / np.maximum(se, 1e-12))))
    ok = exact < 1e-12 and worst < Z_DOCK
    return {"dock": "logit shares (outside option, habit)", "holds": ok,
            "detail": f"beta={beta}, theta={theta}, kappa={kappa}, u0={u0}: max |P - closed "
                      f"form| {exact:.1e}; realised shares within {worst:.1f} SE"}


def dock_q10() -> dict:
    from sim.coldchain import formulas as q

    l_ref, q10, t_ref = 6.5, 2.7, 3.0
    temps = np.array([-1.5, 7.3, 13.7, 26.5, 38.2])
    single = q.shelf_life_days(l_ref, q10, temps, t_ref)
    ref = l_ref * q10 ** (-(temps - t_ref) / 10.0)
    e1 = float(np.abs(single / ref - 1).max())
    # banded (Saltveit): 26.5 °C from 0 °C crosses 0-10 (Q10 3), 10-20 (2.5), 6.5 of 20-30 (2)
    rel = float(q.relative_shelf_life(26.5, q.SALTVEIT_PRODUCE_Q10_BANDS))
    ref_rel = 1.0 / (3.0 * 2.5 * 2.0 ** 0.65)
    e2 = abs(rel / ref_rel - 1)
    # ODD 7.5's table: 100 / 33 / 13 / 7 / 4 at 0 / 10 / 20 / 30 / 40 °C
    table = np.round(100 * q.relative_shelf_life(np.array([0, 10, 20, 30, 40.0]),
                                                 q.SALTVEIT_PRODUCE_Q10_BANDS))
    used = float(q.life_used(30.0, l_ref, (q10,), 13.7, t_ref))
    e3 = abs(used / (30.0 / 24.0 / (l_ref * q10 ** (-(13.7 - t_ref) / 10))) - 1)
    ok = max(e1, e2, e3) < 1e-12 and list(table) == [100, 33, 13, 7, 4]
    return {"dock": "Q10 shelf life", "holds": ok,
            "detail": f"L_ref={l_ref} d, Q10={q10}, T_ref={t_ref} °C: max relative error "
                      f"{max(e1, e2, e3):.1e}; Saltveit table {table.astype(int).tolist()}"}


def dock_newsvendor() -> dict:
    from scipy.stats import norm

    from sim.supply.procurement import critical_ratio, order_up_to

    price, cost, salvage = 3.1, 2.2, 0.4
    ratio = float(critical_ratio(price, cost, salvage))
    ref_ratio = (price - cost) / (price - salvage)
    mu, sigma = 180.0, 23.0
    qty = float(order_up_to(mu, sigma, ratio))
    ref_q = mu + norm.ppf(ref_ratio) * sigma
    rng = np.random.default_rng(20234)
    demand = rng.normal(mu, sigma, 200_000)
    service = float((demand <= qty).mean())
    se = math.sqrt(ref_ratio * (1 - ref_ratio) / len(demand))
    ok = (abs(ratio - ref_ratio) < 1e-12 and abs(qty - ref_q) < 1e-6
          and abs(service - ref_ratio) < Z_DOCK * se)
    return {"dock": "newsvendor", "holds": ok,
            "detail": f"p={price}, c={cost}, s={salvage}: ratio {ratio:.4f}, Q {qty:.2f} "
                      f"(closed form {ref_q:.2f}), realised service level {service:.4f} "
                      f"(+/- {Z_DOCK * se:.4f})"}


# ODD 7.4: damped best responses end within 1% of the logit-Bertrand equilibrium
BERTRAND_TOLERANCE = 0.01


def dock_logit_bertrand() -> dict:
    """Iterated damped best_response prices (sim.pricing: the optimiser the rule runs, over
    choosers recorded through the orders phase's utility kernel) in a static market, 2 and 3
    platforms with unequal costs, against the joint solution of p_j - c_j / (1 - r_j) =
    1 / (b (1 - s_j)) (sim.validation.logit_bertrand_prices, a root finder)."""
    from sim.pricing import iterate_best_responses, static_market_choosers

    beta, ref, trust, theta, u0 = 4.3, 25.0, 0.6, 1.3, -3.7
    worst, parts = 0.0, []
    for cost, rate, q in [([15.2, 17.9], [0.08, 0.11], [0.2, 0.0]),
                          ([15.2, 17.9, 13.6], [0.08, 0.11, 0.06], [0.2, 0.0, -0.1])]:
        cost, rate, n = np.array(cost), np.array(rate), len(cost)
        start = cost * 1.15
        ch = static_market_choosers(beta, ref, q, trust, theta, u0, start)
        want = v.logit_bertrand_prices(np.array(q) + theta * trust - u0, beta / ref, cost, rate)
        got = iterate_best_responses(ch, start[:, None], cost[:, None], rate[:, None],
                                     np.zeros((n, 1)), np.full((n, 1), 10 * ref), 0.5,
                                     40)[-1, :, 0]
        err = float(np.abs(got / want - 1).max())
        worst = max(worst, err)
        parts.append(f"{n} platforms: {np.round(got, 3).tolist()} vs {np.round(want, 3).tolist()}")
    return {"dock": "logit-Bertrand (best_response)", "holds": worst < BERTRAND_TOLERANCE,
            "detail": f"beta={beta}, P_ref={ref}, damping 0.5, 40 rounds: " + "; ".join(parts)
                      + f"; max relative error {worst:.1e} (allowed {BERTRAND_TOLERANCE})"}


def docks(seeds, households, days) -> list[dict]:
    out = [dock_bass(seeds, households, days),
           dock_fibich_gibori(seeds, households, days),
           dock_logit(), dock_q10(), dock_newsvendor(),
           dock_logit_bertrand()]
    return out


# ---------------------------------------------------------------------------------------------
# output


def mark_calibration(card: pd.DataFrame, calibration: Path) -> pd.DataFrame:
    """The kinds a calibration declared (``gbsim-calibrate --out DIR``'s ``calibration.json``):
    its fitted facts become ``fitted`` (the keys it fitted), its held-out facts ``held out``."""
    import json

    path = Path(calibration) / "calibration.json"
    if not path.is_file():
        sys.exit(f"validation: --calibration {calibration}: no calibration.json there (run "
                 "gbsim-calibrate --out DIR first)")
    meta = json.loads(path.read_text())
    card = card.copy()
    where = f"gbsim-calibrate ({calibration}, {meta['trials']} trials, seeds {meta['seeds']})"
    fit, held = card["row"].isin(meta["fit"]), card["row"].isin(meta["held_out"])
    card.loc[fit, "kind"] = "fitted"
    card.loc[fit, "keys"] = ", ".join(meta["keys"])
    card.loc[fit, "why"] = f"fitted by {where}"
    card.loc[held, "kind"] = "held out"
    card.loc[held, "why"] = card.loc[held, "why"] + f"; held out of {where}"
    return card


def score_line(card: pd.DataFrame, dk: list[dict]) -> str:
    def count(kind):
        c = card[(card["kind"] == kind) & (card["status"] != "n/a")]
        return int((c["status"] == "held").sum()), len(c)

    e, c, h = count("emergent"), count("check"), count("held out")
    d = sum(bool(x["holds"]) for x in dk)
    held = f"held out {h[0]} of {h[1]}; " if h[1] else ""
    return (f"emergent held {e[0]} of {e[1]}; {held}checks {c[0]} of {c[1]}; "
            f"docks {d} of {len(dk)}")


def print_table(card: pd.DataFrame, complaints: pd.DataFrame, dk: list[dict]) -> None:
    print(f"\n{'#':>2} {'fact':32s} {'kind':8s} {'mean':>9s} {'range':>21s} {'seeds':>5s} "
          f"status")
    for _, r in card.iterrows():
        rng = f"[{_fmt(r['min'], r['unit'])}, {_fmt(r['max'], r['unit'])}]"
        print(f"{r['row']:>2} {r['fact']:32s} {r['kind']:8s} {_fmt(r['mean'], r['unit']):>9s} "
              f"{rng:>21s} {r['seeds_holding']:>5s} {r['status']}")
        print(f"   target {r['target']}; criterion: {r['criterion']}")
        print(f"   keys: {r['keys']}" + (f"; {r['also']}" if r["also"] else ""))
    print(f"\ncomplaints per order {complaints['complaints_per_order'].mean():.3f} "
          f"[{complaints['complaints_per_order'].min():.3f}, "
          f"{complaints['complaints_per_order'].max():.3f}]; per delivered fresh unit "
          f"{complaints['complaints_per_fresh_unit'].mean():.3f} (default scenario, "
          f"scandals excluded)")
    print("\ndocks")
    for x in dk:
        st = {True: "held", False: "missed", None: "n/a"}[x["holds"]]
        print(f"  {x['dock']:40s} {st:6s} {x['detail']}")


def _md(text: str) -> str:
    """Text for a Markdown table cell: a pipe would end the cell."""
    return str(text).replace("|", "\\|")


def write_report(out: Path, card, complaints, dk, score, seeds_df, meta) -> None:
    out.mkdir(parents=True, exist_ok=True)
    card.drop(columns=["unit"]).to_csv(out / "scorecard.csv", index=False)
    seeds_df.to_csv(out / "seeds.csv", index=False)
    figure(seeds_df, out / "facts_by_seed")
    fitted = card[(card["kind"] == "fitted") & (card["status"] != "n/a")]
    na = card.loc[card["status"] == "n/a", "row"].tolist()
    lines = [
        "# Validation scorecard (ODD 8; issue 23)", "",
        f"**Score:** {score}", "",
        f"Not in the score: the fitted facts (calibration targets), held "
        f"{int((fitted['status'] == 'held').sum())} of {len(fitted)}; not applicable (the "
        f"mechanism does not exist yet): row{'s' if len(na) != 1 else ''} "
        f"{', '.join(map(str, na)) or 'none'}. The score counts the facts that apply.", "",
        f"Seeds {meta['seeds']}, {meta['households']:,} households; run "
        f"`{meta['command']}`; wall time {meta['wall_s']:.0f} s on {meta['cores']} cores "
        f"({meta['note']}). Code {meta['version']}.", "",
        "A fact holds when its criterion holds in at least 4 of the 5 seeds. Kinds: "
        "**emergent** (no key bearing on it was set by looking at it), **check** (an input sets "
        "it by construction), **fitted** (used to calibrate). Criteria, windows and scenarios "
        "are ODD 8's (constants in `sim/validation.py`); nothing was tuned.", "",
        "| # | fact | target | kind | mean | range | seeds | status | keys |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for _, r in card.iterrows():
        lines.append(
            f"| {r['row']} | {r['fact']} | {_md(r['target'])} | {r['kind']} | "
            f"{_fmt(r['mean'], r['unit'])} | [{_fmt(r['min'], r['unit'])}, "
            f"{_fmt(r['max'], r['unit'])}] | {r['seeds_holding']} | {r['status']} | "
            f"`{r['keys']}` |")
    lines += ["", "Details (means over seeds) and why each kind:", ""]
    for _, r in card.iterrows():
        lines.append(f"- **{r['row']}. {r['fact']}**: {r['criterion']}. "
                     f"{r['also'] + '. ' if r['also'] else ''}Kind: {r['why']}.")
    missed = card[card["status"] == "missed"]
    if len(missed):
        lines += ["", "What keeps each missed fact off (diagnosed when the scorecard was built, "
                  "issue 23):", ""]
        lines += [f"- **{r['row']}. {r['fact']}**: {OFF_BY.get(r['row'], 'not diagnosed yet')}."
                  for _, r in missed.iterrows()]
    lines += ["", "Reported beside the facts (assumptions, not facts; default scenario, "
              "scandals excluded): complaints per order "
              f"{complaints['complaints_per_order'].mean():.3f}, per delivered fresh unit "
              f"{complaints['complaints_per_fresh_unit'].mean():.3f}.", "",
              "## Analytic docks", "", "| dock | status | detail |", "|---|---|---|"]
    for x in dk:
        st = {True: "held", False: "missed", None: "n/a"}[x["holds"]]
        lines.append(f"| {x['dock']} | {st} | {_md(x['detail'])} |")
    (out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def figure(seeds_df: pd.DataFrame, stem: Path) -> None:
    """Facts by seeds: held (filled), missed (empty), n/a (grey)."""
    from matplotlib.colors import ListedColormap

    piv = seeds_df.pivot(index="row", columns="seed", values="code").sort_index()
    fig, ax = figures.subplots(1, 1, height_in=3.2)
    cmap = ListedColormap(["#d9d9d9", "#f4a582", "#4393c3"])  # n/a, missed, held
    ax.imshow(piv.to_numpy(), cmap=cmap, vmin=0, vmax=2, aspect="auto")
    names = {f.row: f"{f.row}. {f.name} ({f.kind})" for f in FACTS}
    ax.set_yticks(range(len(piv)), [names[r] for r in piv.index])
    ax.set_xticks(range(piv.shape[1]), [str(s) for s in piv.columns])
    ax.set(xlabel="seed", title="ODD 8 facts by seed: held (blue), missed (orange), n/a (grey)")
    figures.save(fig, stem)


def publish(out: Path, score: str) -> None:
    """Copy the full report to ``docs/validation.md`` (its figure beside it) and put the score
    line into the README between its ``<!-- score -->`` markers; quick runs never do."""
    import re
    import shutil

    docs = ROOT / "docs"
    report = (out / "report.md").read_text(encoding="utf-8")
    report = report.replace("# Validation scorecard (ODD 8; issue 23)",
                            "# Validation scorecard (ODD 8)\n\n"
                            "Written by `make validate`; the same files, with a CSV per fact and "
                            "per seed, are in `experiments/results/validation/`.\n\n"
                            "![Facts by seed](validation.png)", 1)
    atomic_write(docs / "validation.md", lambda p: p.write_text(report, encoding="utf-8"))
    shutil.copyfile(out / "facts_by_seed.png", docs / "validation.png")
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    new, n = re.subn(r"<!-- score -->.*?<!-- /score -->", f"<!-- score -->{score}<!-- /score -->",
                     text, flags=re.S)
    if n:
        atomic_write(readme, lambda p: p.write_text(new, encoding="utf-8"))
    print("published: docs/validation.md, docs/validation.png"
          + ("; README score line" if n else "; README has no score markers"))


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: 2 seeds, 2,000 households, short runs, temp output")
    ap.add_argument("--out", type=Path, default=None, help="output directory")
    ap.add_argument("--workers", type=int, default=None, help="worker processes (default: cores)")
    ap.add_argument("--calibration", type=Path, default=None,
                    help="a gbsim-calibrate --out directory: mark its facts fitted / held out")
    a = ap.parse_args(argv)
    from sim.api import compose
    from sim.study import SMALL_MARKET
    from sim.version import version_line

    t0 = time.perf_counter()
    seeds = (1, 2) if a.quick else v.SEEDS
    households = 2_000 if a.quick else v.HOUSEHOLDS
    workers = a.workers or (1 if a.quick else min(4, os.cpu_count() or 1))
    out = a.out or (Path(tempfile.mkdtemp(prefix="validation_quick_")) if a.quick else OUT)
    cfg = compose([])
    produce = [c for c in cfg.products if cfg.products[c].produce]
    entries = {name: int(p.entry_day) for name, p in cfg.platforms.items()}
    scen = scenarios(float(cfg.incentive.commission_rate))
    base = SMALL_MARKET if a.quick else [f"market.consumers={households}"]
    jobs = []
    for name, ov in scen.items():
        if a.quick:  # shorter horizons: a smoke test of the pipeline, not a measurement
            ov = [o for o in ov if not o.startswith("days=")] + \
                 [f"days={400 if name == 'consolidation' else 200}"]
        jobs += [(name, base + ov, s) for s in seeds]
    print(f"validation: {len(jobs)} runs ({len(scen)} scenarios x {len(seeds)} seeds), "
          f"{households:,} households, {workers} workers", flush=True)
    runs = run_jobs(jobs, workers)
    res, complaints = measure(runs, seeds, produce, entries)
    card = scorecard(res, seeds)
    if a.calibration is not None:
        card = mark_calibration(card, a.calibration)
    comp = pd.DataFrame(complaints)
    print("docks ...", flush=True)
    dk = docks(seeds, 3_000 if not a.quick else 1_000, 120 if not a.quick else 80)
    score = score_line(card, dk)
    print_table(card, comp, dk)
    print(f"\nscore: {score}")
    seeds_df = pd.DataFrame([
        {"row": f.row, "fact": f.name, "seed": s, "value": m.value,
         "holds": m.holds, "code": {None: 0, False: 1, True: 2}[m.holds],
         **{k: (x if isinstance(x, (int, float)) else " ".join(map(str, x)))
            for k, x in m.parts.items()}}
        for f in FACTS for s, m in zip(seeds, res[f.row], strict=True)])
    wall = time.perf_counter() - t0
    meta = {"seeds": f"{seeds[0]}-{seeds[-1]}", "households": households,
            "command": "make validate" if not a.quick else "validation.py --quick",
            "wall_s": wall, "cores": os.cpu_count(), "version": version_line(),
            "note": f"load average {os.getloadavg()[0]:.1f} at the end"}
    write_report(out, card, comp, dk, score, seeds_df, meta)
    print(f"wall time {wall:.0f} s; report in {out}")
    if not a.quick and a.out is None:  # the full scorecard is the project's: publish it
        publish(out, score)
    return {"score": score, "card": card, "docks": dk, "out": out}


if __name__ == "__main__":
    main()
