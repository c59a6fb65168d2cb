"""The HTML report: one file that stands alone (charts inline), every level of the province with
its totals, amounts in millions of đồng, percentages as '29.7 %', counts as '1,234'."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd

from dagster_project.outputs.plan import marts
from dagster_project.outputs.plan.labels import (
    CHECK_FLAGS,
    LEVEL_NAMES,
    LEVELS,
    MILLION,
    SCENARIO_NAMES,
    SCENARIOS,
    percent,
    whole,
)

# each unit's year, over programs and sources
SUMMARY = {
    "unit_name": "Đơn vị",
    "plan_year": "Năm",
    "opening_principal": "Dư nợ đầu năm (triệu đồng)",
    "relending": "Cho vay quay vòng (1) (triệu đồng)",
    "net_new_lending": "Cho vay từ vốn tăng thêm (2) (triệu đồng)",
    "new_disbursement": "Tổng cho vay mới (1)+(2) (triệu đồng)",
    "collections": "Thu nợ (triệu đồng)",
    "closing_principal": "Dư nợ cuối năm (triệu đồng)",
    "growth_rate": "Tăng trưởng dư nợ (%)",
    "unmet_demand": "Nhu cầu chưa đáp ứng (triệu đồng)",
    "planned_households": "Số hộ vay (hộ)",
}
TOTAL = "Tổng cộng"

STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.85em; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.5em; }
th { background: #ddebf7; }
td.n, td.y { text-align: right; white-space: nowrap; }
tr.total td { font-weight: bold; background: #eee; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dt { font-weight: bold; }
img { max-width: 100%; display: block; margin: 0.5em 0; }
"""


def cell(column: str, value) -> str:
    if column == "growth_rate" or column.endswith("completion"):
        return f'<td class="n">{percent(value)}</td>'
    if column == "plan_year":
        return f'<td class="y">{int(value)}</td>'
    if column == "planned_households":
        return f'<td class="n">{whole(value)}</td>'
    if isinstance(value, str):
        return f"<td>{html.escape(value)}</td>"
    return f'<td class="n">{whole(None if pd.isna(value) else value / MILLION)}</td>'


def table(frame: pd.DataFrame, columns: dict[str, str]) -> str:
    head = "".join(f"<th>{html.escape(label)}</th>" for label in columns.values())
    body = "".join(
        f"<tr{' class=total' if str(record['unit_name']).startswith(TOTAL) else ''}>"
        + "".join(cell(c, record[c]) for c in columns)
        + "</tr>"
        for record in frame.to_dict("records")
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def level_section(published_dir: Path, province: str, level: str, scenario: str) -> str:
    rows = marts.plan_rows(published_dir, province, level, scenario)
    units = marts.unit_year_totals(rows)
    totals = marts.with_growth(rows.groupby("plan_year", as_index=False)[list(SUMMARY)[2:]].sum(numeric_only=True))
    totals["unit_name"] = [f"{TOTAL} năm {y}" for y in totals.plan_year]
    shown = pd.concat(
        [part for year, in_year in units.groupby("plan_year") for part in (in_year, totals[totals.plan_year == year])],
        ignore_index=True,
    )
    count = units.unit_code.nunique()
    return f"<h2>Cấp {LEVEL_NAMES[level].lower()} ({count:,} đơn vị)</h2>" + table(shown, SUMMARY)


def checks_section(published_dir: Path, province: str, scenario: str) -> str:
    checks = marts.checks(published_dir, province, ["province"], scenario)
    items = []
    for record in checks.to_dict("records"):
        missed = [CHECK_FLAGS.get(f, (f,))[0] for f in checks.columns if f.startswith("misses_") and record[f] is True]
        items.append(
            f"<li>{int(record['plan_year'])}: tăng trưởng {percent(record['growth_rate'])}, "
            f"nợ quá hạn dự kiến {percent(record['projected_overdue_ratio'])}, vốn địa phương "
            f"{percent(record['local_capital_share'])}: "
            + (f"<b>không đạt</b> ({', '.join(missed).lower()})" if missed else "đạt")
            + "</li>"
        )
    return "<h2>Kiểm tra theo Quyết định 05/QĐ-TTg (cấp tỉnh)</h2><ul>" + "".join(items) + "</ul>"


def scenarios_section(published_dir: Path, province: str) -> str:
    """The province's year-end outstanding under each scenario, and the demand the capital leaves unmet."""
    frame = marts.scenario_comparison(published_dir, province)
    head = "<th>Năm</th>" + "".join(
        f"<th>Dư nợ cuối năm: {html.escape(SCENARIO_NAMES[s].lower())} (triệu đồng)</th>"
        f"<th>Tổng cho vay mới: {html.escape(SCENARIO_NAMES[s].lower())} (triệu đồng)</th>"
        f"<th>Nhu cầu chưa đáp ứng: {html.escape(SCENARIO_NAMES[s].lower())} (triệu đồng)</th>"
        for s in SCENARIOS
    )
    body = "".join(
        f'<tr><td class="y">{year}</td>'
        + "".join(
            cell(c, row[f"{c}_{s}"])
            for s in SCENARIOS
            for c in ("closing_principal", "new_disbursement", "unmet_demand")
        )
        + "</tr>"
        for year, row in frame.iterrows()
    )
    return f"<h2>Hai kịch bản, cấp tỉnh</h2><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_report(published_dir: Path, province: str, scenario: str, charts: list[Path], path: Path) -> Path:
    name = marts.provinces(published_dir)[province]
    snapshot = marts.snapshot(published_dir, province, name, scenario)
    images = "".join(
        f'<img alt="{html.escape(p.stem)}" src="data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()}">'
        for p in charts
    )
    as_of = f"{snapshot.data_as_of:%d/%m/%Y}" if snapshot.data_as_of else "chưa có số liệu sổ cái"
    facts = {
        "Kịch bản": SCENARIO_NAMES[scenario],
        "Ngày mở kế hoạch": f"{snapshot.opening_date:%d/%m/%Y}",
        "Số liệu thực hiện đến ngày": as_of,
        "Thời điểm lập": f"{snapshot.generated_at:%H:%M %d/%m/%Y}",
        "Bản số liệu nguồn": f"{snapshot.published_version}, dấu vân tay {snapshot.fingerprint}",
        "Đơn vị tính": "triệu đồng (biểu đồ: tỷ đồng)",
    }
    facts_html = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in facts.items())
    sections = "".join(level_section(published_dir, province, level, scenario) for level in LEVELS)
    title = f"Kế hoạch tín dụng chính sách 2026–2030: {name}"
    path.write_text(
        f"<!doctype html><html lang='vi'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1><dl>{facts_html}</dl>{images}"
        f"{scenarios_section(published_dir, province)}{checks_section(published_dir, province, scenario)}"
        f"{sections}</body></html>",
        encoding="utf-8",
    )
    return path
