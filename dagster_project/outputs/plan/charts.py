"""Charts that stand alone: the province's name, program names, axes with their units, the plan
drawn on from the last actual year-end it opens on, and actuals shown, or said to be missing."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd

from dagster_project.outputs.plan import marts
from dagster_project.outputs.plan.labels import BILLION, SCENARIO_NAMES, SOURCE_NAMES

PLAN_STYLES = {"demand": {"color": "tab:orange"}, "capital": {"color": "tab:green"}}


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def trajectory_chart(published_dir: Path, province: str, province_name: str, scenario: str, path: Path) -> Path:
    """Year-end outstanding, actual then planned, the chosen scenario bold, the other thin."""
    plt = pyplot()
    history = marts.trajectory(published_dir, province)
    figure, axes = plt.subplots(figsize=(9, 4.8))
    actual = history[history.series == "actual"]
    if len(actual):
        axes.plot(actual.year, actual.outstanding / BILLION, "-o", color="tab:blue", label="Thực hiện (31/12)")
    for name in sorted(set(history.series) - {"actual"}, key=lambda s: s != scenario):
        plan = history[history.series == name]
        axes.plot(
            plan.year,
            plan.outstanding / BILLION,
            "--s" if name == scenario else ":",
            linewidth=2.2 if name == scenario else 1.2,
            label=f"Kế hoạch: {SCENARIO_NAMES[name].lower()}",
            **PLAN_STYLES.get(name, {}),
        )
    if actual.empty:
        axes.text(
            0.02,
            0.95,
            "Chưa có số liệu thực hiện cuối năm trong sổ cái",
            transform=axes.transAxes,
            va="top",
            fontsize=9,
            style="italic",
        )
    axes.set_title(f"{province_name}: dư nợ cuối năm, thực hiện và kế hoạch {plan_years(history)}")
    axes.set_xlabel("Năm")
    axes.set_ylabel("Dư nợ cuối năm (tỷ đồng)")
    axes.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    axes.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", fontsize=9)
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path


def plan_years(history: pd.DataFrame) -> str:
    plan = history[history.series != "actual"]
    return f"{int(plan.year.min()) + 1}–{int(plan.year.max())}" if len(plan) else ""


def program_chart(published_dir: Path, province: str, province_name: str, scenario: str, path: Path) -> Path:
    """Closing outstanding by program, planned against actual in the last year with actuals."""
    plt = pyplot()
    rows = marts.by_program(published_dir, province, scenario).sort_values("plan")
    year = int(rows.plan_year.iloc[0])
    has_actual = rows.actual.notna().any()
    figure, axes = plt.subplots(figsize=(9, 0.55 * len(rows) + 1.6))
    positions = list(range(len(rows)))
    names = ["\n".join(textwrap.wrap(n, 38)) for n in rows.program_name]
    if has_actual:
        axes.barh([p + 0.2 for p in positions], rows.plan / BILLION, height=0.4, label="Kế hoạch", color="tab:orange")
        axes.barh([p - 0.2 for p in positions], rows.actual / BILLION, height=0.4, label="Thực hiện", color="tab:blue")
        axes.legend(loc="lower right", fontsize=9)
        title = f"{province_name}: dư nợ cuối năm {year} theo chương trình, kế hoạch và thực hiện"
    else:
        axes.barh(positions, rows.plan / BILLION, height=0.6, color="tab:orange")
        title = (
            f"{province_name}: dư nợ kế hoạch cuối năm {year} theo chương trình\n(chưa có số liệu thực hiện năm {year})"
        )
    axes.set_yticks(positions, names, fontsize=8)
    axes.set_xlabel("Dư nợ cuối năm (tỷ đồng)")
    axes.set_title(f"{title}\nKịch bản: {SCENARIO_NAMES[scenario].lower()}", fontsize=10)
    axes.grid(axis="x", alpha=0.3)
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path


def capital_chart(published_dir: Path, province: str, province_name: str, scenario: str, path: Path) -> Path | None:
    """Capital expected against capital needed each year, and the lending demand left unmet."""
    if not marts.has_mart(published_dir, "mart_plan_capital"):
        return None
    plt = pyplot()
    rows = marts.capital(published_dir, province, ["province"], scenario)
    # by source, stacked: a source short of capital shows even where the other has some to spare
    by_source = rows.pivot_table(
        index="plan_year", columns="funding_source", values=["capital_available", "capital_needed"], aggfunc="sum"
    )
    unmet = rows.groupby("plan_year").unmet_demand.sum()
    figure, axes = plt.subplots(figsize=(9, 4.8))
    x = list(range(len(unmet)))
    for offset, figure_name, label, colors in (
        (-0.2, "capital_available", "Vốn dự kiến được giao", ("#2e7d32", "#a5d6a7")),
        (0.2, "capital_needed", "Vốn cần theo nhu cầu", ("#616161", "#bdbdbd")),
    ):
        bottom = [0.0] * len(x)
        for source, color in zip(("central", "local"), colors):
            if (figure_name, source) not in by_source:
                continue
            values = (by_source[(figure_name, source)].fillna(0) / BILLION).tolist()
            axes.bar(
                [p + offset for p in x],
                values,
                width=0.4,
                bottom=bottom,
                color=color,
                label=f"{label}: {SOURCE_NAMES[source].lower()}",
            )
            bottom = [b + v for b, v in zip(bottom, values)]
    axes.plot(x, unmet / BILLION, "-o", color="tab:red", label="Nhu cầu vay chưa đáp ứng")
    if rows.capital_available.isna().any():
        axes.text(
            0.02,
            0.95,
            "Có năm chưa có số liệu vốn được giao: phần đó để trống",
            transform=axes.transAxes,
            va="top",
            fontsize=9,
            style="italic",
        )
    axes.set_xticks(x, [str(y) for y in unmet.index])
    axes.set_xlabel("Năm kế hoạch")
    axes.set_ylabel("Tỷ đồng")
    axes.set_title(
        f"{province_name}: nguồn vốn và nhu cầu vay chưa đáp ứng\nKịch bản: {SCENARIO_NAMES[scenario].lower()}",
        fontsize=10,
    )
    axes.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    axes.grid(axis="y", alpha=0.3)
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path
