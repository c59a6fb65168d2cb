"""What to generate: which province(s), how many communes, which years, how dense."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# Old Tuyên Quang, the reference province (docs/domain.md §6).
REFERENCE_PROVINCE = "08"

# Calibrated so that the default sample shows the published mid-2024 figures (tests/test_sample_data.py).
BORROWERS_PER_COMMUNE = 800  # households that borrow at some time in the history
LOANS_PER_BORROWER = 3.3  # loans over the history, disbursed from five years before it
AMOUNT_FACTOR = 0.845  # multiplies every loan amount


@dataclass(frozen=True)
class GenerationConfig:
    seed: int = 2014
    provinces: tuple[str, ...] = (REFERENCE_PROVINCE,)  # old (63-province) codes; ("all",) for the country
    communes: int | None = None  # keep only the first N communes of each branch (tests)
    start_year: int = 2014  # first year of the ledger; earlier loans enter as opening balances
    end_year: int = 2025
    scale: float = 1.0  # multiplies the number of borrowers per commune
    ledger_format: str = "parquet"  # or "csv"
    # Put in every generated identifier when a sample spans several branches, which are generated one
    # at a time (each from its own random stream) and must not reuse each other's ids.
    id_prefix: str = ""

    @property
    def start_date(self) -> date:
        return date(self.start_year, 1, 1)

    @property
    def end_date(self) -> date:
        return date(self.end_year, 12, 31)

    @property
    def first_disbursement_year(self) -> int:
        # Loans run up to 5 years (most programs), so the history starts with loans from 5 years before.
        return self.start_year - 5
