"""`pcw plan export` as a provincial planner uses it, on the 3-commune sample: the workbook opened
again (every sheet there, every total equal to the mart's figure summed here with DuckDB over the
published Parquet, print settings set), CSV for people against Parquet for machines, the HTML
report's formats, file names that never collide, and the workbook printed through LibreOffice."""

import re
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest

from bench.print_workbook import page_count, print_to_pdf, soffice
from dagster_project.cli.main import main
from dagster_project.outputs.plan import FORMATS, export_plan
from dagster_project.outputs.plan.labels import MILLION, PLAN_COLUMNS, SCENARIO_NAMES, SOURCE_NAMES
from dagster_project.outputs.plan.tables import CSV_DECIMAL, CSV_SEPARATOR, PARQUET_COLUMNS
from dagster_project.outputs.plan.workbook import (
    ASSUMPTIONS,
    CAPITAL,
    CHECKS,
    COVER,
    LEVEL_SHEETS,
    LEVEL_YEAR_TOTAL,
    OFFICE_TOTAL,
    PROGRAM_TOTAL,
    SOURCE_TOTAL,
    VS_ACTUAL,
    YEAR_TOTAL,
)
from dagster_project.warehouse.publish import published_mart

pytestmark = pytest.mark.integration

LEVELS = ["province", "office", "commune"]
SCENARIOS = ["demand", "capital"]
LABEL = {column: label for column, (label, _) in PLAN_COLUMNS.items()}
FIGURES = [
    "opening_principal",
    "collections",
    "relending",
    "net_new_lending",
    "new_disbursement",
    "closing_principal",
    "capital_needed",
    "demand_disbursement",
    "unmet_demand",
]
COUNTS = ["planned_households", "planned_beneficiaries"]


@pytest.fixture(scope="module")
def settings(small_warehouse):
    return small_warehouse[0]


@pytest.fixture(scope="module")
def exports(settings, tmp_path_factory) -> dict[str, list[Path]]:
    """Every format, every level, each scenario, into one folder: nothing overwrites anything."""
    out = tmp_path_factory.mktemp("exports")
    return {s: export_plan(settings.published_dir, "08", LEVELS, list(FORMATS), out, s) for s in SCENARIOS}


def sql(settings, query: str, **marts: str) -> pd.DataFrame:
    """A query over the published marts, each named by its table: `from {plan}`."""
    tables = {k: f"read_parquet('{published_mart(settings.published_dir, m)}')" for k, m in marts.items()}
    return duckdb.sql(query.format(**tables)).df()


def sheet_records(sheet) -> list[dict]:
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row)) for row in rows[1:] if any(v is not None for v in row)]


def one(paths: list[Path], suffix: str, contains: str = "") -> Path:
    [path] = [p for p in paths if p.suffix == suffix and contains in p.name]
    return path


def test_no_export_overwrites_another(exports):
    every = [p for paths in exports.values() for p in paths]
    assert len(every) == len(set(every))
    for scenario, paths in exports.items():
        assert all(scenario in p.name and "08-tuyen-quang" in p.name for p in paths)
        for level in LEVELS:
            assert one(paths, ".csv", f"_{level}_") and one(paths, ".parquet", f"_{level}_")
    assert {p.suffix for p in every} == {".xlsx", ".csv", ".parquet", ".png", ".html"}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_level_sheet_totals_equal_the_mart(settings, exports, scenario):
    workbook = openpyxl.load_workbook(one(exports[scenario], ".xlsx"))
    assert workbook.sheetnames == [COVER, *(LEVEL_SHEETS[lv] for lv in LEVELS), CHECKS, VS_ACTUAL, CAPITAL, ASSUMPTIONS]
    sums = ", ".join(f"sum({c}) as {c}" for c in FIGURES + COUNTS)
    for level in LEVELS:
        records = sheet_records(workbook[LEVEL_SHEETS[level]])
        plan = f"{{plan}} where scenario = '{scenario}' and unit_level = '{level}' and province_code = '08'"
        expected = {
            "year": sql(settings, f"select plan_year, {sums} from {plan} group by all", plan="mart_credit_plan"),
            "program": sql(
                settings, f"select plan_year, program_name, {sums} from {plan} group by all", plan="mart_credit_plan"
            ),
            "source": sql(
                settings, f"select plan_year, funding_source, {sums} from {plan} group by all", plan="mart_credit_plan"
            ),
        }
        office = {"commune": "parent_unit_code", "office": "unit_code"}.get(level)
        if office:
            expected["office"] = office_totals(settings, scenario, level, office, sums)
        labels = {
            "year": lambda r: (LABEL["unit_name"], YEAR_TOTAL.format(r["plan_year"])),
            "program": lambda r: (LABEL["program_name"], PROGRAM_TOTAL.format(r["program_name"])),
            "source": lambda r: (LABEL["funding_source"], SOURCE_TOTAL.format(SOURCE_NAMES[r["funding_source"]])),
            "office": lambda r: (LABEL["unit_name"], OFFICE_TOTAL.format(r["office"])),
        }
        for kind, frame in expected.items():
            assert len(frame), (level, kind)
            for row in frame.to_dict("records"):
                column, label = labels[kind](row)
                [shown] = [r for r in records if r[column] == label and r[LABEL["plan_year"]] == row["plan_year"]]
                for figure in FIGURES:
                    assert shown[LABEL[figure]] * MILLION == pytest.approx(row[figure], rel=1e-12, abs=1e-3), (
                        level,
                        kind,
                        label,
                        figure,
                    )
                for count in COUNTS:
                    assert shown[LABEL[count]] == row[count]
        details = [
            r for r in records if r[LABEL["program_name"]] and not str(r[LABEL["program_name"]]).startswith("Cộng")
        ]
        assert len(details) == int(sql(settings, f"select count(*) as n from {plan}", plan="mart_credit_plan").n[0])
        for r in records:  # relending and net new lending are the two parts of new lending: no double count
            assert r[LABEL["relending"]] + r[LABEL["net_new_lending"]] == pytest.approx(r[LABEL["new_disbursement"]])


def office_totals(settings, scenario: str, level: str, office: str, sums: str) -> pd.DataFrame:
    return sql(
        settings,
        f"""
        select p.plan_year, offices.unit_name as office, {sums.replace("sum(", "sum(p.")}
        from {{plan}} as p
        join (select distinct province_code, unit_code, unit_name from {{plan}} where unit_level = 'office') as offices
            on offices.province_code = p.province_code and offices.unit_code = p.{office}
        where p.scenario = '{scenario}' and p.unit_level = '{level}' and p.province_code = '08'
        group by all
        """,
        plan="mart_credit_plan",
    )


def test_every_sheet_prints_landscape_one_page_wide_with_its_header_row_on_every_page(exports):
    workbook = openpyxl.load_workbook(one(exports["capital"], ".xlsx"))
    for sheet in workbook.worksheets:
        assert sheet.page_setup.orientation == "landscape", sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0), sheet.title
        assert "Tỉnh Tuyên Quang" in sheet.oddHeader.left.text and "&P" in sheet.oddFooter.right.text
        if sheet.title not in (COVER, ASSUMPTIONS):
            assert sheet.print_title_rows == "$1:$1", sheet.title
            assert all(cell.alignment.wrap_text for cell in sheet[1]), sheet.title
    # names are not cut: the name column is as wide as the longest commune name (or wraps it)
    communes = workbook[LEVEL_SHEETS["commune"]]
    names = [r[LABEL["unit_name"]] for r in sheet_records(communes) if r[LABEL["unit_code"]]]
    column = list(LABEL).index("unit_name") + 1
    assert communes.column_dimensions[openpyxl.utils.get_column_letter(column)].width >= max(map(len, names))


def test_the_cover_says_what_the_plan_is_made_from(settings, exports):
    cover = openpyxl.load_workbook(one(exports["capital"], ".xlsx"))[COVER]
    facts = {row[0]: row[1] for row in cover.iter_rows(values_only=True) if row[0]}
    as_of = sql(
        settings, "select max(as_of_date) as d from {b} where province_code = '08'", b="mart_outstanding_balance"
    )
    assert facts["Tỉnh"] == "Tỉnh Tuyên Quang (mã 08)"
    assert facts["Kịch bản"] == SCENARIO_NAMES["capital"]
    assert facts["Ngày mở kế hoạch (dư nợ đầu kỳ)"] == "31/12/2025"
    assert facts["Số liệu thực hiện đến ngày"] == f"{as_of.d[0]:%d/%m/%Y}"
    assert re.fullmatch(r"\d\d:\d\d ngày \d\d/\d\d/20\d\d \(giờ Việt Nam\)", facts["Thời điểm lập"])
    assert facts["Bản số liệu nguồn"].startswith((settings.published_dir / "marts").resolve().name)
    assert re.match(r"[0-9a-f]{16} ", facts["Dấu vân tay số liệu"])
    # the same marts give the same fingerprint: both scenarios' workbooks were made from them
    demand = openpyxl.load_workbook(one(exports["demand"], ".xlsx"))[COVER]
    assert facts["Dấu vân tay số liệu"] in [row[1] for row in demand.iter_rows(values_only=True)]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_each_check_missed_is_explained_in_vietnamese(settings, exports, scenario):
    records = sheet_records(openpyxl.load_workbook(one(exports[scenario], ".xlsx"))[CHECKS])
    checks = sql(
        settings,
        f"select unit_level, unit_code, plan_year, misses_growth_target::int + misses_overdue_ceiling::int "
        f"+ misses_local_capital_path::int + misses_local_entrustment::int as missed, local_entrustment_input_missing "
        f"from {{checks}} where province_code = '08' and scenario = '{scenario}'",
        checks="mart_credit_plan_checks",
    )
    table = [r for r in records if r["Năm kế hoạch"] is not None]
    assert len(table) == len(checks)
    for row in checks.to_dict("records"):
        [shown] = [
            r
            for r in table
            if r["Mã đơn vị"] == row["unit_code"]
            and r["Năm kế hoạch"] == row["plan_year"]
            and r["Cấp"] == {"province": "Tỉnh", "office": "Phòng giao dịch", "commune": "Xã"}[row["unit_level"]]
        ]
        if row["missed"]:
            assert shown["Kết quả"] == f"Không đạt ({row['missed']} chỉ tiêu)"
            assert len(shown["Giải thích"].splitlines()) == row["missed"]
            assert "không đạt" not in shown["Giải thích"]  # each says what was measured against what
        else:
            assert (shown["Kết quả"], shown["Giải thích"]) == ("Đạt", None)
        if row["local_entrustment_input_missing"]:
            assert "chưa có kế hoạch vốn ngân sách địa phương" in shown["Giải thích"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_capital_and_plan_against_actual_sheets(settings, exports, scenario):
    workbook = openpyxl.load_workbook(one(exports[scenario], ".xlsx"))
    capital = sheet_records(workbook[CAPITAL])
    expected = sql(
        settings,
        "select unit_level, plan_year, sum(capital_needed) as needed, sum(capital_used) as used, "
        "sum(unmet_demand) as unmet, sum(capital_available) as available from {capital} "
        f"where province_code = '08' and scenario = '{scenario}' group by all",
        capital="mart_plan_capital",
    )
    level_names = {"province": "tỉnh", "office": "phòng giao dịch", "commune": "xã"}
    for row in expected.to_dict("records"):
        label = LEVEL_YEAR_TOTAL.format(level_names[row["unit_level"]], row["plan_year"])
        [total] = [r for r in capital if r["Đơn vị"] == label]
        assert total["Nguồn vốn cần theo nhu cầu (triệu đồng)"] * MILLION == pytest.approx(row["needed"])
        assert total["Nguồn vốn sử dụng (triệu đồng)"] * MILLION == pytest.approx(row["used"])
        assert total["Nhu cầu vay chưa đáp ứng (triệu đồng)"] * MILLION == pytest.approx(row["unmet"])
    # the sample ends in 2025, before the plan's first year: no actual yet, and the sheet says so
    assert sql(settings, "select count(*) as n from {vs}", vs="mart_plan_vs_actual").n[0] == 0
    [note] = sheet_records(workbook[VS_ACTUAL])
    assert "Chưa có năm kế hoạch nào có số liệu thực hiện" in next(iter(note.values()))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_csv_for_people_and_parquet_for_machines_hold_the_same_rows(settings, exports, scenario):
    for level in LEVELS:
        parquet = pd.read_parquet(one(exports[scenario], ".parquet", f"_{level}_"))
        assert list(parquet.columns) == PARQUET_COLUMNS
        mart = sql(
            settings,
            f"select {', '.join(PARQUET_COLUMNS)} from {{plan}} where scenario = '{scenario}' "
            f"and unit_level = '{level}' and province_code = '08'",
            plan="mart_credit_plan",
        )
        key = ["plan_year", "unit_code", "program_code", "funding_source"]
        pd.testing.assert_frame_equal(
            parquet.sort_values(key).reset_index(drop=True),
            mart.sort_values(key).reset_index(drop=True),
            check_dtype=False,
        )
        path = one(exports[scenario], ".csv", f"_{level}_")
        assert path.read_bytes().startswith(b"\xef\xbb\xbf" + "Năm kế hoạch".encode() + CSV_SEPARATOR.encode())
        people = pd.read_csv(path, sep=CSV_SEPARATOR, decimal=CSV_DECIMAL, encoding="utf-8-sig")
        assert len(people) == len(parquet)
        for figure in FIGURES:  # whole millions
            assert people[LABEL[figure]].dtype == "int64"
            assert (people[LABEL[figure]] == (parquet[figure] / MILLION).round().astype("int64")).all(), figure
        for count in COUNTS:
            assert (people[LABEL[count]] == parquet[count]).all()
        growth = people[LABEL["growth_rate"]]
        assert (growth.fillna(-1) == (100 * parquet.growth_rate).round(1).fillna(-1)).all()
        assert set(people[LABEL["funding_source"]]) <= set(SOURCE_NAMES.values())


def test_the_html_report_covers_every_level_with_planners_formats(settings, exports):
    report = one(exports["capital"], ".html").read_text(encoding="utf-8")
    assert "<title>Kế hoạch tín dụng chính sách 2026–2030: Tỉnh Tuyên Quang</title>" in report
    assert "tỉnh 08" not in report.lower()
    for heading in ("Cấp tỉnh", "Cấp phòng giao dịch", "Cấp xã"):
        assert f"<h2>{heading} (" in report
    assert report.count("<img") == 3 and report.count("<tr class=total>") == 3 * 5
    cells = re.findall(r'<td class="n">([^<]*)</td>', report)
    percents = [c for c in cells if c.endswith("%")]
    assert percents and all(re.fullmatch(r"-?\d+\.\d %", c) for c in percents)
    others = [c for c in cells if not c.endswith("%")]
    assert all(re.fullmatch(r"-?\d{1,3}(,\d{3})*|–", c) for c in others), others[:5]  # no 294.0, no 0.297
    plan = sql(
        settings,
        "select plan_year, sum(planned_households) as households, sum(closing_principal) as closing, "
        "sum(opening_principal) as opening from {plan} where scenario = 'capital' and unit_level = 'province' "
        "and province_code = '08' group by all order by 1",
        plan="mart_credit_plan",
    )
    first = plan.iloc[0]
    assert f">{int(first.households):,}<" in report
    assert f"{100 * (first.closing - first.opening) / first.opening:.1f} %" in report


def test_the_command_takes_the_province_by_name_and_says_what_it_wrote(settings, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PCW_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PCW_PUBLISHED_DIR", str(settings.published_dir))
    argv = ["plan", "export", "--province", "tuyen quang", "--scenario", "capital", "--out", str(tmp_path)]
    assert main([*argv, "--level", "office", "--format", "xlsx"]) == 0
    assert main([*argv, "--level", "commune", "--format", "xlsx"]) == 0
    written = capsys.readouterr().out.split()
    assert [Path(p).name for p in written] == [
        "credit_plan_08-tuyen-quang_office_capital.xlsx",
        "credit_plan_08-tuyen-quang_commune_capital.xlsx",
    ]
    assert all(Path(p).exists() for p in written)
    with pytest.raises(SystemExit) as usage:  # a usage error, naming the provinces there are
        main(["plan", "export", "--province", "Hà Giang", "--out", str(tmp_path)])
    assert usage.value.code == 2 and "valid: 08 Tỉnh Tuyên Quang" in capsys.readouterr().err


@pytest.mark.skipif(not soffice(), reason="LibreOffice (soffice) is not installed: the printed workbook is not checked")
def test_the_printed_workbook_is_a_few_landscape_pages(exports, tmp_path):
    pdf = print_to_pdf(one(exports["capital"], ".xlsx"), tmp_path)
    pages = page_count(pdf)
    # a page per sheet at least; the 3-commune sample printed on 36 portrait pages before
    assert 8 <= pages <= 24, pages
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)", pdf.read_bytes())
    assert boxes and all(float(width) > float(height) for width, height in boxes)  # landscape
