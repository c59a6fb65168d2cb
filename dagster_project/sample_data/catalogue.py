"""The reference catalogue read from the seeds at generation time, so that rates, caps and terms in
the sample always match what the warehouse checks them against."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from dagster_project.sample_data.dates import day
from dagster_project.settings import SEEDS_DIR

# Programs as small integers in the generator's arrays; the codes are the seeds'.
PROGRAMS = ("01", "19", "09", "02", "03", "04", "06", "07", "12", "10", "99")
P = {code: i for i, code in enumerate(PROGRAMS)}
ORGANISATIONS = ("HPN", "HND", "HCCB", "DTN")
RISK_CAUSES = ("K1", "K2", "K3", "K4a", "K4b", "K4c", "K5")
K = {code: i for i, code in enumerate(RISK_CAUSES)}


@dataclass(frozen=True)
class ProgramTerms:
    program: np.ndarray  # program index
    valid_from: np.ndarray  # day
    valid_to: np.ndarray  # day
    annual_rate: np.ndarray  # percent a year
    cap: np.ndarray  # VND
    max_term: np.ndarray  # months

    def at(self, program: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rate, cap and maximum term of each loan's program on its disbursement day."""
        rate = np.full(len(program), np.nan)
        cap = np.zeros(len(program), dtype=np.int64)
        max_term = np.zeros(len(program), dtype=np.int64)
        for i in range(len(self.program)):  # one pass per rate period of a program (a dozen)
            rows = (program == self.program[i]) & (days >= self.valid_from[i]) & (days <= self.valid_to[i])
            rate[rows], cap[rows], max_term[rows] = self.annual_rate[i], self.cap[i], self.max_term[i]
        if np.isnan(rate).any():
            missing = sorted({PROGRAMS[p] for p in program[np.isnan(rate)]})
            raise ValueError(f"seeds/program_terms.csv has no terms for programs {missing} on some disbursement dates")
        return rate, cap, max_term


@cache
def program_terms() -> ProgramTerms:
    terms = pd.read_csv(SEEDS_DIR / "program_terms.csv", dtype={"program_code": str, "valid_from": str, "valid_to": str})
    return ProgramTerms(
        program=terms.program_code.map(P).to_numpy(np.int64),
        valid_from=np.array([day(d) for d in terms.valid_from]),
        valid_to=np.array([day(d) for d in terms.valid_to]),
        annual_rate=terms.annual_rate_pct.to_numpy(float),
        cap=terms.loan_cap_vnd.to_numpy(np.int64),
        max_term=terms.max_term_months.to_numpy(np.int64),
    )


@cache
def overdue_rate_multiplier() -> float:
    rules = pd.read_csv(SEEDS_DIR / "rate_rules.csv").set_index("rule_code").rule_value
    return float(rules["overdue_rate_multiplier"])


@cache
def check_codes() -> None:
    """Fail early if the seeds and the generator's code lists drift apart."""
    for name, column, codes in (
        ("programs", "program_code", PROGRAMS),
        ("organisations", "organisation_code", ORGANISATIONS),
        ("risk_causes", "cause_code", RISK_CAUSES),
    ):
        seeded = set(pd.read_csv(SEEDS_DIR / f"{name}.csv", dtype=str)[column])
        if seeded != set(codes):
            raise ValueError(f"seeds/{name}.csv codes {sorted(seeded)} differ from the generator's {sorted(codes)}")
