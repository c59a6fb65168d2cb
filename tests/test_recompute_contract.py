"""The recompute contract holds by construction: the incremental loan × month-end models read only
inputs that int_recompute__inputs fingerprints, and none of them escapes int_recompute__built."""

import json

import pytest

from dagster_project.defs.resources import dbt_project

pytestmark = pytest.mark.unit

# What an incremental model may read. A loan's attributes come from int_loan_attributes and a
# group's from int_groups__new_commune (each row fingerprinted); the ledgers by their months as
# loaded; schedules through the digest in int_loan_attributes; the points and capital entries are
# fingerprinted row by row; seeds are in the code fingerprint.
FINGERPRINTED = {
    "model.policy_credit_warehouse.int_recompute__window",
    "model.policy_credit_warehouse.int_loan_attributes",
    "model.policy_credit_warehouse.int_groups__new_commune",
    "model.policy_credit_warehouse.stg_branch__transactions",
    "model.policy_credit_warehouse.stg_branch__savings_deposits",
    "model.policy_credit_warehouse.stg_branch__loan_schedules",
    "model.policy_credit_warehouse.stg_branch__transaction_points",
    "model.policy_credit_warehouse.stg_branch__capital_sources",
}


def manifest() -> dict:
    return json.loads(dbt_project("duckdb").manifest_path.read_text(encoding="utf-8"))


def incremental_models(nodes: dict) -> set[str]:
    return {
        unique_id
        for unique_id, node in nodes.items()
        if node["resource_type"] == "model" and node["config"]["materialized"] == "incremental"
    }


def test_incremental_models_read_only_fingerprinted_inputs():
    nodes = manifest()["nodes"]
    incremental = incremental_models(nodes)
    assert len(incremental) >= 9
    for unique_id in incremental:
        parents = set(nodes[unique_id]["depends_on"]["nodes"])
        unfingerprinted = {p for p in parents - FINGERPRINTED - incremental if not p.startswith("seed.")}
        assert not unfingerprinted, f"{unique_id} reads {unfingerprinted}, which no recompute input covers"
        assert "model.policy_credit_warehouse.int_recompute__window" in parents, f"{unique_id} ignores the window"


def test_the_built_inputs_wait_for_every_incremental_model():
    nodes = manifest()["nodes"]
    built = set(nodes["model.policy_credit_warehouse.int_recompute__built"]["depends_on"]["nodes"])
    assert incremental_models(nodes) <= built
