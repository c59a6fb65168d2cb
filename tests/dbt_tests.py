"""`dbt test` run by hand on a warehouse copy, as a data engineer would after breaking a row: which
of the build's own dbt tests pass and which fail."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from dagster_project.settings import DBT_PROJECT_DIR


def dbt_test_statuses(warehouse: Path, target: Path, models: list[str], command: str = "test") -> dict[str, str]:
    """`dbt test` of the models' data tests (their YAML tests and the singular tests that read them)
    on `warehouse`: each test's name (`dbt_test_name`) and status ('pass', 'fail', 'error'). With
    `command` "build" the models are rebuilt first (their status 'success' under their own name)."""
    target.mkdir(parents=True, exist_ok=True)
    parsed = Path(os.environ.get("DBT_TARGET_PATH", DBT_PROJECT_DIR / "target")) / "partial_parse.msgpack"
    if parsed.exists():  # the session's parse (tests/conftest.py): dbt only re-reads the vars
        shutil.copy(parsed, target)
    subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            command,
            "--select",
            *models,
            "--exclude",
            "test_type:unit",
            "--target-path",
            str(target),
            "--log-path",
            str(target),
            "--quiet",
            "--target",
            "duckdb",
            "--vars",
            json.dumps({"warehouse_path": str(warehouse)}),  # the profile's path (settings.py dbt_vars)
        ],
        cwd=DBT_PROJECT_DIR,
        check=False,
        capture_output=True,
    )
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    nodes = json.loads((target / "manifest.json").read_text(encoding="utf-8"))["nodes"]
    return {dbt_test_name(nodes[r["unique_id"]]): r["status"] for r in results}


def dbt_test_name(node: dict) -> str:
    """A singular test by its file's name; a YAML test as `model.column: test` or `model: expression`."""
    meta = node.get("test_metadata")
    if not meta:
        return node["name"]
    model = node["attached_node"].split(".")[-1]
    kwargs = meta["kwargs"]
    if "expression" in kwargs:
        return f"{model}: {kwargs['expression']}"
    return f"{model}.{kwargs.get('column_name')}: {meta['name']}"
