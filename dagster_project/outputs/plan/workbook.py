"""The workbook a province signs: a cover sheet, a sheet per level with subtotals by office and
program and totals by funding source, the Decision 05 checks explained, plan against actual,
capital against need, and the assumptions; every sheet ready to print (landscape, fit to the
page's width, header row on every page, names not cut)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from dagster_project.outputs.plan import marts
from dagster_project.outputs.plan.labels import (
    AMOUNTS,
    CAPITAL_COLUMNS,
    CHECK_COLUMNS,
    CHECK_FLAGS,
    LEVEL_NAMES,
    MET,
    MILLION,
    MISSED,
    PLAN_COLUMNS,
    SCENARIO_NAMES,
    SCENARIO_RULES,
    SOURCE_NAMES,
    VS_ACTUAL_COLUMNS,
    percent,
)

COVER, CHECKS, VS_ACTUAL, CAPITAL, ASSUMPTIONS = (
    "Trang bìa",
    "Kiểm tra QĐ 05",
    "Kế hoạch và thực hiện",
    "Nguồn vốn",
    "Giả định",
)
LEVEL_SHEETS = {level: f"Cấp {name.lower()}" for level, name in LEVEL_NAMES.items()}
SHEET_CONTENTS = {
    COVER: "Tỉnh, kịch bản, ngày mở kế hoạch, số liệu đến ngày, thời điểm lập, bản số liệu nguồn; ký duyệt",
    **{
        sheet: f"Kế hoạch từng {LEVEL_NAMES[level].lower()} theo năm, chương trình và nguồn vốn; "
        "cộng theo phòng giao dịch, theo chương trình, theo nguồn vốn và tổng cộng từng năm"
        for level, sheet in LEVEL_SHEETS.items()
    },
    CHECKS: "Các chỉ tiêu của Quyết định 05/QĐ-TTg cho từng đơn vị và năm, chỉ tiêu không đạt được giải thích",
    VS_ACTUAL: "Dư nợ và cho vay kế hoạch so với thực hiện, các năm kế hoạch đã có số liệu sổ cái",
    CAPITAL: "Nguồn vốn dự kiến được giao so với nguồn vốn cần, thiếu vốn và nhu cầu vay chưa đáp ứng",
    ASSUMPTIONS: "Tỷ lệ thu nợ, thời hạn trả nợ, nguồn vốn dự kiến và các mục tiêu chiến lược đã dùng",
}

OFFICE_TOTAL = "Cộng {}"
PROGRAM_TOTAL = "Cộng chương trình: {}"
SOURCE_TOTAL = "Cộng nguồn vốn: {}"
YEAR_TOTAL = "Tổng cộng năm {}"
LEVEL_YEAR_TOTAL = "Tổng cộng cấp {} năm {}"

FORMATS = {"vnd": "#,##0", "count": "#,##0", "rate": "0.0%", "year": "0", "text": "@", "wide": "@"}
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
TOTAL_FILLS = {
    "office": PatternFill("solid", fgColor="F2F2F2"),
    "program": PatternFill("solid", fgColor="FFF2CC"),
    "source": PatternFill("solid", fgColor="E2EFDA"),
    "year": PatternFill("solid", fgColor="D9D9D9"),
}
THIN = Side(style="thin", color="A6A6A6")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
NUMBER_WIDTH = 11  # the widest amount in millions (9,999,999: ten trillion đồng) with room to spare
TEXT_WIDTH_CAP = 48  # wider names wrap onto a second line rather than push the page smaller


def write_workbook(published_dir: Path, province: str, levels: list[str], scenario: str, path: Path) -> None:
    snapshot = marts.snapshot(published_dir, province, marts.provinces(published_dir)[province], scenario)
    workbook = Workbook()
    cover = workbook.active
    cover.title = COVER
    sheets = [LEVEL_SHEETS[level] for level in levels]
    write_cover(cover, snapshot, sheets)
    for level in levels:
        body = level_sheet_rows(marts.plan_rows(published_dir, province, level, scenario), level)
        columns = {c: v for c, v in PLAN_COLUMNS.items() if level == "commune" or c != "office_name"}
        write_table(workbook.create_sheet(LEVEL_SHEETS[level]), body, columns, snapshot)
    write_checks(workbook.create_sheet(CHECKS), marts.checks(published_dir, province, levels, scenario), snapshot)
    vs = marts.plan_vs_actual(published_dir, province, levels, scenario)
    write_table(
        workbook.create_sheet(VS_ACTUAL),
        with_level_totals(vs, VS_ACTUAL_COLUMNS),
        VS_ACTUAL_COLUMNS,
        snapshot,
        empty=f"Chưa có năm kế hoạch nào có số liệu thực hiện (sổ cái đến ngày {snapshot.data_as_of:%d/%m/%Y})."
        if snapshot.data_as_of
        else "Chưa có số liệu thực hiện.",
    )
    write_capital(workbook.create_sheet(CAPITAL), published_dir, province, levels, snapshot)
    write_assumptions(workbook.create_sheet(ASSUMPTIONS), marts.assumptions(province), snapshot)
    workbook.save(path)


def level_sheet_rows(rows: pd.DataFrame, level: str) -> pd.DataFrame:
    """Each year's rows, each office's followed by its subtotal, then the year's totals by program,
    by funding source and in all. `row_kind` says which is which (detail, office, program, source, year)."""
    office = {"commune": "office_name", "office": "unit_name"}.get(level)
    parts = []
    for year, in_year in rows.groupby("plan_year", sort=True):
        groups = in_year.groupby(office, sort=False) if office else [(None, in_year)]
        for name, in_office in groups:
            parts.append(in_office.assign(row_kind="detail"))
            if office:
                parts.append(total_row(in_office, OFFICE_TOTAL.format(name), "office", year))
        for program, part in in_year.groupby("program_name", sort=True):
            parts.append(total_row(part, PROGRAM_TOTAL.format(program), "program", year))
        for source, part in in_year.groupby("funding_source", sort=True):
            parts.append(total_row(part, SOURCE_TOTAL.format(SOURCE_NAMES.get(source, source)), "source", year))
        parts.append(total_row(in_year, YEAR_TOTAL.format(year), "year", year))
    return pd.concat(parts, ignore_index=True)


# a total's label goes in the column of what it adds up over
TOTAL_LABEL_COLUMNS = {
    "office": "unit_name",
    "program": "program_name",
    "source": "funding_source",
    "year": "unit_name",
}


def total_row(rows: pd.DataFrame, label: str, kind: str, year: int) -> pd.DataFrame:
    total = rows[AMOUNTS].sum().to_frame().T.assign(plan_year=year, row_kind=kind, **{TOTAL_LABEL_COLUMNS[kind]: label})
    return marts.with_growth(total)


def with_level_totals(frame: pd.DataFrame, columns: dict) -> pd.DataFrame:
    """A total row after each level's year (over units, programs and sources); completion recomputed."""
    if frame.empty:
        return frame
    amounts = [c for c, (_, kind) in columns.items() if kind == "vnd" and c in frame]
    parts = []
    for (level_name, year), part in frame.groupby(["level_name", "plan_year"], sort=False):
        total = part[amounts].sum().to_frame().T
        total = total.assign(
            plan_year=year, unit_name=LEVEL_YEAR_TOTAL.format(level_name.lower(), year), row_kind="year"
        )
        if "planned_closing_principal" in total:
            total["outstanding_completion"] = total.actual_closing_principal / total.planned_closing_principal
            total["disbursement_completion"] = total.actual_disbursement / total.planned_disbursement.where(
                total.planned_disbursement != 0
            )
        parts += [part.assign(row_kind="detail"), total]
    return pd.concat(parts, ignore_index=True)


def write_table(
    sheet: Worksheet, frame: pd.DataFrame, columns: dict, snapshot: marts.Snapshot, empty: str | None = None
) -> None:
    """A header row, then the rows: amounts in millions of đồng, names of sources; totals bold."""
    sheet.append([label for label, _ in columns.values()])
    if frame.empty:
        sheet.append([empty or "Không có số liệu."])
    for record in frame.to_dict("records"):
        sheet.append([shown(column, kind, record.get(column)) for column, (_, kind) in columns.items()])
        kind = record.get("row_kind", "detail")
        if kind != "detail":
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
                cell.fill = TOTAL_FILLS[kind]
    style_table(sheet, columns)
    print_ready(sheet, snapshot)


def shown(column: str, kind: str, value):
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if kind == "vnd":
        return float(value) / MILLION
    if column == "funding_source":
        return SOURCE_NAMES.get(value, value)
    if kind in ("count", "year"):
        return int(value)
    if kind == "rate":
        return float(value)
    return value if isinstance(value, str) else str(value)


def style_table(sheet: Worksheet, columns: dict, header_row: int = 1) -> None:
    """Formats, borders, and widths that fit the longest name (capped: longer ones wrap)."""
    for index, (label, kind) in enumerate(columns.values(), start=1):
        letter = get_column_letter(index)
        cells = sheet[letter][header_row:]
        for cell in cells:
            cell.number_format = FORMATS[kind]
            cell.border = GRID
            cell.alignment = Alignment(wrap_text=kind in ("text", "wide"), vertical="top")
        if kind in ("text", "wide"):
            # the longest name of a detail row: a longer total label wraps
            longest = max((len(str(c.value)) for c in cells if c.value is not None and not c.font.bold), default=8)
            cap = 70 if kind == "wide" else TEXT_WIDTH_CAP
            width = min(cap, max(longest + 2, longest_word(label) + 2, 8))
        elif kind == "year":
            width = 8
        else:
            width = NUMBER_WIDTH
        sheet.column_dimensions[letter].width = width
    header = sheet[header_row]
    for cell in header:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.border = GRID
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
    fit_row_heights(sheet)
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)


def fit_row_heights(sheet: Worksheet) -> None:
    """Rows tall enough for their wrapped text: neither Excel nor LibreOffice grows a row for
    wrapped text in a file it opens, so a long name would be cut or overlap the next row."""

    def width_of(letter: str) -> float:
        return sheet.column_dimensions[letter].width or 10

    merged = {  # a merged cell is as wide as the columns it spans
        r.start_cell.coordinate: sum(width_of(get_column_letter(c)) for c in range(r.min_col, r.max_col + 1))
        for r in sheet.merged_cells.ranges
    }
    for row in sheet.iter_rows():
        lines = 1
        for cell in row:
            if isinstance(cell.value, str) and cell.alignment.wrap_text:
                width = merged.get(cell.coordinate) or width_of(cell.column_letter)
                per_line = max(1, int(width * (1.0 if cell.font.bold else 1.2)) - 1)
                lines = max(lines, sum(-(-max(1, len(part)) // per_line) for part in cell.value.split("\n")))
        if lines > 1:
            sheet.row_dimensions[row[0].row].height = 15 * lines


def longest_word(text: str) -> int:
    return max(len(word) for word in text.split())


def print_ready(sheet: Worksheet, snapshot: marts.Snapshot, title_rows: str | None = "1:1") -> None:
    """Landscape A4, fit to one page wide (as many pages long as it takes), the header row on
    every page, and a page header naming province, scenario and sheet."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.7
    sheet.page_margins.header = sheet.page_margins.footer = 0.25
    sheet.print_options.horizontalCentered = True
    if title_rows:
        sheet.print_title_rows = title_rows
    sheet.oddHeader.left.text = f"{snapshot.province_name}: kế hoạch tín dụng chính sách"
    sheet.oddHeader.right.text = f"{sheet.title}. Kịch bản: {SCENARIO_NAMES[snapshot.scenario].lower()}"
    sheet.oddFooter.left.text = f"Lập lúc {snapshot.generated_at:%H:%M %d/%m/%Y}; số liệu {snapshot.fingerprint}"
    sheet.oddFooter.right.text = "Trang &P / &N"


def write_cover(sheet: Worksheet, snapshot: marts.Snapshot, level_sheets: list[str]) -> None:
    years = "2026–2030"
    sheet.append([f"KẾ HOẠCH TÍN DỤNG CHÍNH SÁCH {years}".upper()])
    sheet.append([snapshot.province_name.upper()])
    sheet.append([])
    facts = [
        ("Tỉnh", f"{snapshot.province_name} (mã {snapshot.province_code})"),
        ("Kịch bản", SCENARIO_NAMES[snapshot.scenario]),
        ("Cách tính", SCENARIO_RULES[snapshot.scenario]),
        ("Ngày mở kế hoạch (dư nợ đầu kỳ)", f"{snapshot.opening_date:%d/%m/%Y}"),
        (
            "Số liệu thực hiện đến ngày",
            f"{snapshot.data_as_of:%d/%m/%Y}" if snapshot.data_as_of else "chưa có số liệu sổ cái",
        ),
        ("Thời điểm lập", f"{snapshot.generated_at:%H:%M ngày %d/%m/%Y} (giờ Việt Nam)"),
        ("Bản số liệu nguồn", f"{snapshot.published_version} (các bảng mart đã công bố)"),
        ("Dấu vân tay số liệu", f"{snapshot.fingerprint} (số dòng và nội dung các bảng kế hoạch)"),
        ("Đơn vị tính", "triệu đồng; tỷ lệ: %; số hộ: hộ"),
    ]
    for label, value in facts:
        sheet.append([label, value])
    sheet.append([])
    sheet.append(["Trang", "Nội dung"])
    contents_header = sheet.max_row
    for name in [*level_sheets, CHECKS, VS_ACTUAL, CAPITAL, ASSUMPTIONS]:
        sheet.append([name, SHEET_CONTENTS[name]])
    sheet.append([])
    sheet.append([])
    signatures = ("NGƯỜI LẬP BIỂU", "TRƯỞNG PHÒNG KẾ HOẠCH – NGHIỆP VỤ", "GIÁM ĐỐC")
    sheet.append([f"{s}\n(ký, ghi rõ họ tên)" for s in signatures])
    sheet["A1"].font = Font(bold=True, size=16)
    sheet["A2"].font = Font(bold=True, size=14)
    for row in sheet.iter_rows(min_row=4):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        row[0].font = Font(bold=True)
    for cell in sheet[contents_header]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, horizontal="center")
    sheet.column_dimensions["A"].width = 36
    sheet.column_dimensions["B"].width = 80
    sheet.column_dimensions["C"].width = 24
    fit_row_heights(sheet)
    print_ready(sheet, snapshot, title_rows=None)


def write_checks(sheet: Worksheet, checks: pd.DataFrame, snapshot: marts.Snapshot) -> None:
    """One row per unit and year; each check missed explained in a sentence; the targets below."""
    targets = marts.strategy_targets()
    flags = [c for c in checks.columns if c.startswith("misses_")]
    records = []
    for record in checks.to_dict("records"):
        missed = [flag for flag in flags if record[flag] is True or record[flag] == 1]
        record["verdict"] = f"{MISSED} ({len(missed)} chỉ tiêu)" if missed else MET
        record["explanation"] = "\n".join(f"{i}. {explain(flag, record, targets)}" for i, flag in enumerate(missed, 1))
        records.append(record)
    write_table(
        sheet, pd.DataFrame(records, columns=[*checks.columns, "verdict", "explanation"]), CHECK_COLUMNS, snapshot
    )
    for row in sheet.iter_rows(min_row=2):
        verdict = row[list(CHECK_COLUMNS).index("verdict")]
        if str(verdict.value).startswith(MISSED):
            verdict.font = Font(bold=True, color="C00000")
    legend = {
        "misses_growth_target": f"dư nợ tăng khoảng {percent(targets['outstanding_growth'], 0)}/năm "
        f"(chênh lệch không quá {percent(targets['outstanding_growth_tolerance'], 0)})",
        "misses_overdue_ceiling": f"nợ quá hạn dưới {percent(targets['max_overdue_ratio'], 0)} tổng dư nợ",
        "misses_local_capital_path": "vốn địa phương đạt ít nhất "
        f"{percent(targets['local_capital_share_by_2030'], 0)} tổng nguồn vốn vào năm 2030, theo lộ trình đều "
        "từ năm đầu kế hoạch",
        "misses_local_entrustment": "ngân sách địa phương ủy thác ít nhất "
        f"{percent(targets['min_local_entrustment_of_growth'], 0)} phần dư nợ tăng thêm mỗi năm (cấp tỉnh); "
        "tỉnh chưa có kế hoạch vốn địa phương bị coi là chưa đạt",
    }
    sheet.append([])
    sheet.append(["Các chỉ tiêu (Quyết định 05/QĐ-TTg, seeds/plan_strategy_targets.csv):"])
    sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
    for flag, text in legend.items():
        sheet.append([f"{CHECK_FLAGS[flag][0]}: {text}"])


def explain(flag: str, record: dict, targets: dict[str, float]) -> str:
    if flag == "misses_local_entrustment" and record.get("local_entrustment_input_missing") is True:
        flag = "local_entrustment_input_missing"  # missed for want of a plan, not measured
    name, sentence = CHECK_FLAGS.get(flag, (flag, "không đạt"))
    values = {k: percent(v) if isinstance(v, float) else v for k, v in record.items()}
    values |= {k: percent(v, 0) for k, v in targets.items()}
    try:
        return f"{name}: {sentence.format(**values)}"
    except KeyError:
        return f"{name}: không đạt"


def write_capital(
    sheet: Worksheet, published_dir: Path, province: str, levels: list[str], snapshot: marts.Snapshot
) -> None:
    if not marts.has_mart(published_dir, "mart_plan_capital"):
        write_table(
            sheet,
            pd.DataFrame(),
            CAPITAL_COLUMNS,
            snapshot,
            empty="Các bảng đã công bố chưa có nguồn vốn theo kịch bản (mart_plan_capital).",
        )
        return
    frame = marts.capital(published_dir, province, levels, snapshot.scenario)
    frame["capital_input_missing"] = frame.capital_input_missing.map(
        {True: "Thiếu: chưa có số liệu vốn được giao", False: "Có"}
    )
    write_table(sheet, with_level_totals(frame, CAPITAL_COLUMNS), CAPITAL_COLUMNS, snapshot)


def write_assumptions(sheet: Worksheet, assumptions: dict[str, pd.DataFrame], snapshot: marts.Snapshot) -> None:
    """The seeds the plan was built with, one block each."""
    blocks = [
        (
            "Tỷ lệ thu nợ và thời hạn trả nợ theo chương trình (seeds/plan_assumptions.csv)",
            [
                "Mã chương trình",
                "Chương trình cho vay",
                "Tỷ lệ thu nợ đến hạn (%)",
                "Thời hạn trả nợ vốn vay mới (năm)",
            ],
            assumptions["rates"][["program_code", "program_name_vi", "collection_rate", "repayment_years"]],
            [None, None, "0.0%", "0"],
        ),
        (
            "Nguồn vốn cho vay mới dự kiến (seeds/plan_capital_supply.csv)",
            ["Năm kế hoạch", "Nguồn vốn", f"Vốn dự kiến {'(triệu đồng)'}"],
            assumptions["supply"][["plan_year", "funding_source", "planned_new_capital_vnd"]].assign(
                planned_new_capital_vnd=lambda s: s.planned_new_capital_vnd / MILLION
            ),
            ["0", None, "#,##0"],
        ),
        (
            "Mục tiêu chiến lược (seeds/plan_strategy_targets.csv)",
            ["Mã mục tiêu", "Mô tả", "Giá trị (%)"],
            assumptions["targets"][["target_code", "description", "target_value"]],
            [None, None, "0.0%"],
        ),
    ]
    sheet.append(["Cách tính hai kịch bản"])
    sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True, size=12)
    for scenario, rule in SCENARIO_RULES.items():
        sheet.append([SCENARIO_NAMES[scenario], rule])
        sheet.merge_cells(start_row=sheet.max_row, start_column=2, end_row=sheet.max_row, end_column=4)
        for cell in sheet[sheet.max_row]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.append([])
    for title, header, frame, formats in blocks:
        sheet.append([title])
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True, size=12)
        sheet.append(header)
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        if frame.empty:
            sheet.append(["Không có số liệu cho tỉnh này: kịch bản theo nguồn vốn coi là thiếu vốn được giao"])
        for values in frame.itertuples(index=False):
            sheet.append([None if pd.isna(v) else v for v in values])
            for cell, fmt in zip(sheet[sheet.max_row], formats):
                if fmt:
                    cell.number_format = fmt
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.append([])
    for letter, width in zip("ABCD", (28, 52, 22, 22)):
        sheet.column_dimensions[letter].width = width
    fit_row_heights(sheet)
    print_ready(sheet, snapshot, title_rows=None)
