"""Shared fixtures: small composed configs and a small finished run."""

from __future__ import annotations

import pytest

from sim.cli import compose
from sim.model import GroupBuyingMarket

SMALL = ["experiment=smoke"]  # 2,000 households, 60 days


@pytest.fixture
def small_cfg():
    return compose(SMALL)


def run_model(overrides: list[str]) -> GroupBuyingMarket:
    model = GroupBuyingMarket(compose(SMALL + overrides))
    model.run()
    return model
