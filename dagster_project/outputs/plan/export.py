"""`pcw plan export`: one province's plan under one scenario, in the formats asked for, each file
named by province, level and scenario so that no export overwrites another."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from dagster_project.outputs.plan import marts
from dagster_project.outputs.plan.labels import LEVELS, short_name

FORMATS = ("xlsx", "csv", "parquet", "png", "html")


def slug(text: str) -> str:
    """'Tuyên Quang' -> 'tuyen-quang': a file name any system keeps."""
    plain = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in plain if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def file_stem(province: str, province_name: str, level: str, scenario: str) -> str:
    """credit_plan_08-tuyen-quang_commune_capital; `level` is 'all-levels' for a file of every level."""
    return f"credit_plan_{province}-{slug(short_name(province_name))}_{level}_{scenario}"


def export_plan(
    published_dir: Path,
    province: str,
    levels: list[str],
    formats: list[str],
    out_dir: Path,
    scenario: str = "demand",
) -> list[Path]:
    """Write the plan of `province` under `scenario` at `levels` in `formats` (FORMATS); the paths written."""
    from dagster_project.outputs.plan import charts, report_html, tables, workbook

    names = marts.provinces(published_dir)
    if province not in names:
        raise ValueError(f"no credit plan for province {province} in {published_dir}")
    if scenario not in (held := marts.scenarios(published_dir)):
        raise ValueError(f"no {scenario!r} scenario in the published plan (it holds {', '.join(sorted(held))})")
    name = names[province]
    out_dir.mkdir(parents=True, exist_ok=True)
    levels = [level for level in LEVELS if level in levels]
    level_part = levels[0] if len(levels) == 1 else "all-levels"
    written: list[Path] = []
    if "xlsx" in formats:
        path = out_dir / f"{file_stem(province, name, level_part, scenario)}.xlsx"
        workbook.write_workbook(published_dir, province, levels, scenario, path)
        written.append(path)
    for fmt, write in (("csv", tables.write_csv), ("parquet", tables.write_parquet)):
        if fmt in formats:
            for level in levels:
                rows = marts.plan_rows(published_dir, province, level, scenario)
                written.append(write(rows, out_dir / f"{file_stem(province, name, level, scenario)}.{fmt}"))
    if "png" in formats or "html" in formats:
        # the charts and the report are of the province whatever the levels asked for
        place = f"{province}-{slug(short_name(name))}_{scenario}"
        pictures = [
            charts.trajectory_chart(published_dir, province, name, scenario, out_dir / f"outstanding_{place}.png"),
            charts.program_chart(published_dir, province, name, scenario, out_dir / f"programs_{place}.png"),
            charts.capital_chart(published_dir, province, name, scenario, out_dir / f"capital_{place}.png"),
        ]
        pictures = [p for p in pictures if p is not None]
        if "png" in formats:
            written += pictures
        if "html" in formats:
            written.append(
                report_html.write_report(
                    published_dir,
                    province,
                    scenario,
                    pictures,
                    out_dir / f"{file_stem(province, name, 'all-levels', scenario)}.html",
                )
            )
            if "png" not in formats:
                for picture in pictures:
                    picture.unlink()
    return written
