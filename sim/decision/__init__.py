"""Decisions under uncertainty (issue 30, docs/decision.md): does B beat A across what nobody
knows, where does it fail, and how well do the plausible worlds match what is known?

* :mod:`sim.decision.sensitivity`: Morris screening over the uncertainty registry, then Sobol'
  indices on the parameters it keeps, of the *paired* difference B - A (SALib).
* :mod:`sim.decision.discovery`: PRIM boxes where "B beats A by at least x" fails or holds
  (EMA Workbench).
* :mod:`sim.decision.calibrate`: ``gbsim-calibrate``, a few parameters fitted to declared
  scorecard facts with Optuna, an ensemble of plausible worlds, held-out facts checked.
* :mod:`sim.decision.brief`: ``gbsim-brief A B``, the HTML policy brief.

The libraries are the ``decision`` extra (``pip install -e '.[decision]'``; ``make setup``).
"""
