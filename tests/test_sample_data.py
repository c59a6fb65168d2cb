"""The sample ledger generator: deterministic, follows the landing contract and the reference
rules (seeds), commune codes of the row's era, balances never negative."""

import hashlib
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dagster_project.domain.landing_contract import LANDING_SOURCES, REORGANISATION_DATE, landing_file_name
from dagster_project.ingest.admin_units import commune_crosswalk, new_communes, old_communes
from dagster_project.settings import SEEDS_DIR
from sample_data import GenerationConfig, generate
from tests.tiny_landing import load_all, open_warehouse

pytestmark = pytest.mark.unit

CONFIG = GenerationConfig(communes=2, start_year=2024, end_year=2025)
BUCKETS = ("current", "overdue", "frozen")


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sample") / "landing"
    generate(root, CONFIG)
    return root


def data_files(landing: Path, source) -> list[Path]:
    """The source's data files, without their control files."""
    return sorted(p for p in (landing / source.folder).glob("*/*") if p.suffix in (".csv", ".parquet"))


def _read(landing: Path, name: str) -> pd.DataFrame:
    source = LANDING_SOURCES[name]
    files = data_files(landing, source)
    with duckdb.connect() as conn:
        if files[0].suffix == ".parquet":
            return conn.execute("select * from read_parquet(?)", [[str(f) for f in files]]).df()
        return conn.execute(
            "select * from read_csv(?, header = true, all_varchar = true)", [[str(f) for f in files]]
        ).df()


def test_the_sample_loads_whole_nothing_quarantined_or_rejected(landing, tmp_path):
    conn = open_warehouse(tmp_path / "w.duckdb")
    files = [f for load in load_all(conn, landing) for f in load.files]
    assert {f.source_file.split("/")[0] for f in files} == set(LANDING_SOURCES)
    assert [(f.source_file, f.rejection) for f in files if f.rejection] == []
    assert conn.execute("select source_name, rule, count(*) from raw.quarantine group by all").fetchall() == []
    assert all(f.rows_read == f.rows_loaded > 0 for f in files)


def test_same_config_writes_identical_files(landing, tmp_path):
    again = tmp_path / "landing"
    generate(again, CONFIG)
    assert _hashes(again) == _hashes(landing)


def test_files_follow_the_contract_layout_and_columns(landing):
    branch = next((landing / "transactions").iterdir()).name
    for source in LANDING_SOURCES.values():
        files = data_files(landing, source)
        assert files, f"no {source.name} files"
        if source.monthly:
            months = sorted(f.stem[-7:] for f in files)
            assert all(
                f.relative_to(landing).as_posix() == landing_file_name(source, branch, f.stem[-7:], f.suffix[1:])
                for f in files
            )
            assert months[0] >= "2024-01" and months[-1] <= "2025-12"
        else:
            assert [f.relative_to(landing).as_posix() for f in files] == [landing_file_name(source, branch)]
            assert files[0].read_bytes().startswith("\ufeff".encode())  # UTF-8 with BOM, as Excel writes
        assert list(_read(landing, source.name).columns) == list(source.columns), source.name


def test_ledger_rows_fall_in_their_files_month(landing):
    for source in (s for s in LANDING_SOURCES.values() if s.monthly):
        files = data_files(landing, source)
        reader = "read_parquet" if files[0].suffix == ".parquet" else "read_csv"
        with duckdb.connect() as conn:
            outside = conn.execute(
                f"select count(*) from {reader}(?, filename = true) where strftime(cast({source.month_date} as date), "
                "'%Y-%m') <> regexp_extract(filename, '_(\\d{4}-\\d{2})\\.\\w+$', 1)",
                [[str(f) for f in files]],
            ).fetchone()[0]
        assert outside == 0, source.name


def test_keys_are_unique(landing):
    for source in LANDING_SOURCES.values():
        frame = _read(landing, source.name)
        assert not frame.duplicated(list(source.key)).any(), source.name


def test_loans_follow_the_program_terms_seed(landing):
    """Caps and terms (the rates: test_loans_carry_the_rate_their_commune_has_for_the_program)."""
    loans = _read(landing, "loans").astype(
        {"loan_amount": "int64", "annual_rate": float, "overdue_annual_rate": float, "term_months": int}
    )
    loans["disbursement_date"] = pd.to_datetime(loans.disbursement_date)
    terms = pd.read_csv(SEEDS_DIR / "program_terms.csv", dtype={"program_code": str}, parse_dates=["valid_from"])
    terms["valid_to"] = pd.to_datetime(terms.valid_to.replace("9999-12-31", "2262-04-01"))
    matched = loans.merge(terms, on="program_code")
    matched = matched[
        (matched.disbursement_date >= matched.valid_from) & (matched.disbursement_date <= matched.valid_to)
    ]
    assert len(matched) == len(loans), "every loan falls in one period of its program's terms"
    assert (matched.loan_amount <= matched.loan_cap_vnd).all() and (matched.loan_amount > 0).all()
    assert (matched.term_months <= matched.max_term_months).all()
    assert (loans.overdue_annual_rate == (loans.annual_rate * 1.3).round(4)).all()


def test_schedules_repay_each_loan_exactly(landing):
    loans = _read(landing, "loans").astype({"loan_amount": "int64"})
    schedules = _read(landing, "loan_schedules").astype({"principal_due": "int64", "instalment_no": int})
    schedules["due_date"] = pd.to_datetime(schedules.due_date)
    due = schedules.groupby("loan_id").principal_due.sum()
    assert (due.reindex(loans.loan_id).to_numpy() == loans.loan_amount.to_numpy()).all()
    last_due = schedules.groupby("loan_id").due_date.max().reindex(loans.loan_id).to_numpy()
    assert (last_due <= pd.to_datetime(loans.contract_due_date).to_numpy()).all()
    assert (schedules.principal_due > 0).all()


def test_commune_codes_follow_the_era_of_the_row_date(landing):
    old = set(old_communes().commune_code)
    new = set(new_communes().commune_code)
    reform = pd.Timestamp(REORGANISATION_DATE)
    for name, date_column in (("transactions", "transaction_date"), ("loans", "disbursement_date")):
        frame = _read(landing, name)
        dates = pd.to_datetime(frame[date_column])
        before, after = frame[dates < reform], frame[dates >= reform]
        assert len(before) and len(after), name
        assert before.commune_code.isin(old).all(), name
        assert after.commune_code.isin(new).all(), name


def test_balance_buckets_are_never_negative(landing):
    ledger = _read(landing, "transactions").sort_values(["transaction_date", "transaction_id"])
    for bucket in BUCKETS:
        movement = ledger.principal_amount.where(ledger.to_bucket == bucket, 0) - ledger.principal_amount.where(
            ledger.from_bucket == bucket, 0
        )
        running = movement.groupby(ledger.loan_id).cumsum()
        assert running.min() >= 0, bucket
    assert (ledger.principal_amount >= 0).all() and (ledger.interest_amount >= 0).all()


def test_a_selection_across_branches_is_written_branch_by_branch_with_distinct_ids(tmp_path):
    # Old Tuyên Quang joined new Tuyên Quang (08); old Lào Cai joined new Lào Cai (15).
    root = tmp_path / "landing"
    generate(root, GenerationConfig(provinces=("08", "10"), communes=1, start_year=2025, end_year=2025))
    crosswalk = new_communes().set_index("commune_code").province_code
    for source in LANDING_SOURCES.values():
        assert sorted(p.name for p in (root / source.folder).iterdir()) == ["08", "15"], source.name
        frame = _read(root, source.name)
        assert not frame.duplicated(list(source.key)).any(), source.name
    loans = _read(root, "loans")
    assert set(loans.loan_id.str[2:4]) == {"08", "15"}
    # Each branch's ledger holds only loans of its own communes.
    ledger = pd.concat(
        pd.read_parquet(p).assign(branch=p.parent.name) for p in data_files(root, LANDING_SOURCES["transactions"])
    )
    after = ledger[pd.to_datetime(ledger.transaction_date) >= pd.Timestamp(REORGANISATION_DATE)]
    assert (after.commune_code.map(crosswalk) == after.branch).all()
    assert ledger.loan_id.isin(loans.loan_id).all()


def _seed(name: str) -> pd.DataFrame:
    frame = pd.read_csv(SEEDS_DIR / f"{name}.csv", dtype=str)
    return frame.assign(valid_to=frame.valid_to.replace("9999-12-31", "2262-04-01"))


def test_loans_carry_the_rate_their_commune_has_for_the_program(tmp_path):
    """The 30a communes of Lâm Bình (the 16th and 17th communes of the reference province) lend
    to poor households at half the base rate, before and after the reorganisation; local programs
    lend at the province's own rate; every other loan at its program's. And all of it loads."""
    root = tmp_path / "landing"
    generate(root, GenerationConfig(communes=17, scale=0.05, start_year=2025, end_year=2025))
    loans = _read(root, "loans").astype({"annual_rate": float})
    day = pd.to_datetime(loans.disbursement_date)
    [base] = _seed("base_rates").base_annual_rate_pct.astype(float)
    program = _seed("program_rates")
    expected = loans.program_code.map(
        program.set_index("program_code").annual_rate_pct.astype(float).groupby(level=0).first()
    )
    shares = program.dropna(subset=["share_of_base_rate"])
    for row in shares.itertuples():
        rows = (loans.program_code == row.program_code) & day.between(row.valid_from, row.valid_to)
        expected[rows] = round(base * float(row.share_of_base_rate), 4)
    listed = _seed("rate_area_communes")
    successors = commune_crosswalk().query("old_commune_code in @listed.commune_code").new_commune_code
    in_30a = (loans.commune_code.isin(listed.commune_code) & (day < pd.Timestamp(REORGANISATION_DATE))) | (
        loans.commune_code.isin(successors) & (day >= pd.Timestamp(REORGANISATION_DATE))
    )
    [half] = _seed("special_rates").query("area_list == '30a'").share_of_base_rate.astype(float)
    poor_30a = in_30a & (loans.program_code == "01") & day.between(listed.valid_from.min(), listed.valid_to.max())
    expected[poor_30a] = round(base * half, 4)
    [local] = _seed("local_program_rates").query("province_code == '08'").annual_rate_pct.astype(float).unique()
    expected[loans.program_code == "99"] = local
    assert poor_30a.sum() > 0 and (loans.program_code == "99").sum() > 0
    assert (loans.annual_rate == expected).all()

    conn = open_warehouse(tmp_path / "w.duckdb")
    conn.register("crosswalk", commune_crosswalk())
    conn.execute("create table raw.admin_unit_crosswalk as select * from crosswalk")
    load_all(conn, root)
    assert conn.execute("select rule, count(*) from raw.quarantine group by all").fetchall() == []
    assert conn.execute("select count(*) from raw.loans").fetchone()[0] == len(loans)
