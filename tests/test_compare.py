"""gbsim-compare: paired differences over common random numbers beat unpaired ones; metrics by
name (per platform, over a window of days) checked before any run; a report and figure that
can be shown as they are."""

import json

import numpy as np
import pandas as pd
import pytest

from sim import compare, metrics
from sim.api import compose

SMALL = ["experiment=smoke", "days=90"]  # 2,000 households, a quarter: leaders review 3 times
# The smoke market spelt out: with experiment=smoke in the common overrides, a scenario could
# not choose another experiment (a key set twice is refused).
SMOKE_MARKET = ["market.consumers=2000", "market.county.compound_size=200",
                "market.county.village_size=150"]


@pytest.mark.slow
def test_paired_interval_is_narrower_on_the_default_pair(tmp_path, capsys):
    out = tmp_path / "cmp"
    compare.main([*SMALL, "--seeds", "1-4", "--out", str(out), "--workers", "2"])
    printed = capsys.readouterr().out
    assert "A: incentive.commission_rate=0.10" in printed and "4 paired seeds: 1-4" in printed
    assert "e+0" not in printed and "e-0" not in printed  # no scientific notation
    table = pd.read_csv(out / "comparison_default_seeds1-4.csv")
    platforms = list(compose(SMALL).platforms)
    assert list(table["metric"]) == [*compare.DEFAULT_METRICS, *(
        f"order_share_last_30_days.{p}" for p in platforms)]
    # The same seed gives both scenarios the same households, networks and draws, so the
    # seed-to-seed spread cancels in B - A: the paired interval must be the narrower one.
    for _, row in table[table["metric"].isin(compare.DEFAULT_METRICS)].iterrows():
        assert row["paired_half_width"] < row["unpaired_half_width"], (
            f"{row['metric']}: common random numbers should narrow the interval "
            f"(paired ±{row['paired_half_width']:.4g}, unpaired ±{row['unpaired_half_width']:.4g})")
    for suffix in ("png", "pdf"):
        assert (out / f"comparison_default_seeds1-4.{suffix}").stat().st_size
    assert sorted(p.name for p in (out / "A").iterdir()) == [f"seed={s}" for s in range(1, 5)]

    # The summary figures gbsim-compare knows (read from the summary's source) are those a run
    # writes: a figure added to summary.json is comparable at once, and none is offered falsely.
    summary = json.loads((out / "A" / "seed=1" / "summary.json").read_text())
    scalars, maps = metrics.summary_figures()
    # Added by sim.api.run, not by the summary: how long the run took, which code and scenario.
    about_the_run = {"wall_seconds", "code_version", "scenario"}
    numeric = {k for k, v in summary.items() if isinstance(v, int | float) or v is None}
    assert scalars == numeric - about_the_run
    assert maps == {k for k, v in summary.items() if isinstance(v, dict)} - about_the_run

    # Collect mode: the same runs taken from a directory give the same table, and a second
    # run of the command reuses the complete runs.
    compare.main(["--from", str(out), "--out", str(tmp_path / "again")])
    again = pd.read_csv(tmp_path / "again" / "comparison_default_seeds1-4.csv")
    pd.testing.assert_frame_equal(again, table)
    capsys.readouterr()
    compare.main([*SMALL, "--seeds", "1-4", "--out", str(out), "--workers", "1",
                  "--metrics", "orders_total,share.entrant@60-89", "--daily-metric", "none"])
    printed = capsys.readouterr().out
    assert "0 ran, 8 reused" in printed
    # Another comparison in the same directory writes its own files; the first ones stay.
    assert (out / "comparison_default_seeds1-4.csv").is_file()
    other = pd.read_csv(out / "comparison_orders_total+share_entrant_60-89_seeds1-4.csv")
    assert list(other["metric"]) == ["orders_total", "share.entrant@60-89"]


@pytest.mark.parametrize("flag,value,needle", [
    ("--metrics", "order_share_last_30_days.entrnt",
     "no platform 'entrnt' (did you mean 'entrant'?); allowed: incumbent, entrant, discounter"),
    ("--metrics", "orders_totl", "not a summary.json figure (did you mean 'orders_total'?)"),
    ("--metrics", "order_share_last_30_days", "is per platform: write "
                                              "order_share_last_30_days.PLATFORM"),
    ("--metrics", "share.entrant@90-150", "the runs have days 0-89"),
    ("--metrics", "shar.entrant@10-20", "no column 'shar' in the platforms table"),
    ("--metrics", "orders total", "not a metric name; write NAME"),
    ("--daily-metric", "active_leaderz",
     "--daily-metric active_leaderz: no column 'active_leaderz' in the daily table"),
    ("--b", "incentive.commission_rate=2", "incentive.commission_rate=2"),
    ("--a", "experiment=none", "experiment is set twice: experiment=smoke (common)"),
])
def test_bad_input_stops_with_one_line_before_any_run(tmp_path, capsys, flag, value, needle):
    out = tmp_path / "cmp"
    with pytest.raises(SystemExit) as e:
        compare.main([*SMALL, flag, value, "--seeds", "1-2", "--out", str(out)])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("gbsim-compare: error: ") and "\n" not in err, err
    assert needle in err, err
    assert not out.exists(), "nothing runs (or is written) before the names are checked"


def test_metric_names_parse_and_read(tmp_path):
    cfg = compose(SMALL)
    m = metrics.parse_metric("share.entrant@60-89", [cfg])
    assert (m.name, m.key, m.first_day, m.last_day) == ("order_share", "entrant", 60, 89)
    assert metrics.parse_metric("adoption_rate@10-", [cfg]).last_day is None
    assert metrics.parse_metric("supplier_shock_days.local_coop", [cfg]).key == "local_coop"
    # A window mean over a made-up platforms table: days 1-2 of the entrant only.
    run = tmp_path / "run"
    run.mkdir()
    pd.DataFrame({"day": [0, 1, 2, 3] * 2, "platform": ["entrant"] * 4 + ["incumbent"] * 4,
                  "order_share": [0.0, 0.2, 0.4, 1.0, 1.0, 0.8, 0.6, 0.0]}).to_parquet(
        run / "platforms.parquet")
    (run / "summary.json").write_text(json.dumps(
        {"orders_total": 7, "order_share_last_30_days": {"entrant": 0.25}}))
    m = metrics.parse_metric("share.entrant@1-2", [cfg])
    assert metrics.read_metric(m, run) == pytest.approx(0.3)
    assert metrics.read_metric(metrics.parse_metric("orders_total"), run) == 7.0
    assert metrics.read_metric(
        metrics.parse_metric("order_share_last_30_days.entrant", [cfg]), run) == 0.25


def test_report_uses_one_number_format_per_row():
    table = compare.compare(
        pd.DataFrame({"gmv": [139_500.0, 140_100.0, 138_900.0], "share": [0.31, 0.33, 0.29]}),
        pd.DataFrame({"gmv": [141_000.0, 141_900.0, 140_200.0], "share": [0.41, 0.44, 0.38]}),
        ["gmv", "share"])
    lines = compare.report_lines(table)
    assert "139,500" in lines[1] and "+1,533" in lines[1] and "e+" not in "".join(lines)
    assert " 0.3100 " in lines[2] and "+0.1000" in lines[2]
    assert len({len(ln) for ln in lines}) == 1  # aligned columns


def test_runs_taken_from_a_directory_must_differ_only_in_a_and_b(tmp_path):
    # Two sweeps in one directory: flat at 2,000 households, multi_source at 1,000. Comparing
    # them would mix the policy with the market size: refused in one line naming both.
    def run(name, *overrides):
        d = tmp_path / name
        d.mkdir()
        (d / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
        return d

    a = [run("a1", "incentive=flat", "market.consumers=2000", "seed=1")]
    b = [run("b1", "incentive=multi_source", "market.consumers=1000", "seed=1")]
    with pytest.raises(ValueError, match="runs differ beyond A and B: market.consumers=2000"):
        compare.check_same_setting(a, ["incentive=flat"], b, ["incentive=multi_source"])
    b.append(run("b2", "incentive=multi_source", "market.consumers=2000", "seed=2"))
    a.append(run("a2", "incentive=flat", "market.consumers=2000", "seed=2"))
    compare.check_same_setting(a[1:], ["incentive=flat"], b[1:], ["incentive=multi_source"])


@pytest.mark.slow
def test_a_doubled_entrant_subsidy_shows_in_its_share_on_days_90_150(tmp_path, capsys):
    # Issue 31: the default report said a doubled launch subsidy did nothing; by hand the
    # entrant's share rose by ~9 points on days 90-150. The window metric must find it: the
    # entrant enters on day 60 and subsidises until day 120 (90 days + a 30-day taper).
    out = tmp_path / "cmp"
    compare.main([*SMOKE_MARKET, "days=160", "--a", "experiment=none",
                  "--b", "subsidy.coupon_yuan_per_order=8 subsidy.daily_budget_yuan=4000",
                  "--seeds", "1-6", "--metrics", "share.entrant@90-150,orders_total",
                  "--daily-metric", "share.entrant", "--out", str(out), "--workers", "2"])
    table = pd.read_csv(out / "comparison_share_entrant_90-150+orders_total_seeds1-6.csv")
    row = table.set_index("metric").loc["share.entrant@90-150"]
    # Measured: +0.100 [+0.062, +0.138] over seeds 1-6; the interval must exclude zero and the
    # effect be several points (0.03 leaves room for another set of random numbers).
    assert row["ci_low"] > 0 and row["difference"] > 0.03, row.to_dict()
    assert np.isfinite(row["narrowing"]) and row["narrowing"] > 1
