"""Holes in the ledger: a month a branch has not delivered (or only delivered rejected files) while
later months are loaded. Marts built over a hole understate every balance after it without a
word, so the marts are not built over one (defs/dbt_models.py): the warehouse's marts and their
published copy stay those of the last build, and the build says which branch and month are missing.

A branch's ledger must run without a gap from its first loaded month up to the last month any
branch has loaded (the month the marts reach). What the warehouse holds is read from the load
manifest: a file holds rows while its partition's latest load still lists it, and it has been loaded
at least once (a rejected re-send leaves the earlier rows in place).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from dagster_project.domain.landing_contract import LANDING_SOURCES
from dagster_project.domain.months import LedgerMonth


@dataclass(frozen=True, order=True)
class LedgerHole:
    source: str
    branch: str
    month: str  # YYYY-MM
    why: str  # the rejection of the month's file, or that none arrived

    def __str__(self) -> str:
        return f"branch {self.branch} has no {self.source} for {self.month} ({self.why})"


def _months(first: str, last: str) -> list[str]:
    return [m.key for m in LedgerMonth.parse(first).through(LedgerMonth.parse(last))]


def ledger_holes(conn: duckdb.DuckDBPyConnection) -> list[LedgerHole]:
    """Every (ledger, branch, month) missing before the last month loaded, with why."""
    if not conn.execute(
        "select count(*) from information_schema.tables where table_schema = 'audit' and table_name = 'load_manifest'"
    ).fetchone()[0]:
        return []
    ledgers = [s.name for s in LANDING_SOURCES.values() if s.monthly]
    rows = conn.execute(
        """
        with latest as (  -- each month's files as its last load listed them, with their outcome
            select source_name, partition_key, source_file, outcome, message,
                   finished_at = max(finished_at) over (partition by source_name, partition_key) as current
            from audit.load_manifest
            where source_name in (select unnest(?::varchar[])) and outcome <> 'ignored'  -- never a load's
        ),
        ever_loaded as (
            select distinct source_file from audit.load_manifest where outcome = 'loaded'
        )
        select l.source_name, split_part(l.source_file, '/', 2) as branch, left(l.partition_key, 7) as month,
               bool_or(e.source_file is not null) as held,
               string_agg(case when l.outcome = 'rejected' then l.source_file || ' rejected: ' || l.message end, '; ')
        from latest l left join ever_loaded e using (source_file)
        where l.current
        group by all
        """,
        [ledgers],
    ).fetchall()
    seen: dict[tuple[str, str], set[str]] = {}  # months a branch sent, held or not: where its ledger starts
    held: set[tuple[str, str, str]] = set()
    rejected: dict[tuple[str, str, str], str] = {}
    for source, branch, month, is_held, rejection in rows:
        seen.setdefault((source, branch), set()).add(month)
        if is_held:
            held.add((source, branch, month))
        elif rejection:
            rejected[(source, branch, month)] = rejection
    if not held:
        return []
    last = max(month for _, _, month in held)
    return [
        LedgerHole(source, branch, month, rejected.get((source, branch, month), "no file arrived"))
        for (source, branch), months in sorted(seen.items())
        for month in _months(min(months), last)
        if (source, branch, month) not in held
    ]


def hole_message(holes: list[LedgerHole], shown: int = 5) -> str:
    """Why the marts were not built, in one paragraph a data team can act on."""
    listed = "; ".join(map(str, holes[:shown])) + (f"; and {len(holes) - shown} more" if len(holes) > shown else "")
    return (
        f"Marts not built: the ledger has {len(holes)} missing month{'s' if len(holes) > 1 else ''} before the last "
        f"month loaded: {listed}. The marts and their published copy stay as last built; land the missing "
        "files and run again."
    )
