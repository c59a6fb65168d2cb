"""What `pcw run` and `pcw marts` say while they build: a line a step, saying how far it is, read
from the Dagster events of each run as they happen (build.py listens on the instance)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from dagster_project.domain.months import LedgerMonth

GATE_CHECK = "great_expectations"  # defs/quality_gates.py; every other check is a dbt test


def count(n: int) -> str:
    """12,345 or 1.2 M: rows as a person reads them."""
    return f"{n / 1e6:.1f} M" if n >= 1_000_000 else f"{n:,}"


class StatusLine:
    """The line of the step in progress: rewritten in place on a terminal; elsewhere (a log file, CI)
    printed at most every `every` seconds. `done` ends it with the step's summary."""

    def __init__(self, out: TextIO, interactive: bool | None = None, every: float = 10.0):
        self.out = out
        self.interactive = out.isatty() if interactive is None else interactive
        self.every = every
        self._shown = ""
        self._last = time.monotonic()

    def update(self, text: str) -> None:
        if text == self._shown:
            return
        now = time.monotonic()
        if self.interactive:
            self.out.write(f"\r{text}\x1b[K")
            self.out.flush()
        elif now - self._last >= self.every:
            print(text, file=self.out, flush=True)
            self._last = now
        self._shown = text

    def done(self, text: str) -> None:
        print(f"\r{text}\x1b[K" if self.interactive else text, file=self.out, flush=True)
        self._shown = ""
        self._last = time.monotonic()


@dataclass
class RunTally:
    """What one run has planned and done so far."""

    job_name: str
    title: str
    months: int = 0
    started: float = field(default_factory=time.monotonic)
    planned_tables: set = field(default_factory=set)
    rows: dict = field(default_factory=dict)  # raw table -> rows it holds
    unchanged: set = field(default_factory=set)  # raw tables whose files were all loaded before
    planned_dbt: set = field(default_factory=set)
    dbt_done: set = field(default_factory=set)
    dbt_tests: int = 0
    gates_planned: set = field(default_factory=set)
    gates_passed: set = field(default_factory=set)
    gates_failed: set = field(default_factory=set)
    published: dict = field(default_factory=dict)  # asset -> metadata

    @property
    def loading(self) -> bool:
        return self.job_name != "marts_job"

    def seconds(self) -> str:
        return f"{time.monotonic() - self.started:.0f} s"


def _value(metadata: dict, key: str, default=0):
    value = metadata.get(key)
    return getattr(value, "value", value) if value is not None else default


class BuildProgress:
    """Follows the runs of a build (build.py calls `start`, then `on_event` for each of the run's
    events, then `finish`) and says where it is on `out`."""

    def __init__(self, out: TextIO | None = None, interactive: bool | None = None, every: float = 10.0):
        self.line = StatusLine(out or sys.stdout, interactive, every)
        self.dbt_log: Path | None = None
        self.tally: RunTally | None = None

    def start(self, job_name: str, months: tuple[str, str] | None = None) -> None:
        if job_name == "ledger_job" and months:
            first, last = (LedgerMonth.parse(m) for m in months)
            self.tally = RunTally(job_name, f"Loading ledgers {first}…{last}", months=len(first.through(last)))
        else:
            title = {"registers_job": "Loading registers", "marts_job": "dbt"}.get(job_name, job_name)
            self.tally = RunTally(job_name, title)
        self.line.update(f"{self.tally.title} …")

    def on_event(self, entry) -> None:
        try:
            self._follow(entry)
        except Exception as error:  # saying how far a build is must never stop it
            self.tally = None
            self.line.done(f"(progress stopped: {error!r})")

    def _follow(self, entry) -> None:
        event, tally = entry.dagster_event, self.tally
        if event is None or tally is None:
            return
        kind, data = event.event_type_value, event.event_specific_data
        if kind == "ASSET_MATERIALIZATION_PLANNED":
            self._planned(tally, data.asset_key)
        elif kind == "ASSET_CHECK_EVALUATION_PLANNED":
            (tally.gates_planned if data.check_name == GATE_CHECK else tally.planned_dbt).add(
                (data.asset_key, data.check_name)
            )
        elif kind == "ASSET_MATERIALIZATION":
            self._materialized(tally, data.materialization)
        elif kind == "ASSET_CHECK_EVALUATION":
            check = (data.asset_key, data.check_name)
            if data.check_name == GATE_CHECK:
                (tally.gates_passed if data.passed else tally.gates_failed).add(check)
                tally.gates_passed -= tally.gates_failed  # a ledger gate judges each month: one failed month fails it
            else:
                tally.dbt_done.add(check)
                tally.dbt_tests += 1
        elif kind == "ENGINE_EVENT" and "blocked by limit for pool" in (event.message or ""):
            pool = _value(data.metadata or {}, "pool", "")
            self.line.update(f"{self._status(tally)} — waiting: another run's step holds the pool {pool}")
            return
        elif kind != "STEP_START":  # a step that waited has its turn
            return
        self.line.update(self._status(tally))

    def finish(self, success: bool) -> None:
        tally, self.tally = self.tally, None
        if tally is None:
            return
        failed = "" if success else " — FAILED"
        if tally.loading:
            self.line.done(f"{tally.title} … {self._loaded(tally)} ({tally.seconds()}){failed}")
        else:
            self.line.done(
                self._dbt_summary(tally, success) + (failed if not tally.gates_planned and not tally.published else "")
            )
        if tally.gates_planned:
            self.line.done(self._gates(tally))
        tables = {k: m for k, m in tally.published.items() if len(k.path) > 2}  # the raw tables, for Spark
        if tables:
            rows = sum(_value(m, "dagster/row_count") for m in tables.values())
            self.line.done(f"Published {len(tables)} raw tables for Spark ({count(rows)} rows)")
        for metadata in (m for k, m in tally.published.items() if len(k.path) == 2):
            self.line.done(
                f"Published {_value(metadata, 'marts')} marts ({count(_value(metadata, 'dagster/row_count'))} rows) "
                f"to {_value(metadata, 'path', '')}"
            )

    @staticmethod
    def _planned(tally: RunTally, key) -> None:
        if key.path[0] == "raw":
            tally.planned_tables.add(key)
        elif key.path[0] != "published":
            tally.planned_dbt.add(key)

    @staticmethod
    def _materialized(tally: RunTally, materialization) -> None:
        key, metadata = materialization.asset_key, materialization.metadata
        if key.path[0] == "raw":
            tally.rows[key] = _value(metadata, "dagster/row_count")
            if _value(metadata, "partitions_unchanged") and not _value(metadata, "partitions_loaded"):
                tally.unchanged.add(key)
        elif key.path[0] == "published":
            tally.published[key] = metadata
        else:
            tally.dbt_done.add(key)

    def _status(self, tally: RunTally) -> str:
        if tally.loading:
            return (
                f"{tally.title} … {len(tally.rows)}/{len(tally.planned_tables)} tables, "
                f"{count(sum(tally.rows.values()))} rows"
            )
        if len(tally.dbt_done) < len(tally.planned_dbt):
            return f"dbt: {len(tally.dbt_done)}/{len(tally.planned_dbt)} nodes"
        if tally.gates_planned:
            return f"Quality gates: {len(tally.gates_passed | tally.gates_failed)}/{len(tally.gates_planned)} …"
        return "Publishing …"

    @staticmethod
    def _loaded(tally: RunTally) -> str:
        rows = count(sum(tally.rows.values()))
        unchanged = f" ({len(tally.unchanged)} unchanged)" if tally.unchanged else ""
        if tally.months:
            return f"{len(tally.rows)} sources{unchanged}, {tally.months} months, {rows} rows"
        return f"{len(tally.rows)} tables{unchanged}, {rows} rows"

    def _dbt_summary(self, tally: RunTally, success: bool) -> str:
        built = len(tally.dbt_done) - tally.dbt_tests
        log = f"; dbt's log: {self.dbt_log}" if self.dbt_log else ""
        # a successful build leaves out only the seeds, whose code already passed (code_checks.py)
        skipped = len(tally.planned_dbt) - len(tally.dbt_done) if success else 0
        unchanged = f", {skipped} seeds unchanged" if skipped else ""
        return (
            f"dbt: {len(tally.dbt_done)}/{len(tally.planned_dbt)} nodes "
            f"({built} models and seeds, {tally.dbt_tests} tests{unchanged}) in {tally.seconds()}{log}"
        )

    @staticmethod
    def _gates(tally: RunTally) -> str:
        passed, failed = len(tally.gates_passed), sorted(k.to_user_string() for k, _ in tally.gates_failed)
        unchecked = len(tally.gates_planned) - passed - len(failed)
        text = f"Quality gates: {passed} passed"
        if failed:
            text += f", {len(failed)} FAILED ({', '.join(failed)})"
        if unchecked:
            text += f", {unchecked} not run"
        return text
