"""What `pcw run` says while it builds (progress.py), and the library warnings it no longer prints."""

import io
import re
import subprocess
import sys
import warnings

import dagster as dg
import pytest

from dagster_project.cli.progress import BuildProgress, StatusLine, count
from dagster_project.known_warnings import filter_known_warnings
from dagster_project.settings import PROJECT_ROOT
from tests.tiny_landing import materialize_registers, write, write_registers

pytestmark = pytest.mark.integration


def test_loading_the_definitions_prints_no_known_warning():
    loaded = subprocess.run(
        [sys.executable, "-W", "always", "-c", "import dagster_project.definitions"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=PROJECT_ROOT,
    )
    assert loaded.returncode == 0, loaded.stderr
    for category in (
        "BetaWarning",
        "PreviewWarning",
        "FutureWarning",
        "DeprecationWarning: Parameter `partitions_def`",
    ):
        assert category not in loaded.stderr, loaded.stderr


def test_only_the_known_warnings_are_filtered():
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        filter_known_warnings()
        warnings.warn_explicit(
            "Parameter `backfill_policy` of function `asset` is currently in beta",
            dg.BetaWarning,
            "decorator_utils.py",
            1,
            module="dagster._core.decorator_utils",
        )
        warnings.warn_explicit(
            "PySpark does not yet fully support pandas >= 3.0.0.",
            FutureWarning,
            "utils.py",
            1,
            module="pyspark.testing.utils",
        )
        # the same categories from elsewhere, or saying something else, still show
        warnings.warn_explicit(
            "Parameter `backfill_policy` of function `asset` is currently in beta",
            dg.BetaWarning,
            "ours.py",
            1,
            module="dagster_project.defs.loads",
        )
        warnings.warn_explicit(
            "Something else is in beta", dg.BetaWarning, "decorator_utils.py", 1, module="dagster._core.decorator_utils"
        )
        warnings.warn_explicit("A pandas change", FutureWarning, "frame.py", 1, module="pandas.core.frame")
    assert [str(w.message) for w in shown] == [
        "Parameter `backfill_policy` of function `asset` is currently in beta",
        "Something else is in beta",
        "A pandas change",
    ]


def test_counts_read_as_people_read_them():
    assert (count(123_456), count(1_234_567), count(0)) == ("123,456", "1.2 M", "0")


def test_a_status_line_off_a_terminal_prints_at_most_every_few_seconds_then_its_summary():
    out = io.StringIO()
    line = StatusLine(out, interactive=False, every=3600)
    line.update("dbt: 1/10 nodes")
    line.update("dbt: 2/10 nodes")
    line.done("dbt: 10/10 nodes")
    assert out.getvalue() == "dbt: 10/10 nodes\n"
    terminal = io.StringIO()
    line = StatusLine(terminal, interactive=True)
    line.update("dbt: 1/10 nodes")
    line.done("dbt: 10/10 nodes")
    assert terminal.getvalue() == "\rdbt: 1/10 nodes\x1b[K\rdbt: 10/10 nodes\x1b[K\n"


@pytest.fixture
def instance():
    with dg.DagsterInstance.ephemeral() as instance:
        yield instance


def test_a_load_says_its_tables_rows_and_gates_from_the_runs_events(tmp_path, instance):
    landing = tmp_path / "landing"
    write_registers(landing, loans=3)
    # phone numbers a branch system cut short: the borrowers' gate fails (a rule over many rows, 99 %)
    write(landing, "borrowers", [{"borrower_id": f"B{i}", "phone": "09120"} for i in (1, 2, 3)])
    result = materialize_registers(tmp_path, instance)

    out = io.StringIO()
    progress = BuildProgress(out, interactive=False)
    progress.start("registers_job")
    for entry in instance.all_logs(result.run_id):  # the events the build's listener sees, in order
        progress.on_event(entry)
    progress.finish(result.success)

    loaded, gates = out.getvalue().splitlines()
    # the point, the group and the borrowers load (the other registers have no files: empty
    # tables); the failed gate on borrowers stops loans and their schedules (of the registers only the
    # borrowers keep a suite: docs/quality.md)
    assert re.fullmatch(r"Loading registers … 6 tables, 5 rows \(\d+ s\) — FAILED", loaded), loaded
    assert gates == "Quality gates: 0 passed, 1 FAILED (raw/borrowers)"
