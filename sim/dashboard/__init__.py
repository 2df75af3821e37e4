"""The live dashboard: a Mesa SolaraViz page for students (``gbsim-dashboard``, ``make dashboard``).

It is kept apart from the model, as Mesa's examples keep ``app.py`` apart from ``model.py``:

* :mod:`sim.dashboard.market`: the bridge from slider values to a composed Hydra config
  (:class:`~sim.dashboard.market.DashboardMarket`, a keyword-argument front of the model that
  SolaraViz can re-instantiate on reset) and the fixed network layout.
* :mod:`sim.dashboard.views`: plain matplotlib drawings of the network and the charts, read
  from the model's recorder (Mesa's DataCollector is not used by this model).
* :mod:`sim.dashboard.app`: the Solara page (``page``), wiring the drawings into SolaraViz.
* :mod:`sim.dashboard.serve`: the command that serves the page on 127.0.0.1.

Only ``app`` and ``serve`` need the ``viz`` extra (Solara); ``market`` and ``views`` need only
the model's own dependencies.
"""
