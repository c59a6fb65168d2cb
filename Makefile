# Two commands on a fresh machine: `make run` builds the warehouse, `make test` runs the tests.
# Each installs what it needs first (uv, then the locked environment).

UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)
export DAGSTER_HOME := $(CURDIR)/dagster_home

.PHONY: setup run test dev generate bench clean

setup:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@$(UV) sync --locked --quiet

run: setup  ## build the warehouse on the sample data and print the headline figures
	@$(UV) run --locked pcw run

test: setup  ## the test suite
	@$(UV) run --locked pytest -q

dev: setup  ## the Dagster UI on the same definitions
	@$(UV) run --locked dagster dev

generate: setup  ## (re)write the default sample landing files
	@$(UV) run --locked pcw generate

bench: setup  ## benchmarks at the commune and province scales (docs/benchmarks.md)
	@$(UV) run --locked python -m bench commune province

clean:  ## remove the warehouse, landing files and Dagster run history
	rm -rf data bench/work dbt/target dagster_home/storage dagster_home/logs dagster_home/history dagster_home/schedules
