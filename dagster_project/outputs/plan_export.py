"""What planners pull: the 2026–2030 credit plan as an Excel workbook (a sheet per level, Vietnamese
labels, VND millions, totals, frozen header), CSV or Parquet of the same rows, and charts (PNG and
an HTML report). Everything is read from the published copies of the marts (publish.py), never from
the live warehouse file, so an export works while a load is writing it."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import duckdb
import pandas as pd

from dagster_project.warehouse.publish import published_mart

LEVELS = ("commune", "office", "province")
LEVEL_SHEETS = {"commune": "Xã", "office": "Phòng giao dịch", "province": "Tỉnh"}
MILLION = 1_000_000

# mart column -> (Vietnamese label, kind): kind "text", "count", "vnd" (shown in millions) or "rate"
COLUMNS = {
    "plan_year": ("Năm kế hoạch", "text"),
    "unit_code": ("Mã đơn vị", "text"),
    "unit_name": ("Đơn vị", "text"),
    "program_code": ("Mã chương trình", "text"),
    "program_name": ("Chương trình cho vay", "text"),
    "funding_source": ("Nguồn vốn", "text"),
    "opening_principal": ("Dư nợ đầu năm (triệu đồng)", "vnd"),
    "collections": ("Thu nợ (triệu đồng)", "vnd"),
    "new_disbursement": ("Cho vay mới (triệu đồng)", "vnd"),
    "relending": ("Cho vay quay vòng (triệu đồng)", "vnd"),
    "closing_principal": ("Dư nợ cuối năm (triệu đồng)", "vnd"),
    "growth_rate": ("Tăng trưởng dư nợ", "rate"),
    "capital_needed": ("Nguồn vốn cần tăng thêm (triệu đồng)", "vnd"),
    "planned_households": ("Số hộ vay", "count"),
    "planned_beneficiaries": ("Số đối tượng thụ hưởng", "count"),
}
SOURCE_NAMES = {"central": "Trung ương", "local": "Ngân sách địa phương"}
TOTAL_LABEL = "Tổng cộng"


def plan_rows(published_dir: Path, province: str, level: str) -> pd.DataFrame:
    """The plan's rows for one level of one province, amounts in VND, in the mart's own columns."""
    frame = duckdb.sql(
        f"select {', '.join(COLUMNS)} from read_parquet(?) where unit_level = ? "
        "and (province_code = ? or unit_code = ?) order by plan_year, unit_code, program_code, funding_source",
        params=[str(published_mart(published_dir, "mart_credit_plan")), level, province, province],
    ).df()
    return frame


def year_totals(rows: pd.DataFrame) -> pd.DataFrame:
    """A total per plan year over every unit, program and source of the level."""
    amounts = [c for c, (_, kind) in COLUMNS.items() if kind in ("vnd", "count")]
    totals = rows.groupby("plan_year", as_index=False)[amounts].sum()
    totals["growth_rate"] = (totals.closing_principal - totals.opening_principal) / totals.opening_principal
    totals["unit_name"] = TOTAL_LABEL
    return totals.reindex(columns=list(COLUMNS))


def labelled(rows: pd.DataFrame) -> pd.DataFrame:
    """Vietnamese headers, VND millions, source names: what a planner reads."""
    shown = rows.copy()
    for column, (_, kind) in COLUMNS.items():
        if kind == "vnd":
            shown[column] = shown[column] / MILLION
    shown["funding_source"] = shown.funding_source.map(SOURCE_NAMES).fillna(shown.funding_source)
    return shown.rename(columns={c: label for c, (label, _) in COLUMNS.items()})


def write_workbook(sheets: dict[str, pd.DataFrame], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    formats = {"vnd": "#,##0.0", "count": "#,##0", "rate": "0.0%", "text": "@"}
    workbook = Workbook()
    workbook.remove(workbook.active)
    for level, rows in sheets.items():
        sheet = workbook.create_sheet(LEVEL_SHEETS[level])
        sheet.append([label for label, _ in COLUMNS.values()])
        body = pd.concat([labelled(rows), labelled(year_totals(rows))], ignore_index=True)
        for record in body.itertuples(index=False):
            sheet.append([None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in record])
        for index, (label, kind) in enumerate(COLUMNS.values(), start=1):
            letter = get_column_letter(index)
            sheet.column_dimensions[letter].width = max(12, min(40, len(label) + 2))
            for cell in sheet[letter][1:]:
                cell.number_format = formats[kind]
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDEBF7")
        for row in sheet.iter_rows(min_row=len(rows) + 2):  # the totals rows
            for cell in row:
                cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    workbook.save(path)


def outstanding_history(published_dir: Path, province: str) -> pd.DataFrame:
    """Year-end outstanding: actual from the balance mart, then the plan's closing balances."""
    return duckdb.sql(
        """
        select extract(year from as_of_date) as year, 'actual' as kind, sum(outstanding_principal) as outstanding
        from read_parquet(?) where province_code = ? and extract(month from as_of_date) = 12
        group by 1
        union all
        select plan_year, 'plan', sum(closing_principal) from read_parquet(?)
        where unit_level = 'province' and unit_code = ? group by 1
        order by 2, 1
        """,
        params=[
            str(published_mart(published_dir, "mart_outstanding_balance")),
            province,
            str(published_mart(published_dir, "mart_credit_plan")),
            province,
        ],
    ).df()


def plan_against_actual_by_program(published_dir: Path, province: str) -> pd.DataFrame:
    """The latest plan year with actual figures (else the first plan year), by program."""
    plan = duckdb.sql(
        "select plan_year, program_code, sum(planned_closing_principal) as plan, "
        "sum(actual_closing_principal) as actual "
        "from read_parquet(?) where unit_level = 'province' and unit_code = ? group by 1, 2",
        params=[str(published_mart(published_dir, "mart_plan_vs_actual")), province],
    ).df()
    if plan.empty:
        plan = duckdb.sql(
            "select plan_year, program_code, sum(closing_principal) as plan, "
            "null::double as actual from read_parquet(?) "
            "where unit_level = 'province' and unit_code = ? and "
            "plan_year = (select min(plan_year) from read_parquet(?)) "
            "group by 1, 2",
            params=[
                str(published_mart(published_dir, "mart_credit_plan")),
                province,
                str(published_mart(published_dir, "mart_credit_plan")),
            ],
        ).df()
    return plan[plan.plan_year == plan.plan_year.max()].sort_values("program_code")


def write_charts(published_dir: Path, province: str, out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    history = outstanding_history(published_dir, province)
    figure, axes = plt.subplots(figsize=(9, 4.5))
    for kind, style in (("actual", "-o"), ("plan", "--s")):
        part = history[history.kind == kind]
        axes.plot(part.year, part.outstanding / 1e9, style, label="Thực hiện" if kind == "actual" else "Kế hoạch")
    axes.set_title(f"Dư nợ cuối năm, tỉnh {province} (tỷ đồng)")
    axes.grid(alpha=0.3)
    axes.legend()
    outstanding_png = out_dir / f"outstanding_{province}.png"
    figure.savefig(outstanding_png, dpi=110, bbox_inches="tight")
    plt.close(figure)

    by_program = plan_against_actual_by_program(published_dir, province)
    figure, axes = plt.subplots(figsize=(9, 4.5))
    positions = range(len(by_program))
    axes.bar([p - 0.2 for p in positions], by_program.plan / 1e9, width=0.4, label="Kế hoạch")
    axes.bar([p + 0.2 for p in positions], by_program.actual.fillna(0) / 1e9, width=0.4, label="Thực hiện")
    axes.set_xticks(list(positions), by_program.program_code)
    year = int(by_program.plan_year.iloc[0]) if len(by_program) else ""
    axes.set_title(f"Dư nợ theo chương trình {year}: kế hoạch và thực hiện (tỷ đồng)")
    axes.legend()
    program_png = out_dir / f"plan_vs_actual_{province}.png"
    figure.savefig(program_png, dpi=110, bbox_inches="tight")
    plt.close(figure)

    report = out_dir / f"credit_plan_{province}.html"
    province_rows = labelled(pd.concat([plan_rows(published_dir, province, "province")], ignore_index=True))
    images = "".join(
        f'<img alt="{html.escape(p.stem)}" src="data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()}">'
        for p in (outstanding_png, program_png)
    )
    report.write_text(
        "<!doctype html><html lang='vi'><meta charset='utf-8'>"
        f"<title>Kế hoạch tín dụng 2026–2030, tỉnh {province}</title>"
        f"<h1>Kế hoạch tín dụng chính sách 2026–2030, tỉnh {province}</h1>{images}"
        + province_rows.to_html(index=False, float_format=lambda v: f"{v:,.1f}", na_rep="")
        + "</html>",
        encoding="utf-8",
    )
    return [outstanding_png, program_png, report]


def export_plan(published_dir: Path, province: str, levels: list[str], fmt: str, out_dir: Path) -> list[Path]:
    """Write the plan of `province` at `levels` as `fmt` (xlsx, csv or parquet), and its charts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sheets = {level: plan_rows(published_dir, province, level) for level in levels}
    if all(rows.empty for rows in sheets.values()):
        raise ValueError(f"no credit plan for province {province} in {published_dir}")
    written = []
    if fmt == "xlsx":
        path = out_dir / f"credit_plan_{province}.xlsx"
        write_workbook(sheets, path)
        written.append(path)
    else:
        for level, rows in sheets.items():
            path = out_dir / f"credit_plan_{province}_{level}.{fmt}"
            if fmt == "csv":
                labelled(rows).to_csv(path, index=False, encoding="utf-8-sig")  # a BOM so Excel reads the diacritics
            else:
                rows.to_parquet(path, index=False)
            written.append(path)
    return written + write_charts(published_dir, province, out_dir)
