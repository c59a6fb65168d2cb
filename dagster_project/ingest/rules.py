"""Row rules: what sends a landing row to quarantine instead of `raw`.

A rule is a name (what the data team reads in `raw.quarantine.rule`) and a SQL condition, true
when a row breaks it, over the typed row `t` of the file being loaded; a rule whose reason depends
on the row adds it after the name. Rules that need reference data read it from `raw` (loaded
upstream) or from the seeds (rates and caps are data, not code). The first rule a row breaks is
the one recorded.

A row's own rules come first, its parents last (`REFERENCES`: a transaction's loan, a loan's
borrower and group): a row with a defect of its own is recorded for it whatever its parent, and a
row otherwise fine waits on its parent alone, `unknown <column>` when the parent is in no register,
`parent_quarantined` when the parent is quarantined. Which is what re-admission re-evaluates when a
parent changes (parents.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date

import duckdb

from dagster_project.domain.landing_contract import LANDING_SOURCES, REORGANISATION_DATE, LandingSource
from dagster_project.domain.months import today_in_vietnam
from dagster_project.ingest.rates import prepare_allowed_rates, special_rate_categories
from dagster_project.settings import SEEDS_DIR


@dataclass(frozen=True)
class RowRule:
    name: str
    condition: str
    detail: str | None = None  # SQL text over `t`, recorded as "<name>: <detail>"
    text: str | None = None  # SQL text over `t`, recorded as it is (instead of name and detail)

    def recorded(self) -> str:
        """SQL: the text `raw.quarantine.rule` gets for a row that breaks the rule."""
        if self.text:
            return self.text
        name = "'" + self.name.replace("'", "''") + "'"
        return f"{name} || ': ' || {self.detail}" if self.detail else name


# Lookups are uncorrelated `(…) in (select …)`: one hash join each. A correlated `exists` inside
# the rules' CASE made DuckDB copy every row of the file once per rule (a delim join), which took
# most of a large load's time.
def _in(values: list[str], table: str, keys: list[str]) -> str:
    """True when the row's values are a key of the table (never null: the keys' nulls are left out)."""
    not_null = " and ".join(f"{k} is not null" for k in keys)
    return f"({', '.join(values)}) in (select {', '.join(keys)} from {table} where {not_null})"


def _in_codes(column: str, table: str, key: str | None = None, name: str | None = None) -> RowRule:
    return RowRule(
        name or f"unknown {column}", f"t.{column} is not null and not {_in([f't.{column}'], table, [key or column])}"
    )


def _missing(column: str) -> RowRule:
    return RowRule(f"missing {column}", f"t.{column} is null")


def _outside(column: str, low: int | None, high: int | None, what: str) -> RowRule:
    """A whole number outside its range (`what` says the range in the data team's words)."""
    bounds = " and ".join(
        b
        for b in (
            f"t.{column} >= {low}" if low is not None else "",
            f"t.{column} <= {high}" if high is not None else "",
        )
        if b
    )
    return RowRule(f"{column} outside {what}", f"not ({bounds})", detail=f"'{column} ' || t.{column}")


def _one_of(column: str, values: tuple[str, ...]) -> RowRule:
    """A code from a short list the contract fixes (docs/data-contract.md)."""
    listed = ", ".join(f"'{v}'" for v in values)
    return RowRule(
        f"unknown {column}",
        f"t.{column} is not null and t.{column} not in ({listed})",
        detail=f"'{column} ' || t.{column} || ' is not one of {', '.join(values)}'",
    )


@dataclass(frozen=True)
class Reference:
    """A column naming a row of a register (its parent): the row is admitted only with its parent."""

    column: str  # the same name as the parent's key
    parent: str  # the register
    entity: str  # how the data team names one of its rows: "loan" -> "loan L1"

    def rule(self) -> RowRule:
        column = f"t.{self.column}"
        parent_rule = f"(select rules from rule_quarantined_{self.parent})[{column}]"
        unknown = f"unknown {self.column}: not in raw.{self.parent}"
        return RowRule(
            unknown,
            f"{column} is not null and not {_in([column], f'raw.{self.parent}', [self.column])}",
            text=f"case when {parent_rule} is null then '{unknown}' "
            f"else 'parent_quarantined: {self.entity} ' || {column} || ' is quarantined: ' || {parent_rule} end",
        )


# The parents a row names, in the order they are checked (a loan's borrower before its group).
REFERENCES: dict[str, list[Reference]] = {
    "groups": [Reference("transaction_point_id", "transaction_points", "transaction point")],
    "borrowers": [Reference("group_id", "groups", "group")],
    "loans": [Reference("borrower_id", "borrowers", "borrower"), Reference("group_id", "groups", "group")],
    "loan_schedules": [Reference("loan_id", "loans", "loan")],
    "transactions": [Reference("loan_id", "loans", "loan")],
    "savings_deposits": [Reference("group_id", "groups", "group")],
}
PARENTS = sorted({r.parent for refs in REFERENCES.values() for r in refs})
PARENT_QUARANTINED = "parent_quarantined: "


def load_date() -> date:
    """The day a load takes as today: PCW_LOAD_DATE (YYYY-MM-DD) when set, e.g. to load a generated
    sample whose history runs past today; else today where the branches date their rows (Vietnam,
    7 hours ahead of a server on UTC)."""
    value = os.environ.get("PCW_LOAD_DATE")
    if not value:
        return today_in_vietnam()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"PCW_LOAD_DATE={value!r}: expected a date YYYY-MM-DD") from None


def _generic_rules(source: LandingSource) -> list[RowRule]:
    rules = [
        RowRule(f"negative amount: {column}", f"t.{column} < 0")
        for column, kind in source.columns.items()
        if kind == "BIGINT" and column in source.amount_columns
    ]
    rules.append(
        RowRule(
            f"duplicate {' + '.join(source.key)}: repeated in the file",
            "t.__key_occurrence > 1",
        )
    )
    rules.append(
        RowRule(
            f"duplicate {' + '.join(source.key)}: already loaded from another file",
            # rule_loaded_keys: the load's keys already in raw from files it does not replace (admission.py)
            _in([f"t.{k}" for k in source.key], "rule_loaded_keys", list(source.key)),
        )
    )
    if source.era_date:
        # The row's own date records something that has happened: after today it is a typing error
        # (2099 for 2019) or a ledger month that has not come yet.
        today = load_date().isoformat()
        rules.append(
            RowRule(
                "date_in_future",
                f"t.{source.era_date} > date '{today}'",
                detail=f"'{source.era_date} ' || t.{source.era_date} || ' is after the load date {today}'",
            )
        )
    if source.era_date and "commune_code" in source.columns:
        rules.append(
            RowRule(
                f"unknown commune_code for the era of {source.era_date}",
                f"t.commune_code is not null and "
                f"case when t.{source.era_date} < date '{REORGANISATION_DATE.isoformat()}' "
                f"then not {_in(['t.commune_code'], 'raw.admin_units_old', ['commune_code'])} "
                f"else not {_in(['t.commune_code'], 'raw.admin_units_new', ['commune_code'])} end",
            )
        )
    if source.month_date:
        # A month loads and recomputes by its files: a row back-dated into a later month's file
        # would lie before the months an incremental build recomputes and never reach the balances.
        # Quarantined, not the file rejected: the rest of the month loads, every row accounted for.
        rules.append(
            RowRule(
                "date_outside_file_month",
                f"date_trunc('month', t.{source.month_date}) <> t.__file_month",
                detail=f"'{source.month_date} ' || t.{source.month_date} || ' is not in the file''s month ' "
                "|| strftime(t.__file_month, '%Y-%m')",
            )
        )
    return rules


# The first valid_from of the loan's program in seeds/program_terms.csv (null for an unknown program).
_PROGRAM_START = "(select first_valid_from from rule_program_starts)[t.program_code]"


def _pct(value: str) -> str:
    """SQL: a decimal rate as the government writes it (6.6, 8.382), not 6.6000."""
    return f"cast(cast({value} as double) as varchar)"


# Rates (rates.py): the case in force at the loan's disbursement date, and the borrower's category
# where a special rate names it (a map of those few borrowers: no join per row).
_RATE_IN_FORCE = "r.program_code = t.program_code and t.disbursement_date between r.valid_from and r.valid_to"
_RATE_CATEGORY = "(select categories from rule_rate_borrowers)[t.borrower_id]"
# What the quarantine reason lists: every case of the program then, a province's only in its communes
_RATES_ALLOWED = (
    "(select string_agg(allowed, '; ' order by allowed) from (select distinct "
    f"{_pct('r.annual_rate_pct')} || ' (' || r.allowed_as || ')' as allowed from rule_allowed_rates r "
    f"where {_RATE_IN_FORCE} and (r.scope <> 'province' or r.commune_code = t.commune_code)))"
)

# A row's own rules, after the generic ones and before its parents (REFERENCES). Value and range
# rules of the registers live here, not in the Great Expectations suites: a bad row is quarantined
# and the rest of its register loads, where a failed suite would stop everything downstream.
SOURCE_RULES: dict[str, list[RowRule]] = {
    "transaction_points": [
        _missing("transaction_office_code"),
        RowRule("transaction_day outside 1-31", "t.transaction_day not between 1 and 31"),
    ],
    "groups": [
        _missing("village_name"),
        _missing("transaction_point_id"),
        _in_codes("organisation_code", "rule_organisations"),
        RowRule(
            "member_count outside 3-60",
            "t.member_count is null or t.member_count not between 3 and 60",
            detail="'a group has 3 to 60 members, this one ' || coalesce(cast(t.member_count as varchar), 'none')",
        ),
    ],
    "borrowers": [
        _in_codes("category", "rule_borrower_categories"),
        _one_of("gender", ("F", "M")),
        _outside("birth_year", 1900, 2015, "1900-2015"),
    ],
    "loans": [
        _missing("borrower_id"),
        _in_codes("program_code", "rule_program_terms"),
        _in_codes("funding_source", "rule_funding_sources"),
        _in_codes("organisation_code", "rule_organisations"),
        RowRule(
            "entrusted loan without a group",
            "t.organisation_code is not null and t.group_id is null",
            detail="'organisation_code ' || t.organisation_code || ' and no group_id: a loan entrusted to an "
            "organisation is lent through one of its Savings and Loan Groups'",
        ),
        RowRule("loan_amount not positive", "t.loan_amount <= 0"),
        _outside("term_months", 1, 360, "1-360"),
        RowRule(
            "date_before_program",
            # One map of every program's start, looked up by key: no join per row.
            f"t.disbursement_date < {_PROGRAM_START}",
            detail=f"'disbursement_date ' || t.disbursement_date || ' is before program ' || t.program_code "
            f"|| ' began on ' || {_PROGRAM_START}",
        ),
        RowRule("contract_due_date before disbursement_date", "t.contract_due_date < t.disbursement_date"),
        RowRule(
            "annual_rate not allowed",
            # any rate a case allows at disbursement_date: the program's, its area's, its borrower's, its province's
            f"not exists (select 1 from rule_allowed_rates r where {_RATE_IN_FORCE} "
            "and r.annual_rate_pct = t.annual_rate and (r.commune_code is null or r.commune_code = t.commune_code) "
            f"and (r.borrower_category is null or r.borrower_category = {_RATE_CATEGORY}))",
            detail=f"'annual_rate ' || {_pct('t.annual_rate')} || ' for program ' || t.program_code || ' on ' "
            f"|| t.disbursement_date || ' in commune ' || coalesce(t.commune_code, 'none') || '; allowed: ' "
            f"|| coalesce({_RATES_ALLOWED}, 'none')",
        ),
        RowRule(
            "overdue_annual_rate is not 1.3 x annual_rate",
            "t.overdue_annual_rate <> round(t.annual_rate * (select rule_value from rule_rate_rules "
            "where rule_code = 'overdue_rate_multiplier'), 4)",
        ),
        RowRule(
            "loan_amount above the program's cap at disbursement_date",
            "exists (select 1 from rule_program_terms p where p.program_code = t.program_code "
            "and t.disbursement_date between p.valid_from and p.valid_to and t.loan_amount > p.loan_cap_vnd)",
        ),
    ],
    "loan_schedules": [
        RowRule("instalment_no below 1", "t.instalment_no < 1"),
        RowRule("principal_due not positive", "t.principal_due <= 0"),
        _missing("due_date"),
    ],
    "transactions": [
        _in_codes("transaction_type", "rule_transaction_buckets"),
        RowRule(
            "from_bucket / to_bucket not allowed for the transaction_type",
            "not "
            + _in(
                ["coalesce(t.transaction_type, '')", "coalesce(t.from_bucket, '')", "coalesce(t.to_bucket, '')"],
                "rule_transaction_buckets",
                ["transaction_type", "from_bucket", "to_bucket"],
            ),
        ),
        RowRule(
            "freeze or write_off without a risk cause_code",
            "t.transaction_type in ('freeze', 'write_off') and t.cause_code is null",
        ),
        _in_codes("cause_code", "rule_risk_causes"),
        _outside("loss_percent", 0, 100, "0-100 (%)"),
    ],
    "savings_deposits": [
        RowRule("deposit below 5,000 VND a depositing member", "t.amount < 5000 * t.depositing_members"),
    ],
    "capital_sources": [
        _one_of("source", ("central", "local", "mobilised")),
        _one_of("direction", ("in", "out")),
        _one_of("entrusting_unit", ("province", "commune")),
    ],
    # The certified lists hold poor, near-poor and just-out-of-poverty households: not `other`.
    "certified_households": [
        _in_codes("category", "rule_certified_categories", name="unknown certified category"),
        # no era date to check the code against a scheme's communes (a list is certified at year end)
        RowRule(
            "commune_code not a commune code",
            "not regexp_full_match(t.commune_code, '[0-9]{5}|H[0-9]{3}')",
            detail="'commune_code ' || t.commune_code || ' is not five digits'",
        ),
    ],
    "demand_survey": [
        _in_codes("program_code", "rule_program_terms"),
        _outside("plan_year", 2026, 2030, "2026-2030"),
        RowRule("households negative", "t.households < 0"),
    ],
}


def rules_for(source: LandingSource) -> list[RowRule]:
    return _generic_rules(source) + SOURCE_RULES[source.name] + reference_rules(source)


def reference_rules(source: LandingSource) -> list[RowRule]:
    return [r.rule() for r in REFERENCES.get(source.name, [])]


def first_broken_reference(source: LandingSource) -> str | None:
    """SQL over a row `t`: the recorded text of the first parent rule it breaks, or null (None for a
    source that names no parent)."""
    rules = reference_rules(source)
    return (
        "case " + " ".join(f"when {r.condition} then {r.recorded()}" for r in rules) + " else null end"
        if rules
        else None
    )


def first_broken_rule(source: LandingSource) -> str:
    """SQL over the typed row `t` (with `__file_month`, the first day of a ledger file's month):
    the recorded text of the first rule the row breaks, or null."""
    return "case " + " ".join(f"when {r.condition} then {r.recorded()}" for r in rules_for(source)) + " else null end"


def prepare_reference(conn: duckdb.DuckDBPyConnection) -> None:
    """Temp tables the rules read: seeds and allowed bucket moves."""

    def seed(name: str, table: str, types: dict[str, str]) -> None:
        conn.execute(
            f"create or replace temp table {table} as select * from read_csv(?, header = true, columns = {types!r})",
            [str(SEEDS_DIR / f"{name}.csv")],
        )

    seed(
        "program_terms",
        "rule_program_terms",
        {
            "program_code": "VARCHAR",
            "valid_from": "DATE",
            "valid_to": "DATE",
            "loan_cap_vnd": "BIGINT",
            "max_term_months": "INTEGER",
            "note": "VARCHAR",
        },
    )
    conn.execute(
        "create or replace temp table rule_program_starts as select map(list(program_code), list(valid_from)) "
        "as first_valid_from "
        "from (select program_code, min(valid_from) as valid_from from rule_program_terms group by 1)"
    )
    seed(
        "rate_rules",
        "rule_rate_rules",
        {"rule_code": "VARCHAR", "rule_value": "DECIMAL(9,4)", "description": "VARCHAR"},
    )
    seed(
        "organisations",
        "rule_organisations",
        {"organisation_code": "VARCHAR", "organisation_name_vi": "VARCHAR", "organisation_name_en": "VARCHAR"},
    )
    seed(
        "funding_sources",
        "rule_funding_sources",
        {"funding_source": "VARCHAR", "funding_source_name_vi": "VARCHAR", "funding_source_name_en": "VARCHAR"},
    )
    seed(
        "borrower_categories",
        "rule_borrower_categories",
        {
            "category": "VARCHAR",
            "category_name_vi": "VARCHAR",
            "category_name_en": "VARCHAR",
            "on_certified_lists": "BOOLEAN",
        },
    )
    conn.execute(
        "create or replace temp table rule_certified_categories as "
        "select category from rule_borrower_categories where on_certified_lists"
    )
    # the crosswalk loads with the admin units; a warehouse without it has no successors to a listed commune
    crosswalk = (
        "raw.admin_unit_crosswalk"
        if _raw_table_exists(conn, "admin_unit_crosswalk")
        else "(select '' as old_commune_code, '' as new_commune_code where false)"
    )
    prepare_allowed_rates(conn, crosswalk=crosswalk)
    prepare_rate_borrowers(conn)
    seed(
        "risk_causes",
        "rule_risk_causes",
        {"cause_code": "VARCHAR", "cause_name_vi": "VARCHAR", "cause_name_en": "VARCHAR"},
    )
    seed(
        "transaction_types",
        "rule_transaction_types",
        {
            "transaction_type": "VARCHAR",
            "transaction_type_name_vi": "VARCHAR",
            "allowed_from_buckets": "VARCHAR",
            "allowed_to_buckets": "VARCHAR",
            "moves_principal": "BOOLEAN",
        },
    )
    conn.execute(
        """
        create or replace temp table rule_transaction_buckets as
        select transaction_type, f.from_bucket, tb.to_bucket
        from rule_transaction_types,
             unnest(string_split(coalesce(allowed_from_buckets, ''), '|')) as f(from_bucket),
             unnest(string_split(coalesce(allowed_to_buckets, ''), '|')) as tb(to_bucket)
        """
    )
    prepare_parents(conn)


def _raw_table_exists(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        conn.execute(
            "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = ?", [table]
        ).fetchone()[0]
    )


def prepare_rate_borrowers(conn: duckdb.DuckDBPyConnection) -> None:
    """`rule_rate_borrowers`: a map from each admitted borrower of a category a special rate names
    (businesses of war invalids, …) to that category; empty before the borrowers' first load."""
    categories = special_rate_categories(conn)
    borrowers = (
        "select borrower_id, category from raw.borrowers where category in ("
        + ", ".join("'" + c.replace("'", "''") + "'" for c in categories)
        + ")"
        if categories and _raw_table_exists(conn, "borrowers")
        else "select cast(null as varchar) as borrower_id, cast(null as varchar) as category where false"
    )
    conn.execute(
        "create or replace temp table rule_rate_borrowers as select map(list(borrower_id order by borrower_id), "
        f"list(category order by borrower_id)) as categories from ({borrowers})"
    )


def quarantined_value(column: str) -> str:
    """SQL over a `raw.quarantine` row: a text column of the row as sent, typed as a load types it."""
    return f"nfc_normalize(nullif(trim(json_extract_string(raw_row, '$.\"{column}\"')), ''))"


def prepare_parents(conn: duckdb.DuckDBPyConnection) -> None:
    """`rule_quarantined_<register>`: a map from each quarantined key of a register that rows name
    as their parent to the rule it broke (the first row's, if quarantined twice), read by `Reference`.
    A parent quarantined for its own parent gives that one's reason: "group G2 is quarantined: …"."""
    for parent in PARENTS:
        [key] = LANDING_SOURCES[parent].key
        conn.execute(
            f"""
            create or replace temp table rule_quarantined_{parent} as
            select map(list(key order by key), list(rule order by key)) as rules
            from (
                select key, arg_min(regexp_replace(rule, '^{PARENT_QUARANTINED}', ''),
                    source_file || ':' || lpad(cast(source_line as varchar), 12, '0')) as rule
                from (select {quarantined_value(key)} as key, rule, source_file, source_line
                      from raw.quarantine where source_name = '{parent}')
                where key is not null
                group by key
            )
            """
        )
