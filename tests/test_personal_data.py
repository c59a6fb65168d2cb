"""No personal data leaves `raw`: a quality gate that fails on a borrower's phone or national ID, and
a landing file rejected on a borrower's line, name the row (file, line, borrower_id), never the
value, in audit.quality_results, audit.load_manifest and the Dagster run history."""

import json

import dagster as dg
import duckdb
import pytest

from dagster_project.domain.landing_contract import LANDING_SOURCES, PERSONAL_COLUMNS
from tests.personal_data import assert_no_personal_data, audit_texts, personal_values, run_history_texts
from tests.tiny_landing import materialize_registers, write, write_registers

pytestmark = pytest.mark.integration

BAD_PHONE = "0912 000 002"  # spaces: loads (no row rule on phones), breaks the suite's rule (one in two)
BAD_NATIONAL_ID = "08190000002"  # 11 digits


def test_personal_columns_are_marked_in_the_contract():
    assert PERSONAL_COLUMNS == {"full_name", "national_id", "phone"}
    assert set(LANDING_SOURCES["borrowers"].personal_columns) == PERSONAL_COLUMNS


@pytest.fixture
def instance():
    with dg.DagsterInstance.ephemeral() as instance:
        yield instance


def test_a_gate_failing_on_personal_data_names_the_row_and_keeps_the_value_out(tmp_path, instance):
    landing = tmp_path / "landing"
    write_registers(landing)
    write(
        landing,
        "borrowers",
        [
            {"borrower_id": "B1", "household_id": "H1"},
            {
                "borrower_id": "B2",
                "household_id": "H2",
                "full_name": "Hoàng Văn Thụ",
                "phone": BAD_PHONE,
                "national_id": BAD_NATIONAL_ID,
            },
        ],
    )

    result = materialize_registers(tmp_path, instance)

    [gate] = [e for e in result.get_asset_check_evaluations() if e.asset_key == dg.AssetKey(["raw", "borrowers"])]
    assert not gate.passed
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as conn:
        personal = personal_values(conn)
        examples = dict(
            conn.execute(
                "select rule, examples from audit.quality_results where guarded_table = 'raw.borrowers' and not passed"
            ).fetchall()
        )
        texts = audit_texts(conn)
    assert {BAD_PHONE, BAD_NATIONAL_ID, "Hoàng Văn Thụ"} <= personal
    assert json.loads(examples["phone has 10 digits starting 0 (99 % at least)"]) == [
        "borrowers/08/borrowers_08.csv:3 borrower_id=B2"
    ]
    assert json.loads(examples["national_id has 12 digits (99 % at least)"]) == [
        "borrowers/08/borrowers_08.csv:3 borrower_id=B2"
    ]
    assert_no_personal_data(personal, texts | run_history_texts(instance, result.run_id))


def test_a_file_rejected_on_a_borrowers_line_does_not_quote_it(tmp_path, instance):
    landing = tmp_path / "landing"
    write_registers(landing)
    path = write(
        landing, "borrowers", [{"borrower_id": "B1", "household_id": "H1"}, {"borrower_id": "B2", "household_id": "H2"}]
    )
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines[:2], lines[2] + ",một trường thừa"]) + "\n", encoding="utf-8")  # a stray field

    result = materialize_registers(tmp_path, instance)

    [failure] = [e for e in result.all_events if e.is_step_failure and e.step_key.endswith("borrowers")]
    assert "borrowers_08.csv" in failure.event_specific_data.error.message
    personal = {"Nguyễn Thị Hoa", "008190000001", "0912000001"}  # the tiny landing's borrower
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as conn:
        texts = audit_texts(conn)
    assert_no_personal_data(personal, texts | run_history_texts(instance, result.run_id))
