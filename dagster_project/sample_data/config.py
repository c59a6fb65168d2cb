"""What to generate (which provinces, communes, years, how dense) and the calibration constants.

The constants below are tuned so that the default sample (old Tuyên Quang, 2014-2025, seed 2014)
shows the province's published mid-2024 figures (domain.md §6); tests/test_sample_data.py checks
them from the written files.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

REFERENCE_PROVINCE = "08"  # old Tuyên Quang
ALL_PROVINCES = ("all",)
LEDGER_FORMATS = ("parquet", "csv")

# --- calibration (reference province at 2024-06-30) ------------------------------------------
# Borrowers with outstanding loans per old commune: 80,052 over 137 communes in Tuyên Quang;
# the national average (6.8 m over 10,035 communes) elsewhere.
ACTIVE_BORROWERS_PER_COMMUNE = {REFERENCE_PROVINCE: 80_052 / 137}
ACTIVE_BORROWERS_PER_COMMUNE_DEFAULT = 6_800_000 / 10_035
ACTIVE_MEMBERS_PER_GROUP = 33.6  # 80,052 borrowers (less the direct ones) in 2,374 groups
# Households starting a borrowing spell each year, per expected active borrower (1 / mean years active).
SPELL_ARRIVALS_PER_ACTIVE = 0.1237
# Multiplies every loan amount (outstanding: 4,350 bn VND at mid-2024).
AMOUNT_SCALE = 1.32
# Households served directly by the bank, outside any group (with social housing: 0.61 % of outstanding).
DIRECT_HOUSEHOLD_SHARE = 0.0036
# Local budget capital entrusted: over 111 bn VND at mid-2024, 280 times its end-2014 level.
LOCAL_CAPITAL_MID_2024 = 111_000_000_000
LOCAL_CAPITAL_MULTIPLE_2014_2024 = 280


@dataclass(frozen=True)
class GenerationConfig:
    seed: int = 2014
    provinces: tuple[str, ...] = (REFERENCE_PROVINCE,)  # old (63-province) codes; ("all",) = the country
    communes: int | None = None  # keep only the first N old communes of the selection (tests)
    start_year: int = 2014  # first year of the ledger; earlier loans enter as opening balances
    end_year: int = 2025
    scale: float = 1.0  # multiplies borrower density
    ledger_format: str = "parquet"  # or "csv"

    def __post_init__(self) -> None:
        provinces = (self.provinces,) if isinstance(self.provinces, str) else tuple(self.provinces)
        object.__setattr__(self, "provinces", tuple(p if p == "all" else p.zfill(2) for p in provinces))
        if self.ledger_format not in LEDGER_FORMATS:
            raise ValueError(f"ledger_format must be one of {LEDGER_FORMATS}, not {self.ledger_format!r}")
        if not 2000 <= self.start_year <= self.end_year <= 2030:
            raise ValueError(f"years must satisfy 2000 <= start_year <= end_year <= 2030: {self.start_year}-{self.end_year}")
        if self.scale <= 0 or (self.communes is not None and self.communes < 1):
            raise ValueError("scale must be > 0 and communes >= 1")

    @property
    def start_date(self) -> date:
        return date(self.start_year, 1, 1)

    @property
    def end_date(self) -> date:
        return date(self.end_year, 12, 31)

    @property
    def whole_country(self) -> bool:
        return self.provinces == ALL_PROVINCES


def country_config(**overrides) -> GenerationConfig:
    """All 63 old provinces (34 branches), one year of ledger: about 6.8 m borrowers."""
    return GenerationConfig(**({"provinces": ALL_PROVINCES, "start_year": 2025, "end_year": 2025} | overrides))


# `pcw generate --scale-preset …`: explicit options override the preset.
PRESETS: dict[str, dict] = {
    "commune": {"communes": 1},
    "province": {},
    "provinces": {"provinces": ("02", "08")},  # the new Tuyên Quang: old Hà Giang + old Tuyên Quang
    "country": {"provinces": ALL_PROVINCES, "start_year": 2025, "end_year": 2025},
}


def preset_config(name: str, **overrides) -> GenerationConfig:
    return replace(GenerationConfig(**PRESETS[name]), **overrides)
