"""The sample generator: deterministic, true to the data contract, consistent as a ledger, and
calibrated on the reference province's published mid-2024 figures (computed here from the files)."""

import argparse
import hashlib
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from dagster_project.contract import LANDING_SOURCES, REORGANISATION_DATE, landing_file_name
from dagster_project.reference.admin_units import commune_crosswalk, new_communes, old_communes
from dagster_project.sample_data import GenerationConfig, generate
from dagster_project.sample_data.cli import add_generate_arguments, config_from_args
from dagster_project.sample_data.geography import build_province
from dagster_project.settings import SEEDS_DIR

SMALL = GenerationConfig(communes=3, start_year=2024, end_year=2025)  # history across the 2025 reorganisation
REFORM = pd.Timestamp(REORGANISATION_DATE)


def digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*.*"))}


def relation(landing: Path, source: str) -> str:
    files = sorted((landing / source).glob("*/*"))
    reader = "read_parquet" if files[0].suffix == ".parquet" else "read_csv"
    return f"{reader}({[str(f) for f in files]!r})"


def read(landing: Path, source: str) -> pd.DataFrame:
    return duckdb.sql(f"select * from {relation(landing, source)}").df()


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    landing = tmp_path_factory.mktemp("small")
    generate(landing, SMALL)
    return landing


@pytest.fixture(scope="module")
def frames(small) -> dict[str, pd.DataFrame]:
    return {name: read(small, name) for name in LANDING_SOURCES}


def test_same_seed_same_files_other_seed_other_files(small, tmp_path):
    generate(tmp_path / "again", SMALL)
    generate(tmp_path / "other", GenerationConfig(communes=3, start_year=2024, end_year=2025, seed=7))
    assert digest(small) == digest(tmp_path / "again")
    assert digest(small) != digest(tmp_path / "other")


def test_generating_again_replaces_the_sources(tmp_path):
    stale = tmp_path / "transactions" / "08" / "transactions_08_1999-01.parquet"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    generate(tmp_path, GenerationConfig(communes=1, start_year=2025, end_year=2025))
    assert not stale.exists()
    assert len(list((tmp_path / "transactions" / "08").glob("*.parquet"))) == 12


def test_every_file_follows_the_contract_layout_columns_and_keys(small, frames):
    for source in LANDING_SOURCES.values():
        files = sorted((small / source.folder).glob("*/*"))
        assert files, source.name
        for path in files:
            month = path.stem.rsplit("_", 1)[1] if source.monthly else None
            assert path.relative_to(small).as_posix() == landing_file_name(source, "08", month, path.suffix[1:])
        if source.monthly:
            assert [p.stem[-7:] for p in files] == [f"{y}-{m:02d}" for y in (2024, 2025) for m in range(1, 13)]
        frame = frames[source.name]
        assert list(frame.columns) == list(source.columns), source.name
        assert len(frame) and not frame.duplicated(list(source.key)).any(), source.name
    # a monthly file holds its month's rows only
    for path in sorted((small / "transactions" / "08").glob("*")):
        dates = pd.read_parquet(path, columns=["transaction_date"]).transaction_date.astype(str)
        assert (dates.str[:7] == path.stem[-7:]).all()


def test_registers_are_utf8_csv_with_vietnamese_text(small, frames):
    raw = (small / landing_file_name(LANDING_SOURCES["borrowers"], "08")).read_bytes()
    assert raw.startswith("\ufeff".encode()) and "borrower_id" in raw.decode("utf-8-sig").splitlines()[0]
    borrowers = frames["borrowers"]
    assert borrowers.full_name.str.contains(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹàáèéìíòóùúý]", case=False).mean() > 0.9
    assert borrowers.national_id.str.fullmatch(r"008[0-3]\d{8}").mean() > 0.85  # born in Tuyên Quang, century-gender digit
    century_gender = borrowers.national_id.str[3].astype(int)
    assert ((century_gender % 2 == 1) == (borrowers.gender == "F")).all()
    assert (borrowers.national_id.str[4:6].astype(int) == borrowers.birth_year % 100).all()
    phones = borrowers.phone.dropna()
    assert phones.str.fullmatch(r"0[3-9]\d{8}").all() and 0.7 < len(phones) / len(borrowers) < 0.97
    assert set(borrowers.ethnicity) >= {"Kinh", "Tày", "Dao"}
    assert set(borrowers.category) <= {"poor", "near_poor", "just_out_of_poverty", "other"}
    assert borrowers.eligibility_year.isna().eq(borrowers.category == "other").all()


def test_loans_follow_the_catalogue_and_schedules_sum(frames):
    loans = frames["loans"]
    terms = pd.read_csv(SEEDS_DIR / "program_terms.csv", dtype={"program_code": str, "valid_from": str, "valid_to": str})
    overdue_multiplier = pd.read_csv(SEEDS_DIR / "rate_rules.csv").set_index("rule_code").rule_value["overdue_rate_multiplier"]
    merged = loans.assign(d=loans.disbursement_date.astype(str)).merge(terms, on="program_code")
    at_date = merged[(merged.d >= merged.valid_from) & (merged.d <= merged.valid_to)]
    assert len(at_date) == len(loans) == loans.loan_id.nunique()
    assert (at_date.annual_rate.astype(float).round(4) == at_date.annual_rate_pct.round(4)).all()
    assert (at_date.loan_amount <= at_date.loan_cap_vnd).all() and (at_date.term_months <= at_date.max_term_months).all()
    assert (loans.overdue_annual_rate.astype(float).round(4) == (loans.annual_rate.astype(float) * overdue_multiplier).round(4)).all()
    assert set(loans.repayment_interval_months) <= {6, 12}
    assert {"01", "19", "06", "03"} <= set(loans.program_code)

    schedules = frames["loan_schedules"].merge(loans, on="loan_id").merge(frames["transaction_points"], on="transaction_point_id")
    totals = schedules.groupby("loan_id").agg(total=("principal_due", "sum"), last=("due_date", "max"))
    totals = totals.join(loans.set_index("loan_id")[["loan_amount", "contract_due_date"]])
    assert (totals.total == totals.loan_amount).all() and (totals["last"] == totals.contract_due_date).all()
    assert (pd.to_datetime(schedules.due_date).dt.day == schedules.transaction_day).all()
    assert (schedules.principal_due > 0).all()


def test_groups_borrowers_and_points_hang_together(frames):
    groups, borrowers, loans, points = frames["groups"], frames["borrowers"], frames["loans"], frames["transaction_points"]
    assert groups.member_count.between(3, 60).all()
    assert set(groups.organisation_code) <= {"HPN", "HND", "HCCB", "DTN"}
    assert (groups.group_name == "Tổ TK&VV " + groups.village_name).all()
    leaders = groups.merge(borrowers, left_on="leader_borrower_id", right_on="borrower_id", suffixes=("", "_leader"))
    assert len(leaders) == len(groups) and (leaders.group_id == leaders.group_id_leader).all()
    members = borrowers.dropna(subset=["group_id"]).merge(groups, on="group_id", suffixes=("", "_group"))
    assert (members.village_name == members.village_name_group).all()
    through = loans.dropna(subset=["group_id"]).merge(groups[["group_id", "organisation_code"]], on="group_id", suffixes=("", "_g"))
    assert (through.organisation_code == through.organisation_code_g).all()
    assert loans.organisation_code.isna().eq(loans.group_id.isna()).all()
    assert set(loans.borrower_id) <= set(borrowers.borrower_id)
    assert points.transaction_day.between(1, 28).all() and points.transaction_office_code.str.fullmatch(r"PGD08-\d{3}").all()


def test_commune_codes_follow_the_era_of_each_row(frames):
    old = set(old_communes().commune_code)
    new = set(new_communes().commune_code)
    for source in LANDING_SOURCES.values():
        if not (source.era_date and "commune_code" in source.columns):
            continue
        frame = frames[source.name].dropna(subset=["commune_code"])
        before = pd.to_datetime(frame[source.era_date]) < REFORM
        assert set(frame.commune_code[before]) <= old and set(frame.commune_code[~before]) <= new, source.name
    certified = frames["certified_households"]
    assert set(certified.commune_code[certified.certification_year < 2025]) <= old
    assert set(certified.commune_code[certified.certification_year >= 2025]) <= new

    # each loan's rows after the reform carry one successor of the commune its earlier rows carry
    successors = commune_crosswalk().groupby("old_commune_code").new_commune_code.apply(set)
    t = frames["transactions"]
    after = pd.to_datetime(t.transaction_date) >= REFORM
    assert after.any() and (~after).any()
    assert (t[after].groupby("loan_id").commune_code.nunique() == 1).all()
    pairs = t[~after].groupby("loan_id").commune_code.first().to_frame("old").join(
        t[after].groupby("loan_id").commune_code.first().rename("new"), how="inner")
    assert len(pairs) and all(row.new in successors[row.old] for row in pairs.itertuples())


def test_split_communes_send_villages_mostly_to_the_default_successor():
    province = build_province(GenerationConfig(), "08")
    crosswalk = commune_crosswalk()
    villages = province.villages.assign(old=province.communes.commune_code.to_numpy()[province.villages.commune_index])
    split = villages[villages.old.isin(crosswalk[crosswalk.is_split].old_commune_code)]
    assert len(split)
    pairs = set(zip(crosswalk.old_commune_code, crosswalk.new_commune_code))
    assert all((row.old, row.new_commune_code) in pairs for row in villages.itertuples())
    default = crosswalk[crosswalk.is_default_successor].set_index("old_commune_code").new_commune_code
    assert 0.5 < (split.new_commune_code == split.old.map(default)).mean() < 1


def test_no_bucket_ever_goes_negative_and_every_movement_is_allowed(frames):
    t = frames["transactions"]
    allowed = pd.read_csv(SEEDS_DIR / "transaction_types.csv", keep_default_na=False)
    for row in allowed.itertuples():
        rows = t[t.transaction_type == row.transaction_type]
        assert set(rows.from_bucket.fillna("")) <= set(row.allowed_from_buckets.split("|")), row.transaction_type
        assert set(rows.to_bucket.fillna("")) <= set(row.allowed_to_buckets.split("|")), row.transaction_type
    assert {"opening_balance", "disbursement", "interest_payment", "principal_repayment"} <= set(t.transaction_type)
    assert (t.principal_amount >= 0).all() and (t.interest_amount >= 0).all()
    assert (t[t.transaction_type == "opening_balance"].transaction_date.astype(str) == "2024-01-01").all()
    assert t[t.transaction_type.isin(["freeze", "write_off"])].cause_code.notna().all()
    assert t[t.transaction_type == "freeze"].frozen_until.notna().all()
    extensions = t[t.transaction_type == "extension"]
    assert (pd.to_datetime(extensions.new_due_date) > pd.to_datetime(extensions.transaction_date)).all()
    t = t.sort_values(["loan_id", "transaction_date", "transaction_id"])
    for bucket in ("current", "overdue", "frozen"):
        delta = t.principal_amount.where(t.to_bucket == bucket, 0) - t.principal_amount.where(t.from_bucket == bucket, 0)
        # every row in posting order, and the end of each day
        assert (delta.groupby(t.loan_id).cumsum() >= 0).all(), bucket
    # a reversal cancels the disbursement it names; each loan is disbursed its amount, net
    reversals = t[t.transaction_type == "disbursement_reversal"].merge(t, left_on="reversed_transaction_id", right_on="transaction_id",
                                                                      suffixes=("", "_reversed"))
    assert (reversals.transaction_type_reversed == "disbursement").all()
    assert (reversals.principal_amount == reversals.principal_amount_reversed).all()
    sign = t.transaction_type.map({"disbursement": 1, "disbursement_reversal": -1}).fillna(0)
    net = (t.principal_amount * sign).groupby(t.loan_id).sum()
    loans = frames["loans"].set_index("loan_id")
    disbursed_in_ledger = loans[pd.to_datetime(loans.disbursement_date) >= "2024-01-01"]
    assert (net.reindex(disbursed_in_ledger.index) == disbursed_in_ledger.loan_amount).all()


def test_interest_is_the_monthly_rate_on_the_balance_before_the_day(frames):
    t = frames["transactions"].merge(frames["loans"][["loan_id", "annual_rate", "overdue_annual_rate", "transaction_point_id"]],
                                     on=["loan_id", "transaction_point_id"])
    t["date"] = pd.to_datetime(t.transaction_date)
    for bucket in ("current", "overdue"):
        t[bucket] = t.principal_amount.where(t.to_bucket == bucket, 0) - t.principal_amount.where(t.from_bucket == bucket, 0)
    daily = t.groupby(["loan_id", "date"])[["current", "overdue"]].sum().groupby(level=0).cumsum()
    # balance at the start of a day = balance at the end of the loan's previous ledger day
    before = daily.groupby(level=0).shift(1).fillna(0).add_suffix("_before")
    interest = t[t.transaction_type == "interest_payment"].join(before, on=["loan_id", "date"])
    expected = ((interest.current_before * interest.annual_rate.astype(float)
                 + interest.overdue_before * interest.overdue_annual_rate.astype(float)) / 1200).round()
    assert len(interest) > 1000 and ((interest.interest_amount - expected).abs() <= 1).all()
    points = frames["transaction_points"].set_index("transaction_point_id").transaction_day
    assert (interest.date.dt.day == interest.transaction_point_id.map(points)).all()


def test_savings_and_capital(frames):
    deposits = frames["savings_deposits"].merge(frames["groups"][["group_id", "member_count"]], on="group_id")
    assert (deposits.amount >= 5_000 * deposits.depositing_members).all()
    assert deposits.depositing_members.between(1, deposits.member_count).all()
    assert len(deposits) == 24 * len(frames["groups"])  # one a group and month
    capital = frames["capital_sources"]
    assert set(capital.source) == {"central", "local", "mobilised"} and (capital.amount >= 0).all()
    local = capital[capital.source == "local"]
    assert set(local.entrusting_unit) <= {"province", "commune"} and local.commune_code.notna().eq(local.entrusting_unit == "commune").all()
    assert capital[capital.source != "local"].entrusting_unit.isna().all()


def test_certified_lists_and_demand_survey(frames):
    loans, borrowers, certified = frames["loans"], frames["borrowers"], frames["certified_households"]
    poor = loans[(loans.program_code == "01") & (pd.to_datetime(loans.disbursement_date) >= "2024-01-01")].merge(borrowers, on="borrower_id")
    listed = set(zip(certified.household_id, certified.certification_year, certified.category))
    on_list = [(h, d.year - 1, "poor") in listed for h, d in zip(poor.household_id, pd.to_datetime(poor.disbursement_date))]
    assert len(poor) > 50 and np.mean(on_list) > 0.97
    survey = frames["demand_survey"]
    assert set(survey.plan_year) == set(range(2026, 2031)) and (survey.households > 0).all()
    assert set(survey.commune_code) <= set(new_communes().commune_code)
    assert (survey.demand_amount > 0).all() and (survey.beneficiary_count > 0).all()


def test_the_loader_takes_every_row(small, tmp_path):
    from dagster_project.ingest.loader import landing_months, load_month, load_register

    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as conn:
        conn.execute("create schema raw")
        for name, frame in (("admin_units_old", old_communes()), ("admin_units_new", new_communes())):
            conn.execute(f"create table raw.{name} as select * from frame")
        for source in LANDING_SOURCES.values():  # contract order: referenced registers first
            if source.monthly:
                for month in landing_months(small, source):
                    load_month(conn, source, small, month)
            else:
                load_register(conn, source, small)
        quarantined = conn.execute("select source_name, rule, count(*) from raw.quarantine group by all").fetchall()
        assert quarantined == []
        assert conn.execute("select count(*) from raw.transactions").fetchone()[0] == len(read(small, "transactions"))


def test_csv_ledgers_hold_the_same_rows_as_parquet(tmp_path):
    config = GenerationConfig(communes=1, start_year=2025, end_year=2025)
    generate(tmp_path / "parquet", config)
    generate(tmp_path / "csv", GenerationConfig(communes=1, start_year=2025, end_year=2025, ledger_format="csv"))
    for name in ("transactions", "savings_deposits"):
        assert all(p.suffix == ".csv" for p in (tmp_path / "csv" / name).rglob("*.*"))
        a = read(tmp_path / "parquet", name).astype(str)
        b = read(tmp_path / "csv", name).astype(str)
        pd.testing.assert_frame_equal(a, b)


def test_command_line_options_build_the_config():
    parser = argparse.ArgumentParser()
    add_generate_arguments(parser)
    assert config_from_args(parser.parse_args([])) == GenerationConfig()
    args = parser.parse_args(["--provinces", "08,02", "--communes", "3", "--seed", "7", "--ledger-format", "csv",
                              "--start-year", "2024", "--scale", "0.5"])
    assert config_from_args(args) == GenerationConfig(seed=7, provinces=("08", "02"), communes=3, start_year=2024, scale=0.5,
                                                      ledger_format="csv")
    country = config_from_args(parser.parse_args(["--scale-preset", "country", "--end-year", "2025"]))
    assert country.provinces == ("all",) and country.start_year == 2025


def test_the_reference_province_shows_the_published_mid_2024_figures(tmp_path):
    """domain.md §6, Tuyên Quang at mid-2024, each within 2 %, computed from the files alone."""
    summary = generate(tmp_path, GenerationConfig())
    conn = duckdb.connect()
    conn.execute(f"create view t as select * from {relation(tmp_path, 'transactions')}")
    conn.execute(f"create view l as select * from {relation(tmp_path, 'loans')}")
    conn.execute(f"create view c as select * from {relation(tmp_path, 'capital_sources')}")

    def figures(as_of: str):
        return conn.execute(
            """
            with b as (
                select loan_id,
                       sum(case when to_bucket is not null then principal_amount else 0 end)
                     - sum(case when from_bucket is not null then principal_amount else 0 end) as outstanding,
                       sum(case when to_bucket in ('overdue', 'frozen') then principal_amount else 0 end)
                     - sum(case when from_bucket in ('overdue', 'frozen') then principal_amount else 0 end) as troubled
                from t where transaction_date <= ? group by loan_id)
            select sum(outstanding), sum(outstanding) filter (where l.group_id is not null),
                   count(distinct l.borrower_id) filter (where outstanding > 0),
                   count(distinct l.group_id) filter (where outstanding > 0), sum(troubled)
            from b join l using (loan_id)
            """,
            [as_of],
        ).fetchone()

    outstanding, through_groups, borrowers, groups, troubled = figures("2024-06-30")
    assert outstanding == pytest.approx(4_350e9, rel=0.02)
    assert borrowers == pytest.approx(80_052, rel=0.02)
    assert groups == pytest.approx(2_374, rel=0.02)
    assert through_groups / outstanding == pytest.approx(0.9939, abs=0.002)
    assert 0.003 <= troubled / outstanding <= 0.008
    assert outstanding / figures("2014-06-30")[0] == pytest.approx(2.7, abs=0.3)  # nice to have: 2.7x in ten years
    local = [conn.execute("select sum(case direction when 'in' then amount else -amount end) from c "
                          "where source = 'local' and effective_date <= ?", [d]).fetchone()[0] for d in ("2024-06-30", "2014-12-31")]
    assert local[0] == pytest.approx(111e9, rel=0.02)
    assert local[0] / local[1] == pytest.approx(280, rel=0.02)
    # the generator's own summary agrees with the files
    assert summary["calibration"]["outstanding_principal"] == outstanding
    assert summary["calibration"]["borrowers_with_outstanding"] == borrowers
