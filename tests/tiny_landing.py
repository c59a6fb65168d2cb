"""A tiny, valid landing folder written by the tests: one commune, one group, a few loans.

Row dicts are merged over valid defaults, so a test states only what it breaks."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import dagster as dg
import duckdb

from dagster_project.domain.landing_contract import LANDING_SOURCES, landing_file_name
from dagster_project.ingest.admin_units import new_communes, old_communes
from dagster_project.ingest.control import write_control
from dagster_project.ingest.landing import landing_months
from dagster_project.ingest.loader import load_month, load_register
from dagster_project.ingest.manifest import PartitionLoad

OLD_COMMUNE = "02200"  # Phường Phan Thiết, Tuyên Quang, until 30 June 2025
NEW_COMMUNE = "02215"  # its successor from 1 July 2025

DEFAULTS = {
    "transaction_points": {
        "transaction_point_id": "TP1",
        "transaction_point_name": "Điểm giao dịch phường Phan Thiết",
        "transaction_office_code": "PGD08-070",
        "transaction_office_name": "PGD thành phố Tuyên Quang",
        "commune_code": OLD_COMMUNE,
        "transaction_day": "15",
        "opened_date": "2014-01-01",
    },
    "groups": {
        "group_id": "G1",
        "group_name": "Tổ TK&VV tổ 5",
        "village_name": "Tổ 5",
        "commune_code": OLD_COMMUNE,
        "transaction_point_id": "TP1",
        "organisation_code": "HPN",
        "leader_borrower_id": "B1",
        "established_date": "2014-01-01",
        "member_count": "12",
    },
    "borrowers": {
        "borrower_id": "B1",
        "household_id": "H1",
        "full_name": "Nguyễn Thị Hoa",
        "national_id": "008190000001",
        "phone": "0912000001",
        "gender": "F",
        "birth_year": "1980",
        "ethnicity": "Tày",
        "category": "poor",
        "eligibility_year": "2023",
        "group_id": "G1",
        "commune_code": OLD_COMMUNE,
        "village_name": "Tổ 5",
        "registered_date": "2014-01-01",
        "mobile_banking": "true",
        "left_residence": "false",
    },
    "loans": {
        "loan_id": "L1",
        "borrower_id": "B1",
        "group_id": "G1",
        "organisation_code": "HPN",
        "program_code": "01",
        "funding_source": "central",
        "purpose": "production",
        "loan_amount": "50000000",
        "disbursement_date": "2024-01-15",
        "annual_rate": "6.6",
        "overdue_annual_rate": "8.58",
        "term_months": "60",
        "contract_due_date": "2029-01-15",
        "repayment_interval_months": "12",
        "commune_code": OLD_COMMUNE,
        "transaction_point_id": "TP1",
    },
    "loan_schedules": {"loan_id": "L1", "instalment_no": "1", "due_date": "2025-01-15", "principal_due": "10000000"},
    "transactions": {
        "transaction_id": "T1",
        "transaction_date": "2024-02-15",
        "loan_id": "L1",
        "transaction_type": "interest_payment",
        "principal_amount": "0",
        "interest_amount": "275000",
        "from_bucket": "",
        "to_bucket": "",
        "cause_code": "",
        "new_due_date": "",
        "frozen_until": "",
        "loss_percent": "",
        "reversed_transaction_id": "",
        "commune_code": OLD_COMMUNE,
        "transaction_point_id": "TP1",
    },
    "savings_deposits": {
        "deposit_id": "S1",
        "deposit_date": "2024-02-15",
        "group_id": "G1",
        "depositing_members": "10",
        "amount": "500000",
        "commune_code": OLD_COMMUNE,
        "transaction_point_id": "TP1",
    },
}


def csv_text(source: str, rows: list[dict]) -> str:
    columns = list(LANDING_SOURCES[source].columns)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(DEFAULTS[source] | row)
    return out.getvalue()


def write(landing: Path, source: str, rows: list[dict], month: str | None = None, branch: str = "08") -> Path:
    path = landing / landing_file_name(LANDING_SOURCES[source], branch, month)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(csv_text(source, rows), encoding="utf-8")
    return path


def rewrite_control(path: Path) -> None:
    """A landing file sent again comes with its control file, as a branch export writes them."""
    write_control(path, LANDING_SOURCES[path.parent.parent.name])


def write_registers(landing: Path, loans: int = 2) -> None:
    write(landing, "transaction_points", [{}])
    write(landing, "groups", [{}])
    write(landing, "borrowers", [{"borrower_id": f"B{i}", "household_id": f"H{i}"} for i in range(1, loans + 1)])
    write(landing, "loans", [{"loan_id": f"L{i}", "borrower_id": f"B{i}"} for i in range(1, loans + 1)])


def open_warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(str(path))
    conn.execute("create schema if not exists raw")
    for name, frame in (("admin_units_old", old_communes()), ("admin_units_new", new_communes())):
        conn.register("frame", frame)
        conn.execute(f"create or replace table raw.{name} as select * from frame")
    return conn


def load_all(conn: duckdb.DuckDBPyConnection, landing: Path) -> list[PartitionLoad]:
    loads = []
    for source in LANDING_SOURCES.values():
        if not (landing / source.folder).exists():
            continue
        if source.monthly:
            loads += [load_month(conn, source, landing, m) for m in landing_months(landing, source)]
        else:
            loads.append(load_register(conn, source, landing))
    return loads


def materialize_registers(tmp_path: Path, instance) -> dg.ExecuteInProcessResult:
    """The register assets and their quality gates through Dagster, on `tmp_path/landing` into
    `tmp_path/w.duckdb` (admin units written directly: no dbt, no reference download)."""
    import dagster as dg
    from dagster_duckdb import DuckDBResource

    from dagster_project.defs.loads import register_assets
    from dagster_project.defs.quality_gates import quality_gates
    from dagster_project.defs.resources import LandingFolder

    warehouse = tmp_path / "w.duckdb"
    if not warehouse.exists():
        open_warehouse(warehouse).close()
    return dg.materialize(
        [*register_assets, *quality_gates(register_assets)],
        instance=instance,
        resources={
            "warehouse": DuckDBResource(database=str(warehouse)),
            "landing": LandingFolder(path=str(tmp_path / "landing")),
        },
        raise_on_error=False,
    )
