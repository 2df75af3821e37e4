"""The dashboard's ECharts widget: Solara's, with the option sent as one JSON string.

Solara's :class:`~solara.components.echarts.EchartsWidget` syncs its option as a nested object.
For a network of 1,000 households and seven charts of a year's days that is tens of thousands
of small lists, and both ipywidgets (looking for binary buffers in the state) and reacton (looking
for child elements in a component's props) walk every one of them in Python: on the project's
machine that took most of a redraw (py-spy on the served page; docs/performance.md). Here the
option is encoded once, by the C JSON encoder, into a string that the browser parses
(``echarts.vue``: Solara's template with ``JSON.parse``), and it is set on the widget directly,
in an effect, instead of passed through the component's props.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable

import solara
import traitlets
from solara.components.echarts import EchartsWidget

__all__ = ["EchartsJson", "use_chart", "use_options"]


class EchartsJson(EchartsWidget):
    """An ECharts widget whose option is ``option_json``, a JSON string."""

    template_file = (__file__, "echarts.vue")
    option_json = traitlets.Unicode("{}").tag(sync=True)


def use_chart(attributes: dict, on_click: Callable | None = None) -> EchartsJson:
    """A hook: an ECharts widget kept for the component's life (put it in the page as a child).

    Args:
        attributes: HTML attributes of its container (its size: ``{"style": "width: ..."}``).
        on_click: called with the clicked item (``seriesName``, ``dataIndex``, ``data``, ...).
    """
    return solara.use_memo(lambda: EchartsJson(
        attributes=attributes, on_click=on_click, on_mouseover_enabled=False,
        on_mouseout_enabled=False), [])


def use_options(widgets: dict[str, EchartsJson], make: Callable[[], dict],
                dependencies: list, lock=None) -> None:
    """A hook: after a render in which ``dependencies`` changed, draw ``make()`` on the widgets.

    Args:
        widgets: the widgets by key.
        make: returns an ECharts option (a dict of JSON types, no NaN) for each key.
        dependencies: redraw when one of these changes (the model, its day, a selection).
        lock: held while ``make`` runs (the model's, while it may be stepping meanwhile).
    """

    def draw():
        with lock or contextlib.nullcontext():
            options = make()
        for key, w in widgets.items():
            w.option_json = json.dumps(options[key], allow_nan=False, separators=(",", ":"))

    solara.use_effect(draw, dependencies)
