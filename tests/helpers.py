"""Helpers shared by the tests: a small scenario and a way to run it."""

from __future__ import annotations

from sim.cli import compose
from sim.model import GroupBuyingMarket

SMALL = ["experiment=smoke"]  # 2,000 households, 60 days


def run_model(overrides: list[str]) -> GroupBuyingMarket:
    """Build and run the small scenario with ``overrides``; return the finished model."""
    model = GroupBuyingMarket(compose(SMALL + overrides))
    model.run()
    return model
