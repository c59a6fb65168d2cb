"""The plain-pandas debt-quality script (bench/pandas_debt_quality.py) against the warehouse's
mart_debt_quality, row for row, on a commune's ledger from 2014 written as CSV (the bench's
samples are Parquet): the history long enough for overdue past 90 days, K4c freezes and
write-offs. And the comparison catches a single difference."""

import duckdb
import pandas as pd
import pytest

from bench import pandas_alternative
from bench.pandas_debt_quality import COLUMNS, compare_with_mart, debt_quality
from sample_data import GenerationConfig
from tests.conftest import build_sample_warehouse

pytestmark = pytest.mark.integration

SAMPLE = GenerationConfig(communes=1, ledger_format="csv")
# the samples write off no interest
UNEXERCISED = {"interest_written_off", "interest_written_off_to_date"}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return build_sample_warehouse(tmp_path_factory, "pcw_pandas_debt_quality", SAMPLE)[0]


def mart(warehouse, name: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse.warehouse_path), read_only=True) as conn:
        return conn.execute(f"select * from {name}").df()


@pytest.fixture(scope="module")
def computed(warehouse):
    return debt_quality(warehouse.landing_dir), mart(warehouse, "mart_debt_quality")


def test_pandas_equals_the_mart_row_for_row(computed):
    result, debt = computed
    comparison = compare_with_mart(result, debt)
    assert comparison["agree"], comparison
    # the same cells on both sides, none only on one
    assert comparison["rows_compared"] == len(result) == len(debt) > 1000
    assert comparison["outstanding_total_pandas"] == comparison["outstanding_total_mart"] > 0
    # every compared column is exercised by the sample
    totals = debt[COLUMNS].sum()
    assert (totals.drop(sorted(UNEXERCISED)) > 0).all(), totals
    assert (debt.par90_principal < debt.par30_principal).any()


def test_the_outstanding_balance_script_reads_csv_ledgers_alike(warehouse):
    comparison = pandas_alternative.compare_with_mart(
        pandas_alternative.outstanding_balance(warehouse.landing_dir), mart(warehouse, "mart_outstanding_balance")
    )
    assert comparison["agree"] and comparison["rows_compared"] > 1000, comparison


@pytest.mark.parametrize(
    "column", ["loans_with_overdue", "par30_principal", "k4c_frozen_principal", "principal_written_off_to_date"]
)
def test_one_cell_off_by_one_is_caught(computed, column):
    result, debt = computed
    changed = result.copy()
    row = changed.index[changed[column] > 0][-1]
    changed.loc[row, column] += 1
    comparison = compare_with_mart(changed, debt)
    assert not comparison["agree"] and comparison["rows_differing"] == 1, comparison


def test_a_cell_missing_on_one_side_is_caught(computed):
    result, debt = computed
    owing = result.index[result.outstanding_principal > 0][0]
    comparison = compare_with_mart(result.drop(owing), debt)
    assert not comparison["agree"] and comparison["rows_differing"] == 1, comparison
    assert comparison["outstanding_total_pandas"] < comparison["outstanding_total_mart"]
    # cells keyed on the whole grain: the same amounts one month later do not match
    shifted = result.assign(as_of_date=result.as_of_date + pd.offsets.MonthEnd(1))
    assert not compare_with_mart(shifted, debt)["agree"]
