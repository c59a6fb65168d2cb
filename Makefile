# Two commands on a fresh machine: `make run` builds the warehouse, `make test` runs the tests.
# Each installs what it needs first (uv, then the locked environment).

UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)
export DAGSTER_HOME := $(CURDIR)/dagster_home

.PHONY: uv setup setup-spark run test check lint lint-sql dev generate bench spark clean

uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv

setup: uv
	@$(UV) sync --locked --quiet

setup-spark: uv  ## the optional Spark extra (dbt-spark, pyspark) for the `spark` dbt target; Java 17 needed
	@$(UV) sync --locked --quiet --extra spark

run: setup  ## build the warehouse on the sample data and print the headline figures
	@$(UV) run --locked pcw run

# pytest-xdist workers for `make test` (a whole test module runs on one worker: tests/conftest.py)
TEST_WORKERS ?= auto

test: setup-spark  ## every test tier (with the Spark equality test: tests/test_spark_equality.py), in parallel
	@$(UV) run --locked --extra spark pytest -q -n $(TEST_WORKERS) --dist loadgroup

check: lint lint-sql  ## lint (ruff, sqlfluff), then the unit tier (under two minutes): the quick check before a commit
	@$(UV) run --locked pytest -q -m unit

lint: uv  ## ruff on the Python code (pyproject.toml [tool.ruff])
	@$(UV) run --locked ruff check .
	@$(UV) run --locked ruff format --check .

dev: setup  ## the Dagster UI on the same definitions (pcw dev: dagster dev that Ctrl-C and SIGTERM stop, even started in the background)
	@$(UV) run --locked pcw dev

generate: setup  ## (re)write the default sample landing files
	@$(UV) run --locked pcw generate

bench: setup  ## benchmarks at the commune and province scales (docs/benchmarks.md)
	@$(UV) run --locked python -m bench commune province

spark: setup-spark  ## rebuild the marts on a local Spark from the loaded raw tables (docs/scale-out.md)
	@PCW_DBT_TARGET=spark $(UV) run --locked --extra spark pcw marts

lint-sql: setup  ## sqlfluff over the dbt project (.sqlfluff: dbt templater, DuckDB dialect); compiles against an empty DuckDB file
	@mkdir -p dbt/target && $(UV) run --locked sqlfluff lint dbt/

clean:  ## remove the warehouse, landing files and Dagster run history
	rm -rf data bench/work dbt/target dagster_home/storage dagster_home/logs dagster_home/history dagster_home/schedules
