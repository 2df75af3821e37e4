# groupbuy-sim: every target sets itself up on a fresh machine.
#   make run    set up, then run the default scenario (county, 3 platforms, 365 days)
#   make test   set up, then ruff and pytest (every test; CI calls it)
#   make test-fast  the quick tier: no slow, browser or cluster tests
#   make dashboard  set up, then serve the live dashboard on http://127.0.0.1:8765/ (PORT=...)
#   make lab    set up (with JupyterLab, the notebooks extra), then open notebooks/ in JupyterLab
#               on 127.0.0.1:8888 (LAB_PORT=...; JupyterLab prints the address with its token)
#   make bench  set up, then the benchmark (model speed at growing sizes, the batch runner's pace,
#               the dashboard's days per second in a browser); ARGS=--only-dashboard or
#               --only-batch for one part
#   make figures  set up, then run every experiments/*.py (each regenerates its figures) and
#                 rewrite their outputs in docs/results.md; QUICK=1 passes --quick (few seeds,
#                 small market) and leaves docs/results.md alone
#   make validate  set up, then the validation scorecard (ODD 8 facts, analytic docks)
#   make decision  set up, then Morris, Sobol', PRIM and a calibration (docs/decision.md)
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ARGS ?=
PORT ?= 8765

.PHONY: setup run test test-fast lint bench figures clean dashboard validate decision lab notebook

# Find an interpreter >= 3.12: pyenv's python3 honours .python-version; then explicit names.
PYTHON_CANDIDATES := python3 python3.12 python3.13 python3.14 python
define find_python
for c in $(PYTHON_CANDIDATES); do \
  if command -v $$c >/dev/null 2>&1 && $$c -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then \
    command -v $$c; exit 0; fi; \
done; exit 1
endef

setup: $(STAMP)

$(STAMP): pyproject.toml
	@if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then \
	  py=$$( $(find_python) ) || { echo "error: groupbuy-sim needs Python >= 3.12 (Mesa 3.5 requires it); none found among: $(PYTHON_CANDIDATES). Install one (e.g. 'pyenv install 3.12') and retry." >&2; exit 1; }; \
	  echo "creating $(VENV) with $$py ($$($$py --version))"; \
	  rm -rf $(VENV); $$py -m venv $(VENV); \
	fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,viz,decision]'
	@touch $(STAMP)

run: setup
	$(VENV)/bin/gbsim $(ARGS)

test: setup
	$(VENV)/bin/ruff check
	$(VENV)/bin/pytest

# The quick tier: every test but those marked slow, browser or cluster (pyproject.toml), on one
# pytest-xdist worker per core (the full suite stays in one process: its browser and cluster
# tests start servers of their own).
test-fast: setup
	$(VENV)/bin/ruff check
	$(VENV)/bin/pytest -m "not slow and not browser and not cluster" -n auto

bench: setup
	$(PY) experiments/benchmark.py $(ARGS)

# The validation scorecard (ODD 8's facts over seeds 1-5 at 20,000 households, and the analytic
# docks): prints the table, writes experiments/results/validation/ (report.md with the score).
validate: setup
	$(PY) experiments/validation.py $(ARGS)

# Decisions under uncertainty (issue 30): Morris, Sobol' and PRIM on the paired effects of two
# policy questions, then a calibration and its held-out facts (about an hour on 2 cores): writes
# docs/decision/ (tables, figure); the runs stay under batch/decision/ (a second call reuses
# them). ARGS=--quick for a small smoke version in a temporary directory.
decision: setup
	$(PY) experiments/decision.py $(ARGS)

dashboard: setup
	$(VENV)/bin/gbsim-dashboard --port $(PORT)

# JupyterLab is an extra installed on first use (make setup leaves it out: see pyproject.toml).
# The kernel is this .venv's Python, so notebooks import the package as the tests do. As root
# (a container) JupyterLab refuses to start without --allow-root.
LAB_STAMP := $(VENV)/.installed-notebooks
LAB_PORT ?= 8888
$(LAB_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,viz,decision,notebooks]'
	@touch $(LAB_STAMP)

lab: $(LAB_STAMP)
	$(VENV)/bin/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.port=$(LAB_PORT) --no-browser \
	  $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/01_tour.ipynb

notebook: lab

# Every experiment script, discovered (new ones are picked up as they land); all run even if
# one fails, then the failures are listed and the target fails. The benchmark draws no figures
# and has its own target (make bench), as has the validation scorecard (make validate);
# results_doc.py is not an experiment: after full runs it copies each experiment's printed
# output (experiments/results/<name>.txt) into docs/results.md.
EXPERIMENTS ?= $(sort $(filter-out experiments/benchmark.py experiments/results_doc.py experiments/validation.py experiments/decision.py experiments/war_game.py,$(wildcard experiments/*.py)))
QUICK ?=
RESULTS ?= experiments/results
RESULTS_DOC ?= docs/results.md
figures: setup
	@if [ -z "$(strip $(EXPERIMENTS))" ]; then echo "figures: no experiments/*.py yet"; exit 0; fi; \
	set -o pipefail; mkdir -p $(RESULTS); failed=""; \
	for f in $(EXPERIMENTS); do \
	  echo "== $$f $(if $(QUICK),--quick)"; \
	  if [ -n "$(QUICK)" ]; then $(PY) $$f --quick || failed="$$failed $$f"; \
	  else $(PY) $$f | tee $(RESULTS)/$$(basename $$f .py).txt || failed="$$failed $$f"; fi; \
	done; \
	if [ -z "$(QUICK)" ]; then $(PY) experiments/results_doc.py --results $(RESULTS) --doc $(RESULTS_DOC); fi; \
	if [ -n "$$failed" ]; then echo "figures: failed:$$failed" >&2; exit 1; fi; \
	echo "figures: every experiment ran; figures in experiments/figures/"

lint: setup
	$(VENV)/bin/ruff check

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache
