# gsomia developer tasks. Every target bootstraps what it needs (idempotently, with stamp files),
# so `make test` works on a fresh clone. See docs/ui-offline.md for the browser/UI side.
#
#   make test        lint + format check + the docs + all tests (browser tests included)
#   make docs        the documentation (docs/_build/html), warnings as errors; see docs/README.md
#   make demo        run the 2019 baseline scenario from the CLI
#   make ui          serve the Solara UI (offline assets)
#   make bench       benchmarks (BENCH_ARGS="..." passes arguments on)
#   make mutate      mutation testing of the core modules, two scores (slow; not in CI), see docs/testing.md
#   make screenshots the UI's screenshots in docs/screenshots/ (headless Chromium)
#   make lint | format | install | ui-assets | citation | clean | distclean
#
# Variables: PYTHON=/path/to/python3.12 picks the interpreter for a new .venv;
#            PYTEST_ARGS="-m 'not slow'" passes arguments to pytest; BENCH_ARGS likewise;
#            PYTEST_WORKERS=2 (default auto: one per core; 0 = no xdist) runs tests in parallel;
#            SPHINX_ARGS="-E" passes arguments to sphinx-build (-E: rebuild every page);
#            MUTATE_WORKERS=1, MUTATE_MODULES="calendar opinion", MUTANTS="..." for make mutate.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

VENV         := .venv
PY           := $(VENV)/bin/python
VENV_STAMP   := $(VENV)/.gsomia-installed
EXTRAS       := dev,ui,sweep,docs
ASSETS_DIR   := $(abspath .solara-assets)
ASSETS_STAMP := $(ASSETS_DIR)/.gsomia-fetched
PYTHON       ?=
PYTEST_ARGS  ?=
PYTEST_WORKERS ?= auto
MUTATE_WORKERS ?= 1
MUTANTS      ?=
MUTATE_MODULES ?=
MUTATE_SAMPLE ?=
MUTATE_SEED ?= 0
BENCH_ARGS   ?=

# The UI is served offline: Solara's CDN proxy reads from this directory instead of the
# internet, and Solara's telemetry (which posts to an outside host) is switched off.
UI_ENV := SOLARA_ASSETS_PROXY_CACHE_DIR=$(ASSETS_DIR) SOLARA_TELEMETRY_MIXPANEL_ENABLE=False

SPHINX_ARGS  ?=
# cffconvert (CITATION.cff's validator) pins jsonschema below 4, which the notebook stack
# needs at 4 or above: it gets a small venv of its own.
CFF_VENV     := .venv-cff
CFF_STAMP    := $(CFF_VENV)/.gsomia-installed

.PHONY: help venv install ui-assets demo test docs citation lint format bench headline ui screenshots mutate clean distclean

help:
	@sed -n '1,/^$$/p' $(firstword $(MAKEFILE_LIST)) | sed -n 's/^# \{0,1\}//p'

# --- Python environment -------------------------------------------------------------------
# .venv/bin/python: created once, from the first interpreter >= 3.12 found among $(PYTHON),
# python3.12, python3 (pyenv honours .python-version in this directory) and pyenv's installs.
$(PY):
	@found=""; tried=""; \
	cands="$(PYTHON) python3.12 python3"; \
	if command -v pyenv >/dev/null 2>&1; then \
	    root="$$(pyenv root)"; \
	    for p in "$$root"/versions/3.1[2-9]*/bin/python3; do [ -x "$$p" ] && cands="$$cands $$p"; done; \
	fi; \
	for c in $$cands; do \
	    command -v "$$c" >/dev/null 2>&1 || continue; \
	    v="$$("$$c" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" || continue; \
	    tried="$$tried $$c=$$v"; \
	    if "$$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	        found="$$c"; break; \
	    fi; \
	done; \
	if [ -z "$$found" ]; then \
	    echo "error: gsomia needs Python >= 3.12; found:$${tried:- nothing}." >&2; \
	    echo "       Install 3.12 (e.g. 'pyenv install 3.12') or run: make PYTHON=/path/to/python3.12 ..." >&2; \
	    exit 1; \
	fi; \
	echo "creating $(VENV) with $$found ($$("$$found" --version 2>&1))"; \
	"$$found" -m venv $(VENV)

# Re-installs whenever pyproject.toml, the version or the compiled kernel's source changes (the
# editable install builds model/_kernels and records the version in its metadata). Also refuses a stale .venv older than 3.12.
$(VENV_STAMP): pyproject.toml setup.py model/_kernels.pyx model/version.py | $(PY)
	@$(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' || { \
	    echo "error: $(VENV) uses Python $$($(PY) -c 'import platform; print(platform.python_version())'), gsomia needs >= 3.12; run 'make distclean' first." >&2; \
	    exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[$(EXTRAS)]'
	@touch $@

venv install: $(VENV_STAMP)

# --- Offline UI assets (npm registry instead of the CDN) ----------------------------------
$(ASSETS_STAMP): scripts/fetch_solara_assets.sh
	bash scripts/fetch_solara_assets.sh $(ASSETS_DIR)
	@touch $@

ui-assets: $(ASSETS_STAMP)

# --- Tasks --------------------------------------------------------------------------------
DEMO_SEED ?= 0
demo: install
	$(VENV)/bin/gsomia run --config configs/baseline_2019.toml --seed $(DEMO_SEED)

# --- Documentation ------------------------------------------------------------------------
$(CFF_STAMP): | $(PY)
	$(PY) -m venv $(CFF_VENV)
	$(CFF_VENV)/bin/python -m pip install --quiet 'cffconvert==2.0.0'
	@touch $@

citation: $(CFF_STAMP)
	$(CFF_VENV)/bin/cffconvert --validate -i CITATION.cff

# Warnings are errors (-W), every reference must resolve (-n); the tutorial notebook is
# executed once and cached in docs/_build/.jupyter_cache/VERSION until it or the version
# changes. From a fresh clone: about 30 s of CPU (a minute or two on a loaded machine).
docs: install citation
	$(PY) -m sphinx -W --keep-going -n -q -b html $(SPHINX_ARGS) docs docs/_build/html
	@echo "docs: docs/_build/html/index.html"

# pytest exits 5 when it collects no test: that fails `make test` (as any non-zero status).
# Tests run on PYTEST_WORKERS processes (pytest-xdist); the browser tests stay together on
# one worker (tests/conftest.py puts them in one xdist group).
test: install ui-assets docs
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(UI_ENV) $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

headline: install
	bash experiments/headline.sh

bench: install
	$(PY) -m benchmarks $(BENCH_ARGS)

# Mutation testing with mutmut (config: [tool.mutmut] in pyproject.toml) against the fast
# suite, niced, on MUTATE_WORKERS processes, in two passes: first without the tests marked
# `recorded` (golden runs and other committed outputs: GSOMIA_MUTATION_TESTS=behavioural),
# then the mutants that pass left alive with every test; the report gives both scores.
# MUTATE_MODULES="calendar opinion" limits the run to some modules (names in
# scripts/mutation_report.py), MUTANTS="model.calendar.*" to some mutants. mutmut re-tests
# every mutant the patterns name (results of others stay in mutants/); the scores per module
# and the surviving mutants go to results/mutation/ (summary.json, README.md; modules not run
# keep their last results). MUTATE_SAMPLE=N tests N mutants drawn at random from each module
# (seed MUTATE_SEED) and scores the module on them, with a 95% interval: an estimate in an
# hour where all mutants take a day.
MUTMUT_RUN := nice -n 10 $(VENV)/bin/mutmut run --max-children $(MUTATE_WORKERS)
mutate: install
	pats="$(MUTANTS)"; \
	[ -n "$$pats" ] || pats="$$($(PY) scripts/mutation_report.py --patterns $(MUTATE_MODULES) \
		$(if $(MUTATE_SAMPLE),--sample $(MUTATE_SAMPLE) --seed $(MUTATE_SEED)))"; \
	eval GSOMIA_MUTATION_TESTS=behavioural $(MUTMUT_RUN) $$pats; \
	eval $(PY) scripts/mutation_report.py --record-behavioural $$pats; \
	left="$$(eval $(PY) scripts/mutation_report.py --survivors $$pats)"; \
	if [ -n "$$left" ]; then eval GSOMIA_MUTATION_TESTS=all $(MUTMUT_RUN) $$left; fi
	$(PY) scripts/mutation_report.py

ui: install ui-assets
	$(UI_ENV) $(VENV)/bin/gsomia ui

# The UI's screenshots in docs/screenshots/ (headless Chromium on the page; about a minute).
screenshots: install ui-assets
	$(UI_ENV) $(PY) scripts/screenshots.py

# clean: caches and build output; distclean: also the venv and the downloaded UI assets.
# Neither touches results/.
clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache .hypothesis docs/_build docs/api/generated
	rm -f model/_kernels.c model/_kernels.*.so $(VENV_STAMP)
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(CFF_VENV) $(ASSETS_DIR)
