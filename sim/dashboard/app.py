"""The dashboard page: Mesa's model controller, the scenario's controls, the network, the charts.

Serve it with ``gbsim-dashboard`` (or ``make dashboard``); ``solara run sim.dashboard.app``
works too. Each browser tab gets a model of its own. The sidebar holds Mesa's controller (Reset,
play/pause, Step: :func:`mesa.visualization.solara_viz.ModelController`), the pause between
days, the scenario's controls (each shows its value; a new choice takes effect on *Reset*, which
builds a new model from the controls) and the inspector's selectors. The main area shows today's
numbers, the network (click a household or a leader to inspect it) and seven charts.

The page is laid out here rather than by Mesa's ``SolaraViz``, whose main area is a set of tabs
named "Page 0", ..., and whose parameter sliders do not show their values. The play loop is
Mesa's, in its threaded mode: the model steps at the chosen pace while the drawings are redrawn
as often as they can be (each redraw shows the latest day), so a slow browser or a busy machine
slows the pictures, not the simulation. The drawings are ECharts options built in
:mod:`sim.dashboard.views`; drawing them is the browser's work.
"""

from __future__ import annotations

import numpy as np
import solara
from mesa.visualization.utils import update_counter

from sim.dashboard import views
from sim.dashboard.echarts import use_chart, use_options
from sim.dashboard.inspector import household_state, leader_state
from sim.dashboard.market import (
    COVERAGE_CHOICES,
    MAX_CONSUMERS,
    MIN_CONSUMERS,
    NETWORK_CHOICES,
    STRATEGY_LEVERS,
    DashboardMarket,
    default_controls,
)
from sim.dashboard.player import DEFAULT_DAYS_PER_SECOND, RunControls
from sim.incentives import SCHEMES
from sim.leaders.table import person_of
from sim.platforms import SUBSIDY_SCHEDULES

__all__ = ["TITLE", "Page", "scenario_line", "status_line"]

TITLE = "groupbuy-sim: community group buying in a county"
CHART_PX = (430, 250)


def status_line(model) -> str:
    """Today in one line: the day counter and the headline numbers."""
    last = model.recorder.daily[-1] if model.recorder.daily else {}
    text = (f"Day {model.day} of {model.cfg.days} · "
            f"{last.get('adoption_rate', 0.0):.1%} of households adopted · "
            f"orders today {last.get('orders', 0):,} · "
            f"{last.get('active_leaders', 0)} active leaders")
    p = len(model.platform_names)
    rows = model.recorder.platforms
    if rows:
        today = rows[len(rows) // p * p - p:len(rows) // p * p]
        text += " · order shares " + ", ".join(f"{r['platform']} {r['order_share']:.0%}"
                                                for r in today)
    return text


def scenario_line(model) -> str:
    """The scenario this model runs (the controls' values take effect on Reset)."""
    cfg = model.cfg
    covers = {(c.coverage_central, c.coverage_grid, c.coverage_last_mile)
              for c in (s.coldchain for s in model.strategies)}
    cover = covers.pop() if len(covers) == 1 else None
    chilled = ("each platform's own" if cover is None or len(set(cover)) > 1
               else f"{cover[0]:g} of routes chilled")
    return (f"Scenario: {cfg.market.network} network, {cfg.incentive.scheme} commission, "
            f"{cfg.subsidy.schedule} subsidy, cold chain {chilled}, "
            f"p = {cfg.wom.p_external:g}, q = {cfg.wom.q_imitation:g}, "
            f"{model.consumers.n:,} households, seed {cfg.seed}. "
            f"Change a control, then press Reset.")


@solara.component
def ScenarioControls(params: solara.Reactive[dict]):
    """The scenario's controls, each label carrying its value; they write ``params``."""
    p = params.value

    def setter(name):
        return lambda v: params.set({**params.value, name: v})

    solara.Select("Network", value=p["network"], values=NETWORK_CHOICES,
                  on_value=setter("network"))
    solara.Select("Leader incentive scheme", value=p["incentive_scheme"], values=list(SCHEMES),
                  on_value=setter("incentive_scheme"))
    solara.Select("Subsidy schedule (entrant's coupons)", value=p["subsidy_schedule"],
                  values=list(SUBSIDY_SCHEDULES), on_value=setter("subsidy_schedule"))
    solara.Select("Cold-chain coverage (share of legs chilled)", value=p["coldchain_coverage"],
                  values=COVERAGE_CHOICES, on_value=setter("coldchain_coverage"))
    solara.SliderFloat(f"Bass p (outside): {p['p_external']:g} per day", value=p["p_external"],
                       min=0.0, max=0.01, step=0.0005, on_value=setter("p_external"))
    solara.SliderFloat(f"Bass q (word of mouth): {p['q_imitation']:g} per day",
                       value=p["q_imitation"], min=0.0, max=0.2, step=0.005,
                       on_value=setter("q_imitation"))
    solara.SliderInt(f"Households: {p['consumers']:,}", value=p["consumers"], min=MIN_CONSUMERS,
                     max=MAX_CONSUMERS, step=100, on_value=setter("consumers"))
    solara.SliderInt(f"Seed: {p['seed']}", value=p["seed"], min=0, max=99,
                     on_value=setter("seed"))
    # Per-platform strategy levers (market.STRATEGY_LEVERS).
    for name, (label, _key, values) in STRATEGY_LEVERS.items():
        solara.Select(label, value=p["levers"][name], values=values,
                      on_value=lambda v, name=name: params.set(
                          {**params.value, "levers": {**params.value["levers"], name: v}}))


@solara.component
def Inspector(model, selected: solara.Reactive[tuple[str, int]]):
    """The selected household's or leader's state, with selectors for either."""
    update_counter.get()
    kind, k = selected.value
    with model.lock:  # the model may be stepping (sim.dashboard.player)
        t = model.leaders
        # A leader is its primary row (its first service; other services point back to it).
        primary = np.flatnonzero(t.view("active") & (person_of(t) == np.arange(t.n)))
        leaders = [str(r) for r in primary]
        state = household_state(model, k) if kind == "household" else leader_state(model, k)
    with solara.Row():
        solara.InputInt("Household", value=k if kind == "household" else 0,
                        on_value=lambda i: selected.set(("household", int(i))),
                        classes=["gbsim-pick-household"])
        solara.Select("Group leader", value=str(k) if kind == "leader" else None,
                      values=leaders, on_value=lambda r: r is not None and selected.set(
                          ("leader", int(r))), classes=["gbsim-pick-leader"])
    with solara.Column(classes=["gbsim-inspector"]):
        if state is None:
            solara.Text(f"No {kind} {k} in this market.")
        else:
            # One text, a line per item (one message a day, not one per item); not
            # solara.Markdown, which fetches KaTeX, missing from the offline assets.
            solara.Text("\n".join(f"{label}: {value}" for label, value in state.items()),
                        style={"font-size": "13px", "white-space": "pre-line"})


@solara.component
def Network(model, selected: solara.Reactive[tuple[str, int]]):
    """The network view; a click on a dot or a triangle selects that household or leader.

    Two charts stacked: the background (rings and ties), drawn once per model, and on top the
    households and leaders, redrawn every day.
    """
    update_counter.get()
    scene = solara.use_memo(lambda: views.scene_option(model.scene), [model])

    def on_click(event):
        data = event.get("data")
        value = data.get("value") if isinstance(data, dict) else data
        if not value or len(value) < 3 or event.get("seriesName") == views.SELECTED_SERIES:
            return
        kind = "leader" if event.get("seriesName") == views.LEADER_SERIES else "household"
        selected.set((kind, int(value[2])))

    w, h = views.NETWORK_PX
    layer = f"width: {w}px; height: {h}px; position: absolute; top: 0; left: 0;"
    back = use_chart({"style": layer})
    front = use_chart({"style": layer}, on_click)
    solara.Column(classes=["gbsim-network"], children=[back, front],
                  style={"position": "relative", "width": f"{w}px", "height": f"{h}px"})
    use_options({"back": back}, lambda: {"back": scene}, [scene])
    use_options({"front": front},
                lambda: {"front": views.network_option(model, scene, selected.value)},
                [model, model.day, selected.value], model.lock)


@solara.component
def Charts(model):
    """The charts, two to a row; the caption says which day they show."""
    update_counter.get()
    w, h = CHART_PX
    charts = {key: use_chart({"style": f"width: {w}px; height: {h}px;"})
              for key, _title in views.CHARTS}
    with solara.Column(classes=["gbsim-charts"]):
        solara.Text(f"Charts to day {model.day}", classes=["gbsim-charts-day"],
                    style={"font-size": "12px", "color": "#555"})
        with solara.GridFixed(columns=2):
            for key, _title in views.CHARTS:
                solara.Column(classes=[f"gbsim-chart-{key}"], children=[charts[key]])
    use_options(charts, lambda: views.chart_options(model), [model, model.day], model.lock)


@solara.component
def Status(model):
    update_counter.get()
    with model.lock:
        status = status_line(model)
    solara.Text(status, classes=["gbsim-day"], style={"font-size": "14px"})
    solara.Text(scenario_line(model), classes=["gbsim-scenario"],
                style={"font-size": "12px", "color": "#555"})


@solara.component
def Page():
    """The page: a model per browser tab, built from the default controls."""
    defaults = solara.use_memo(default_controls, [])
    model = solara.use_reactive(solara.use_memo(lambda: DashboardMarket(**defaults), []))
    params = solara.use_reactive(defaults)
    speed = solara.use_reactive(DEFAULT_DAYS_PER_SECOND)
    selected = solara.use_reactive(("household", 0))
    solara.Title(TITLE)  # the browser tab's title
    with solara.AppBar():
        solara.AppBarTitle(TITLE)
    with solara.Sidebar(), solara.Column():
        with solara.Card("Run"):
            RunControls(model, lambda: DashboardMarket(**params.value), speed)
        with solara.Card("Scenario (takes effect on Reset)"):
            ScenarioControls(params)
    with solara.Column():
        Status(model.value)
        with solara.Row():
            Network(model.value, selected)
            with solara.Card("Inspect a household or a group leader", style={"width": "430px"}):
                Inspector(model.value, selected)
        Charts(model.value)
