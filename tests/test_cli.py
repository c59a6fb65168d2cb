"""Every command checks its arguments before any work and fails in one line: exit code 2 for a
value it cannot use (naming it and what is valid), 1 for what is not built yet."""

import pytest

from dagster_project.arguments import plain, resolve_province
from dagster_project.cli import main


@pytest.fixture
def empty_data(tmp_path, monkeypatch):
    for name, path in [("PCW_DATA_DIR", tmp_path), ("PCW_LANDING_DIR", tmp_path / "landing"),
                       ("PCW_WAREHOUSE", tmp_path / "warehouse.duckdb"), ("PCW_PUBLISHED_DIR", tmp_path / "published")]:
        monkeypatch.setenv(name, str(path))
    return tmp_path


def one_line_error(capsys) -> str:
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err + captured.out
    return lines[0]


@pytest.mark.parametrize("argv, says", [
    (["run", "--as-of", "2026-02-30"], "'2026-02-30' is not a date"),
    (["kpis", "--as-of", "2024-13-01"], "'2024-13-01' is not a date"),
    (["generate", "--start-year", "2030", "--end-year", "2020"], "--start-year 2030 is after --end-year 2020"),
    (["generate", "--provinces", "99"], "unknown province '99'; valid: 01 "),
])
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
