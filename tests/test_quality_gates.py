"""The Great Expectations suites in expectations/ catch what they promise to catch."""

import json

import duckdb
import pandas as pd

from dagster_project.checks.expectations import EXPECTATIONS_DIR, load_suite, suite_columns, validate_table


def test_every_suite_is_valid_json_with_named_rules():
    suites = sorted(EXPECTATIONS_DIR.glob("*/*.json"))
    assert len(suites) >= 13
    for path in suites:
        suite = json.loads(path.read_text(encoding="utf-8"))
        assert suite["name"] == f"{path.parent.name}.{path.stem}"
        assert all(e["meta"]["rule"] for e in suite["expectations"])


def test_group_suite_names_the_rule_the_count_and_examples(tmp_path):
    groups = pd.DataFrame(
        {
            "group_id": ["G1", "G2", "G3", "G3"],
            "village_name": ["Thôn Làng Ấm", "Thôn Nà Héc", None, "Bản Khuôn Hà"],
            "organisation_code": ["HPN", "HND", "XYZ", "DTN"],
            "member_count": [25, 2, 61, 40],
            "transaction_point_id": ["TP1"] * 4,
            "commune_code": ["02236"] * 4,
        }
    )
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        conn.execute("create schema raw")
        conn.execute("create table raw.groups as select * from groups")
        outcomes = {o.rule: o for o in validate_table(conn, "raw", "groups")}

    assert set(suite_columns(load_suite("raw", "groups"))) <= set(groups.columns)
    size = outcomes["a group has 3 to 60 members"]
    assert not size.success and size.unexpected_count == 2 and sorted(size.examples) == [2, 61]
    assert outcomes["group_id is unique"].unexpected_count == 2
    assert outcomes["organisation_code is a known code"].examples == ["XYZ"]
    assert outcomes["village_name is present"].unexpected_count == 1
    assert outcomes["commune_code is a five-digit commune code"].success
