"""`pcw generate` options."""

from __future__ import annotations

import argparse

from sample_data.config import GenerationConfig


def add_generate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=GenerationConfig.seed)
    parser.add_argument(
        "--provinces",
        nargs="+",
        default=list(GenerationConfig.provinces),
        help="old (63-province) province codes, or 'all' for the whole country (default: 08, Tuyên Quang)",
    )
    parser.add_argument("--communes", type=int, help="keep only the first N communes (one commune: --communes 1)")
    parser.add_argument("--start-year", type=int, default=GenerationConfig.start_year)
    parser.add_argument("--end-year", type=int, default=GenerationConfig.end_year)
    parser.add_argument("--scale", type=float, default=GenerationConfig.scale, help="multiplies borrowers per commune")
    parser.add_argument("--ledger-format", choices=["parquet", "csv"], default=GenerationConfig.ledger_format)


def config_from_args(args: argparse.Namespace) -> GenerationConfig:
    return GenerationConfig(
        seed=args.seed,
        provinces=tuple(args.provinces),
        communes=args.communes,
        start_year=args.start_year,
        end_year=args.end_year,
        scale=args.scale,
        ledger_format=args.ledger_format,
    )
