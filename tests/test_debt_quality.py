"""Loan state and debt-quality marts against pandas recomputations from the landing files.

The sample runs from 2022 so that its ledger holds loans going overdue, extended, frozen and
written off (a 2024 start has almost none)."""

import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from dagster_project.ingest.admin_units import commune_crosswalk
from dagster_project.settings import Settings
from sample_data import GenerationConfig
from tests.conftest import build_sample_warehouse
from tests.dbt_tests import dbt_test_statuses

pytestmark = pytest.mark.integration

SAMPLE = GenerationConfig(communes=3, start_year=2022, end_year=2025)
CELL = ["new_commune_code", "program_code", "organisation_code"]
SEEDS = Path(__file__).resolve().parents[1] / "seeds"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return build_sample_warehouse(tmp_path_factory, "pcw_debt_quality", SAMPLE)[0]


@pytest.fixture(scope="module")
def ledger(warehouse):
    root = warehouse.landing_dir
    t = pd.concat(pd.read_parquet(p) for p in sorted((root / "transactions").glob("*/*.parquet")))
    t["transaction_date"] = pd.to_datetime(t.transaction_date)
    t = t.sort_values(["transaction_date", "transaction_id"], ignore_index=True)
    loans = pd.read_csv(next((root / "loans").glob("*/*.csv")), dtype=str, encoding="utf-8-sig")
    # each loan's 2025 commune: its own latest row after the reform, else its old commune's default successor
    later = t[t.transaction_date >= "2025-07-01"].groupby("loan_id").commune_code.last()
    default = commune_crosswalk().query("is_default_successor").set_index("old_commune_code").new_commune_code
    loans["new_commune_code"] = loans.loan_id.map(later).fillna(loans.commune_code.map(default))
    loans["organisation_code"] = loans.organisation_code.fillna("DIRECT")
    return t, loans.set_index("loan_id")


def query(settings: Settings, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        return conn.execute(sql).df()


def month_ends(t: pd.DataFrame) -> list[pd.Timestamp]:
    return sorted((t.transaction_date + pd.offsets.MonthEnd(0)).unique())


def buckets_at(t: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Each loan's current / overdue / frozen principal after the rows dated up to `as_of`."""
    rows = t[t.transaction_date <= as_of]
    balances = {
        b: (rows.principal_amount.where(rows.to_bucket == b, 0) - rows.principal_amount.where(rows.from_bucket == b, 0))
        .groupby(rows.loan_id)
        .sum()
        for b in ("current", "overdue", "frozen")
    }
    frame = pd.DataFrame(balances).fillna(0).astype(np.int64)
    return frame.assign(outstanding=frame.sum(axis=1))


def ever_overdue(t: pd.DataFrame) -> pd.DataFrame:
    """The ledger rows of loans that ever went overdue (to keep the per-loan recomputations quick)."""
    return t[t.loan_id.isin(t.loan_id[t.to_bucket == "overdue"])]


def days_past_due(t: pd.DataFrame, loan_id: str, as_of: pd.Timestamp) -> int:
    """First in, first out: what left overdue settled the oldest transfers; age of the oldest one left."""
    rows = t[(t.loan_id == loan_id) & (t.transaction_date <= as_of)]
    transfers = rows[rows.to_bucket == "overdue"]
    settled = rows.principal_amount[rows.from_bucket == "overdue"].sum()
    unsettled = transfers[transfers.principal_amount.cumsum() > settled]
    return (as_of - unsettled.transaction_date.iloc[0]).days


def in_month(series: pd.Series, as_of: pd.Timestamp) -> pd.Series:
    """The per-loan values of a (loan_id, month) series in one month."""
    return series[series.index.get_level_values("month") == as_of].droplevel("month")


def mart_cells(settings: Settings, as_of: pd.Timestamp, columns: str) -> pd.DataFrame:
    return (
        query(
            settings,
            f"select new_commune_code, program_code, organisation_code, {columns} from mart_debt_quality "
            f"where as_of_date = date '{as_of:%Y-%m-%d}'",
        )
        .set_index(CELL)
        .sort_index()
    )


def test_the_sample_has_troubled_loans(ledger):
    t, _ = ledger
    types = set(t.transaction_type)
    assert {"transfer_to_overdue", "extension", "rescheduling", "freeze", "write_off"} <= types


def test_a_loan_state_off_the_balance_identity_fails_the_builds_dbt_test(warehouse, tmp_path):
    """The balance identity of every loan state is a dbt test of the build (passed, or the fixture
    would have failed): on a copy where one loan's month-end state breaks it, that test fails, and
    only it."""
    copy = tmp_path / "warehouse.duckdb"  # the file name dbt's profile gives the catalog
    shutil.copy(warehouse.warehouse_path, copy)
    with duckdb.connect(str(copy)) as conn:
        conn.execute(
            "update main.int_loan_state__month_end set outstanding_principal = outstanding_principal + 1 "
            "where rowid = (select min(rowid) from main.int_loan_state__month_end where outstanding_principal > 0)"
        )
    outcomes = dbt_test_statuses(copy, tmp_path / "target", ["int_loan_state__month_end"])
    failed = [test for test, status in outcomes.items() if status in ("fail", "error")]
    assert len(outcomes) > 5, outcomes
    identity = "outstanding_principal = current_principal + overdue_principal + frozen_principal"
    assert failed == [f"int_loan_state__month_end: {identity}"], outcomes


def test_loan_states_equal_the_ledger_at_each_month_end(warehouse, ledger):
    t, _ = ledger
    state = query(
        warehouse,
        "select loan_id, as_of_date, current_principal, overdue_principal, frozen_principal, "
        "days_past_due from int_loan_state__month_end",
    )
    troubled = set(t.loan_id[t.to_bucket == "overdue"])
    late_rows = ever_overdue(t)
    checked = 0
    for as_of in month_ends(t)[::5] + [month_ends(t)[-1]]:
        expected = buckets_at(t, as_of)
        expected = expected[expected.outstanding != 0]
        actual = state[state.as_of_date == as_of].set_index("loan_id")
        actual = actual[actual[["current_principal", "overdue_principal", "frozen_principal"]].sum(axis=1) != 0]
        assert sorted(actual.index) == sorted(expected.index)
        for bucket in ("current", "overdue", "frozen"):
            assert (actual[f"{bucket}_principal"].astype(np.int64) == expected[bucket].reindex(actual.index)).all(), (
                bucket
            )
        for loan_id in sorted(troubled & set(expected.index[expected.overdue > 0])):
            assert actual.days_past_due[loan_id] == days_past_due(late_rows, loan_id, as_of), (loan_id, as_of)
            checked += 1
        assert (actual.days_past_due[actual.overdue_principal == 0] == 0).all()
    assert checked > 0


def test_overdue_principal_and_par30_equal_a_recomputation(warehouse, ledger):
    t, loans = ledger
    late_rows = ever_overdue(t)
    overdue_months = [m for m in month_ends(t) if (buckets_at(late_rows, m).overdue > 0).any()]
    assert overdue_months
    for as_of in overdue_months[::3] + [overdue_months[-1]]:
        balances = buckets_at(t, as_of).join(loans[CELL])
        late = balances.index[balances.overdue > 0]
        dpd = pd.Series({loan_id: days_past_due(late_rows, loan_id, as_of) for loan_id in late}, dtype=np.int64)
        balances["par30"] = balances.outstanding.where(balances.index.isin(dpd.index[dpd > 30]), 0)
        expected = balances.groupby(CELL)[["overdue", "par30", "outstanding"]].sum()
        expected = expected[expected.outstanding != 0].sort_index()
        mart = mart_cells(warehouse, as_of, "overdue_principal, par30_principal, par30_ratio, outstanding_principal")
        mart = mart[mart.outstanding_principal != 0]
        assert list(mart.index) == list(expected.index)
        assert (mart.overdue_principal.astype(np.int64) == expected.overdue).all()
        assert (mart.par30_principal.astype(np.int64) == expected.par30).all()
        ratio = (expected.par30 / expected.outstanding).to_numpy()
        np.testing.assert_allclose(mart.par30_ratio.astype(float).to_numpy(), ratio, rtol=1e-9)


def test_frozen_debt_by_cause_equals_a_recomputation(warehouse, ledger):
    t, loans = ledger
    mart = query(
        warehouse,
        "select as_of_date, new_commune_code, cause_code, frozen_principal, frozen_principal_past_expiry "
        "from mart_frozen_debt_by_cause",
    )
    terms = pd.read_csv(SEEDS / "freeze_terms.csv")
    freezes = t[t.transaction_type == "freeze"].copy()
    # a freeze expires at its frozen_until, or sooner when its cause and loss allow a shorter term
    years = pd.Series(np.nan, index=freezes.index)
    for term in terms.itertuples():
        matches = (freezes.cause_code == term.cause_code) & freezes.loss_percent.between(
            term.min_loss_percent, term.max_loss_percent
        )
        years[matches] = term.freeze_years
    term_end = pd.Series(
        [d + pd.DateOffset(years=int(y)) if y == y else pd.NaT for d, y in zip(freezes.transaction_date, years)],
        index=freezes.index,
    )
    freezes["expiry"] = pd.concat([pd.to_datetime(freezes.frozen_until), term_end], axis=1).min(axis=1)
    assert (freezes.cause_code == "K1").any() and term_end.notna().any()
    assert len(mart) > 0 and mart.frozen_principal_past_expiry.sum() > 0
    for as_of in month_ends(t):
        balances = buckets_at(t, as_of)
        frozen = balances[balances.frozen > 0]
        # the cause and expiry of each loan's latest freeze
        latest = freezes[freezes.transaction_date <= as_of].groupby("loan_id")[["cause_code", "expiry"]].last()
        cells = frozen.assign(
            cause_code=latest.cause_code.reindex(frozen.index),
            new_commune_code=loans.new_commune_code,
            past_expiry=frozen.frozen.where(latest.expiry.reindex(frozen.index) <= as_of, 0),
        )
        expected = cells.groupby(["new_commune_code", "cause_code"])[["frozen", "past_expiry"]].sum().sort_index()
        actual = (
            mart[mart.as_of_date == as_of]
            .set_index(["new_commune_code", "cause_code"])[["frozen_principal", "frozen_principal_past_expiry"]]
            .astype(np.int64)
            .sort_index()
        )
        np.testing.assert_array_equal(actual.to_numpy(), expected.to_numpy(), err_msg=str(as_of))
        assert list(actual.index) == list(expected.index)


def test_aging_buckets_split_the_overdue_principal(warehouse, ledger):
    edges = pd.read_csv(SEEDS / "overdue_aging_buckets.csv")
    aging = query(
        warehouse,
        "select as_of_date, new_commune_code, program_code, organisation_code, aging_bucket, "
        "overdue_principal from mart_overdue_aging",
    )
    quality = query(
        warehouse,
        "select as_of_date, new_commune_code, program_code, organisation_code, overdue_principal "
        "from mart_debt_quality where overdue_principal > 0",
    )
    by_cell = aging.groupby(["as_of_date", *CELL]).overdue_principal.sum().sort_index()
    pd.testing.assert_series_equal(
        by_cell,
        quality.set_index(["as_of_date", *CELL]).overdue_principal.sort_index(),
        check_names=False,
        check_dtype=False,
    )
    # and each bucket holds the overdue of the loans whose recomputed days past due fall in its range
    t, loans = ledger
    expected = []
    late_rows = ever_overdue(t)
    for as_of in month_ends(t):
        balances = buckets_at(late_rows, as_of)
        late = balances[balances.overdue > 0].join(loans[CELL])
        for loan_id, row in late.iterrows():
            dpd = days_past_due(late_rows, loan_id, as_of)
            [bucket] = edges.aging_bucket[
                (edges.min_days_past_due <= dpd) & (edges.max_days_past_due.isna() | (edges.max_days_past_due >= dpd))
            ]
            expected.append(
                {"as_of_date": as_of, **row[CELL].to_dict(), "aging_bucket": bucket, "overdue_principal": row.overdue}
            )
    keys = ["as_of_date", *CELL, "aging_bucket"]
    expected = pd.DataFrame(expected).groupby(keys).overdue_principal.sum().sort_index()
    actual = aging.set_index(keys).overdue_principal.sort_index()
    assert len(expected.index.get_level_values("aging_bucket").unique()) > 1
    pd.testing.assert_series_equal(actual, expected, check_names=False, check_dtype=False, check_index_type=False)


def test_principal_collection_and_write_offs_equal_a_recomputation(warehouse, ledger):
    t, loans = ledger
    root = warehouse.landing_dir
    schedules = pd.read_csv(
        next((root / "loan_schedules").glob("*/*.csv")), encoding="utf-8-sig", parse_dates=["due_date"]
    )
    months = month_ends(t)
    t = t.assign(month=t.transaction_date + pd.offsets.MonthEnd(0))
    extensions = t[t.transaction_type.isin(["extension", "rescheduling"])]
    # principal falling due: the schedule's instalments, moved by extensions and reschedulings to their new due month
    due = (
        pd.concat(
            [
                schedules.assign(month=schedules.due_date + pd.offsets.MonthEnd(0))[
                    ["loan_id", "month", "principal_due"]
                ],
                extensions.assign(principal_due=-extensions.principal_amount)[["loan_id", "month", "principal_due"]],
                extensions.assign(
                    month=pd.to_datetime(extensions.new_due_date) + pd.offsets.MonthEnd(0),
                    principal_due=extensions.principal_amount,
                )[["loan_id", "month", "principal_due"]],
            ]
        )
        .groupby(["loan_id", "month"])
        .principal_due.sum()
        .clip(lower=0)
    )
    repaid = (
        t[(t.transaction_type == "principal_repayment") & (t.from_bucket == "current")]
        .groupby(["loan_id", "month"])
        .principal_amount.sum()
    )
    brought = t[t.transaction_type == "opening_balance"].groupby(["loan_id", "month"]).principal_amount.sum()
    for as_of in months[6::9]:
        due_now = in_month(due, as_of)
        # what the loan still owed current at the start of the month caps what can fall due
        start = buckets_at(t, months[months.index(as_of) - 1]).current.reindex(due_now.index).fillna(0) + in_month(
            brought, as_of
        ).reindex(due_now.index).fillna(0)
        frame = pd.DataFrame({"due": np.minimum(due_now, start)})
        frame["collected"] = np.minimum(in_month(repaid, as_of).reindex(frame.index).fillna(0), frame.due)
        expected = frame.join(loans[CELL]).groupby(CELL)[["due", "collected"]].sum()
        expected = expected[expected.due > 0].astype(np.int64).sort_index()
        mart = mart_cells(warehouse, as_of, "principal_due, principal_collected_of_due")
        mart = mart[mart.principal_due > 0]
        assert list(mart.index) == list(expected.index), as_of
        assert (mart.principal_due.astype(np.int64) == expected.due).all()
        assert (mart.principal_collected_of_due.astype(np.int64) == expected.collected).all()

    written = t[t.transaction_type == "write_off"].join(loans[CELL], on="loan_id")
    assert len(written) > 0
    mart = query(
        warehouse,
        "select as_of_date, new_commune_code, program_code, organisation_code, principal_written_off_to_date "
        "from mart_debt_quality",
    )
    for row in mart[mart.principal_written_off_to_date > 0].itertuples():
        cell = written[
            (written.new_commune_code == row.new_commune_code)
            & (written.program_code == row.program_code)
            & (written.organisation_code == row.organisation_code)
            & (written.transaction_date <= row.as_of_date)
        ]
        assert row.principal_written_off_to_date == cell.principal_amount.sum()
    assert mart.principal_written_off_to_date.max() > 0


def test_communes_without_overdue_are_the_communes_whose_overdue_is_zero(warehouse, ledger):
    t, loans = ledger
    mart = query(warehouse, "select as_of_date, new_commune_code, has_no_overdue from mart_communes_without_overdue")
    for as_of in month_ends(t)[::4]:
        balances = (
            buckets_at(t, as_of)
            .join(loans.new_commune_code)
            .groupby("new_commune_code")[["overdue", "outstanding"]]
            .sum()
        )
        balances = balances[balances.outstanding > 0]
        actual = mart[mart.as_of_date == as_of].set_index("new_commune_code").has_no_overdue.sort_index()
        pd.testing.assert_series_equal(actual, (balances.overdue == 0).sort_index(), check_names=False)


def test_interest_due_and_collected_equal_a_recomputation(warehouse, ledger):
    t, loans = ledger
    rules = pd.read_csv(SEEDS / "rate_rules.csv").set_index("rule_code").rule_value
    rate = loans.annual_rate.astype(float)
    overdue_rate = (rate * rules["overdue_rate_multiplier"]).round(8)
    t = t.assign(month=t.transaction_date + pd.offsets.MonthEnd(0))
    months = month_ends(t)
    for as_of in months[4::11]:
        before = buckets_at(t, months[months.index(as_of) - 1])
        this_month = t[t.month == as_of]
        brought = this_month[this_month.transaction_type == "opening_balance"].groupby("loan_id").principal_amount.sum()
        current = before.current.add(brought, fill_value=0)
        overdue = before.overdue.reindex(current.index).fillna(0)
        # a month's interest on the balances it started with, overdue at the overdue rate, rounded half up
        accrued = np.floor(
            (current * rate.reindex(current.index) + overdue * overdue_rate.reindex(current.index)) / 1200 + 0.5
        )
        collected = this_month[this_month.transaction_type != "write_off"].groupby("loan_id").interest_amount.sum()
        frame = pd.DataFrame({"due": accrued})
        frame["collected"] = np.minimum(collected.reindex(frame.index).fillna(0), frame.due)
        expected = frame.join(loans[CELL]).groupby(CELL)[["due", "collected"]].sum()
        expected = expected[expected.due > 0].astype(np.int64).sort_index()
        mart = mart_cells(warehouse, as_of, "interest_due, interest_collected_of_due, interest_collection_rate")
        mart = mart[mart.interest_due > 0]
        assert list(mart.index) == list(expected.index), as_of
        assert (mart.interest_due.astype(np.int64) == expected.due).all()
        assert (mart.interest_collected_of_due.astype(np.int64) == expected.collected).all()
        np.testing.assert_allclose(
            mart.interest_collection_rate.astype(float), expected.collected / expected.due, rtol=1e-9
        )


def test_debt_quality_balances_equal_the_outstanding_balance_mart(warehouse):
    keys = "as_of_date, new_commune_code, program_code, organisation_code"
    sums = (
        "sum(current_principal) as current_principal, sum(overdue_principal) as overdue_principal, "
        "sum(frozen_principal) as frozen_principal"
    )
    # (units owing nothing on either side are left out: the balance mart keeps zero rows for growth)
    quality, outstanding = (
        query(
            warehouse,
            f"select {keys}, {sums} from {mart} group by {keys} "
            f"having sum(current_principal + overdue_principal + frozen_principal) <> 0 order by {keys}",
        )
        for mart in ("mart_debt_quality", "mart_outstanding_balance")
    )
    assert len(quality) > 0
    pd.testing.assert_frame_equal(quality, outstanding, check_dtype=False)
