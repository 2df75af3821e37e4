"""The configuration: the schema (:mod:`sim.config.schema`) and its validation
(:mod:`sim.config.validate`).

Hydra structured configs with types, defaults, units and ranges; ``validate(cfg)`` stops a bad
config before a run starts, with one line naming the key, the value and what is allowed.
"""

from omegaconf import DictConfig, OmegaConf

from sim.config.schema import (
    CalendarConfig,
    CategoryConfig,
    ChoiceConfig,
    ColdChainConfig,
    Config,
    CountyConfig,
    IncentiveConfig,
    LeaderConfig,
    MarketConfig,
    PlatformConfig,
    PolicyConfig,
    ProcurementConfig,
    ScandalConfig,
    SegmentConfig,
    SmallWorldConfig,
    SubsidyConfig,
    SupplierConfig,
    VillageClusterConfig,
    WomConfig,
    register_configs,
)
from sim.config.validate import ConfigError, validate

__all__ = [
    "CalendarConfig", "CategoryConfig", "ChoiceConfig", "ColdChainConfig", "Config",
    "ConfigError", "CountyConfig", "IncentiveConfig", "LeaderConfig", "MarketConfig",
    "PlatformConfig", "PolicyConfig", "ProcurementConfig", "ScandalConfig", "SegmentConfig",
    "SmallWorldConfig", "SubsidyConfig", "SupplierConfig", "VillageClusterConfig", "WomConfig",
    "register_configs", "to_container", "validate",
]


def to_container(cfg: DictConfig) -> dict:
    """The resolved config as plain Python containers (for saving beside results)."""
    return OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
