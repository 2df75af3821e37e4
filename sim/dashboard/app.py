"""The dashboard page: Mesa's SolaraViz with the network view and the charts.

Serve it with ``gbsim-dashboard`` (or ``make dashboard``); ``solara run sim.dashboard.app``
works too. Each browser tab gets a model of its own. The sidebar holds Mesa's controls (reset,
play/pause, step; play interval and how many days each press advances) and the scenario's
controls; a new choice takes effect on *Reset*, which builds a new model from the controls.

The components are plain functions of the model (as Mesa's ``make_mpl_*_component`` return), so
SolaraViz redraws them after each step. The drawings live in :mod:`sim.dashboard.views`.
"""

from __future__ import annotations

import solara
from mesa.visualization import Slider, SolaraViz
from mesa.visualization.utils import update_counter

from sim.dashboard import views
from sim.dashboard.market import (
    COVERAGE_CHOICES,
    MAX_CONSUMERS,
    MIN_CONSUMERS,
    DashboardMarket,
    default_controls,
)
from sim.incentives import SCHEMES
from sim.platforms import SUBSIDY_SCHEDULES

__all__ = ["TITLE", "Page", "chart_view", "model_params", "network_view", "scenario_line",
           "status_line"]

TITLE = "groupbuy-sim: community group buying in a county"
PNG_DPI = 90  # crisp in a half-width card, small enough to send every step


def model_params(defaults: dict | None = None) -> dict:
    """The scenario's controls, in SolaraViz's format, starting at ``defaults``."""
    d = default_controls() if defaults is None else defaults
    return {
        "incentive_scheme": {"type": "Select", "value": d["incentive_scheme"],
                             "values": list(SCHEMES), "label": "Leader incentive scheme"},
        "subsidy_schedule": {"type": "Select", "value": d["subsidy_schedule"],
                             "values": list(SUBSIDY_SCHEDULES),
                             "label": "Subsidy schedule (entrant's coupons)"},
        "coldchain_coverage": {"type": "Select", "value": d["coldchain_coverage"],
                               "values": COVERAGE_CHOICES,
                               "label": "Cold-chain coverage (share of legs chilled)"},
        "p_external": Slider("Bass p (outside), per day", d["p_external"], 0.0, 0.01,
                             0.0005, dtype=float),
        "q_imitation": Slider("Bass q (word of mouth), per day", d["q_imitation"],
                              0.0, 0.2, 0.005, dtype=float),
        "consumers": Slider("Households", d["consumers"], MIN_CONSUMERS, MAX_CONSUMERS, 100,
                            dtype=int),
        "seed": Slider("Seed", d["seed"], 0, 99, 1, dtype=int),
    }


@solara.component
def _Figure(model, make, css_class: str):
    update_counter.get()  # re-render after every step, as Mesa's own components do
    # The picture depends only on the model and its day: redraw only when either changes.
    deps = [model, model.day]
    fig = solara.use_memo(lambda: make(model), deps)
    with solara.Column(classes=[css_class]):
        solara.FigureMatplotlib(fig, dependencies=deps, format="png", dpi=PNG_DPI)


def status_line(model) -> str:
    """Today in one line: the day counter and the headline numbers."""
    last = model.recorder.daily[-1] if model.recorder.daily else {}
    text = (f"Day {model.day} of {model.cfg.days} · "
            f"{last.get('adoption_rate', 0.0):.1%} of households adopted · "
            f"orders today {last.get('orders', 0):,} · "
            f"{last.get('active_leaders', 0)} active leaders")
    if model.recorder.platforms:
        today = model.recorder.platforms[-len(model.platform_names):]
        text += " · order shares " + ", ".join(f"{r['platform']} {r['order_share']:.0%}"
                                                for r in today)
    return text


def scenario_line(model) -> str:
    """The scenario this model runs (the sliders' values take effect on Reset)."""
    cfg = model.cfg
    cover = cfg.coldchain.coverage_override
    chilled = "each platform's own" if cover is None else f"{cover:g} of legs chilled"
    return (f"Scenario: {cfg.incentive.scheme} commission, {cfg.subsidy.schedule} subsidy, "
            f"cold chain {chilled}, "
            f"p = {cfg.wom.p_external:g}, q = {cfg.wom.q_imitation:g}, "
            f"{model.consumers.n:,} households, seed {cfg.seed}. "
            f"Change a control, then press Reset.")


@solara.component
def _NetworkCard(model):
    update_counter.get()
    with solara.Column(style={"width": "100%"}):
        solara.Text(status_line(model), classes=["gbsim-day"], style={"font-size": "14px"})
        solara.Text(scenario_line(model), classes=["gbsim-scenario"],
                    style={"font-size": "12px", "color": "#555"})
        _Figure(model, views.network_figure, "gbsim-network")


def network_view(model):
    """Today's numbers above the network: households coloured by the platform they last used."""
    return _NetworkCard(model)


def chart_view(model):
    """Adoption, order shares, active leaders and spoilage so far."""
    return _Figure(model, views.chart_figure, "gbsim-charts")


@solara.component
def Page():
    """The page: a model per browser tab, built from the default controls."""
    defaults = solara.use_memo(default_controls, [])
    model = solara.use_memo(lambda: DashboardMarket(**defaults), [])
    SolaraViz(
        model,
        components=[(network_view, 0), (chart_view, 0)],
        model_params=model_params(defaults),
        name=TITLE,
        play_interval=50,
    )
