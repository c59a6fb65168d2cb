"""Every command checks its arguments before any work and fails in one line: exit code 2 for a
value it cannot use (naming it and what is valid), 1 for what is not built yet."""

import subprocess
import sys

import duckdb
import pytest

from dagster_project.cli.arguments import plain, resolve_province
from dagster_project.cli.main import main
from dagster_project.settings import read_warehouse

pytestmark = pytest.mark.e2e


@pytest.fixture
def empty_data(tmp_path, monkeypatch):
    for name, path in [
        ("PCW_DATA_DIR", tmp_path),
        ("PCW_LANDING_DIR", tmp_path / "landing"),
        ("PCW_WAREHOUSE", tmp_path / "warehouse.duckdb"),
        ("PCW_PUBLISHED_DIR", tmp_path / "published"),
    ]:
        monkeypatch.setenv(name, str(path))
    return tmp_path


def one_line_error(capsys) -> str:
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err + captured.out
    return lines[0]


@pytest.mark.parametrize(
    "argv, says",
    [
        (["run", "--as-of", "2026-02-30"], "'2026-02-30' is not a date"),
        (["kpis", "--as-of", "2024-13-01"], "'2024-13-01' is not a date"),
        (["generate", "--start-year", "2030", "--end-year", "2020"], "--start-year 2030 is after --end-year 2020"),
        (["generate", "--provinces", "99"], "unknown province '99'; valid: 01 "),
    ],
)
def test_a_bad_value_is_a_usage_error_in_one_line_before_any_work(argv, says, empty_data, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    assert says in one_line_error(capsys)
    assert not (empty_data / "landing").exists() and not (empty_data / "warehouse.duckdb").exists()


@pytest.mark.parametrize("argv", [["kpis"], ["fingerprint"], ["plan", "export"]])
def test_reading_commands_before_any_build_say_so_in_one_line(argv, empty_data, capsys):
    assert main(argv) == 1
    assert "pcw run" in one_line_error(capsys)


def test_provinces_by_code_or_by_name_as_people_type_them():
    provinces = {"08": "Tỉnh Tuyên Quang", "01": "Thành phố Hà Nội"}
    for typed in ("08", "Tỉnh Tuyên Quang", "Tuyên Quang", "tuyen quang", "TUYÊN QUANG"):
        assert resolve_province(typed, provinces) == "08"
    assert resolve_province("Ha Noi", provinces) == "01"
    assert plain("  Tỉnh  Đắk Lắk ") == "dak lak"
    with pytest.raises(Exception, match="valid: 01 Thành phố Hà Nội, 08 Tỉnh Tuyên Quang"):
        resolve_province("Tuyên", provinces)


def test_a_reader_waits_for_the_writer_then_says_so_in_one_line(tmp_path):
    """DuckDB locks the file across processes: a reader in another process waits, then gives up clearly."""
    path = tmp_path / "warehouse.duckdb"
    writer = duckdb.connect(str(path))  # holds the file's lock, as a load does
    code = (
        "import sys\nfrom dagster_project.settings import WarehouseBusy, read_warehouse\n"
        f"try:\n    read_warehouse({str(path)!r}, wait_seconds=2)\n"
        "except WarehouseBusy as busy:\n    print(busy)\n    sys.exit(3)"
    )
    try:
        reader = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    finally:
        writer.close()
    assert reader.returncode == 3, reader.stderr
    assert "waiting up to 2 s" in reader.stdout and "still being written" in reader.stdout
    with read_warehouse(path, wait_seconds=0) as conn:  # the writer gone, the reader gets in
        assert conn.execute("select 1").fetchone() == (1,)
