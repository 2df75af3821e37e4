"""gbsim-compare: paired differences over common random numbers beat unpaired ones."""

import pandas as pd
import pytest

from sim import compare

SMALL = ["experiment=smoke", "days=90"]  # 2,000 households, a quarter: leaders review 3 times


def test_paired_interval_is_narrower_on_the_default_pair(tmp_path, capsys):
    out = tmp_path / "cmp"
    compare.main([*SMALL, "--seeds", "1-4", "--out", str(out), "--workers", "2"])
    printed = capsys.readouterr().out
    assert "A: incentive.commission_rate=0.10" in printed and "4 paired seeds" in printed
    table = pd.read_csv(out / "comparison.csv")
    assert list(table["metric"]) == compare.DEFAULT_METRICS
    # The same seed gives both scenarios the same households, networks and draws, so the
    # seed-to-seed spread cancels in B - A: the paired interval must be the narrower one.
    for _, row in table.iterrows():
        assert row["paired_half_width"] < row["unpaired_half_width"], (
            f"{row['metric']}: common random numbers should narrow the interval "
            f"(paired ±{row['paired_half_width']:.4g}, unpaired ±{row['unpaired_half_width']:.4g})")
    assert (out / "comparison.png").stat().st_size and (out / "comparison.pdf").stat().st_size
    assert sorted(p.name for p in (out / "A").iterdir()) == [f"seed={s}" for s in range(1, 5)]

    # Collect mode: the same runs taken from a directory give the same table, and a second
    # run of the command reuses the complete runs.
    compare.main(["--from", str(out), "--out", str(tmp_path / "again")])
    again = pd.read_csv(tmp_path / "again" / "comparison.csv")
    pd.testing.assert_frame_equal(again, table)
    compare.main([*SMALL, "--seeds", "1-4", "--out", str(out), "--workers", "1"])
    assert "0 ran, 8 reused" in capsys.readouterr().out


def test_bad_metric_or_override_stops_with_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        compare.main([*SMALL, "--b", "incentive.commission_rate=2", "--out", str(tmp_path)])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("gbsim-compare: error: incentive.commission_rate=2") and "\n" not in err


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
