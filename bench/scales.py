"""The scale factors: which sample each benchmark generates (sample_data options)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    description: str
    generate_args: list[str]  # `pcw generate` options
    first_month: str  # YYYY-MM of the first ledger month
    last_month: str
    # One new month loaded on top of 1 year and of 10 years of history; None where the
    # history is shorter than that.
    incremental_month: str | None = None
    repeat: int = 3
    # The pandas scripts hold every ledger row in memory: past a few provinces they cannot run here.
    pandas_alternative: bool = True


SCALES = {
    "commune": Scale(
        "commune",
        "one commune (the province's first), 2014–2025",
        ["--communes", "1"],
        "2014-01",
        "2025-12",
        incremental_month="2024-01",
    ),
    "province": Scale(
        "province",
        "the default sample: old Tuyên Quang (137 communes), 2014–2025",
        [],
        "2014-01",
        "2025-12",
        incremental_month="2024-01",
    ),
    "provinces": Scale(
        "provinces",
        "four northern provinces (Tuyên Quang, Hà Giang, Lào Cai, Yên Bái), 2025",
        ["--provinces", "08", "02", "10", "15", "--start-year", "2025", "--end-year", "2025"],
        "2025-01",
        "2025-12",
        repeat=1,
    ),
    # The generator writes ~30 ledger rows a borrower a year (monthly interest on ~3 loans each), so
    # the ~80 M rows expected of one country year come from ~0.27 of its borrowers per commune.
    "country": Scale(
        "country",
        "the whole country (every commune, 34 branches), 2025, 0.27 of the borrowers per commune",
        ["--provinces", "all", "--start-year", "2025", "--end-year", "2025", "--scale", "0.27"],
        "2025-01",
        "2025-12",
        repeat=1,
        pandas_alternative=False,
    ),
}


def smoke_scale() -> Scale:
    """The smallest run CI makes: one commune, two years, once."""
    return Scale(
        "smoke",
        "one commune, 2024–2025 (CI smoke test)",
        ["--communes", "1", "--start-year", "2024", "--end-year", "2025"],
        "2024-01",
        "2025-12",
        incremental_month=None,
        repeat=1,
    )
