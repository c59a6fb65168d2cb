"""A fingerprint of every warehouse table's contents, independent of row order, to show that a
reload (or a crash and a rerun) leaves the warehouse exactly as a clean run does.

`audit` is left out: it is the history of the loads themselves and grows with every run; so are
the dbt recompute models (`int_recompute__*`), the builds' own record of what they recomputed.
"""

from __future__ import annotations

import duckdb

FINGERPRINTED_SCHEMAS = ("raw", "main")
# rows and the sum of 64-bit row hashes of a relation aliased `r`
ROW_FINGERPRINT = "count(*), coalesce(sum(hash(r)::hugeint), 0)"


def table_fingerprints(conn: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    """`schema.table` -> (rows, sum of 64-bit row hashes): equal multisets of rows give equal
    fingerprints, which is what hashing the sorted contents shows, without sorting 16 M rows."""
    tables = conn.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in ? and table_type = 'BASE TABLE' and "
        "table_name not like 'int\\_recompute\\_\\_%' escape '\\' "
        "order by table_schema, table_name",
        [list(FINGERPRINTED_SCHEMAS)],
    ).fetchall()
    return {
        f"{schema}.{table}": tuple(
            int(v) for v in conn.execute(f'select {ROW_FINGERPRINT} from "{schema}"."{table}" as r').fetchone()
        )
        for schema, table in tables
    }
