# Entry point of the warehouse. `make help` lists the targets.
#
# Inputs of `make build` (all optional; with none, the synthetic demo is built):
#   DETECTIONS=path   CSC detections: VOTable, CSV, Parquet or FITS, or a TOPCAT /
#                     CDS X-Match crossmatch file (CSC and SIMBAD columns in one row)
#   SIMBAD=path       SIMBAD objects to crossmatch in SQL (main_id, ra, dec, main_type, ...)
#   CROSSMATCH=path   detection-SIMBAD pairs matched elsewhere (TOPCAT, X-Match)
#   INPUTS=path       a TOML file naming the same three inputs (see inputs.example.toml)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
INSTALLED := $(VENV)/.installed

export XRAY_WAREHOUSE ?= $(CURDIR)/warehouse.duckdb
export DBT_PROFILES_DIR := $(CURDIR)
export DBT_PROJECT_DIR := $(CURDIR)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

DEMO_DIR ?= build/demo
ARCHIVE_DIR := build/archive
DOCS_DIR ?= $(CURDIR)/build/docs
TEST_WAREHOUSE := $(CURDIR)/build/test/warehouse.duckdb
# The test warehouses' dbt vars: small k scan and stability settings (tests/support.py).
TEST_VARS := $(CURDIR)/tests/dbt_test_vars.yml

# Every input of a target reaches its program through the environment, quoted there
# ("$$DETECTIONS"), never pasted into the command line: a path with a space or a quote,
# or a value holding `;`, stays one plain argument.
export DETECTIONS SIMBAD CROSSMATCH INPUTS DEMO_DIR VARS_FILE NOWAIT RUN FAMILY DESCRIPTOR \
	CONE BOX NAMES ALL RADIUS BENCH_ARGS N SCALE_ARGS DOCS_DIR

.PHONY: help install lock demo build install-build ingest classify test test-dbt test-python \
	test-live lint format shell tables report docs bench bench-scale clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(INSTALLED): requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "$$(grep -E '^uv==' requirements.lock | cut -d' ' -f1)"
	# Bytecode compiled once here: uv does not by default, and where PYTHONDONTWRITEBYTECODE
	# is set Python never caches it, so every process (each dbt, CLI and test build) would
	# compile dbt, astropy and pandas from source again, seconds each.
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	# The repository root on the venv's path: dbt, pytest and the plugin import our packages.
	$(BIN)/python -c 'import site, sys; open(site.getsitepackages()[0] + "/xray_warehouse.pth", "w").write(sys.argv[1])' "$(CURDIR)"
	touch $@

install: $(INSTALLED) ## Create .venv and install the locked dependencies

lock: $(INSTALLED) ## Re-resolve requirements.in into requirements.lock
	$(BIN)/uv pip compile requirements.in --python-version 3.11 --generate-hashes --quiet \
		--custom-compile-command "make lock" -o requirements.lock

demo: $(INSTALLED) ## Generate the synthetic demo data into build/demo
	$(BIN)/python -m ingest demo --out "$$DEMO_DIR"

# A build loads a scratch copy and installs it only when every step, dbt tests included,
# has passed; one build at a time per warehouse; never under a read-write connection
# (see warehouse/build.py and README, "What can go wrong").
build: $(INSTALLED) ## Load the inputs (default: the demo) and run `dbt build`, then install
	$(BIN)/python -m warehouse build --db "$$XRAY_WAREHOUSE" --demo-dir "$$DEMO_DIR" \
		$${DETECTIONS:+--detections "$$DETECTIONS"} $${SIMBAD:+--simbad "$$SIMBAD"} \
		$${CROSSMATCH:+--crossmatch "$$CROSSMATCH"} $${INPUTS:+--inputs "$$INPUTS"} \
		$${VARS_FILE:+--vars-file "$$VARS_FILE"} $${NOWAIT:+--no-wait}

install-build: $(INSTALLED) ## Install the build kept pending while the warehouse was open read-write
	$(BIN)/python -m warehouse install-build --db "$$XRAY_WAREHOUSE"

# Inputs of `make ingest` (give one scope): CONE="ra dec radius" (degrees), BOX="ra_min
# ra_max dec_min dec_max" (degrees), NAMES=file (CSC source names, one per line) or ALL=1
# (the whole catalogue); RADIUS=arcsec for the SIMBAD crossmatch (default: dbt var
# simbad_match_radius_arcsec).

ingest: $(INSTALLED) ## Fetch CSC (CONE=, BOX=, NAMES= or ALL=1) and its SIMBAD matches, then build
	@test -n "$${CONE-}$${BOX-}$${NAMES-}$${ALL-}" || { echo 'make ingest needs CONE="ra dec radius", BOX="ra_min ra_max dec_min dec_max", NAMES=file or ALL=1'; exit 2; }
	# CONE and BOX are lists of numbers: split into words, never evaluated.
	$(BIN)/python -m ingest csc $${CONE:+--cone $$CONE} $${BOX:+--box $$BOX} \
		$${NAMES:+--names "$$NAMES"} $${ALL:+--all} --out $(ARCHIVE_DIR)/csc_detections.parquet
	$(BIN)/python -m ingest simbad --detections $(ARCHIVE_DIR)/csc_detections.parquet \
		$${RADIUS:+--radius "$$RADIUS"} --out $(ARCHIVE_DIR)/simbad_crossmatch.parquet
	$(MAKE) --no-print-directory build DETECTIONS=$(ARCHIVE_DIR)/csc_detections.parquet \
		CROSSMATCH=$(ARCHIVE_DIR)/simbad_crossmatch.parquet SIMBAD= INPUTS=

# `make classify DETECTIONS=file`: detections the warehouse has never seen (any input format,
# CSC column names), classified by its stored models into the schema new_detections.
classify: $(INSTALLED) ## Classify the detections of DETECTIONS=file with the warehouse's stored models
	@test -n "$${DETECTIONS-}" || { echo 'make classify needs DETECTIONS=file (VOTable, CSV, Parquet or FITS)'; exit 2; }
	@$(BIN)/python -m classification.new_detections --db "$$XRAY_WAREHOUSE" --detections "$$DETECTIONS"

# The linters and the demo build side by side (each leaves cores idle at times; the
# output kept per target), then pytest, which reads that build.
test: $(INSTALLED) ## Run every test: linters, dbt tests on the demo, pytest
	$(MAKE) --no-print-directory --jobs=2 --output-sync=target lint test-dbt
	$(MAKE) --no-print-directory test-python

test-dbt: $(INSTALLED) ## Build the demo warehouse in build/test with the test vars (runs all dbt tests)
	DBT_TARGET_PATH=$(CURDIR)/build/test/dbt-target DBT_LOG_PATH=$(CURDIR)/build/test/dbt-logs \
		$(MAKE) --no-print-directory build XRAY_WAREHOUSE=$(TEST_WAREHOUSE) VARS_FILE=$(TEST_VARS) \
		DEMO_DIR=build/test/demo DETECTIONS= SIMBAD= CROSSMATCH= INPUTS=

test-python: $(INSTALLED) ## Run pytest (offline; reuses the build/test warehouse)
	XRAY_TEST_WAREHOUSE=$(TEST_WAREHOUSE) $(BIN)/pytest

test-live: $(INSTALLED) ## Run the tests that talk to the real archives
	$(BIN)/pytest -m live

lint: $(INSTALLED) ## ruff (Python) and sqlfluff (dbt SQL)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint --processes 0 models tests/dbt

format: $(INSTALLED) ## Apply ruff and sqlfluff fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/sqlfluff fix models tests/dbt

shell: $(INSTALLED) ## Open the duckdb shell on the warehouse, read-only (WRITE=1: read-write)
	$(BIN)/duckdb $(if $(WRITE),,-readonly) "$$XRAY_WAREHOUSE"

tables: $(INSTALLED) ## Print the per-cluster main_type tables of RUN (default: the warehouse's default run)
	@$(BIN)/python -m report.tables $${RUN:+--run "$$RUN"}

report: $(INSTALLED) ## Write the HTML report of RUN (FAMILY=, DESCRIPTOR= options)
	@$(BIN)/python -m report.html $${RUN:+--run "$$RUN"} $${FAMILY:+--family "$$FAMILY"} \
		$${DESCRIPTOR:+--descriptor "$$DESCRIPTOR"}

docs: $(INSTALLED) ## Build dbt's documentation site of the warehouse (one file, opens offline)
	$(BIN)/dbt docs generate --static --target-path "$$DOCS_DIR" --quiet
	@echo "documentation: $$DOCS_DIR/static_index.html"

bench: $(INSTALLED) ## make build vs the notebook's job, stages, EM kernel (BENCH_ARGS="--repeat 3")
	$(BIN)/python -m bench $${BENCH_ARGS-}

bench-scale: $(INSTALLED) ## make build at N detections (default 1304376; N=a,b,c): stages, peak RSS
	$(BIN)/python -m bench.scale --sizes "$${N:-1304376}" $${SCALE_ARGS-}

clean: ## Remove build outputs, dbt state and the warehouse (keeps .venv and cache/)
	rm -rf build target logs "$$XRAY_WAREHOUSE" "$$XRAY_WAREHOUSE".*
