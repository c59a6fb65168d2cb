"""`pcw generate` options: a preset (optional), then explicit options that override it."""

from __future__ import annotations

import argparse

from dagster_project.sample_data.config import LEDGER_FORMATS, PRESETS, GenerationConfig, preset_config


def add_generate_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = GenerationConfig()
    parser.add_argument("--scale-preset", choices=list(PRESETS), default="province",
                        help="commune: one commune; province: old Tuyên Quang (default); provinces: the new Tuyên Quang "
                             "(old 02 + 08); country: all 63 old provinces, ledger of 2025 only")
    parser.add_argument("--seed", type=int, help=f"random seed (default {defaults.seed})")
    parser.add_argument("--provinces", nargs="+", metavar="CODE",
                        help="old (63-province) province codes, space or comma separated, or 'all' (default 08, Tuyên Quang)")
    parser.add_argument("--communes", type=int, help="keep only the first N old communes of the selection")
    parser.add_argument("--start-year", type=int, help=f"first year of the ledger (default {defaults.start_year})")
    parser.add_argument("--end-year", type=int, help=f"last year of the ledger (default {defaults.end_year})")
    parser.add_argument("--scale", type=float, help="multiplies borrower density (default 1.0)")
    parser.add_argument("--ledger-format", choices=LEDGER_FORMATS, help="monthly ledgers as parquet (default) or csv")


def config_from_args(args: argparse.Namespace) -> GenerationConfig:
    overrides = {name: getattr(args, name, None) for name in ("seed", "communes", "start_year", "end_year", "scale", "ledger_format")}
    provinces = getattr(args, "provinces", None)
    if provinces:
        overrides["provinces"] = tuple(p.strip() for item in provinces for p in str(item).split(",") if p.strip())
    return preset_config(getattr(args, "scale_preset", None) or "province", **{k: v for k, v in overrides.items() if v is not None})
