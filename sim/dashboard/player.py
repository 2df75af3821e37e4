"""The dashboard's run controls: Reset, Play/Pause, Step, and a speed in days per second.

Playing runs two background tasks. One steps the model at the chosen pace and never waits for
a drawing; the other redraws the page whenever a day has passed since its last redraw, showing
the latest day (at most :data:`MAX_REDRAWS_PER_SECOND`). A slow browser or a busy machine then
slows the pictures, not the simulation, and every redraw is as fresh as it can be.

Mesa's own controller (``mesa.visualization.solara_viz.ModelController``) steps and draws in
turn (each day waits for its drawing), or, in its threaded mode, redraws from a
``solara.use_thread`` thread that traces every line it runs so that it can be cancelled
(Solara's "intrusive cancel", ~10x slower Python: py-spy showed the redraws spending most of their
time in that tracer; docs/performance.md). Both tasks here are ``solara.lab.use_task`` threads,
which do not trace. The buttons keep Mesa's labels (Reset, ▶, ❚❚, Step).

The drawing reads the model while the next day is being simulated: a picture may mix two
consecutive days (the charts read only whole days of records, :mod:`sim.dashboard.views`); the
model itself is never written by the page.
"""

from __future__ import annotations

import threading
import time
import traceback

import solara
from mesa.visualization.utils import force_update

__all__ = ["DEFAULT_DAYS_PER_SECOND", "MAX_DAYS_PER_SECOND", "RunControls"]

DEFAULT_DAYS_PER_SECOND = 20  # a year in ~18 s; at 1,000 households a day takes ~2 ms to simulate
MAX_DAYS_PER_SECOND = 60
REDRAW_POLL_S = 0.5  # how often an idle redraw task checks whether play has stopped
# At most this many redraws a second. A redraw from the play task's side during every pass of a
# render that a click started (Pause, a control) keeps that render from settling, and reacton
# stops it after a few passes ("Too many renders triggered"): a gap between redraws lets it end.
MAX_REDRAWS_PER_SECOND = 8


@solara.component
def RunControls(model: solara.Reactive, make_model, speed: solara.Reactive[int]):
    """Reset, Play/Pause and Step buttons, and the speed slider.

    Args:
        model: the page's model; Reset replaces it with ``make_model()``.
        make_model: builds a new model from the current controls.
        speed: days a second while playing.
    """
    playing = solara.use_reactive(False)
    error = solara.use_reactive(None)
    day_passed = solara.use_memo(threading.Event, [])

    def play():
        m = model.value
        try:
            while playing.value and m.running and model.value is m:
                start = time.perf_counter()
                m.step()
                day_passed.set()
                time.sleep(max(0.0, 1.0 / max(speed.value, 1) - (time.perf_counter() - start)))
        except Exception as e:  # shown on the page; the server keeps serving
            error.value = f"error in step: {e}"
            traceback.print_exc()
        playing.value = False  # also at the horizon, where the model stops running
        day_passed.set()

    def redraw():
        while playing.value:
            if day_passed.wait(REDRAW_POLL_S):
                day_passed.clear()
                start = time.perf_counter()
                force_update()
                time.sleep(max(0.0, 1.0 / MAX_REDRAWS_PER_SECOND - (time.perf_counter() - start)))
        force_update()  # the last day played

    solara.lab.use_task(play, dependencies=[playing.value], prefer_threaded=True)
    solara.lab.use_task(redraw, dependencies=[playing.value], prefer_threaded=True)

    def reset():
        playing.value = False
        error.value = None
        model.value = make_model()

    def step():
        model.value.step()
        force_update()

    with solara.Row(justify="space-between"):
        solara.Button(label="Reset", color="primary", on_click=reset)
        solara.Button(label="❚❚" if playing.value else "▶", color="primary",
                      on_click=lambda: playing.set(not playing.value),
                      disabled=not model.value.running)
        solara.Button(label="Step", color="primary", on_click=step,
                      disabled=playing.value or not model.value.running)
    solara.SliderInt(f"Speed: {speed.value} days a second", value=speed, min=1,
                     max=MAX_DAYS_PER_SECOND)
    if error.value:
        solara.Error(label=error.value)
