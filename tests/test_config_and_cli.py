"""Every config group composes; bad input fails with one line; a run writes its files."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.api import CONFIG_DIR, check_overrides, compose
from sim.config import ConfigError, validate

# hydra/ holds launcher presets (Hydra's own config group), not a model component.
GROUPS = sorted(p.name for p in Path(CONFIG_DIR).iterdir() if p.is_dir() and p.name != "hydra")
OPTIONS = [(g, y.stem) for g in GROUPS for y in sorted(Path(CONFIG_DIR, g).glob("*.yaml"))]


def test_groups_exist():
    for g in ("market", "platforms", "incentive", "subsidy", "coldchain", "policy", "experiment"):
        assert g in GROUPS


@pytest.mark.parametrize("group,option", OPTIONS)
def test_every_group_option_composes_and_validates(group, option):
    from omegaconf import OmegaConf
    cfg = compose([f"{group}={option}"])
    assert OmegaConf.missing_keys(cfg) == set()  # every key has a value from the YAML
    validate(cfg)


@pytest.mark.parametrize("override,needle", [
    ("market.consumers=-5", "market.consumers=-5: out of range; allowed an integer in [10, "),
    ("days=0", "days=0: out of range; allowed an integer in [1, 3650]"),
    ("market.netwrk=county", "unknown key 'netwrk' in market; allowed keys: network,"),
    ("market.network=lattice", "choose one of complete, small_world, county"),
    ("incentive=nope",
     "no such option in config group 'incentive'; allowed: differentiated_target, flat"),
    ("market.consumers=abc", "market.consumers=abc"),
    ("platforms.nobody.markup=0.1", "unknown key 'nobody' in platforms"),
    ("subsidy.platforms=[ghost]", "'ghost' is not a platform"),
    ("products.leafy_veg.q10_bands=[0.5]", "products.leafy_veg.q10_bands=0.5: out of range"),
    ("market.county.within_degree_village=7", "market.county.within_degree_village=7: must be"),
])
def test_bad_values_raise_one_line(override, needle):
    with pytest.raises(ConfigError) as e:
        check_overrides([override])
    assert needle in str(e.value)
    assert "\n" not in str(e.value)


def test_each_sweep_value_is_checked():
    check_overrides(["seed=1,2", "incentive.commission_rate=0.05,0.1"])
    with pytest.raises(ConfigError, match=r"days=0"):
        check_overrides(["seed=1,2", "days=5,0"])


def _gbsim(*args, cwd):
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("bad", ["market.consumers=-5", "days=0", "market.netwrk=county"])
def test_cli_rejects_bad_input_without_traceback_or_output(tmp_path, bad):
    out = tmp_path / "run"
    r = _gbsim(bad, f"hydra.run.dir={out}", cwd=tmp_path)
    assert r.returncode != 0
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and bad.split("=")[0] in lines[0], r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert not (out / "summary.json").exists()


@pytest.mark.slow
def test_cli_run_writes_every_file(tmp_path):
    out = tmp_path / "run"
    r = _gbsim("experiment=smoke", "days=30", "seed=5", f"hydra.run.dir={out}", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "simulation" in r.stdout  # the wall time is printed
    cols = {
        "daily": ["day", "adopters", "adoption_rate", "orders", "gmv_yuan", "active_leaders",
                  "consumer_surplus_yuan"],
        "platforms": ["day", "platform", "orders", "order_share", "price_index", "subsidy_yuan",
                      "gmv_yuan", "gross_margin", "active_leaders", "cash_yuan"],
        "leaders": ["day", "leader_id", "platform", "event", "reason"],
        "spoilage": ["day", "platform", "category", "units_shipped", "units_spoiled"],
    }
    for name, want in cols.items():
        df = pd.read_parquet(out / f"{name}.parquet")
        assert set(want) <= set(df.columns), name
    assert len(pd.read_parquet(out / "daily.parquet")) == 30
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 5 and summary["days"] == 30
    assert (out / "config.yaml").exists() and (out / "figures" / "overview.png").stat().st_size
    saved = compose(["experiment=smoke", "days=30", "seed=5"])
    from omegaconf import OmegaConf
    assert OmegaConf.load(out / "config.yaml") == saved


def test_the_schema_states_no_value():
    # The schema keeps types, units and ranges; the values and their sources are in the YAML, once
    # (sim/config/schema.py). So no schema field has a default, except a scandal entry's parts
    # (no YAML file states them: scandals are entries a user writes)...
    import dataclasses

    from sim.config.schema import LEVER_OVERRIDES, SCHEMA_TYPES, StrategyConfig

    structural = {StrategyConfig, *LEVER_OVERRIDES.values()}  # null = inherit; not values
    stated = []
    for cls in SCHEMA_TYPES.values():
        if cls in structural or cls.__name__ == "ScandalConfig":
            continue
        for f in dataclasses.fields(cls):
            nested = dataclasses.is_dataclass(SCHEMA_TYPES.get(str(f.type), None))
            if f.default is not dataclasses.MISSING and f.default != "???" and not (
                    f.name == "progress" and cls.__name__ == "Config"):
                stated.append(f"{cls.__name__}.{f.name} = {f.default!r}")
            elif f.default_factory is not dataclasses.MISSING and not nested and \
                    f.default_factory() not in ({}, []):
                stated.append(f"{cls.__name__}.{f.name} = {f.default_factory()!r}")
    assert stated == [], stated
    # ... and every key of every group option has its value from the YAML: checked, option by
    # option, in test_every_group_option_composes_and_validates.


def test_a_key_no_file_sets_is_a_one_line_error():
    from omegaconf import OmegaConf, open_dict

    cfg = compose([])
    with open_dict(cfg):
        cfg.platforms.entrant.markup = "???"  # as if a scenario file left it out
    assert OmegaConf.is_missing(cfg.platforms.entrant, "markup")
    with pytest.raises(ConfigError, match=r"^platforms\.entrant\.markup: no value; set it"):
        validate(cfg)


