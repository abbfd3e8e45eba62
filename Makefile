# Thin wrappers: the logic lives in pipeline/ and flows/.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Prefect runs locally on its temporary server: quiet, hermetic, state inside the project.
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 120
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export PREFECT_LOGGING_LEVEL ?= WARNING
export DO_NOT_TRACK ?= 1

# `make test` (CI) runs the suite in a zone far from UTC and under a long temporary folder,
# so a test that depends on either fails here first (docs/architecture.md, "Tests"). pytest
# makes (and empties) the folder but not its parent: the recipe makes that.
TEST_TZ := Asia/Shanghai
TEST_BASETEMP := $(CURDIR)/.pytest-tmp/a-long-temporary-folder-so-that-no-test-depends-on-how-long-its-paths-are

.PHONY: run test test-fast lint browser bench fuzz lock clean

run: $(STAMP)  ## normalise data/raw → data/lake, build data/warehouse.duckdb + data/report.html, print a summary
	$(BIN)/listings run

lint: $(STAMP)  ## ruff, then the layering contracts in pyproject.toml [tool.importlinter]
	$(BIN)/ruff check pipeline flows tests benchmarks examples scripts
	$(BIN)/lint-imports --no-cache --no-logo

browser:  ## Debian's chromium for the browser tests: installed with apt-get (as root, or through sudo) when missing
	@bash scripts/ensure_chromium.sh

test: browser lint  ## lint, then the whole test suite, on as many worker processes as cores (pytest-xdist)
	@mkdir -p $(dir $(TEST_BASETEMP))
	TZ=$(TEST_TZ) $(BIN)/python -m pytest -n auto --basetemp=$(TEST_BASETEMP)

test-fast: browser lint  ## lint, then every test but the Prefect flow tests: the quick loop while coding
	$(BIN)/python -m pytest -n auto -m "not flow"

bench: $(STAMP)  ## benchmark kit, parser + warehouse + throughput per input form (text, HTML, JSON) and per text layout, on 100k listings over 730 fetch days (`python -m benchmarks --full` adds 1 M); writes benchmarks/RESULTS.md
	$(BIN)/python -m benchmarks
	$(BIN)/python -m benchmarks.layouts_kit

fuzz: $(STAMP)  ## hypothesis fuzzing of read + parse (every form, element floods) and of the read-only SQL guard (commented queries), until FUZZ_CASES pages (100 000) ran; prints cases, seconds, failures
	$(BIN)/python -m tests.fuzz

# The DuckDB 1.x shell and Python readers the tests open the warehouse and lake with go to
# $(COMPAT), apart from the venv's duckdb 2 and polars 2 (requirements-compat.in says why).
COMPAT := $(VENV)/compat

$(STAMP): requirements.lock requirements-compat.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	rm -rf $(COMPAT)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --target $(COMPAT) -r requirements-compat.txt
	touch $@

lock:  ## re-resolve pinned dependencies from pyproject.toml into requirements.lock, and requirements-compat.in into requirements-compat.txt
	rm -rf /tmp/listings-lock && $(PYTHON) -m venv /tmp/listings-lock
	/tmp/listings-lock/bin/python -m pip install --quiet '.[dev,dbt]'
	/tmp/listings-lock/bin/python -m pip freeze --exclude listings > requirements.lock
	rm -rf build /tmp/listings-lock-compat
	/tmp/listings-lock/bin/python -m pip install --quiet --target /tmp/listings-lock-compat -r requirements-compat.in
	{ echo '# Pinned by `make lock` from requirements-compat.in (which says why): do not edit by hand.'; \
	  /tmp/listings-lock/bin/python -m pip freeze --path /tmp/listings-lock-compat; } > requirements-compat.txt

clean:
	rm -rf $(VENV) data/lake data/target data/warehouse.duckdb data/warehouse.failed.duckdb data/report.html .prefect .pytest-tmp
