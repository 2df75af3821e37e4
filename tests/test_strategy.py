"""Per-platform strategy (docs/ODD.md §6): the form, the one merge rule, and its validation."""

import dataclasses

import pytest
from omegaconf import OmegaConf

from sim import strategy
from sim.api import check_overrides, compose
from sim.config import (
    ColdChainConfig,
    ConfigError,
    IncentiveConfig,
    LeaderConfig,
    ProcurementConfig,
    SubsidyConfig,
    validate,
)
from sim.config.schema import LEVER_GROUPS, LEVER_OVERRIDES

ENTRANT = "platforms.entrant.strategy"


def _one_line_error(overrides):
    with pytest.raises(ConfigError) as e:
        check_overrides(overrides)
    msg = str(e.value)
    assert "\n" not in msg, msg
    return msg


# ---------------------------------------------------------------------------------------------
# the merge rule


def test_a_platform_override_wins_and_every_other_key_inherits():
    cfg = compose(["incentive.commission_rate=0.08", "incentive.decay_to_rate=0.03",
                   f"{ENTRANT}.incentive.commission_rate=0.12"])
    market = OmegaConf.to_object(cfg.incentive)
    own = strategy.platform_strategy(cfg, "entrant")
    assert own.incentive.commission_rate == 0.12
    # everything else is the market-wide group, a market-wide change included (decay_to_rate)
    assert own.incentive == dataclasses.replace(market, commission_rate=0.12)
    assert own.incentive.decay_to_rate == 0.03
    assert own.subsidy == OmegaConf.to_object(cfg.subsidy)  # the entrant runs the market's war
    assert own.procurement == OmegaConf.to_object(cfg.procurement)


def test_platforms_are_independent():
    cfg = compose([f"{ENTRANT}.incentive.commission_rate=0.12",
                   "platforms.discounter.strategy.subsidy.days=30",
                   "platforms.discounter.strategy.incentive.commission_rate=0.15"])
    s = strategy.strategies(cfg)
    assert list(s) == list(cfg.platforms)
    assert s["entrant"].incentive.commission_rate == 0.12
    assert s["discounter"].incentive.commission_rate == 0.15
    assert s["incumbent"].incentive.commission_rate == cfg.incentive.commission_rate == 0.10
    assert s["discounter"].subsidy.days == 30
    assert s["entrant"].subsidy.days == s["incumbent"].subsidy.days == cfg.subsidy.days != 30
    assert s["incumbent"].subsidy.schedule == "none" != s["entrant"].subsidy.schedule


def test_a_list_is_replaced_whole_and_the_result_is_typed():
    cfg = compose(["incentive.tier_sales_yuan=[0,1000,5000]",
                   "incentive.tier_extra_rates=[0,0.01,0.02]",
                   f"{ENTRANT}.incentive.tier_sales_yuan=[0,2000]",
                   f"{ENTRANT}.incentive.tier_extra_rates=[0,0.05]"])
    own = strategy.platform_strategy(cfg, "entrant")
    assert own.incentive.tier_sales_yuan == [0.0, 2000.0]
    assert own.incentive.tier_extra_rates == [0.0, 0.05]
    assert strategy.platform_strategy(cfg, "incumbent").incentive.tier_sales_yuan == \
        [0.0, 1000.0, 5000.0]
    assert isinstance(own.incentive, IncentiveConfig)
    assert isinstance(own.subsidy, SubsidyConfig)
    assert isinstance(own.coldchain, ColdChainConfig)
    assert isinstance(own.procurement, ProcurementConfig)
    assert isinstance(own.leaders, LeaderConfig)


def test_the_rule_is_the_same_on_the_models_dataclass_config():
    cfg = compose([f"{ENTRANT}.coldchain.grid_hold_hours=4",
                   f"{ENTRANT}.procurement.forecast_smoothing=0.5"])
    objects = OmegaConf.to_object(cfg)  # what the model holds
    assert strategy.strategies(objects) == strategy.strategies(cfg)
    saved = OmegaConf.create(OmegaConf.to_yaml(cfg))  # a run's config.yaml, without the schema
    assert strategy.strategies(saved) == strategy.strategies(cfg)
    own = strategy.platform_strategy(objects, "entrant")
    assert own.coldchain.grid_hold_hours == 4.0
    assert own.procurement.forecast_smoothing == 0.5
    assert strategy.overrides(objects, "entrant") == {
        "incentive": {}, "subsidy": {},
        "coldchain": {"coverage_grid": 0.6, "coverage_last_mile": 0.1, "grid_hold_hours": 4.0},
        "procurement": {"forecast_smoothing": 0.5}, "services": {}, "referral": {},
        "training": {}, "aftersales": {}, "qc": {}, "rivalry": {}, "leaders": {}}
    # the merge copies: changing a platform's levers leaves the market-wide group alone
    own.incentive.tier_sales_yuan.append(99.0)
    assert objects.incentive.tier_sales_yuan == [0.0]


def test_the_default_scenario_sets_only_the_presets_own_levers():
    cfg = compose([])
    own = {name: strategy.overrides(cfg, name) for name in cfg.platforms}
    none = {g: {} for g in strategy.LEVERS}
    # the incumbents opt out of the market's coupon war; the entrant and the discounter run
    # their own cold chains (configs/platforms/three_way.yaml)
    assert own["incumbent"] == {**none, "subsidy": {"schedule": "none"}}
    assert own["entrant"] == {**none, "coldchain": {"coverage_grid": 0.6,
                                                    "coverage_last_mile": 0.1}}
    assert own["discounter"] == {**none, "subsidy": {"schedule": "none"}, "coldchain": {
        "coverage_central": 0.6, "coverage_grid": 0.2, "coverage_last_mile": 0.0}}
    assert strategy.LEVERS == ("incentive", "subsidy", "coldchain", "procurement", "services",
                               "referral", "training", "aftersales", "qc", "rivalry", "leaders")


def test_the_form_mirrors_each_market_wide_group():
    # Every key of the group but those of the county and its people (sim/config/schema.py).
    left_out = {"incentive": set(), "subsidy": set(), "procurement": set(), "services": set(),
                "referral": set(), "training": set(), "qc": set(), "rivalry": set(),
                "aftersales": {"reference_hours", "trust_loss_elasticity"},
                "coldchain": {"t_cold_c", "central_to_grid_hours", "grid_to_pickup_hours_town",
                              "grid_to_pickup_hours_village", "dwell_hours_town",
                              "dwell_hours_village", "fridge_share_town", "fridge_share_village",
                              "late_pickup_prob_town", "late_pickup_prob_village",
                              "late_pickup_segment_multiplier", "late_pickup_extra_hours",
                              "complaint_life_fraction"},
                # the leaders' own economics and churn: only the recruiting keys are levers
                "leaders": {f.name for f in dataclasses.fields(LeaderConfig)} - {
                    "recruits_per_day", "recruit_interval_days", "replace_on_quit"}}
    for group, (cls, _) in LEVER_GROUPS.items():
        want = {f.name for f in dataclasses.fields(cls)} - left_out[group]
        got = {f.name for f in dataclasses.fields(LEVER_OVERRIDES[group])}
        assert got == want, group
        for f in dataclasses.fields(LEVER_OVERRIDES[group]):
            if f.default is dataclasses.MISSING:  # a mapping: empty (inherit) by default
                assert f.default_factory() == {}, f"{group}.{f.name}"
                continue
            assert f.default is None, f"{group}.{f.name}: null (inherit) by default"


def test_the_yaml_form_composes_too():
    cfg = OmegaConf.merge(compose([]), OmegaConf.create(
        "platforms:\n"
        "  entrant:\n"
        "    strategy:\n"
        "      incentive: {commission_rate: 0.12, scheme: tiered}\n"
        "      subsidy: {coupon_yuan_per_order: 2.0}\n"))
    own = strategy.platform_strategy(cfg, "entrant")
    assert (own.incentive.commission_rate, own.incentive.scheme) == (0.12, "tiered")
    assert own.subsidy.coupon_yuan_per_order == 2.0
    with pytest.raises(Exception, match="comission_rate"):
        OmegaConf.merge(compose([]), OmegaConf.create(
            "platforms: {entrant: {strategy: {incentive: {comission_rate: 0.12}}}}"))


# ---------------------------------------------------------------------------------------------
# validation: like every key, under the full dotted key; and wired, or rejected


def test_an_unknown_key_names_the_key_the_value_and_the_allowed_keys():
    msg = _one_line_error([f"{ENTRANT}.incentive.comission_rate=0.12"])
    assert msg.startswith(f"{ENTRANT}.incentive.comission_rate=0.12: unknown key "
                          f"'comission_rate' in {ENTRANT}.incentive; allowed keys: scheme, "
                          "commission_rate, "), msg
    # a key of the county, not of a platform, has no per-platform form
    msg = _one_line_error([f"{ENTRANT}.coldchain.dwell_hours_village=4"])
    assert "unknown key 'dwell_hours_village'" in msg and "coverage_grid" in msg
    msg = _one_line_error([f"{ENTRANT}.incentiv.commission_rate=0.12"])
    assert "allowed keys: incentive, subsidy, coldchain, procurement" in msg


@pytest.mark.parametrize("key,value", [
    ("incentive.commission_rate", "1.5"),
    ("incentive.scheme", "nope"),
    ("subsidy.days", "-1"),
    ("coldchain.coverage_grid", "1.5"),
    ("procurement.salvage_share_of_cost", "2"),
    ("incentive.tier_extra_rates", "[0,1.5]"),
])
def test_out_of_range_reads_as_the_market_wide_key_with_the_full_path(key, value):
    market = _one_line_error([f"{key}={value}"])
    assert _one_line_error([f"{ENTRANT}.{key}={value}"]) == f"{ENTRANT}.{market}"


def test_a_wrong_type_fails_in_one_line():
    msg = _one_line_error([f"{ENTRANT}.incentive.commission_rate=abc"])
    assert msg.startswith(f"{ENTRANT}.incentive.commission_rate=abc: ")


def test_every_lever_of_the_form_is_wired():
    form = {f"{g}.{f.name}" for g, cls in LEVER_OVERRIDES.items()
            for f in dataclasses.fields(cls)}
    assert strategy.WIRED == form


def _without(*groups):
    """WIRED less every key of ``groups`` (levers added to the form, not wired yet)."""
    return frozenset(k for k in strategy.WIRED if k.split(".")[0] not in groups)


def test_an_override_the_model_does_not_read_yet_is_rejected(monkeypatch):
    monkeypatch.setattr(strategy, "WIRED", _without("incentive", "procurement"))
    msg = _one_line_error([f"{ENTRANT}.incentive.commission_rate=0.12"])
    assert msg == (f"{ENTRANT}.incentive.commission_rate=0.12: per-platform incentive levers "
                   f"are not wired yet ({strategy.NOT_WIRED_ISSUE}); set the market-wide "
                   "incentive.commission_rate")
    # compose accepts the form; validate is what refuses it
    cfg = compose([f"{ENTRANT}.procurement.forecast_smoothing=0.5"])
    with pytest.raises(ConfigError, match="per-platform procurement levers are not wired yet"):
        validate(cfg)


def test_a_wired_lever_validates_and_its_merged_group_keeps_the_rules(monkeypatch):
    monkeypatch.setattr(strategy, "WIRED", _without("incentive") | {
        "incentive.commission_rate", "incentive.tier_sales_yuan"})
    check_overrides([f"{ENTRANT}.incentive.commission_rate=0.12"])
    # another key of a partly wired group names what is wired
    msg = _one_line_error([f"{ENTRANT}.incentive.decay_days=30"])
    assert msg == (f"{ENTRANT}.incentive.decay_days=30: per-platform incentive.decay_days is "
                   f"not wired yet ({strategy.NOT_WIRED_ISSUE}; wired: incentive.commission_rate,"
                   " incentive.tier_sales_yuan); set the market-wide incentive.decay_days")
    # the platform's tiers must match the extra rates it inherits
    msg = _one_line_error([f"{ENTRANT}.incentive.tier_sales_yuan=[0,500]"])
    assert msg == (f"{ENTRANT}.incentive.tier_sales_yuan=[0.0, 500.0]: must start at 0, ascend,"
                   f" and match {ENTRANT}.incentive.tier_extra_rates=[0.0] in length")
