"""A ledger month: what a ledger file holds, a load replaces and a gate validates.

It is written three ways at the edges, and converted only here: `2024-06` in landing file names,
the load manifest and the settings (its key); `2024-06-01` as Dagster's monthly partition key (its
first day); `2024-06-30` as the marts' `as_of_date` (its month end).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

# Where the branches date their rows: 7 hours ahead of a server on UTC.
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")

KEY = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


def today_in_vietnam() -> date:
    return datetime.now(VIETNAM).date()


@dataclass(frozen=True, order=True)
class LedgerMonth:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not (1 <= self.month <= 12 and 1 <= self.year <= 9999):
            raise ValueError(f"{self.year:04d}-{self.month:02d} is not a month (YYYY-MM, 01 to 12)")

    @classmethod
    def parse(cls, key: str) -> LedgerMonth:
        """The month of a key `YYYY-MM` (`2025-12`); anything else is refused, naming the value."""
        match = KEY.fullmatch(key) if isinstance(key, str) else None
        if not match:
            raise ValueError(f"{key!r} is not a month: expected YYYY-MM (01 to 12)")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, day: date) -> LedgerMonth:
        """The month a day falls in."""
        return cls(day.year, day.month)

    @classmethod
    def from_partition_key(cls, partition_key: str) -> LedgerMonth:
        """The month of a Dagster monthly partition key (`2024-06-01`, its first day)."""
        month = cls.parse(partition_key[:7]) if isinstance(partition_key, str) else None
        if month is None or partition_key != month.partition_key:
            raise ValueError(f"{partition_key!r} is not a monthly partition key: expected YYYY-MM-01")
        return month

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def partition_key(self) -> str:
        """Dagster's key for the month (MonthlyPartitionsDefinition): its first day."""
        return self.first_day.isoformat()

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def month_end(self) -> date:
        """The month's last day: the `as_of_date` of its balances."""
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def __add__(self, months: int) -> LedgerMonth:
        if not isinstance(months, int):
            return NotImplemented
        index = self.year * 12 + self.month - 1 + months
        return LedgerMonth(index // 12, index % 12 + 1)

    def __sub__(self, other: LedgerMonth | int):
        """`month - n`: n months earlier; `month - other`: how many months `other` is earlier."""
        if isinstance(other, LedgerMonth):
            return (self.year - other.year) * 12 + self.month - other.month
        return self + -other if isinstance(other, int) else NotImplemented

    def next(self) -> LedgerMonth:
        return self + 1

    def through(self, last: LedgerMonth) -> list[LedgerMonth]:
        """Every month from this one to `last`, both included (none when `last` is earlier)."""
        return [self + n for n in range(last - self + 1)]

    def __str__(self) -> str:
        return self.key
