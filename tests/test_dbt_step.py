"""The dbt step keeps only its last few invocation folders, and starts from the last parse of its settings."""

import os

import pytest

from dagster_project.defs.dbt_models import invocation_folder, prune_invocations

pytestmark = pytest.mark.unit


def test_old_dbt_invocation_folders_are_pruned(tmp_path):
    folders = [tmp_path / f"dbt_models-here-{i}" for i in range(6)]
    for age, folder in enumerate([tmp_path / "dbt_models-there-0", *reversed(folders)]):
        folder.mkdir()
        os.utime(folder, (1_000_000 + age, 1_000_000 + age))
    (tmp_path / "manifest.json").write_text("{}")
    prune_invocations(folders[0], keep=3)
    # the oldest of this warehouse's go; another warehouse's folder (another build's) stays
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "dbt_models-here-0",
        "dbt_models-here-1",
        "dbt_models-here-2",
        "dbt_models-there-0",
        "manifest.json",
    ]


def test_a_build_starts_from_the_last_parse_with_the_same_vars(tmp_path):
    """dbt parses the whole project again when its vars differ from those of the parse it is given."""
    here, there = {"warehouse_path": "/a/w.duckdb"}, {"warehouse_path": "/b/w.duckdb"}
    first = invocation_folder(tmp_path, "run1", here)
    assert not first.exists()  # nothing to start from: dagster-dbt gives it the project's parse
    first.mkdir()
    (first / "partial_parse.msgpack").write_bytes(b"parsed with here")
    assert (invocation_folder(tmp_path, "run2", here) / "partial_parse.msgpack").read_bytes() == b"parsed with here"
    assert not invocation_folder(tmp_path, "run3", there).exists()
