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
# sklearn, numpy and duckdb each start a thread pool; 2 cores are all we have.
export OMP_NUM_THREADS ?= 2

DEMO_DIR ?= build/demo
ARCHIVE_DIR := build/archive
DOCS_DIR ?= $(CURDIR)/build/docs
RUN ?= gmm6_allvar
SCRATCH = $(XRAY_WAREHOUSE).building

INGEST_ARGS = $(if $(INPUTS),--inputs $(INPUTS)) \
	$(if $(DETECTIONS),--detections $(DETECTIONS)) \
	$(if $(SIMBAD),--simbad $(SIMBAD)) \
	$(if $(CROSSMATCH),--crossmatch $(CROSSMATCH))

.PHONY: help install lock demo build ingest test test-dbt test-python test-live lint format \
	shell tables report docs bench clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(INSTALLED): requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "$$(grep -E '^uv==' requirements.lock | cut -d' ' -f1)"
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
	# The repository root on the venv's path: dbt, pytest and the plugin import our packages.
	$(BIN)/python -c 'import site, sys; open(site.getsitepackages()[0] + "/xray_warehouse.pth", "w").write(sys.argv[1])' "$(CURDIR)"
	touch $@

install: $(INSTALLED) ## Create .venv and install the locked dependencies

lock: $(INSTALLED) ## Re-resolve requirements.in into requirements.lock
	$(BIN)/uv pip compile requirements.in --python-version 3.11 --generate-hashes --quiet \
		--custom-compile-command "make lock" -o requirements.lock

demo: $(INSTALLED) ## Generate the synthetic demo data into build/demo
	$(BIN)/python -m ingest demo --out $(DEMO_DIR)

# The build writes a scratch copy and moves it into place only when every step,
# dbt tests included, has passed: a failed build leaves the previous warehouse as it was.
build: $(INSTALLED) ## Load the inputs (default: the demo) and run `dbt build`
	rm -f $(SCRATCH) $(SCRATCH).wal
	XRAY_WAREHOUSE=$(SCRATCH) $(BIN)/python -m ingest \
		$(if $(strip $(INGEST_ARGS)),files $(INGEST_ARGS),demo --out $(DEMO_DIR) --load)
	XRAY_WAREHOUSE=$(SCRATCH) $(BIN)/dbt build \
		|| { echo "dbt build failed: the previous warehouse is unchanged; the failed build is $(SCRATCH)"; exit 1; }
	mv $(SCRATCH) $(XRAY_WAREHOUSE)
	@echo "warehouse ready: $(XRAY_WAREHOUSE)  (make shell, make tables RUN=$(RUN))"

# Inputs of `make ingest` (give one scope): CONE="ra dec radius" (degrees), BOX="ra_min
# ra_max dec_min dec_max" (degrees), NAMES=file (CSC source names, one per line) or ALL=1
# (the whole catalogue); RADIUS=arcsec for the SIMBAD crossmatch (default 3).
CSC_SCOPE = $(strip $(if $(CONE),--cone $(CONE)) $(if $(BOX),--box $(BOX)) \
	$(if $(NAMES),--names $(NAMES)) $(if $(ALL),--all))

ingest: $(INSTALLED) ## Fetch CSC (CONE=, BOX=, NAMES= or ALL=1) and its SIMBAD matches, then build
	@test -n "$(CSC_SCOPE)" || { echo 'make ingest needs CONE="ra dec radius", BOX="ra_min ra_max dec_min dec_max", NAMES=file or ALL=1'; exit 2; }
	$(BIN)/python -m ingest csc $(CSC_SCOPE) --out $(ARCHIVE_DIR)/csc_detections.parquet
	$(BIN)/python -m ingest simbad --detections $(ARCHIVE_DIR)/csc_detections.parquet \
		$(if $(RADIUS),--radius $(RADIUS)) --out $(ARCHIVE_DIR)/simbad_crossmatch.parquet
	$(MAKE) --no-print-directory build DETECTIONS=$(ARCHIVE_DIR)/csc_detections.parquet \
		CROSSMATCH=$(ARCHIVE_DIR)/simbad_crossmatch.parquet SIMBAD= INPUTS=

test: lint test-dbt test-python ## Run every test: linters, dbt tests on the demo, pytest

test-dbt: $(INSTALLED) ## Build the demo warehouse in build/test (runs all dbt tests)
	$(MAKE) --no-print-directory build XRAY_WAREHOUSE=$(CURDIR)/build/test/warehouse.duckdb \
		DETECTIONS= SIMBAD= CROSSMATCH= INPUTS=

test-python: $(INSTALLED) ## Run pytest (offline; reuses the build/test warehouse)
	XRAY_TEST_WAREHOUSE=$(CURDIR)/build/test/warehouse.duckdb $(BIN)/pytest

test-live: $(INSTALLED) ## Run the tests that talk to the real archives
	$(BIN)/pytest -m live

lint: $(INSTALLED) ## ruff (Python) and sqlfluff (dbt SQL)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint models tests/dbt

format: $(INSTALLED) ## Apply ruff and sqlfluff fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/sqlfluff fix models tests/dbt

shell: $(INSTALLED) ## Open the duckdb shell on the warehouse
	$(BIN)/duckdb $(XRAY_WAREHOUSE)

tables: $(INSTALLED) ## Print the per-cluster main_type tables of RUN (default gmm6_allvar)
	@$(BIN)/python -m report.tables --run $(RUN)

report: $(INSTALLED) ## Write the HTML report of RUN (FAMILY=, DESCRIPTOR= options)
	@$(BIN)/python -m report.html --run $(RUN) $(if $(FAMILY),--family $(FAMILY)) \
		$(if $(DESCRIPTOR),--descriptor $(DESCRIPTOR))

docs: $(INSTALLED) ## Build dbt's documentation site of the warehouse (one file, opens offline)
	$(BIN)/dbt docs generate --static --target-path $(DOCS_DIR) --quiet
	@echo "documentation: $(DOCS_DIR)/static_index.html"

bench: $(INSTALLED) ## Time each build stage against the plain pandas script (BENCH_ARGS=--repeat 3)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean: ## Remove build outputs, dbt state and the warehouse (keeps .venv and cache/)
	rm -rf build target logs $(XRAY_WAREHOUSE) $(XRAY_WAREHOUSE).*
