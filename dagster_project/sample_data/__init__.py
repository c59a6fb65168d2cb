"""Sample landing files for real provinces (docs/data-contract.md): deterministic for a seed,
vectorised, written branch by branch and month by month so memory stays bounded, and calibrated
on the reference province's published mid-2024 figures (domain.md §6).

    from dagster_project.sample_data import GenerationConfig, generate
    summary = generate(Path("data/landing"), GenerationConfig(communes=3))
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dagster_project.contract import LANDING_SOURCES, REORGANISATION_DATE
from dagster_project.sample_data.capital import capital_entries
from dagster_project.sample_data.catalogue import RISK_CAUSES
from dagster_project.sample_data.config import GenerationConfig, country_config, preset_config
from dagster_project.sample_data.dates import day, month_of_year
from dagster_project.sample_data.geography import branches
from dagster_project.sample_data.keys import code, pick
from dagster_project.sample_data.ledger import TYPES, T
from dagster_project.sample_data.province import ProvinceBook, build_book
from dagster_project.sample_data.savings import savings_rows
from dagster_project.sample_data.writer import clear, table, write_month, write_register

__all__ = ["GenerationConfig", "generate", "country_config", "preset_config"]

REFORM_DAY = day(REORGANISATION_DATE)
BUCKET_NAMES = ["current", "overdue", "frozen"]
REGISTERS = ("transaction_points", "groups", "borrowers", "loans", "loan_schedules", "certified_households", "demand_survey")


def generate(landing_dir: Path, config: GenerationConfig = GenerationConfig()) -> dict:
    """Write every landing source for the configured provinces; replaces the sources' folders.

    Returns row counts per source and the headline figures at 2024-06-30 (from the generator's own
    balances; tests recompute them from the files)."""
    landing_dir = Path(landing_dir)
    for source in LANDING_SOURCES.values():
        clear(landing_dir, source)
    rows: Counter = Counter()
    totals: Counter = Counter()
    plan = branches(config)
    for branch, provinces in plan.items():  # one branch in memory at a time
        books = [build_book(config, p) for p in provinces]
        _write_branch(landing_dir, config, branch, books, rows, totals)
        del books
    return {"branches": plan, "rows": {name: rows[name] for name in LANDING_SOURCES}, "calibration": _figures(totals)}


def _write_branch(landing_dir: Path, config: GenerationConfig, branch: str, books: list[ProvinceBook],
                  rows: Counter, totals: Counter) -> None:
    for name in REGISTERS:
        frame = pd.concat([b.registers[name] for b in books], ignore_index=True)
        if name == "demand_survey":  # a new commune may take old communes of two old provinces
            frame = frame.groupby(["survey_date", "commune_code", "program_code", "plan_year"], as_index=False, sort=True).sum()
            frame = frame[list(LANDING_SOURCES[name].columns)]
        rows[name] += write_register(landing_dir, LANDING_SOURCES[name], branch, table(LANDING_SOURCES[name], frame))

    savings_by_month = [dict() for _ in books]
    _write_ledgers(landing_dir, config, branch, books, rows, savings_by_month)

    capital = []
    for i, book in enumerate(books):
        entries = capital_entries(book.savings_rng, config, book.province, book.outstanding_at, savings_by_month[i])
        entries.insert(0, "capital_entry_id", np.asarray(code(f"NV{book.province.code}", np.arange(1, len(entries) + 1), 5)))
        capital.append(entries.rename(columns={"day": "effective_date"}))
    capital = pd.concat(capital, ignore_index=True)
    rows["capital_sources"] += write_register(landing_dir, LANDING_SOURCES["capital_sources"], branch,
                                              table(LANDING_SOURCES["capital_sources"], capital))

    local = capital[capital.source == "local"]
    signed = local.amount * np.where(local.direction == "in", 1, -1)
    totals["local_capital_mid_2024"] += int(signed[local.effective_date <= day("2024-06-30")].sum())
    totals["local_capital_end_2014"] += int(signed[local.effective_date <= day("2014-12-31")].sum())
    for book in books:
        for when, figures in book.calibration.items():
            for key, value in figures.items():
                totals[f"{key}_{when}"] += len(value) if isinstance(value, set) else value


def _write_ledgers(landing_dir, config, branch, books, rows, savings_by_month) -> None:
    transactions, deposits = LANDING_SOURCES["transactions"], LANDING_SOURCES["savings_deposits"]
    offsets = np.cumsum([0] + [len(b.loans) for b in books])
    loan_ids = pa.array(np.concatenate([b.loan_ids for b in books]), pa.string())
    old_commune = np.concatenate([b.loan_old_commune for b in books])
    new_commune = np.concatenate([b.loan_new_commune for b in books])
    point = pa.array(np.concatenate([b.loan_point for b in books]), pa.string())
    groups = [b.groups.reset_index(drop=True) for b in books]
    for month in range(month_of_year(config.start_year), month_of_year(config.end_year, 12) + 1):  # a file a month
        label = str(np.datetime64(month, "M"))
        prefix = label.replace("-", "")
        parts = []
        for i, book in enumerate(books):
            first, stop = book.month_bounds[month]
            principal = {c: v[first:stop] for c, v in book.written.items()}
            interest = book.interest.rows(month, book.balances)
            for part in (interest, principal):
                parts.append({**part, "loan": part["loan"] + offsets[i]})
        ledger = {c: np.concatenate([p[c] for p in parts]) for c in parts[0]}
        order = np.lexsort((ledger["order"], ledger["loan"], ledger["day"]))
        ledger = {c: v[order] for c, v in ledger.items()}
        if len(order):
            rows["transactions"] += write_month(landing_dir, transactions, branch, label,
                                                _transactions_table(transactions, branch, prefix, ledger, loan_ids, old_commune,
                                                                    new_commune, point), config.ledger_format)

        saved = []
        for i, book in enumerate(books):
            s = savings_rows(book.savings_rng, groups[i], month)
            savings_by_month[i][month] = int(s["amount"].sum())
            g = groups[i]
            saved.append(pd.DataFrame({
                "deposit_date": s["day"], "group_id": g.group_id.to_numpy()[s["group"]], "depositing_members": s["members"],
                "amount": s["amount"],
                "commune_code": np.where(s["day"] < REFORM_DAY, g.commune_code.to_numpy()[s["group"]], g.new_commune_code.to_numpy()[s["group"]]),
                "transaction_point_id": g.transaction_point_id.to_numpy()[s["group"]],
            }))
        saved = pd.concat(saved, ignore_index=True).sort_values(["deposit_date", "group_id"], kind="stable", ignore_index=True)
        if len(saved):
            saved.insert(0, "deposit_id", np.asarray(code(f"TK{branch}{prefix}", np.arange(1, len(saved) + 1), 6)))
            rows["savings_deposits"] += write_month(landing_dir, deposits, branch, label, table(deposits, saved), config.ledger_format)


def _transactions_table(source, branch, prefix, ledger, loan_ids, old_commune, new_commune, point) -> pa.Table:
    n = len(ledger["loan"])
    ids = code(f"GD{branch}{prefix}", np.arange(1, n + 1), 7)
    reversal = ledger["type"] == T["disbursement_reversal"]
    # The disbursement a reversal cancels is the row just before it (same loan and day, posted first).
    reversed_ids = pc.if_else(pa.array(reversal), ids.take(pa.array(np.maximum(np.arange(n) - 1, 0))), pa.scalar(None, pa.string()))
    loan = pa.array(ledger["loan"])
    commune = np.where(ledger["day"] < REFORM_DAY, old_commune[ledger["loan"]], new_commune[ledger["loan"]])
    return table(source, {
        "transaction_id": ids,
        "transaction_date": ledger["day"],
        "loan_id": loan_ids.take(loan),
        "transaction_type": pick(TYPES, ledger["type"]),
        "principal_amount": ledger["amount"],
        "interest_amount": ledger["interest"],
        "from_bucket": pick(BUCKET_NAMES, ledger["source"].astype(np.int64) - 1),
        "to_bucket": pick(BUCKET_NAMES, ledger["target"].astype(np.int64) - 1),
        "cause_code": pick(RISK_CAUSES, ledger["cause"].astype(np.int64)),
        "new_due_date": ledger["new_due"],
        "frozen_until": ledger["frozen_until"],
        "reversed_transaction_id": reversed_ids,
        "commune_code": pa.array(commune, pa.string()),
        "transaction_point_id": point.take(loan),
    })


def _figures(totals: Counter) -> dict:
    outstanding = totals["outstanding_principal_mid_2024"]
    earlier = totals["outstanding_principal_mid_2014"]
    local_2014 = totals["local_capital_end_2014"]
    return {
        "as_of": "2024-06-30",
        "outstanding_principal": outstanding,
        "entrusted_share": totals["outstanding_through_groups_mid_2024"] / outstanding if outstanding else None,
        "borrowers_with_outstanding": totals["borrowers_mid_2024"],
        "groups_with_outstanding": totals["groups_mid_2024"],
        "overdue_and_frozen_share": (totals["overdue_principal_mid_2024"] + totals["frozen_principal_mid_2024"]) / outstanding
        if outstanding else None,
        "local_funded_outstanding": totals["local_funded_outstanding_mid_2024"],
        "local_capital_balance": totals["local_capital_mid_2024"],
        "local_capital_multiple": totals["local_capital_mid_2024"] / local_2014 if local_2014 else None,
        "outstanding_mid_2014": earlier,
        "outstanding_growth_10_years": outstanding / earlier if earlier else None,
    }
