"""Dates as integers, so that millions of them cost array operations only.

A *day* is days since 1970-01-01 (numpy datetime64[D] as int64); a *month* is months since
1970-01. A loan's dates fall on its transaction point's day of the month (1-28), so a date is
always `on_day(month, transaction_day)`.
"""

from __future__ import annotations

from datetime import date

import numpy as np


def day(value: date | str) -> int:
    return int(np.datetime64(value, "D").astype(np.int64))


def month(value: date | str) -> int:
    return int(np.datetime64(value, "M").astype(np.int64))


def month_of_year(year, month_in_year=1):
    return (np.asarray(year, dtype=np.int64) - 1970) * 12 + np.asarray(month_in_year, dtype=np.int64) - 1


def first_day(months) -> np.ndarray:
    return np.asarray(months, dtype=np.int64).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def on_day(months, transaction_day) -> np.ndarray:
    """The date on `transaction_day` (1-28) of each month."""
    return first_day(months) + np.asarray(transaction_day, dtype=np.int64) - 1


def month_of(days) -> np.ndarray:
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def year_of(days) -> np.ndarray:
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def year_of_month(months) -> np.ndarray:
    return np.asarray(months, dtype=np.int64) // 12 + 1970


def interpolate_by_year(days, table: dict[float, float]) -> np.ndarray:
    """A yearly index (e.g. typical loan size) interpolated linearly on fractional years."""
    years = np.asarray(days, dtype=np.int64) / 365.2425 + 1970
    xs, ys = zip(*sorted(table.items()))
    return np.interp(years, xs, ys)
