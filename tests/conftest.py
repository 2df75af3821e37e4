"""Hypothesis profiles and the property tests' counts (tests/schema_fuzz.py).

``HYPOTHESIS_PROFILE`` selects a profile (default ``ci``):

* ``ci``: derandomized (the examples are a function of the test alone, so every CI run tries the
  same inputs and a failure reproduces), no example database, no deadline (a run of the model
  takes 30-300 ms and the machine is shared). The example counts are the issue's: 200+ bad
  configs, 500 random markets.
* ``nightly``: random (a new draw every time: the point is to find what CI's fixed draw misses),
  ten times the examples. ``HYPOTHESIS_PROFILE=nightly pytest tests/test_fuzz_config.py
  tests/test_invariants.py -s``
* ``dev``: derandomized, a twentieth of the examples, for editing the tests.

Each property test asks :func:`tests.schema_fuzz.examples` for its count, scaled by the profile.
The counts of examples run are printed at the end of the session; under pytest-xdist
(``make test-fast``) each worker sends its counts to the controller, which prints their sums.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from tests import schema_fuzz

_COMMON = dict(deadline=None, database=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("ci", derandomize=True, **_COMMON)
settings.register_profile("nightly", derandomize=False, **_COMMON)
settings.register_profile("dev", derandomize=True, **_COMMON)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)
schema_fuzz.SCALE = {"ci": 1.0, "nightly": 10.0, "dev": 0.05}.get(PROFILE, 1.0)


def pytest_sessionfinish(session):
    # an xdist worker: its counts go to the controller with the worker's output
    out = getattr(session.config, "workeroutput", None)
    if out is not None:
        out["schema_fuzz"] = {"counts": dict(schema_fuzz.COUNTS),
                              "found": list(schema_fuzz.FOUND), "report": list(schema_fuzz.REPORT)}


@pytest.hookimpl(optionalhook=True)  # xdist's hook: known only where xdist is installed
def pytest_testnodedown(node, error):  # on the controller: a worker is done
    got = getattr(node, "workeroutput", {}).get("schema_fuzz")
    if got:
        for name, n in got["counts"].items():
            schema_fuzz.COUNTS[name] = schema_fuzz.COUNTS.get(name, 0) + n
        schema_fuzz.FOUND.extend(x for x in got["found"] if x not in schema_fuzz.FOUND)
        schema_fuzz.REPORT.extend(got["report"])


def pytest_terminal_summary(terminalreporter):
    if not (schema_fuzz.COUNTS or schema_fuzz.REPORT):
        return
    tr = terminalreporter
    tr.section(f"property tests (hypothesis profile {PROFILE})")
    for name, n in schema_fuzz.COUNTS.items():
        tr.write_line(f"{name}: {n}")
    tr.write_line(f"failures found by these tests and fixed: {len(schema_fuzz.FOUND)}")
    for line in schema_fuzz.FOUND:
        tr.write_line(f"  {line}")
    for line in schema_fuzz.REPORT:
        tr.write_line(line)
