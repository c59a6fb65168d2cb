"""What a build has to do, worked out from the landing files and the load manifest without loading
Dagster: so `pcw run` on an unchanged warehouse answers in a second or two, and only a build with
work to do pays for importing the definitions (build.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime

from dagster_project.domain.landing_contract import LANDING_SOURCES
from dagster_project.domain.months import LedgerMonth
from dagster_project.ingest.landing import landing_months, month_after_load
from dagster_project.ingest.loader import changed_partitions
from dagster_project.ingest.rules import load_date
from dagster_project.settings import PROJECT_ROOT, Settings, read_warehouse
from dagster_project.warehouse.recompute import marts_up_to_date


def first_ledger_month(settings: Settings) -> str:
    """PCW_FIRST_LEDGER_MONTH, else the earliest ledger month in the landing folder (not after the
    load month), else this month."""
    if settings.first_ledger_month:
        return settings.first_ledger_month
    months = [
        m
        for s in LANDING_SOURCES.values()
        if s.monthly
        for m in landing_months(settings.landing_dir, s)
        if not month_after_load(m)
    ]
    return min(months, default=_this_month_in_utc().key)


def months_ahead() -> int:
    """How many months a load date set ahead (PCW_LOAD_DATE, e.g. for a sample generated past
    today) is after this month in UTC: the ledger partitions end that much later."""
    this_month = _this_month_in_utc()
    load_month = LedgerMonth.of(load_date()) if os.environ.get("PCW_LOAD_DATE") else this_month
    return max(0, load_month - this_month)


def _this_month_in_utc() -> LedgerMonth:
    # Dagster's monthly partitions run on UTC: its current partition is this month.
    return LedgerMonth.of(datetime.now(UTC).date())


def ledger_span(settings: Settings) -> tuple[str, str]:
    """The first and last ledger partitions as YYYY-MM (defs/loads.py ledger_partitions)."""
    return first_ledger_month(settings), (_this_month_in_utc() + months_ahead()).key


@dataclass(frozen=True)
class BuildPlan:
    """What a build has to do: the registers and ledger months whose landing files differ from
    their last load, and whether the published marts lag the loads or the code."""

    registers: list[str]
    ledger_months: list[str]  # YYYY-MM
    marts_stale: bool

    @property
    def nothing_to_do(self) -> bool:
        return not (self.registers or self.ledger_months or self.marts_stale)


def plan_build(settings: Settings, everything: bool = False, span: tuple[str, str] | None = None) -> BuildPlan:
    """What changed since the last build; `everything` plans every load and the marts (the loads
    still skip partitions whose files they already hold). Ledger files of a month outside the
    ledger partitions (`span`, by default as the definitions make them) wait."""
    first, last = span or ledger_span(settings)
    registers = [s.name for s in LANDING_SOURCES.values() if not s.monthly]

    def ledger_months(months) -> list[str]:
        return sorted(m for m in set(months) if first <= m <= last)

    every_month = ledger_months(
        m for s in LANDING_SOURCES.values() if s.monthly for m in landing_months(settings.landing_dir, s)
    )
    if everything or not settings.warehouse_path.exists():
        return BuildPlan(registers, every_month, True)
    with read_warehouse(settings.warehouse_path) as conn:
        if not {"admin_units_old", "admin_units_new"} <= {
            t
            for (t,) in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
            ).fetchall()
        }:
            return BuildPlan(registers, every_month, True)
        changed = {s.name: changed_partitions(conn, s, settings.landing_dir) for s in LANDING_SOURCES.values()}
        return BuildPlan(
            registers=[name for name in registers if changed[name]],
            ledger_months=ledger_months(m for s in LANDING_SOURCES.values() if s.monthly for m in changed[s.name]),
            marts_stale=not marts_up_to_date(conn, PROJECT_ROOT),
        )
