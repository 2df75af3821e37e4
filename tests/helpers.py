"""Helpers shared by the tests: a small scenario and a way to run it."""

from __future__ import annotations

from omegaconf import OmegaConf

from sim.api import compose
from sim.model import GroupBuyingMarket

SMALL = ["experiment=smoke"]  # 2,000 households, 60 days


def run_model(overrides: list[str]) -> GroupBuyingMarket:
    """Build and run the small scenario with ``overrides``; return the finished model."""
    model = GroupBuyingMarket(compose(SMALL + overrides))
    model.run()
    return model


def review_config():
    """Leader settings for hand-worked reviews: 6 min an order, 30 a complaint, churn logit -2
    with no tenure or recognition effect (round numbers, not the calibration)."""
    return OmegaConf.create(dict(review_days=30, income_smoothing=0.5, minutes_per_order=6.0,
                                 minutes_per_complaint=30.0, churn_base_logit=-2.0,
                                 churn_shortfall_slope=3.0, churn_tenure_effect=0.0,
                                 churn_recognition_effect=0.0))


def group_config(group: str, option: str, **values):
    """A config group's node as a run composes it (``group=option``), with ``values`` set.

    The schema states no values (the YAML does), so a test builds a group's config from its YAML
    option rather than from the dataclass.
    """
    node = compose([f"{group}={option}"])[group]
    for key, value in values.items():
        node[key] = value
    return node
