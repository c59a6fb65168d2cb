"""End to end: the small sample (conftest.py) through Dagster (ingestion, GX gates), dbt and the marts."""

from collections import Counter
from datetime import date

import dagster as dg
import duckdb
import pandas as pd
import pytest

from dagster_project.cli.build import build_warehouse
from dagster_project.definitions import build_definitions
from dagster_project.domain.landing_contract import LANDING_SOURCES
from dagster_project.ingest.admin_units import commune_crosswalk
from dagster_project.outputs.fingerprint import table_fingerprints
from dagster_project.quality.expectations import EXPECTATIONS_DIR
from dagster_project.settings import Settings
from tests.landing_figures import headline_figures
from tests.personal_data import assert_no_personal_data, audit_texts, event_text

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def warehouse(small_warehouse):
    return small_warehouse


def query(settings: Settings, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        return conn.execute(sql).df()


def test_definitions_load_with_the_whole_flow_and_checks_attached():
    defs = build_definitions(Settings.from_env())
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {
        "landing/transactions",
        "raw/transactions",
        "stg_branch__transactions",
        "int_loan_balances__month_end",
        "mart_outstanding_balance",
        "raw/admin_unit_crosswalk",
    } <= keys
    mart = dg.AssetKey("mart_outstanding_balance")
    assert dg.AssetKey(["raw", "transactions"]) in graph.get(dg.AssetKey("stg_branch__transactions")).parent_keys
    checks = {c.asset_key.to_user_string() for c in graph.asset_check_keys}
    assert {"raw/transactions", "raw/borrowers", "mart_outstanding_balance"} <= checks
    assert {j.name for j in defs.jobs} >= {"registers_job", "ledger_job", "marts_job"}
    assert mart in graph.get_all_asset_keys()


def test_every_quality_gate_and_dbt_test_ran_once(warehouse):
    """The build succeeded (conftest.py), so what ran passed; what this checks is that nothing was
    left out: every GX suite on what it guards, every dbt test as its model's asset check."""
    settings, result = warehouse
    evaluations = [
        e.event_specific_data
        for r in result.runs.values()
        for e in r.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    gx = [e for e in evaluations if e.check_name == "great_expectations"]
    suites = sorted(EXPECTATIONS_DIR.glob("*/*.json"))
    # every suite, raw and marts, once; a ledger's once a month loaded, each month its own verdict
    ledgers, months = {s.name for s in LANDING_SOURCES.values() if s.monthly}, result.plan.ledger_months
    assert Counter(e.asset_key.path[-1] for e in gx) == {
        p.stem: len(months) if p.stem in ledgers else 1 for p in suites
    }
    assert {e.partition[:7] for e in gx if e.partition} == set(months)
    declared = {
        key
        for key in build_definitions(settings).resolve_asset_graph().asset_check_keys
        if key.name != "great_expectations"
    }
    dbt_tests = Counter(
        dg.AssetCheckKey(e.asset_key, e.check_name) for e in evaluations if e.check_name != "great_expectations"
    )
    assert len(declared) > 50 and dbt_tests == Counter(declared)
    # and every rule's outcome is kept in the warehouse
    kept = query(settings, "select guarded_table, count(*) as rules from audit.quality_results group by all")
    assert len(kept) == len(suites) and (kept.rules > 0).all()


def test_the_mart_equals_an_independent_computation_from_the_landing_files(warehouse):
    settings, _ = warehouse
    landing = settings.landing_dir
    t = pd.concat(pd.read_parquet(p) for p in sorted((landing / "transactions").glob("*/*.parquet")))
    loans = pd.read_csv(next((landing / "loans").glob("*/*.csv")), dtype=str, encoding="utf-8-sig")
    points = pd.read_csv(next((landing / "transaction_points").glob("*/*.csv")), dtype=str, encoding="utf-8-sig")
    t["net"] = t.principal_amount.where(t.to_bucket.notna(), 0) - t.principal_amount.where(t.from_bucket.notna(), 0)
    t["overdue"] = t.principal_amount.where(t.to_bucket == "overdue", 0) - t.principal_amount.where(
        t.from_bucket == "overdue", 0
    )
    # each loan's 2025 commune: its own latest row after the reform, else its old commune's default successor
    after = t[pd.to_datetime(t.transaction_date) >= "2025-07-01"].sort_values(["transaction_date", "transaction_id"])
    later = after.groupby("loan_id").commune_code.last()
    default = commune_crosswalk().query("is_default_successor").set_index("old_commune_code").new_commune_code
    loans["new_commune_code"] = loans.loan_id.map(later).fillna(loans.commune_code.map(default))
    loans["organisation_code"] = loans.organisation_code.fillna("DIRECT")
    loans["transaction_office_code"] = loans.transaction_point_id.map(
        points.set_index("transaction_point_id").transaction_office_code
    )
    grain = ["transaction_office_code", "new_commune_code", "program_code", "funding_source", "organisation_code"]

    for as_of in ("2024-06-30", "2025-06-30", "2025-12-31"):
        upto = t[pd.to_datetime(t.transaction_date) <= as_of].groupby("loan_id")[["net", "overdue"]].sum()
        owing = loans.assign(
            outstanding=loans.loan_id.map(upto.net).fillna(0), overdue=loans.loan_id.map(upto.overdue).fillna(0)
        )
        owing = owing[owing.outstanding > 0]
        expected = (
            owing.groupby(grain)
            .agg(
                outstanding_principal=("outstanding", "sum"),
                overdue_principal=("overdue", "sum"),
                borrowers_with_outstanding=("borrower_id", "nunique"),
            )
            .astype("int64")
            .sort_index()
        )
        mart = query(
            settings,
            f"select {', '.join(grain)}, outstanding_principal, overdue_principal, borrowers_with_outstanding "
            f"from mart_outstanding_balance where as_of_date = date '{as_of}' and outstanding_principal <> 0",
        )
        actual = mart.set_index(grain).astype("int64").sort_index()
        pd.testing.assert_frame_equal(actual, expected)


def test_headlines_equal_the_figures_computed_from_the_files(warehouse):
    settings, _ = warehouse
    expected = headline_figures(settings.landing_dir, date(2024, 6, 30))
    [row] = query(settings, "select * from mart_province_headlines where as_of_date = date '2024-06-30'").to_dict(
        "records"
    )
    assert row["outstanding_principal"] == expected["outstanding_principal"]
    assert row["borrowers_with_outstanding"] == expected["borrowers_with_outstanding"]
    assert row["groups_with_outstanding"] == expected["groups_with_outstanding"]
    assert row["local_capital_balance"] == expected["local_capital_balance"]
    assert row["entrusted_share"] == pytest.approx(expected["entrusted_share"])


def test_no_personal_data_past_staging(warehouse, tmp_path):
    from dagster_project.outputs.plan import FORMATS, export_plan
    from dagster_project.outputs.plan.tables import CSV_SEPARATOR

    settings, result = warehouse
    borrowers = query(settings, "select full_name, national_id, phone from raw.borrowers")
    personal = set(borrowers.full_name) | set(borrowers.national_id) | set(borrowers.phone.dropna())
    tables = query(
        settings,
        "select table_name from information_schema.tables where table_schema = 'main' "
        "and (table_name like 'int_%' or table_name like 'mart_%')",
    ).table_name
    assert len(tables) >= 4
    frames = {table: query(settings, f"select * from {table}") for table in tables}
    # and every file published for readers, with the planners' exports written from them
    published = sorted((settings.published_dir / "marts").glob("*.parquet"))
    assert {p.stem for p in published} == {t for t in tables if t.startswith("mart_")}
    frames |= {str(p): pd.read_parquet(p) for p in published}
    exports = export_plan(settings.published_dir, "08", ["commune", "office", "province"], list(FORMATS), tmp_path)
    frames |= {str(p): pd.read_csv(p, dtype=str, sep=CSV_SEPARATOR) for p in exports if p.suffix == ".csv"}
    frames |= {str(p): pd.read_parquet(p) for p in exports if p.suffix == ".parquet"}
    for name, frame in frames.items():
        assert not {"full_name", "national_id", "phone"} & set(frame.columns), name
        for column in frame.select_dtypes(include=["object", "string"]).columns:
            assert not set(frame[column].dropna()) & personal, f"{name}.{column}"
    html = " ".join(p.read_text(encoding="utf-8") for p in exports if p.suffix == ".html")
    assert not any(value in html for value in personal)
    # nor in the audit tables, nor in what the loads and quality gates told Dagster
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        texts = audit_texts(conn)
    assert {"audit.quality_results", "audit.load_manifest"} <= texts.keys()
    load_runs = [result.runs[job] for job in ("registers_job", "ledger_job")]
    texts |= {f"{e.step_key} {i}": event_text(e) for run in load_runs for i, e in enumerate(run.all_events)}
    assert_no_personal_data(personal, texts)


def test_loading_again_changes_no_table(warehouse):
    settings, _ = warehouse

    def fingerprint():
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
            return table_fingerprints(conn)

    before = fingerprint()
    assert {"raw.transactions", "main.mart_outstanding_balance"} <= before.keys()
    with dg.DagsterInstance.ephemeral() as instance:
        again = build_warehouse(settings, instance, everything=True)  # every load and dbt, as the first time
    assert again.success and set(again.runs) == {"registers_job", "ledger_job", "marts_job"}
    assert fingerprint() == before


def test_a_build_with_nothing_new_does_nothing_and_one_new_file_loads_its_month(warehouse, tmp_path):
    settings, _ = warehouse
    with dg.DagsterInstance.ephemeral() as instance:
        unchanged = build_warehouse(settings, instance)
    assert unchanged.success and unchanged.plan.nothing_to_do and unchanged.runs == {}

    march = sorted((settings.landing_dir / "transactions").glob("*/*_2025-03.parquet"))[0]
    original = march.read_bytes()
    march.write_bytes(original[: len(original) // 2])  # a re-send of one month, cut off in transfer
    try:
        with dg.DagsterInstance.ephemeral() as instance:
            resent = build_warehouse(settings, instance)
    finally:
        march.write_bytes(original)
    assert resent.plan.ledger_months == ["2025-03"] and not resent.plan.registers
    assert set(resent.runs) == {"ledger_job"} and not resent.success  # rejected: nothing downstream


def test_growth_adds_up_to_the_ledger_difference_across_units(warehouse):
    settings, _ = warehouse
    june, december, year_ago = (
        headline_figures(settings.landing_dir, day)["outstanding_principal"]
        for day in (date(2025, 6, 30), date(2024, 12, 31), date(2024, 6, 30))
    )
    [(since_december, over_twelve_months, units)] = query(
        settings,
        "select sum(growth_since_year_start), sum(growth_over_twelve_months), count(*) "
        "from mart_outstanding_balance where as_of_date = date '2025-06-30'",
    ).itertuples(index=False)
    assert since_december == june - december
    assert over_twelve_months == june - year_ago
    assert units > 1
    # the sample starts in 2024: nothing to compare its months with
    assert (
        query(
            settings,
            "select count(growth_since_year_start) from mart_outstanding_balance where as_of_date < date '2025-01-01'",
        ).iloc[0, 0]
        == 0
    )


def test_kpis_command_shows_marts_and_raw_recomputation_agreeing(warehouse, capsys, monkeypatch):
    from dagster_project.cli.main import main

    settings, _ = warehouse
    monkeypatch.setenv("PCW_WAREHOUSE", str(settings.warehouse_path))
    monkeypatch.setenv("PCW_LANDING_DIR", str(settings.landing_dir))
    expected = headline_figures(settings.landing_dir, date(2024, 6, 30))
    assert main(["kpis", "--province", "08", "--as-of", "2024-06-30"]) == 0
    lines = {
        line.split("  ")[1].strip(): line.split()
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("  ")
    }
    outstanding = lines["Outstanding (bn VND)"]
    assert outstanding[3] == outstanding[4] == f"{expected['outstanding_principal'] / 1e9:,.1f}"
    borrowers = lines["Borrowers with outstanding loans"]
    assert borrowers[4] == borrowers[5] == f"{expected['borrowers_with_outstanding']:,}"


def test_a_rejected_resend_fails_the_load_by_name_and_leaves_every_table_as_it_was(warehouse):
    settings, _ = warehouse

    def fingerprint():
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
            return table_fingerprints(conn)

    before = fingerprint()
    month_file = sorted((settings.landing_dir / "transactions").glob("*/*_2025-03.parquet"))[0]
    original = month_file.read_bytes()
    month_file.write_bytes(original[: len(original) // 2])  # a re-send cut off in transfer
    try:
        with dg.DagsterInstance.ephemeral() as instance:
            result = build_warehouse(settings, instance)
    finally:
        month_file.write_bytes(original)
    assert not result.success
    assert "marts_job" not in result.runs  # nothing downstream ran on a failed load
    assert any(month_file.name in line for line in result.failures()), result.failures()
    assert fingerprint() == before
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        outcome = conn.execute(
            "select outcome from audit.load_manifest where source_file like ? order by finished_at desc limit 1",
            [f"%{month_file.name}"],
        ).fetchone()
    assert outcome == ("rejected",)
