"""Arrival schedules for the arrival-order property test (test_arrival_order.py): in what order a
year of landing files reaches the warehouse, which builds run in between, and how the warehouse
they leave compares with one build from all history."""

from __future__ import annotations

import random
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import dagster as dg
import duckdb
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from dagster_project.definitions import build_definitions
from dagster_project.domain.landing_contract import LANDING_SOURCES, REORGANISATION_DATE
from dagster_project.outputs.fingerprint import table_fingerprints
from dagster_project.settings import Settings
from dagster_project.warehouse.recompute import last_window

REFORM_MONTH = REORGANISATION_DATE.strftime("%Y-%m")
REGISTERS = [s for s in LANDING_SOURCES.values() if not s.monthly]
LEDGERS = [s for s in LANDING_SOURCES.values() if s.monthly]


@dataclass(frozen=True)
class Step:
    """What lands before one build, then the jobs a data team (or the sensors) would run: the
    registers job when a register snapshot landed, the ledger job for the months that landed,
    then the marts job. A month lands whole: every branch's files of both ledgers."""

    months: tuple[str, ...] = ()  # ledger months, final version
    early_months: tuple[str, ...] = ()  # ledger months in an earlier version; a later step re-sends them
    registers: str | None = None  # "early" or "final": the register snapshot that lands

    @property
    def landed(self) -> tuple[str, ...]:
        return tuple(sorted(self.months + self.early_months))

    def describe(self) -> str:
        parts = []
        if self.registers:
            parts.append(f"registers ({self.registers})")
        if self.months:
            parts.append("months " + ", ".join(month_runs(self.months)))
        if self.early_months:
            parts.append("early version of " + ", ".join(self.early_months))
        return " + ".join(parts)


SHAPES = ("month by month", "reorganisation late", "batches")


def arrival_schedule(seed: int, months: Sequence[str]) -> list[Step]:
    """The steps in which `months` (sorted `YYYY-MM`) and the registers arrive, for seed >= 1
    (one step with everything is the reference, built by build_warehouse). Pure: a seed always
    gives the same schedule, so PCW_ARRIVAL_SEEDS can try more of them.

    The shape is SHAPES[seed % 3]:
    - month by month: each month its own step, in calendar order but a few neighbours swapped;
    - reorganisation late: the months before the 2025 reorganisation in one step, then the later
      ones in a shuffled order: one to three of them one at a time, the rest in one catch-up step;
    - batches: the months shuffled into two or three steps.
    The first month always lands in the first step, with the registers: it carries the opening
    balances, and without it every repayment leaves a negative balance that the build's tests stop.
    Then, by the seed's draw, the first step may land an earlier version of the registers
    (replaced by the final one in a later step), and a month may land first in an earlier version
    (re-sent in its final version in a later step)."""
    if seed < 1:
        raise ValueError("seed 0 is the reference: one step with everything")
    rng = random.Random(seed)
    first, rest = months[0], list(months[1:])
    shape = SHAPES[seed % len(SHAPES)]
    if shape == "month by month":
        for i in range(len(rest) - 1):
            if rng.random() < 0.25:
                rest[i], rest[i + 1] = rest[i + 1], rest[i]
        groups = [[first]] + [[m] for m in rest]
    elif shape == "reorganisation late":
        after = [m for m in rest if m >= REFORM_MONTH]
        rng.shuffle(after)
        one_by_one = rng.randint(1, 3)
        groups = [[first] + [m for m in rest if m < REFORM_MONTH]] + [[m] for m in after[:one_by_one]]
        if after[one_by_one:]:
            groups.append(after[one_by_one:])
    else:
        rng.shuffle(rest)
        cuts = sorted(rng.sample(range(1, len(rest)), rng.choice((1, 2))))
        groups = [sorted(rest[a:b]) for a, b in zip([0, *cuts], [*cuts, len(rest)])]
        groups[0] = [first, *groups[0]]
    steps = [Step(months=tuple(sorted(g))) for g in groups]

    replaced = len(steps) > 1 and rng.random() < 0.5
    steps[0] = replace(steps[0], registers="early" if replaced else "final")
    if replaced:
        j = rng.randrange(1, len(steps))
        steps[j] = replace(steps[j], registers="final")
    if len(steps) > 1 and rng.random() < 0.6:
        i = rng.randrange(len(steps) - 1)
        month = rng.choice(steps[i].months)
        steps[i] = replace(steps[i], months=tuple(m for m in steps[i].months if m != month), early_months=(month,))
        j = rng.randrange(i + 1, len(steps))
        steps[j] = replace(steps[j], months=tuple(sorted(steps[j].months + (month,))))
    return steps


def arrival_cases(schedule: Sequence[Step]) -> set[str]:
    """The arrival cases a schedule exercises (the final landing files hold the others: a
    back-dated row, a loan back after a zero balance)."""
    cases = {"all at once"} if len(schedule) == 1 else set()
    history = set(schedule[0].landed)
    later = {m for s in schedule[1:] for m in s.landed}
    if max(history) < REFORM_MONTH and later and min(later) >= REFORM_MONTH:
        cases.add("reorganisation months after the history")
    seen: set[str] = set()
    one_new_month = []
    for step in schedule:
        new = [m for m in step.landed if m not in seen]
        if seen and any(m < max(seen) for m in new):
            cases.add("months out of order")  # a month lands for the first time after a later one
        one_new_month.append(bool(seen) and step.months == tuple(new) and len(new) == 1)
        seen |= set(step.landed)
    if any(a and b for a, b in zip(one_new_month, one_new_month[1:])):
        cases.add("month by month")  # two builds in a row, each after one new month landed
    if any(s.early_months for s in schedule):
        cases.add("month re-sent with changed rows")
    if any(s.registers == "early" for s in schedule):
        cases.add("register snapshot replaced")
    return cases


def describe(schedule: Sequence[Step]) -> str:
    return "\n".join(f"  step {i}: {s.describe()}" for i, s in enumerate(schedule, 1))


def month_runs(months: Sequence[str]) -> list[str]:
    """Consecutive months as ranges: ["2025-01..2025-03", "2025-05"]."""
    runs: list[list[str]] = []
    for month in sorted(months):
        if runs and _next_month(runs[-1][-1]) == month:
            runs[-1].append(month)
        else:
            runs.append([month])
    return [r[0] if len(r) == 1 else f"{r[0]}..{r[-1]}" for r in runs]


def _next_month(month: str) -> str:
    year, mm = int(month[:4]), int(month[5:])
    return f"{year + mm // 12}-{mm % 12 + 1:02d}"


# --- landing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LandingVersions:
    """The final landing files and the earlier versions some of them arrive in first: folders laid
    out like a landing folder. An early month's folder is written on first use (`early_month`)."""

    final: Path
    early: Path
    early_month: Callable[[str], None]  # writes that month's early version under `early`


def land(step: Step, versions: LandingVersions, landing_dir: Path) -> None:
    """Copy what the step brings into the landing folder, over what was there."""
    copies: list[tuple[Path, Path]] = []
    if step.registers:
        for source in REGISTERS:
            for path in sorted((versions.final / source.folder).glob("*/*")):
                relative = path.relative_to(versions.final)
                early = versions.early / relative
                copies.append((early if step.registers == "early" and early.exists() else path, relative))
    for month in step.months:
        copies += [(p, p.relative_to(versions.final)) for p in _month_files(versions.final, month)]
    for month in step.early_months:
        versions.early_month(month)
        copies += [(p, p.relative_to(versions.early)) for p in _month_files(versions.early, month)]
    for path, relative in copies:
        (landing_dir / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, landing_dir / relative)


def _month_files(root: Path, month: str) -> list[Path]:
    return sorted(p for s in LEDGERS for p in (root / s.folder).glob(f"*/*_{month}.*"))


# --- running -----------------------------------------------------------------------------------


@dataclass
class StepRun:
    step: Step
    missing: list[str]  # months not landed yet though a later one has: balances there can't be right
    jobs: list[str] = field(default_factory=list)
    window: str = ""  # what the marts build recomputed (int_recompute__window)
    failures: list[str] = field(default_factory=list)

    @property
    def stopped_for_missing_months(self) -> bool:
        """The marts build refused to run over the missing months (ingest/holes.py), naming the first."""
        return (
            bool(self.missing)
            and len(self.failures) == 1
            and self.failures[0].startswith("marts_job / dbt_models: ")
            and "Marts not built" in self.failures[0]
            and f" for {self.missing[0]} (no file arrived)" in self.failures[0]
        )


def step_jobs(step: Step) -> list[tuple[str, str | None, dict | None]]:
    """(job, partition key, tags): one ledger run per run of consecutive months, a single month as
    its partition, a range as a backfill with the tags build.py uses."""
    jobs: list[tuple[str, str | None, dict | None]] = [("registers_job", None, None)] if step.registers else []
    for run in month_runs(step.landed):
        start, _, end = run.partition("..")
        if end:
            tags = {ASSET_PARTITION_RANGE_START_TAG: f"{start}-01", ASSET_PARTITION_RANGE_END_TAG: f"{end}-01"}
            jobs.append(("ledger_job", None, tags))
        else:
            jobs.append(("ledger_job", f"{start}-01", None))
    return [*jobs, ("marts_job", None, None)]


def run_schedule(schedule: Sequence[Step], versions: LandingVersions, settings: Settings) -> list[StepRun]:
    """Land each step and run its jobs on one Dagster instance. A failed load stops the schedule;
    a failed marts build does not: the next step's build starts from what it left, as the
    sensors' next run would."""
    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    defs = build_definitions(settings)
    every_month = sorted({m for step in schedule for m in step.landed})
    runs, landed = [], set()
    with dg.DagsterInstance.ephemeral() as instance:
        for step in schedule:
            land(step, versions, settings.landing_dir)
            landed |= set(step.landed)
            run = StepRun(step, missing=[m for m in every_month if m < max(landed) and m not in landed])
            runs.append(run)
            for job, partition, tags in step_jobs(step):
                result = defs.resolve_job_def(job).execute_in_process(
                    instance=instance,
                    partition_key=partition,
                    tags=tags,
                    raise_on_error=False,
                    run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
                )
                run.jobs.append(f"{job}({partition or _range(tags)})" if job == "ledger_job" else job)
                if not result.success:
                    run.failures = _failures(job, result)
                    if job != "marts_job":
                        return runs
            with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
                window = last_window(conn)
            run.window = window.describe() if window else ""
    return runs


def _range(tags: dict | None) -> str:
    return f"{tags[ASSET_PARTITION_RANGE_START_TAG]}..{tags[ASSET_PARTITION_RANGE_END_TAG]}" if tags else ""


def _failures(job: str, result: dg.ExecuteInProcessResult) -> list[str]:
    """One line a failure: a failed quality gate, a dbt node that failed (a test) or errored, or
    the first lines of any other step's error."""
    lines = []
    for event in result.all_events:
        if event.is_step_failure:
            message = re.sub(r"\x1b\[[0-9;]*m", "", event.event_specific_data.error.message)
            dbt_nodes = re.findall(r"^\d+ of \d+ (FAIL|ERROR)\b(.*?)[ .]*\[", message, re.M)
            if dbt_nodes:
                lines += [f"{job} / dbt {'test' if status == 'FAIL' else 'error'}:{node}" for status, node in dbt_nodes]
            else:
                lines.append(f"{job} / {event.step_key}: " + " | ".join(message.strip().splitlines()[:6]))
        elif event.event_type_value == "ASSET_CHECK_EVALUATION" and not event.event_specific_data.passed:
            check = event.event_specific_data
            lines.append(f"{job} / check {check.asset_key.to_user_string()}:{check.check_name}")
    return lines or [f"{job} failed"]


def report(runs: Sequence[StepRun]) -> str:
    """Each step: what landed, the jobs run, what the marts build recomputed or why it failed."""
    lines = []
    for i, run in enumerate(runs, 1):
        lines += [f"  step {i}: {run.step.describe()}", f"    jobs: {', '.join(run.jobs)}"]
        if run.missing:
            lines.append(f"    months still missing: {', '.join(run.missing)}")
        if run.stopped_for_missing_months:
            lines.append("    marts not built over the missing months:")
        lines += [f"    FAILED {line}" for line in run.failures]
        if run.window and not run.failures:
            lines.append(f"    {run.window}")
    return "\n".join(lines)


# --- comparing ---------------------------------------------------------------------------------

BOOKKEEPING = "int_recompute__"  # their fingerprints record load times: they differ by design


def warehouse_tables(settings: Settings) -> dict[str, tuple[int, int]]:
    """Fingerprints of the raw tables and every dbt table model, bookkeeping left out."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        fingerprints = table_fingerprints(conn)
    return {t: f for t, f in fingerprints.items() if not t.startswith(f"main.{BOOKKEEPING}")}


def published_marts(settings: Settings) -> dict[str, tuple[int, int]]:
    """Fingerprints of the published marts' Parquet files, by mart: their content, whatever
    version folder they sit in."""
    with duckdb.connect() as conn:
        return {
            f"published {path.stem}": tuple(
                int(v)
                for v in conn.execute(
                    "select count(*), coalesce(sum(hash(r)::hugeint), 0) from read_parquet(?) as r", [str(path)]
                ).fetchone()
            )
            for path in sorted((settings.published_dir / "marts").glob("*.parquet"))
        }


def differences(reference: Settings, built: Settings, tables_shown: int = 8, sample_rows: int = 3) -> list[str]:
    """Every table or published mart whose rows differ from the reference's, raw tables first (a
    load that differs explains the rest); for the first few, their row counts and a few rows found
    on one side only."""
    expected = warehouse_tables(reference) | published_marts(reference)
    actual = warehouse_tables(built) | published_marts(built)
    layer = {"raw": 0, "main": 1}
    differing = sorted(
        (name for name in expected.keys() | actual.keys() if expected.get(name) != actual.get(name)),
        key=lambda name: (layer.get(name.split(".")[0], 2), name),
    )
    if not differing:
        return []
    lines = [f"{len(differing)} differ: {', '.join(differing)}"]
    with duckdb.connect(str(built.warehouse_path), read_only=True) as conn:
        conn.execute(f"attach '{reference.warehouse_path}' as reference (read_only)")
        for name in differing[:tables_shown]:
            if name not in expected or name not in actual:
                lines.append(f"{name}: {'missing here' if name not in actual else 'not in the reference'}")
                continue
            lines.append(f"{name}: {expected[name][0]} rows in the reference, {actual[name][0]} here")
            if name.startswith("published "):
                mart = name.removeprefix("published ")
                ours = f"read_parquet('{built.published_dir / 'marts' / mart}.parquet')"
                theirs = f"read_parquet('{reference.published_dir / 'marts' / mart}.parquet')"
            else:
                schema, table = name.split(".")
                ours, theirs = f'"{schema}"."{table}"', f'reference."{schema}"."{table}"'
            for label, a, b in (("only here", ours, theirs), ("only in the reference", theirs, ours)):
                rows = conn.execute(
                    f"select * from (select * from {a} except all select * from {b}) limit {sample_rows}"
                )
                columns = [d[0] for d in rows.description]
                lines += [
                    f"    {label}: " + ", ".join(f"{c}={v}" for c, v in zip(columns, row)) for row in rows.fetchall()
                ]
    return lines
