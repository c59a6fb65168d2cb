"""The results table in docs/benchmarks.md, rewritten between its markers from bench/results/*.json."""

from __future__ import annotations

import json
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
ORDER = ["smoke", "commune", "province", "provinces", "country"]


def _s(value) -> str:
    return "–" if value is None else f"{value:,.1f}"


def _gib(value) -> str:
    return f"{value / 1024**3:.1f}"


def rows(results: list[dict]) -> list[str]:
    header = [
        "| scale | runs (new month) | transactions | generate s | full build s | ingest rows/s (share of bare DuckDB) "
        "| GX gates share | dbt s | nothing changed s | new month, 1 y / 10 y history s (ratio) "
        "| pandas s (build time ÷ pandas time) "
        "| pandas = mart | pandas debt quality s (build ÷ pandas) | pandas debt quality = mart "
        "| peak RSS GiB (generate / build) | spill GB (build) |",
        "|" + "---|" * 16,
    ]
    body = []
    for r in results:
        b, i, p = r["build"], r["ingest"], r.get("pandas_alternative")
        month = r.get("new_month")
        month_cell = (
            (
                f"{_s(month['1y']['seconds'])} / {_s(month['10y']['seconds'])} ({month['ratio_10y_over_1y']:.2f}×); "
                f"load only {_s(month['1y']['load_seconds'])} / {_s(month['10y']['load_seconds'])}"
            )
            if month
            else "–"
        )
        body.append(
            f"| {r['scale']} | {r['repeat']} ({r.get('new_month_repeat', r['repeat'])}) |"
            f" {b['transactions']:,} | {_s(r['generation']['seconds'])} | {_s(b['seconds'])} "
            f"| {i['rows_per_second']:,.0f} ({100 * i['share_of_bare_duckdb']:.0f} %) "
            f"| {100 * r['quality_gate_share']:.0f} % "
            f"| {_s(b['dbt_seconds'])} | {_unchanged(r)} | {month_cell} "
            f"| {_pandas(p)} | {_pandas(r.get('pandas_debt_quality'))} "
            f"| {_gib(r['generation']['peak_rss_bytes'])} / {_gib(r['build']['peak_rss_bytes'])} "
            f"| {_spill(b)} |"
        )
    return header + body


def _unchanged(r: dict) -> str:
    """The process of a build on a built warehouse whose landing files did not change."""
    return _s(r["unchanged"]["process_seconds"]) if "unchanged" in r else "–"


def _spill(build: dict) -> str:
    """Peak bytes in DuckDB's spill folders during the build (not recorded before bench/ measured it)."""
    return f"{build['peak_spill_bytes'] / 1e9:.1f}" if "peak_spill_bytes" in build else "–"


def _pandas(p: dict | None) -> str:
    if p is None:
        return "– | –"
    agree = "yes" if p["comparison"]["agree"] else "NO"
    return (
        f"{_s(p['seconds'])} ({p['build_over_pandas_time_ratio']:.1f}×) "
        f"| {agree} ({p['comparison']['rows_compared']:,} rows)"
    )


def slowest_dbt_nodes(results: list[dict], top: int = 8) -> list[str]:
    """The dbt nodes that take longest at the largest scale, with their time at every scale (median s)."""
    measured = [r for r in results if r["build"].get("dbt_node_seconds")]
    if not measured:
        return []
    largest = max(measured, key=lambda r: r["build"]["transactions"])["build"]["dbt_node_seconds"]
    slowest = sorted(largest, key=lambda n: -largest[n])[:top]
    lines = [
        "Slowest dbt nodes (s, median of the full builds; two run at once):",
        "",
        "| node | " + " | ".join(r["scale"] for r in measured) + " |",
        "|---|" + "---|" * len(measured),
    ]
    lines += [
        f"| `{n}` | " + " | ".join(_s(r["build"]["dbt_node_seconds"].get(n)) for r in measured) + " |" for n in slowest
    ]
    lines.append(
        "| all nodes | " + " | ".join(_s(sum(r["build"]["dbt_node_seconds"].values())) for r in measured) + " |"
    )
    return lines


def write_table(results_dir: Path, doc: Path = DOC) -> None:
    results = [json.loads(p.read_text()) for p in results_dir.glob("*.json")]
    results.sort(key=lambda r: ORDER.index(r["scale"]) if r["scale"] in ORDER else len(ORDER))
    if not results:
        return
    m = results[0]["machine"]
    lines = [
        BEGIN,
        "",
        f"Machine: {m['cpus']} cores ({m['cpu_model']}), {m['memory_gib']} GiB, Python {m['python']}, "
        f"DuckDB {m['duckdb']}, {m['platform']}.",
        "",
        *rows(results),
        "",
        *slowest_dbt_nodes(results),
        "",
        END,
    ]
    text = doc.read_text(encoding="utf-8")
    start, stop = text.index(BEGIN), text.index(END) + len(END)
    doc.write_text(text[:start] + "\n".join(lines) + text[stop:], encoding="utf-8")
