from datetime import date, timedelta

import pytest

from dagster_project.domain.months import LedgerMonth

pytestmark = pytest.mark.unit


def test_a_key_a_partition_key_and_a_day_give_the_same_month_back():
    for day in (date(2014, 1, 1), date(2024, 2, 29), date(2025, 12, 31)):
        month = LedgerMonth.of(day)
        assert LedgerMonth.parse(month.key) == month
        assert LedgerMonth.from_partition_key(month.partition_key) == month
        assert LedgerMonth.of(month.first_day) == LedgerMonth.of(month.month_end) == month
        assert month.key == day.strftime("%Y-%m") and month.partition_key == day.strftime("%Y-%m-01")


def test_month_ends_are_the_last_day_of_the_month_leap_years_included():
    for key, end in (
        ("2024-02", "2024-02-29"),
        ("2025-02", "2025-02-28"),
        ("2100-02", "2100-02-28"),
        ("2000-02", "2000-02-29"),
        ("2024-04", "2024-04-30"),
        ("2024-12", "2024-12-31"),
    ):
        month = LedgerMonth.parse(key)
        assert month.month_end == date.fromisoformat(end)
        assert month.month_end + timedelta(days=1) == month.next().first_day


def test_month_arithmetic_crosses_year_boundaries():
    december = LedgerMonth.parse("2024-12")
    assert december.next() == december + 1 == LedgerMonth.parse("2025-01")
    assert december + 13 == LedgerMonth.parse("2026-01")
    assert december - 12 == LedgerMonth.parse("2023-12")
    assert LedgerMonth.parse("2025-01") - 1 == december
    assert LedgerMonth.parse("2026-03") - december == 15
    assert december - LedgerMonth.parse("2026-03") == -15


def test_a_range_of_months_includes_both_ends_and_is_empty_backwards():
    first, last = LedgerMonth.parse("2024-11"), LedgerMonth.parse("2025-02")
    assert [m.key for m in first.through(last)] == ["2024-11", "2024-12", "2025-01", "2025-02"]
    assert first.through(first) == [first]
    assert last.through(first) == []


def test_months_order_as_time_does_and_print_as_their_key():
    months = [LedgerMonth.parse(k) for k in ("2025-01", "2024-12", "2024-02")]
    assert [str(m) for m in sorted(months)] == ["2024-02", "2024-12", "2025-01"]
    assert max(months) == LedgerMonth(2025, 1)
    assert len({LedgerMonth(2024, 6), LedgerMonth.parse("2024-06")}) == 1


@pytest.mark.parametrize(
    "bad",
    [
        "2025-13",
        "2025-00",
        "2025-1",
        "25-01",
        "2025-01-01",
        " 2025-01",
        "2025-01 ",
        "2025/01",
        "",
        "abcd-ef",
        None,
        202501,
    ],
)
def test_a_bad_key_is_refused_naming_the_value(bad):
    with pytest.raises(ValueError, match="is not a month: expected YYYY-MM") as refused:
        LedgerMonth.parse(bad)
    assert repr(bad) in str(refused.value)


@pytest.mark.parametrize("bad", ["2025-01", "2025-01-02", "2025-13-01", "2025-01-01T00:00", None])
def test_a_bad_partition_key_is_refused(bad):
    with pytest.raises(ValueError, match="is not a"):
        LedgerMonth.from_partition_key(bad)


def test_a_month_out_of_range_cannot_be_made():
    for year, month in ((2024, 0), (2024, 13), (0, 1)):
        with pytest.raises(ValueError, match="is not a month"):
            LedgerMonth(year, month)
