"""Every config group composes; bad input fails with one line; a run writes its files."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.api import CONFIG_DIR, check_overrides, compose
from sim.config import ConfigError, validate
from sim.config.validate import declared_type

# hydra/ holds launcher presets (Hydra's own config group), not a model component.
# configs/uncertainty holds registries of assumed ranges (sim.uncertainty), not a config group.
GROUPS = sorted(p.name for p in Path(CONFIG_DIR).iterdir()
                if p.is_dir() and p.name not in ("hydra", "uncertainty"))
OPTIONS = [(g, y.stem) for g in GROUPS for y in sorted(Path(CONFIG_DIR, g).glob("*.yaml"))]


def test_groups_exist():
    for g in ("market", "platforms", "incentive", "subsidy", "coldchain", "policy", "experiment"):
        assert g in GROUPS


@pytest.mark.parametrize("group,option", OPTIONS)
def test_every_group_option_composes_and_validates(group, option):
    from omegaconf import OmegaConf

    from sim import strategy
    if group == "playbook":  # a playbook composes under one platform's strategy
        cfg = compose([f"+playbook@platforms.entrant.strategy={option}"])
        assert strategy.overrides(cfg, "entrant") != strategy.overrides(compose([]), "entrant")
    else:
        cfg = compose([f"{group}={option}"])
    assert OmegaConf.missing_keys(cfg) == set()  # every key has a value from the YAML
    validate(cfg)


@pytest.mark.parametrize("override,needle", [
    ("market.consumers=-5", "market.consumers=-5: out of range; allowed an integer in [10, "),
    ("days=0", "days=0: out of range; allowed an integer in [1, 3650]"),
    ("market.netwrk=county", "unknown key 'netwrk' in market; allowed keys: network,"),
    ("market.network=lattice", "choose one of complete, small_world, county"),
    ("incentive=nope",
     "no such option in config group 'incentive'; allowed: complaint_evaluation, "
     "differentiated_target, flat"),
    ("market.consumers=abc", "market.consumers=abc"),
    ("platforms.nobody.markup=0.1", "unknown key 'nobody' in platforms"),
    ("+incentive.category_rate_multiplier.ghost=2.0", "ghost: not a product category"),
    ("products.leafy_veg.q10_bands=[0.5]", "products.leafy_veg.q10_bands=0.5: out of range"),
    ("market.county.within_degree_village=7", "market.county.within_degree_village=7: must be"),
    # OmegaConf alone would read 3 as true and "off" as false
    ("wom.lapse=3", "wom.lapse=3: must be true or false"),
    ("leaders.multihoming=off", "leaders.multihoming=off: must be true or false"),
    ("progress=1", "progress=1: must be true or false or null"),
    ("=3", "=3: no key before '='; an override is KEY=VALUE"),
    ("products.leafy_veg.produce=0", "products.leafy_veg.produce=0: must be true or false"),
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
    with pytest.raises(ConfigError, match=r"wom.lapse=2: must be true or false"):
        check_overrides(["wom.lapse=true,2"])


def test_declared_types_follow_entries_and_groups():
    assert declared_type("wom.lapse") == "bool"
    assert declared_type("platforms.entrant.markup") == "float"
    assert declared_type("products.leafy_veg.produce") == "bool"
    assert declared_type("progress") == "bool | None"
    # an override of a platform's strategy: the group's type made optional (null inherits)
    assert declared_type("platforms.entrant.strategy.leaders.replace_on_quit") == "bool | None"
    assert declared_type("platforms.entrant.strategy.subsidy.days") == "int | None"
    assert declared_type("platforms.entrant") is None  # an entry, not a scalar
    assert declared_type("market.nothing") is None


def _gbsim(*args, cwd):
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, preexec_fn=lambda: os.umask(0o022))


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
    # Readable by the group on a shared disk: the umask's mode (022 here), not mkstemp's 0600.
    for f in [*out.glob("*.parquet"), out / "summary.json", out / "config.yaml",
              out / "figures" / "overview.png"]:
        assert f.stat().st_mode & 0o777 == 0o644, f"{f.name}: {oct(f.stat().st_mode & 0o777)}"
    log = (out / "gbsim.log").read_text()
    assert "groupbuy-sim" in log and "experiment=smoke days=30 seed=5" in log and "done" in log
    assert not (out / "cli.log").exists()
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




# ---------------------------------------------------------------------------------------------
# scenario files anywhere (issue 31, points 3 and 4)

SCENARIOS = {
    "mine": "# @package _global_\nincentive:\n  commission_rate: 0.07\n",
    "typo": "# @package _global_\nincentiv:\n  commission_rate: 0.07\n",
    "typo_inner": "# @package _global_\nincentive:\n  comission_rate: 0.07\n",
    "indent": "# @package _global_\nincentive:\n  decay_start_day: 120\n   decay_to_rate: 0.05\n",
    "no_header": "incentive:\n  commission_rate: 0.07\n",
    "bad_value": "# @package _global_\ndays: -3\n",
}


@pytest.fixture
def own_dir(tmp_path):
    d = tmp_path / "my_configs"
    (d / "experiment").mkdir(parents=True)
    for name, text in SCENARIOS.items():
        (d / "experiment" / f"{name}.yaml").write_text(text)
    return d


def test_a_scenario_file_in_my_own_directory_composes(own_dir):
    sp = f"hydra.searchpath=[file://{own_dir}]"
    check_overrides([sp, "experiment=mine"])
    assert compose([sp, "experiment=mine"]).incentive.commission_rate == 0.07


@pytest.mark.parametrize("name,needle", [
    ("typo", "unknown key 'incentiv' at the top level (did you mean 'incentive'?)"),
    ("typo_inner", "unknown key 'comission_rate' in 'incentive' (did you mean 'commission_rate'"),
    ("indent", "line 4, column 17: mapping values are not allowed here"),
    ("no_header", "no '# @package _global_' line at the top"),
    ("bad_value", "days=-3: out of range; allowed an integer in [1, 3650] (set in "),
])
def test_errors_inside_a_scenario_file_name_the_file_and_the_problem(own_dir, name, needle):
    f = own_dir / "experiment" / f"{name}.yaml"
    with pytest.raises(ConfigError) as e:
        check_overrides([f"hydra.searchpath=[file://{own_dir}]", f"experiment={name}"])
    msg = str(e.value)
    assert needle in msg and str(f) in msg and "\n" not in msg, msg
    assert "no such option" not in msg


def test_the_baseline_has_a_name():
    assert compose(["experiment=none"]) == compose([])
    with pytest.raises(ConfigError, match=r"experiment=null: .*the baseline: experiment=none"):
        check_overrides(["experiment=null"])


def test_a_sweep_blames_the_override_at_fault():
    # The unknown option used to be composed with each other override in turn, and the first of
    # those (seed=1) took the blame.
    with pytest.raises(ConfigError) as e:
        check_overrides(["seed=1,2", "days=5", "experiment=smoke,nosuch"])
    assert str(e.value).startswith("experiment=nosuch: no such option in config group "
                                   "'experiment'; allowed: bass_dock"), str(e.value)


@pytest.mark.slow
def test_cli_finds_my_scenario_with_config_dir_and_names_a_broken_one(tmp_path, own_dir):
    r = _gbsim("-cd", str(own_dir), "experiment=typo", cwd=tmp_path)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2 and len(lines) == 1, r.stderr
    assert str(own_dir / "experiment" / "typo.yaml") in lines[0] and "'incentiv'" in lines[0]
    out = tmp_path / "run"
    r = _gbsim("--config-dir", str(own_dir), "experiment=mine", "days=2",
               "market.consumers=500", f"hydra.run.dir={out}", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = _gbsim(f"hydra.searchpath=[file://{own_dir}]", "experiment=mine", "days=2",
               "market.consumers=500", f"hydra.run.dir={tmp_path / 'run2'}", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    from omegaconf import OmegaConf
    for run in (out, tmp_path / "run2"):
        assert OmegaConf.load(run / "config.yaml").incentive.commission_rate == 0.07


@pytest.mark.slow
def test_help_is_short_and_version_is_the_code_version(tmp_path):
    r = _gbsim("--help", cwd=tmp_path)
    assert r.returncode == 0 and len(r.stdout.splitlines()) < 40, r.stdout
    for needle in ("gbsim -m", "experiment", "--help-config", "--cfg job", CONFIG_DIR, "-cd"):
        assert needle in r.stdout, needle
    assert "wom:" not in r.stdout  # the config dump is behind --help-config
    full = _gbsim("--help-config", cwd=tmp_path)
    assert full.returncode == 0 and "wom:" in full.stdout
    from sim.version import version_line
    v = _gbsim("--version", cwd=tmp_path)
    assert v.returncode == 0 and v.stdout.strip() == version_line()
