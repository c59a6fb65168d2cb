"""The dbt step keeps only its last few invocation folders."""

import os

import pytest

from dagster_project.defs.dbt_models import prune_invocations

pytestmark = pytest.mark.unit


def test_old_dbt_invocation_folders_are_pruned(tmp_path):
    folders = [tmp_path / f"dbt_models-{i}" for i in range(6)]
    for age, folder in enumerate(reversed(folders)):
        folder.mkdir()
        os.utime(folder, (1_000_000 + age, 1_000_000 + age))
    (tmp_path / "manifest.json").write_text("{}")
    prune_invocations(folders[0], keep=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dbt_models-0", "dbt_models-1", "dbt_models-2", "manifest.json"]
