"""A bad register row is quarantined with its rule and the rest loads; the rows that name it as
their parent (a group's borrowers, loans and savings, a loan's schedule and transactions) are
quarantined as `parent_quarantined`, and come back when a corrected register lands, whatever the
order the files came in."""

import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.contract import LANDING_SOURCES
from dagster_project.fingerprint import table_fingerprints
from tests.tiny_landing import load_all, materialize_registers, open_warehouse, write, write_registers

GROUP_OF_ONE = "member_count outside 3-60: a group has 3 to 60 members, this one 1"
GROUP = f"group G2 is quarantined: {GROUP_OF_ONE}"
BORROWER = f"borrower B2 is quarantined: {GROUP}"
LOAN = f"loan L2 is quarantined: {BORROWER}"


def land_registers(landing: Path, g2_members: str) -> None:
    """Two groups of one point, a borrower and a loan in each, the loans' schedules."""
    write_registers(landing)
    write(landing, "groups", [{}, {"group_id": "G2", "village_name": "Tổ 6", "member_count": g2_members, "leader_borrower_id": "B2"}])
    write(landing, "borrowers", [{"borrower_id": "B1", "household_id": "H1"},
                                 {"borrower_id": "B2", "household_id": "H2", "group_id": "G2"}])
    write(landing, "loans", [{"loan_id": "L1", "borrower_id": "B1"}, {"loan_id": "L2", "borrower_id": "B2", "group_id": "G2"}])
    write(landing, "loan_schedules", [{"loan_id": loan, "instalment_no": str(n), "principal_due": "25000000",
                                       "due_date": f"202{5 + n}-01-15"} for loan in ("L1", "L2") for n in (1, 2)])


def land_ledgers(landing: Path) -> None:
    """February 2024: an interest payment of each loan, a deposit of each group, and a payment of a
    loan in no register (L3)."""
    write(landing, "transactions", [
        {"transaction_id": "T1", "loan_id": "L1", "interest_amount": "275000"},
        {"transaction_id": "T2", "loan_id": "L2", "interest_amount": "300000"},
        {"transaction_id": "T3", "loan_id": "L3", "interest_amount": "100000"},
    ], month="2024-02")
    write(landing, "savings_deposits", [{"deposit_id": "S1", "group_id": "G1"}, {"deposit_id": "S2", "group_id": "G2"}],
          month="2024-02")


def quarantine(conn) -> list[tuple]:
    return conn.execute(
        "select source_name, json_extract_string(raw_row, '$.' || case source_name when 'groups' then 'group_id' "
        "when 'borrowers' then 'borrower_id' when 'loans' then 'loan_id' when 'transactions' then 'transaction_id' "
        "when 'savings_deposits' then 'deposit_id' else 'loan_id' end), rule from raw.quarantine order by all"
    ).fetchall()


def raw_fingerprints(conn) -> dict:
    return {t: f for t, f in table_fingerprints(conn).items() if t.startswith("raw.")}


def assert_every_file_accounted_for(conn) -> None:
    """Each file's last load: rows read = loaded + quarantined, and its control totals are the sums
    of its rows in raw."""
    for source_name, source_file, read, loaded, quarantined, totals in conn.execute(
        """
        select source_name, source_file, rows_read, rows_loaded, rows_quarantined, control_totals
        from audit.load_manifest where outcome = 'loaded'
        qualify finished_at = max(finished_at) over (partition by source_file)
        """
    ).fetchall():
        in_raw = conn.execute(f"select count(*) from raw.{source_name} where source_file = ?", [source_file]).fetchone()[0]
        in_quarantine = conn.execute("select count(*) from raw.quarantine where source_file = ?", [source_file]).fetchone()[0]
        assert (read, loaded, quarantined) == (in_raw + in_quarantine, in_raw, in_quarantine), source_file
        for column, total in json.loads(totals).items():
            assert total == conn.execute(f"select coalesce(sum({column}), 0) from raw.{source_name} where source_file = ?",
                                         [source_file]).fetchone()[0], (source_file, column)


def test_a_group_of_one_is_quarantined_with_its_rule_and_its_rows_as_parent_quarantined(tmp_path):
    landing = tmp_path / "landing"
    land_registers(landing, g2_members="1")
    land_ledgers(landing)
    conn = open_warehouse(tmp_path / "w.duckdb")
    load_all(conn, landing)

    assert quarantine(conn) == [
        ("borrowers", "B2", f"parent_quarantined: {GROUP}"),
        ("groups", "G2", GROUP_OF_ONE),
        ("loan_schedules", "L2", f"parent_quarantined: {LOAN}"),
        ("loan_schedules", "L2", f"parent_quarantined: {LOAN}"),
        ("loans", "L2", f"parent_quarantined: {BORROWER}"),
        ("savings_deposits", "S2", f"parent_quarantined: {GROUP}"),
        ("transactions", "T2", f"parent_quarantined: {LOAN}"),
        ("transactions", "T3", "unknown loan_id: not in raw.loans"),
    ]
    # the rest loads: the other group, its borrower, loan, schedule, payment and deposit
    assert conn.execute("select group_id from raw.groups").fetchall() == [("G1",)]
    assert conn.execute("select loan_id, count(*) from raw.loan_schedules group by 1").fetchall() == [("L1", 2)]
    assert conn.execute("select transaction_id from raw.transactions").fetchall() == [("T1",)]
    assert conn.execute("select deposit_id from raw.savings_deposits").fetchall() == [("S1",)]
    assert_every_file_accounted_for(conn)


def test_a_corrected_register_brings_its_rows_back_as_if_it_had_come_first(tmp_path):
    landing = tmp_path / "landing"
    land_registers(landing, g2_members="1")
    land_ledgers(landing)
    conn = open_warehouse(tmp_path / "w.duckdb")
    load_all(conn, landing)

    land_registers(landing, g2_members="15")  # the branch sends the group again, corrected
    write(landing, "loans", [{"loan_id": "L1", "borrower_id": "B1"}, {"loan_id": "L2", "borrower_id": "B2", "group_id": "G2"},
                             {"loan_id": "L3", "borrower_id": "B1"}])  # and the loan it had left out
    [groups] = [load for load in load_all(conn, landing) if load.source_name == "groups"]

    # the group's load brought back its borrower, their loan and its schedule, the February ledgers
    assert sorted((d.source_name, d.partition_key) for d in groups.dependants) == [
        ("borrowers", "snapshot"), ("loan_schedules", "snapshot"), ("loans", "snapshot"),
        ("savings_deposits", "2024-02"), ("transactions", "2024-02"),
    ]
    assert quarantine(conn) == []
    assert conn.execute("select transaction_id from raw.transactions order by 1").fetchall() == [("T1",), ("T2",), ("T3",)]
    assert conn.execute("select sum(interest_amount) from raw.transactions").fetchone()[0] == 675000
    assert_every_file_accounted_for(conn)

    # the same files loaded once, corrected register first: the same raw tables and quarantine
    fresh = open_warehouse(tmp_path / "fresh.duckdb")
    load_all(fresh, landing)
    assert raw_fingerprints(conn) == raw_fingerprints(fresh)


def test_a_register_row_quarantined_later_takes_its_rows_with_it(tmp_path):
    landing = tmp_path / "landing"
    land_registers(landing, g2_members="15")
    land_ledgers(landing)
    conn = open_warehouse(tmp_path / "w.duckdb")
    load_all(conn, landing)
    assert conn.execute("select count(*) from raw.transactions").fetchone()[0] == 2

    land_registers(landing, g2_members="1")  # a later snapshot gets the group wrong
    load_all(conn, landing)

    assert ("transactions", "T2", f"parent_quarantined: {LOAN}") in quarantine(conn)
    assert_every_file_accounted_for(conn)
    fresh = open_warehouse(tmp_path / "fresh.duckdb")
    load_all(fresh, landing)
    assert raw_fingerprints(conn) == raw_fingerprints(fresh)


def test_a_row_with_a_defect_of_its_own_is_quarantined_for_it_whatever_its_parent(tmp_path):
    landing = tmp_path / "landing"
    land_registers(landing, g2_members="1")
    write(landing, "transactions", [{"transaction_id": "T2", "loan_id": "L2", "transaction_type": "gia_han"}], month="2024-02")
    conn = open_warehouse(tmp_path / "w.duckdb")
    load_all(conn, landing)
    assert ("transactions", "T2", "unknown transaction_type") in quarantine(conn)


@pytest.fixture
def instance():
    with dg.DagsterInstance.ephemeral() as instance:
        yield instance


def test_the_registers_gates_pass_on_what_was_admitted(tmp_path, instance):
    land_registers(tmp_path / "landing", g2_members="1")
    result = materialize_registers(tmp_path, instance)

    assert result.success
    gates = {e.asset_key.path[-1]: e.passed for e in result.get_asset_check_evaluations()}
    assert set(gates) == {s.name for s in LANDING_SOURCES.values() if not s.monthly} and all(gates.values())
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as conn:
        assert conn.execute("select rule from raw.quarantine where source_name = 'groups'").fetchall() == [(GROUP_OF_ONE,)]
