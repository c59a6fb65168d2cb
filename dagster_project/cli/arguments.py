"""Command-line values checked before any work starts: a bad one is a usage error (exit 2) in one
line that names what was wrong and what is valid."""

from __future__ import annotations

import argparse
import unicodedata
from collections.abc import Mapping
from datetime import date


def iso_date(text: str) -> date:
    """A calendar date written YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: expected YYYY-MM-DD, e.g. 2025-12-31") from None


def plain(text: str) -> str:
    """A name as people type it: case, diacritics (đ too) and the province's title dropped."""
    decomposed = unicodedata.normalize("NFD", text.strip().casefold().replace("đ", "d"))
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    for title in ("tinh ", "thanh pho "):
        letters = letters.removeprefix(title)
    return " ".join(letters.split())


def resolve_province(text: str, provinces: Mapping[str, str]) -> str:
    """The code of a province given by code or by name (with or without "Tỉnh", with or without
    diacritics), among `provinces` (code -> name)."""
    if text in provinces:
        return text
    wanted = plain(text)
    matches = [code for code, name in provinces.items() if plain(name) == wanted]
    if len(matches) == 1:
        return matches[0]
    valid = ", ".join(f"{code} {name}" for code, name in sorted(provinces.items()))
    raise argparse.ArgumentTypeError(f"unknown province {text!r}; valid: {valid}")


def year_range(start_year: int, end_year: int) -> None:
    if start_year > end_year:
        raise argparse.ArgumentTypeError(f"--start-year {start_year} is after --end-year {end_year}")


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error in one line (and exit code 2)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message}\n")
