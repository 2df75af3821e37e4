"""The live dashboard: a Solara page for students (``gbsim-dashboard``, ``make dashboard``).

It is kept apart from the model, as Mesa's examples keep ``app.py`` apart from ``model.py``:

* :mod:`sim.dashboard.market`: the bridge from control values to a composed Hydra config
  (:class:`~sim.dashboard.market.DashboardMarket`, a keyword-argument front of the model that
  Reset re-instantiates), the network presets, the hook for per-platform strategy levers, and
  the fixed network layout.
* :mod:`sim.dashboard.views`: the network and the charts as ECharts options, read from the
  model's recorder (Mesa's DataCollector is not used by this model).
* :mod:`sim.dashboard.inspector`: one household's or leader's state.
* :mod:`sim.dashboard.echarts`: the ECharts widget the page draws with.
* :mod:`sim.dashboard.player`: Reset, Play/Pause, Step and the speed.
* :mod:`sim.dashboard.app`: the Solara page (``Page``).
* :mod:`sim.dashboard.serve`: the command that serves the page on 127.0.0.1.

``app``, ``echarts`` and ``player`` need the ``viz`` extra (Solara); ``market``, ``views`` and
``inspector`` need only the model's own dependencies.
"""
