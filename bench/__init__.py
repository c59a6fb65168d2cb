"""Benchmarks: generation, ingestion against bare DuckDB, full and incremental builds, quality-gate
share, peak memory, and the plain-pandas alternative, at scales from one commune to the country."""
