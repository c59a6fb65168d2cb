"""A bad register row is quarantined with its rule and the rest loads; the rows that name it as
their parent (a group's borrowers, loans and savings, a loan's schedule and transactions) are
quarantined as `parent_quarantined`, and come back when a corrected register lands, whatever the
order the files came in."""

import csv
import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.cli.build import build_warehouse
from dagster_project.domain.landing_contract import LANDING_SOURCES
from dagster_project.outputs.fingerprint import table_fingerprints
from dagster_project.quality.expectations import suite_path
from dagster_project.settings import Settings
from sample_data import GenerationConfig, generate
from tests.tiny_landing import load_all, materialize_registers, open_warehouse, rewrite_control, write, write_registers

pytestmark = pytest.mark.integration

GROUP_OF_ONE = "member_count outside 3-60: a group has 3 to 60 members, this one 1"
GROUP = f"group G2 is quarantined: {GROUP_OF_ONE}"
BORROWER = f"borrower B2 is quarantined: {GROUP}"
LOAN = f"loan L2 is quarantined: {BORROWER}"


def land_registers(landing: Path, g2_members: str) -> None:
    """Two groups of one point, a borrower and a loan in each, the loans' schedules."""
    write_registers(landing)
    write(
        landing,
        "groups",
        [{}, {"group_id": "G2", "village_name": "Tổ 6", "member_count": g2_members, "leader_borrower_id": "B2"}],
    )
    write(
        landing,
        "borrowers",
        [{"borrower_id": "B1", "household_id": "H1"}, {"borrower_id": "B2", "household_id": "H2", "group_id": "G2"}],
    )
    write(
        landing,
        "loans",
        [{"loan_id": "L1", "borrower_id": "B1"}, {"loan_id": "L2", "borrower_id": "B2", "group_id": "G2"}],
    )
    write(
        landing,
        "loan_schedules",
        [
            {"loan_id": loan, "instalment_no": str(n), "principal_due": "25000000", "due_date": f"202{5 + n}-01-15"}
            for loan in ("L1", "L2")
            for n in (1, 2)
        ],
    )


def land_ledgers(landing: Path) -> None:
    """February 2024: an interest payment of each loan, a deposit of each group, and a payment of a
    loan in no register (L3)."""
    write(
        landing,
        "transactions",
        [
            {"transaction_id": "T1", "loan_id": "L1", "interest_amount": "275000"},
            {"transaction_id": "T2", "loan_id": "L2", "interest_amount": "300000"},
            {"transaction_id": "T3", "loan_id": "L3", "interest_amount": "100000"},
        ],
        month="2024-02",
    )
    write(
        landing,
        "savings_deposits",
        [{"deposit_id": "S1", "group_id": "G1"}, {"deposit_id": "S2", "group_id": "G2"}],
        month="2024-02",
    )


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
        in_raw = conn.execute(
            f"select count(*) from raw.{source_name} where source_file = ?", [source_file]
        ).fetchone()[0]
        in_quarantine = conn.execute(
            "select count(*) from raw.quarantine where source_file = ?", [source_file]
        ).fetchone()[0]
        assert (read, loaded, quarantined) == (in_raw + in_quarantine, in_raw, in_quarantine), source_file
        for column, total in json.loads(totals).items():
            assert (
                total
                == conn.execute(
                    f"select coalesce(sum({column}), 0) from raw.{source_name} where source_file = ?", [source_file]
                ).fetchone()[0]
            ), (source_file, column)


def assert_as_one_fresh_load(conn, landing: Path, tmp_path: Path) -> None:
    """The raw tables and quarantine equal those of one load of the landing files as they are now."""
    fresh = open_warehouse(tmp_path / "fresh.duckdb")
    load_all(fresh, landing)
    assert raw_fingerprints(conn) == raw_fingerprints(fresh)


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


@pytest.mark.parametrize("path", ["batch", "file by file"])
def test_a_corrected_register_brings_its_rows_back_as_if_it_had_come_first(tmp_path, monkeypatch, path):
    if path == "file by file":  # the path a batch with a file to reject falls back to
        monkeypatch.setattr("dagster_project.ingest.batch.load_batch", lambda *args: False)
    landing = tmp_path / "landing"
    land_registers(landing, g2_members="1")
    land_ledgers(landing)
    conn = open_warehouse(tmp_path / "w.duckdb")
    load_all(conn, landing)

    land_registers(landing, g2_members="15")  # the branch sends the group again, corrected
    write(
        landing,
        "loans",
        [
            {"loan_id": "L1", "borrower_id": "B1"},
            {"loan_id": "L2", "borrower_id": "B2", "group_id": "G2"},
            {"loan_id": "L3", "borrower_id": "B1"},
        ],
    )  # and the loan it had left out
    [groups] = [load for load in load_all(conn, landing) if load.source_name == "groups"]

    # the group's load brought back its borrower, their loan and its schedule, the February ledgers
    assert sorted((d.source_name, d.partition_key) for d in groups.dependants) == [
        ("borrowers", "snapshot"),
        ("loan_schedules", "snapshot"),
        ("loans", "snapshot"),
        ("savings_deposits", "2024-02"),
        ("transactions", "2024-02"),
    ]
    assert quarantine(conn) == []
    assert conn.execute("select transaction_id from raw.transactions order by 1").fetchall() == [
        ("T1",),
        ("T2",),
        ("T3",),
    ]
    assert conn.execute("select sum(interest_amount) from raw.transactions").fetchone()[0] == 675000
    assert_every_file_accounted_for(conn)

    # the same files loaded once, corrected register first: the same raw tables and quarantine
    assert_as_one_fresh_load(conn, landing, tmp_path)


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
    assert_as_one_fresh_load(conn, landing, tmp_path)


def test_a_row_with_a_defect_of_its_own_is_quarantined_for_it_whatever_its_parent(tmp_path):
    landing = tmp_path / "landing"
    land_registers(landing, g2_members="1")
    write(
        landing,
        "transactions",
        [{"transaction_id": "T2", "loan_id": "L2", "transaction_type": "gia_han"}],
        month="2024-02",
    )
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
    guarded = {s.name for s in LANDING_SOURCES.values() if not s.monthly and suite_path("raw", s.name).exists()}
    assert set(gates) == guarded and all(gates.values())
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as conn:
        assert conn.execute("select rule from raw.quarantine where source_name = 'groups'").fetchall() == [
            (GROUP_OF_ONE,)
        ]


# --- through the whole build -------------------------------------------------------------------

SAMPLE = GenerationConfig(communes=1, start_year=2025, end_year=2025)


def _set_member_count(groups_file: Path, group_id: str, member_count: str) -> None:
    rows = list(csv.DictReader(groups_file.read_text("utf-8-sig").splitlines()))
    for row in rows:
        if row["group_id"] == group_id:
            row["member_count"] = member_count
    with groups_file.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    rewrite_control(groups_file)  # sent again with its control file, as a branch export does


def _group_rows(landing: Path, group_id: str) -> dict[str, set[str]]:
    """From the landing files alone: the group's borrowers, the loans of the group or of its
    borrowers, and those loans' transactions and the group's deposits."""
    with duckdb.connect() as conn:
        borrowers = {
            b
            for (b,) in conn.execute(
                "select borrower_id from read_csv(?, all_varchar = true) where group_id = ?",
                [str(landing / "borrowers/*/*.csv"), group_id],
            ).fetchall()
        }
        loans = {
            loan_id
            for (loan_id,) in conn.execute(
                "select loan_id from read_csv(?, all_varchar = true) "
                "where group_id = ? or borrower_id in (select unnest(?::varchar[]))",
                [str(landing / "loans/*/*.csv"), group_id, sorted(borrowers)],
            ).fetchall()
        }
        transactions = {
            t
            for (t,) in conn.execute(
                "select transaction_id from read_parquet(?) where loan_id in (select unnest(?::varchar[]))",
                [str(landing / "transactions/*/*.parquet"), sorted(loans)],
            ).fetchall()
        }
        deposits = {
            d
            for (d,) in conn.execute(
                "select deposit_id from read_parquet(?) where group_id = ?",
                [str(landing / "savings_deposits/*/*.parquet"), group_id],
            ).fetchall()
        }
    return {"borrowers": borrowers, "loans": loans, "transactions": transactions, "savings_deposits": deposits}


def _quarantined(conn, source: str, key: str) -> dict[str, str]:
    return dict(
        conn.execute(
            f"select json_extract_string(raw_row, '$.{key}'), rule from raw.quarantine where source_name = ?", [source]
        ).fetchall()
    )


def _outstanding_reconciles(conn) -> None:
    """The balance mart's outstanding at the last month-end equals the raw ledger's net movements."""
    mart, ledger = conn.execute(
        """
        select
            (select sum(outstanding_principal) from main.mart_outstanding_balance
             where as_of_date = (select max(as_of_date) from main.mart_outstanding_balance)),
            (select sum(case when to_bucket is not null then principal_amount else 0 end)
                  - sum(case when from_bucket is not null then principal_amount else 0 end) from raw.transactions)
        """
    ).fetchone()
    assert mart == ledger and mart > 0


def test_a_build_with_a_group_of_one_loads_the_rest_and_takes_the_group_back_once_corrected(tmp_path):
    settings = Settings(
        data_dir=tmp_path, landing_dir=tmp_path / "landing", warehouse_path=tmp_path / "warehouse.duckdb"
    )
    generate(settings.landing_dir, SAMPLE)
    [groups_file] = (settings.landing_dir / "groups").glob("*/*.csv")
    with duckdb.connect() as conn:  # the group with most loans
        [(group_id,)] = conn.execute(
            "select group_id from read_csv(?, all_varchar = true) where group_id is not null "
            "group by 1 order by count(*) desc, 1 limit 1",
            [str(settings.landing_dir / "loans/*/*.csv")],
        ).fetchall()
    members = next(
        r["member_count"]
        for r in csv.DictReader(groups_file.read_text("utf-8-sig").splitlines())
        if r["group_id"] == group_id
    )
    its = _group_rows(settings.landing_dir, group_id)
    assert its["loans"] and its["transactions"] and its["savings_deposits"]

    _set_member_count(groups_file, group_id, "1")
    with dg.DagsterInstance.ephemeral() as instance:
        first = build_warehouse(settings, instance)
        assert first.success, "\n".join(first.failures())  # registers, ledgers and marts: the rest loaded
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
            assert _quarantined(conn, "groups", "group_id") == {
                group_id: "member_count outside 3-60: a group has 3 to 60 members, this one 1"
            }
            for source, key in (
                ("borrowers", "borrower_id"),
                ("loans", "loan_id"),
                ("transactions", "transaction_id"),
                ("savings_deposits", "deposit_id"),
            ):
                quarantined = _quarantined(conn, source, key)
                assert set(quarantined) == its[source], source
                assert all(
                    rule.startswith("parent_quarantined: ") and f"group {group_id} is quarantined" in rule
                    for rule in quarantined.values()
                ), source
            assert conn.execute("select count(*) from raw.loans").fetchone()[0] > 0
            assert_every_file_accounted_for(conn)
            _outstanding_reconciles(conn)

        _set_member_count(groups_file, group_id, members)  # the branch sends the register corrected
        second = build_warehouse(settings, instance)
        assert second.success, "\n".join(second.failures())
        assert second.plan.registers == ["groups"] and not second.plan.ledger_months
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
            assert conn.execute("select count(*) from raw.quarantine").fetchone()[0] == 0
            for source, key in (
                ("loans", "loan_id"),
                ("transactions", "transaction_id"),
                ("savings_deposits", "deposit_id"),
            ):
                loaded = {k for (k,) in conn.execute(f"select {key} from raw.{source}").fetchall()}
                assert its[source] <= loaded, source
            assert_every_file_accounted_for(conn)
            _outstanding_reconciles(conn)
