"""A month missing from a branch's ledger, or only sent in a rejected file, stops the marts: they stay
as last built and published, and the build names the branch and the month. The month's file
arriving lets the next build through."""

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.cli.build import build_marts, build_warehouse
from dagster_project.ingest.control import CONTROL_SUFFIX
from dagster_project.settings import Settings
from dagster_project.warehouse.publish import published_mart
from sample_data import GenerationConfig, generate

pytestmark = pytest.mark.integration

SAMPLE = GenerationConfig(communes=1, start_year=2025, end_year=2025)
NOVEMBER, DECEMBER = "2025-11", "2025-12"


def month_files(root: Path, month: str) -> list[Path]:
    """A month's data files and their control files."""
    return sorted(root.glob(f"*/*/*_{month}.*"))


def transactions_file(paths: list[Path]) -> Path:
    [path] = [p for p in paths if p.parts[-3] == "transactions" and not p.name.endswith(CONTROL_SUFFIX)]
    return path


def land(final: Path, landing: Path, month: str) -> list[Path]:
    landed = []
    for path in month_files(final, month):
        target = landing / path.relative_to(final)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        landed.append(target)
    return landed


def build(settings: Settings, marts_only: bool = False):
    with dg.DagsterInstance.ephemeral() as instance:
        return (build_marts if marts_only else build_warehouse)(settings, instance)


def last_month_end(settings: Settings) -> tuple[str, str]:
    """The last month-end of the balance mart in the warehouse and in its published copy."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        built = conn.execute("select max(as_of_date) from mart_outstanding_balance").fetchone()[0]
    published = duckdb.sql(
        f"select max(as_of_date) from '{published_mart(settings.published_dir, 'mart_outstanding_balance')}'"
    ).fetchone()[0]
    return str(built), str(published)


@pytest.fixture(scope="module")
def final(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("holes_final")
    generate(root, SAMPLE)
    return root


def test_a_missing_month_stops_the_marts_until_it_arrives(final, tmp_path):
    settings = Settings(
        data_dir=tmp_path, landing_dir=tmp_path / "landing", warehouse_path=tmp_path / "warehouse.duckdb"
    )
    shutil.copytree(final, settings.landing_dir)
    for path in month_files(settings.landing_dir, NOVEMBER) + month_files(settings.landing_dir, DECEMBER):
        path.unlink()
    assert build(settings).success
    assert last_month_end(settings) == ("2025-10-31", "2025-10-31")

    # December arrives before November: loaded, but the marts are not built past the hole
    ledgers = {p.parts[-3]: p.parts[-2] for p in land(final, settings.landing_dir, DECEMBER)}
    assert set(ledgers) == {"transactions", "savings_deposits"}
    # and November under a name the contract does not know: ignored, so November is still missing
    november = transactions_file(month_files(final, NOVEMBER))
    shutil.copyfile(november, settings.landing_dir / "transactions" / november.parts[-2] / november.name.upper())
    result = build(settings)
    assert not result.success
    [failure] = result.failures()
    assert "marts_job / dbt_models" in failure and "Marts not built" in failure
    for ledger, branch in ledgers.items():
        assert f"branch {branch} has no {ledger} for {NOVEMBER} (no file arrived)" in failure
    assert last_month_end(settings) == ("2025-10-31", "2025-10-31")

    # November sent cut short: rejected, so still a hole, and the message says why
    november = transactions_file(land(final, settings.landing_dir, NOVEMBER))
    november.write_bytes(november.read_bytes()[:200])
    failure = "\n".join(build(settings).failures())  # the load fails, so the build stops there
    assert failure.startswith("ledger_job / raw__transactions: ") and november.name in failure
    result = build(settings, marts_only=True)  # as `pcw marts` or the sensor after a failed load
    assert not result.success
    failure = "\n".join(result.failures())
    assert (
        f"has no transactions for {NOVEMBER} ({november.relative_to(settings.landing_dir).as_posix()} rejected: "
        in failure
    )
    assert "savings_deposits" not in failure  # its November file loaded
    assert last_month_end(settings) == ("2025-10-31", "2025-10-31")

    # November whole: the marts reach December
    land(final, settings.landing_dir, NOVEMBER)
    result = build(settings)
    assert result.success, "\n".join(result.failures())
    assert last_month_end(settings) == ("2025-12-31", "2025-12-31")
