"""The rate a loan may carry (dagster_project/ingest/rates.py, the loans' row rule in rules.py):
the program's rate at disbursement, a special rate where its area or borrower allows it, a
province's own rate for its local programs; any other rate is quarantined naming those allowed."""

import csv
import shutil
from decimal import Decimal

import duckdb
import pytest

from dagster_project.ingest import rates
from dagster_project.ingest.admin_units import commune_crosswalk, new_communes, old_communes
from dagster_project.settings import SEEDS_DIR
from tests.tiny_landing import NEW_COMMUNE, OLD_COMMUNE, load_all, open_warehouse, write

pytestmark = pytest.mark.unit

LAM_BINH = "02266"  # Thị trấn Lăng Can, huyện Lâm Bình: a 30a district of Tuyên Quang (seeds/rate_area_communes.csv)
HA_GIANG = "00688"  # a commune of old Hà Giang, a province with no local rate in the seed
RULE = "annual_rate not allowed"


def seed_rows(name: str) -> list[dict]:
    with open(SEEDS_DIR / f"{name}.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def loan(loan_id: str, rate: str, **row) -> dict:
    overdue = (Decimal(rate) * Decimal("1.3")).quantize(Decimal("0.0001"))
    return {"loan_id": loan_id, "borrower_id": "B1", "annual_rate": rate, "overdue_annual_rate": str(overdue)} | row


def load_loans(tmp_path, loans: list[dict], borrowers: list[dict] | None = None) -> dict[str, str | None]:
    """Each loan's fate: None when loaded, else the rule it was quarantined for."""
    landing = tmp_path / "landing"
    write(landing, "transaction_points", [{}])
    write(landing, "groups", [{}])
    write(landing, "borrowers", borrowers or [{}])
    write(landing, "loans", loans)
    conn = open_warehouse(tmp_path / "w.duckdb")
    conn.register("crosswalk", commune_crosswalk())
    conn.execute("create table raw.admin_unit_crosswalk as select * from crosswalk")
    load_all(conn, landing)
    fates = {loan_id: None for (loan_id,) in conn.execute("select loan_id from raw.loans").fetchall()}
    for raw_row, rule in conn.execute(
        "select json_extract_string(raw_row, '$.loan_id'), rule from raw.quarantine where source_name = 'loans'"
    ).fetchall():
        fates[raw_row] = rule
    return fates


def test_a_poor_households_half_rate_loads_in_a_30a_commune_and_is_quarantined_elsewhere(tmp_path):
    [half] = {r["share_of_base_rate"] for r in seed_rows("special_rates") if r["area_list"] == "30a"}
    [base] = [r["base_annual_rate_pct"] for r in seed_rows("base_rates")]
    rate = str(Decimal(base) * Decimal(half))  # 3.3
    new_lam_binh = commune_crosswalk().query("old_commune_code == @LAM_BINH").new_commune_code.item()
    fates = load_loans(
        tmp_path,
        [
            loan("L30A", rate, commune_code=LAM_BINH, disbursement_date="2024-03-15"),
            # after the 2025 reorganisation the loan names its new commune, a successor of the listed one
            loan("L30A_NEW", rate, commune_code=new_lam_binh, disbursement_date="2025-08-15"),
            loan("LCITY", rate, commune_code=OLD_COMMUNE, disbursement_date="2024-03-15"),
        ],
    )
    assert fates["L30A"] is None and fates["L30A_NEW"] is None
    assert fates["LCITY"] == (
        f"{RULE}: annual_rate 3.3 for program 01 on 2024-03-15 in commune {OLD_COMMUNE}; "
        "allowed: 3.3 (in the communes of area list 30a); 6.6 (the program's rate)"
    )


def test_a_local_program_loan_loads_at_its_provinces_rate_only(tmp_path):
    [tuyen_quang] = [r for r in seed_rows("local_program_rates") if r["province_code"] == "08" and r["scheme"] == "old"]
    rate = tuyen_quang["annual_rate_pct"]
    other = str(Decimal(rate) + Decimal("0.6"))
    fates = load_loans(
        tmp_path,
        [
            loan("L99", rate, program_code="99", funding_source="local", disbursement_date="2024-03-15"),
            loan("L99_OFF", other, program_code="99", funding_source="local", disbursement_date="2024-03-15"),
            loan("L99_HG", rate, program_code="99", funding_source="local", commune_code=HA_GIANG),
        ],
    )
    assert fates["L99"] is None
    assert fates["L99_OFF"] == (
        f"{RULE}: annual_rate {float(other)} for program 99 on 2024-03-15 in commune {OLD_COMMUNE}; "
        f"allowed: {float(rate)} (set by province 08)"
    )
    # Hà Giang has set no rate in the seed: no rule allows any
    assert (
        fates["L99_HG"]
        == f"{RULE}: annual_rate {float(rate)} for program 99 on 2024-01-15 in commune {HA_GIANG}; allowed: none"
    )


def test_the_rate_in_force_at_disbursement_before_and_after_a_change(tmp_path, monkeypatch):
    monkeypatch.setenv("PCW_LOAD_DATE", "2026-06-30")
    # program 04 (workers abroad): the base rate until 2025, 127 % of it from 1 January 2026
    periods = [r for r in seed_rows("program_rates") if r["program_code"] == "04"]
    assert [(p["valid_to"], p["share_of_base_rate"]) for p in periods] == [
        ("2025-12-31", "1.00"),
        ("9999-12-31", "1.27"),
    ]
    after = str(Decimal(seed_rows("base_rates")[0]["base_annual_rate_pct"]) * Decimal("1.27"))  # 8.382
    abroad = {
        "program_code": "04",
        "purpose": "work_abroad",
        "contract_due_date": "2029-01-15",
        "commune_code": NEW_COMMUNE,
    }
    fates = load_loans(
        tmp_path,
        [
            loan("BEFORE", "6.6", disbursement_date="2025-12-15", **abroad),
            loan("AFTER_OLD_RATE", "6.6", disbursement_date="2026-01-15", **abroad),
            loan("AFTER", after, disbursement_date="2026-01-15", **abroad),
        ],
    )
    assert fates["BEFORE"] is None and fates["AFTER"] is None
    assert fates["AFTER_OLD_RATE"] == (
        f"{RULE}: annual_rate 6.6 for program 04 on 2026-01-15 in commune {NEW_COMMUNE}; "
        "allowed: 8.382 (the program's rate)"
    )


def test_a_borrower_condition_allows_its_special_rate(tmp_path):
    [case] = [r for r in seed_rows("special_rates") if r["borrower_category"]]
    rate = str(Decimal(seed_rows("base_rates")[0]["base_annual_rate_pct"]) * Decimal(case["share_of_base_rate"]))
    fates = load_loans(
        tmp_path,
        [
            loan("LBUSINESS", rate, borrower_id="B1", program_code=case["program_code"], purpose="job"),
            loan("LHOUSEHOLD", rate, borrower_id="B2", program_code=case["program_code"], purpose="job"),
        ],
        borrowers=[
            {"borrower_id": "B1", "household_id": "H1", "category": case["borrower_category"]},
            {"borrower_id": "B2", "household_id": "H2", "category": "poor"},
        ],
    )
    assert fates["LBUSINESS"] is None
    assert fates["LHOUSEHOLD"].startswith(f"{RULE}: annual_rate 3.3 for program 03")
    assert f"3.3 (for borrowers of category {case['borrower_category']})" in fates["LHOUSEHOLD"]


def _allowed_rates(seeds_dir, monkeypatch) -> duckdb.DuckDBPyConnection:
    monkeypatch.setattr(rates, "SEEDS_DIR", seeds_dir)
    conn = duckdb.connect()
    for name, frame in (("o", old_communes()), ("n", new_communes()), ("x", commune_crosswalk())):
        conn.register(name, frame)
    rates.prepare_allowed_rates(conn, "o", "n", "x")
    return conn


def test_program_rates_are_the_exact_decimals_the_seeds_give(monkeypatch):
    conn = _allowed_rates(SEEDS_DIR, monkeypatch)
    [base] = [Decimal(r["base_annual_rate_pct"]) for r in seed_rows("base_rates")]
    expected = {
        (r["program_code"], r["valid_from"]): Decimal(r["annual_rate_pct"] or 0)
        or base * Decimal(r["share_of_base_rate"])
        for r in seed_rows("program_rates")
    }
    actual = {
        (p, str(d)): rate
        for p, d, rate in conn.execute(
            "select program_code, valid_from, annual_rate_pct from rule_allowed_rates where scope = 'program'"
        ).fetchall()
    }
    assert actual == expected
    assert actual[("19", "2000-01-01")] == Decimal("7.92") and actual[("06", "2000-01-01")] == Decimal("9.0")


def test_a_change_of_the_base_rate_moves_every_rate_set_as_a_share_of_it(tmp_path, monkeypatch):
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS_DIR, seeds)
    (seeds / "base_rates.csv").write_text(
        "valid_from,valid_to,base_annual_rate_pct,note\n2000-01-01,2015-06-30,7.2,\n2015-07-01,9999-12-31,6.6,\n"
    )
    conn = _allowed_rates(seeds, monkeypatch)

    def rate(program: str, day: str, scope: str = "program") -> list[Decimal]:
        return [
            r
            for (r,) in conn.execute(
                "select distinct annual_rate_pct from rule_allowed_rates where program_code = ? and scope = ? "
                "and cast(? as date) between valid_from and valid_to",
                [program, scope, day],
            ).fetchall()
        ]

    assert rate("19", "2015-06-30") == [Decimal("8.64")] and rate("19", "2015-07-01") == [Decimal("7.92")]
    assert rate("01", "2015-06-30", "area") == [Decimal("3.6")] and rate("01", "2015-07-01", "area") == [Decimal("3.3")]
    assert rate("06", "2015-06-30") == rate("06", "2015-07-01") == [Decimal("9.0")]  # a rate set outright stays
