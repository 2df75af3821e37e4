"""From the dashboard's controls to a model, and where each household is drawn.

SolaraViz rebuilds a model on *reset* by calling its class with the control values as keyword
arguments. :class:`DashboardMarket` is that keyword front: it turns the values into Hydra
overrides (:func:`dashboard_overrides`), composes the project config with them (the same config
``gbsim`` would run) and builds an ordinary :class:`~sim.model.GroupBuyingMarket`. The model
itself is untouched; the dashboard adds only a stop at the horizon and a drawing layout.

The layout (:func:`neighbourhood_layout`) is fixed for the life of a model, never a per-step
spring layout: each neighbourhood (a town compound or a village) is a ring with its households in
index order, which is the order of the ring lattice the network generators tie them along
(:mod:`sim.network`), so word of mouth is seen creeping round the ring and jumping across
neighbourhoods along the sparse ties between them. Town compounds sit in the middle, villages
around them, as a county town sits among its villages.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.api import CONFIG_DIR, compose
from sim.incentives import SCHEMES
from sim.model import GroupBuyingMarket
from sim.platforms import SUBSIDY_SCHEDULES
from sim.strategy import every_platform

__all__ = [
    "COVERAGE_CHOICES",
    "MAX_CONSUMERS",
    "NETWORK_CHOICES",
    "OWN_COVERAGE",
    "STRATEGY_LEVERS",
    "DashboardMarket",
    "Scene",
    "dashboard_overrides",
    "default_controls",
    "neighbourhood_layout",
]

# A network view stays readable, and a step fast enough to watch, up to about 2,000 households.
MAX_CONSUMERS = 2_000
MIN_CONSUMERS = 200
DEFAULT_CONSUMERS = 1_000  # a day takes ~2 ms to simulate and ~0.1 s to draw (docs/performance.md)
HORIZON_DAYS = 365  # the default horizon (ODD 2: one year); play stops there

# The smoke market's neighbourhoods (configs/experiment/smoke.yaml): compounds of 200 and villages
# of 150 households, so that a 1,000-household market still has several of each.
BASE_OVERRIDES = ["experiment=smoke", f"days={HORIZON_DAYS}"]

# Ties inside a neighbourhood between households less than this share of the ring apart (the
# lattice ties, sim.network) look like the ring itself: the view draws the ring instead.
RING_SPAN = 0.1

OWN_COVERAGE = "each platform's own"
COVERAGE_CHOICES = [OWN_COVERAGE, "0.0", "0.25", "0.5", "0.75", "1.0"]

# The network presets (configs/market/) the view can draw: ``complete`` has no ties to lay out.
NETWORK_CHOICES = ["county", "small_world", "village_cluster"]
DEFAULT_NETWORK = "county"

# Per-platform strategy levers (docs/ODD.md §6): control name -> (label, Hydra key, allowed
# values); the page draws a Select for each and dashboard_overrides() writes ``<key>=<value>``.
# The first value is the default scenario's (configs/subsidy/launch_war.yaml,
# configs/incentive/flat.yaml), so the default controls run the default scenario; a value set
# here is the platform's own and stays when the market-wide scheme or schedule changes.
STRATEGY_LEVERS: dict[str, tuple[str, str, list]] = {
    "entrant_coupon": ("Entrant's coupon per order (yuan)",
                       "platforms.entrant.strategy.subsidy.coupon_yuan_per_order",
                       [4.0, 0.0, 2.0, 8.0]),
    "incumbent_commission": ("Incumbent's leader commission",
                             "platforms.incumbent.strategy.incentive.commission_rate",
                             [0.10, 0.05, 0.15]),
}


def _group_option(group: str, name: str) -> bool:
    return (Path(CONFIG_DIR) / group / f"{name}.yaml").is_file()


def dashboard_overrides(incentive_scheme: str | None = None, subsidy_schedule: str | None = None,
                        coldchain_coverage: str = OWN_COVERAGE, p_external: float | None = None,
                        q_imitation: float | None = None, consumers: int = DEFAULT_CONSUMERS,
                        seed: int = 0, network: str = DEFAULT_NETWORK,
                        levers: dict | None = None) -> list[str]:
    """Hydra overrides for the dashboard's control values.

    ``None`` keeps the config's default (``configs/config.yaml``). A scheme or schedule that has
    a config file of its own in ``configs/incentive/`` or ``configs/subsidy/`` is chosen as that
    group option (with its parameters); one that exists only in the registry
    (:data:`sim.incentives.SCHEMES`, :data:`sim.platforms.SUBSIDY_SCHEDULES`) is set by name on
    the default option.

    Args:
        incentive_scheme: a name in ``SCHEMES``.
        subsidy_schedule: a name in ``SUBSIDY_SCHEDULES``.
        coldchain_coverage: :data:`OWN_COVERAGE`, or a share of routes refrigerated in [0, 1]
            for every platform and tier (``coldchain.coverage_*`` and each platform's own,
            :func:`sim.strategy.every_platform`).
        p_external: Bass innovation rate, per day (``wom.p_external``).
        q_imitation: Bass imitation rate, per day (``wom.q_imitation``).
        consumers: households, at most :data:`MAX_CONSUMERS`.
        seed: the run's seed.
        network: a network preset, one of :data:`NETWORK_CHOICES` (the ``market`` group).
        levers: values of :data:`STRATEGY_LEVERS`, by control name.

    Raises:
        ValueError: a name not in its registry, or a market too large to draw.
    """
    if network not in NETWORK_CHOICES:
        raise ValueError(f"network {network!r}: allowed {', '.join(NETWORK_CHOICES)}")
    for name, value in (levers or {}).items():
        if name not in STRATEGY_LEVERS or value not in STRATEGY_LEVERS[name][2]:
            raise ValueError(f"strategy lever {name}={value!r}: not among {STRATEGY_LEVERS}")
    if incentive_scheme is not None and incentive_scheme not in SCHEMES:
        raise ValueError(f"incentive scheme {incentive_scheme!r}: allowed {', '.join(SCHEMES)}")
    if subsidy_schedule is not None and subsidy_schedule not in SUBSIDY_SCHEDULES:
        raise ValueError(f"subsidy schedule {subsidy_schedule!r}: allowed "
                         f"{', '.join(SUBSIDY_SCHEDULES)}")
    consumers = int(consumers)
    if not MIN_CONSUMERS <= consumers <= MAX_CONSUMERS:
        raise ValueError(f"consumers={consumers}: the dashboard draws "
                         f"{MIN_CONSUMERS}-{MAX_CONSUMERS} households")
    out = [*BASE_OVERRIDES, f"market={network}"]
    if incentive_scheme is not None:
        out.append(f"incentive={incentive_scheme}" if _group_option("incentive", incentive_scheme)
                   else f"incentive.scheme={incentive_scheme}")
    if subsidy_schedule is not None:
        out.append(f"subsidy={subsidy_schedule}" if _group_option("subsidy", subsidy_schedule)
                   else f"subsidy.schedule={subsidy_schedule}")
    if coldchain_coverage != OWN_COVERAGE:
        x = float(coldchain_coverage)
        out += every_platform(list(compose(BASE_OVERRIDES).platforms),
                              **{f"coldchain__coverage_{t}": repr(x)
                                 for t in ("central", "grid", "last_mile")})
    # repr keeps every digit of a float; Hydra parses it back to the same value.
    if p_external is not None:
        out.append(f"wom.p_external={float(p_external)!r}")
    if q_imitation is not None:
        out.append(f"wom.q_imitation={float(q_imitation)!r}")
    out += [f"market.consumers={consumers}", f"seed={int(seed)}"]
    out += [f"{STRATEGY_LEVERS[name][1]}={value}" for name, value in (levers or {}).items()]
    return out


def default_controls() -> dict:
    """The control values of the default scenario, read from the composed config."""
    cfg = compose(BASE_OVERRIDES)
    return {"incentive_scheme": str(cfg.incentive.scheme),
            "subsidy_schedule": str(cfg.subsidy.schedule),
            "coldchain_coverage": OWN_COVERAGE,
            "p_external": float(cfg.wom.p_external), "q_imitation": float(cfg.wom.q_imitation),
            "consumers": DEFAULT_CONSUMERS, "seed": int(cfg.seed),
            "network": str(cfg.market.network),
            "levers": {name: lever[2][0] for name, lever in STRATEGY_LEVERS.items()}}


@dataclass
class Scene:
    """What the network view draws that does not change during a run.

    Attributes:
        xy: position of each household, shape (n, 2).
        within: tie segments inside a neighbourhood that cut across its ring, shape (e_in, 2, 2);
            ties to a household less than :data:`RING_SPAN` of the ring away are drawn as the
            ring itself.
        across: tie segments between neighbourhoods, shape (e_x, 2, 2).
        centres: centre of each neighbourhood ring, shape (k, 2).
        radii: radius of each ring.
        is_village: whether each neighbourhood is a village.
    """

    xy: np.ndarray
    within: np.ndarray
    across: np.ndarray
    centres: np.ndarray
    radii: np.ndarray
    is_village: np.ndarray


def _ring_of_rings(radii: np.ndarray, gap: float) -> tuple[np.ndarray, float]:
    """Centres of rings of ``radii`` placed side by side on one circle; its radius."""
    if len(radii) == 0:
        return np.zeros((0, 2)), 0.0
    if len(radii) == 1:
        return np.zeros((1, 2)), 0.0
    width = 2 * radii + gap  # arc each ring takes up on the circle
    big = width.sum() / (2 * np.pi)
    # Adjacent centres are at least a chord apart; a slightly larger circle keeps them clear.
    big = max(big, (2 * radii.max() + gap) / (2 * np.sin(np.pi / len(radii)))) * 1.05
    angle = 2 * np.pi * (np.cumsum(width) - width / 2) / width.sum()
    return big * np.column_stack([np.cos(angle), np.sin(angle)]), float(big)


def neighbourhood_layout(network) -> Scene:
    """A fixed layout: one ring per neighbourhood, town compounds inside, villages around.

    Households sit on their neighbourhood's ring in index order at unit spacing (a ring of ``s``
    households has radius ``s / 2 pi``). Deterministic: no random numbers are drawn.

    Args:
        network: a :class:`sim.network.SocialNetwork` with ties (not the implicit complete graph).
    """
    nb = np.asarray(network.neighbourhood)
    k = network.n_neighbourhoods
    sizes = np.bincount(nb, minlength=k)
    radii = np.maximum(sizes, 1) / (2 * np.pi)
    is_village = np.asarray(network.is_village, bool)
    gap = max(4.0, 0.6 * radii.max())  # room between rings for the ties across
    centres = np.zeros((k, 2))
    town, vil = np.flatnonzero(~is_village), np.flatnonzero(is_village)
    c_town, r_town = _ring_of_rings(radii[town], gap)
    centres[town] = c_town
    c_vil, r_vil = _ring_of_rings(radii[vil], gap)
    if len(town) and len(vil):
        # Villages clear of the town: their circle outside the town's outer edge.
        inner = r_town + (radii[town].max() if len(town) else 0.0)
        need = inner + gap + radii[vil].max()
        if r_vil < need:
            c_vil = c_vil * (need / r_vil) if r_vil > 0 else np.array([[need, 0.0]])
    centres[vil] = c_vil

    order = np.argsort(nb, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    pos = np.empty(network.n, np.int64)
    pos[order] = np.arange(network.n) - np.repeat(starts, sizes)
    theta = 2 * np.pi * pos / np.maximum(sizes[nb], 1)
    xy = centres[nb] + radii[nb, None] * np.column_stack([np.cos(theta), np.sin(theta)])

    if network.adjacency is None:
        raise ValueError("neighbourhood_layout: the complete network has no ties to draw")
    upper = network.adjacency.tocoo()
    keep = upper.row < upper.col
    i, j = upper.row[keep], upper.col[keep]
    seg = np.stack([xy[i], xy[j]], axis=1)
    same = nb[i] == nb[j]
    size = sizes[nb[i]]
    apart = np.abs(pos[i] - pos[j])
    apart = np.minimum(apart, size - apart) / np.maximum(size, 1)
    chord = same & (apart >= RING_SPAN)
    return Scene(xy=xy, within=seg[chord], across=seg[~same], centres=centres, radii=radii,
                 is_village=is_village)


class DashboardMarket(GroupBuyingMarket):
    """The model as the dashboard builds it: keyword arguments in, a composed config inside.

    The arguments are those of :func:`dashboard_overrides`. The model stops (``running`` turns
    False, which stops play) at the config's horizon, ``days``. ``lock`` is held for each day:
    the page draws while the next day is simulated (:mod:`sim.dashboard.player`) and reads the
    model under it, so that no reading sees a day half done (a leader table of two lengths).
    """

    def __init__(self, incentive_scheme: str | None = None, subsidy_schedule: str | None = None,
                 coldchain_coverage: str = OWN_COVERAGE, p_external: float | None = None,
                 q_imitation: float | None = None, consumers: int = DEFAULT_CONSUMERS,
                 seed: int = 0, network: str = DEFAULT_NETWORK, levers: dict | None = None):
        self.overrides = dashboard_overrides(incentive_scheme, subsidy_schedule,
                                             coldchain_coverage, p_external, q_imitation,
                                             consumers, seed, network, levers)
        super().__init__(compose(self.overrides))
        self.scene = neighbourhood_layout(self.network)
        self.lock = threading.Lock()

    def step(self) -> None:
        with self.lock:
            super().step()
            self.running = self.day < self.cfg.days
