"""`uv run python -m bench.print_workbook <workbook.xlsx> ...`: print each plan workbook as a
province would (LibreOffice headless, to PDF) and report its pages, in all and per sheet.

Needs `soffice` (Debian: apt-get install --no-install-recommends libreoffice-calc-nogui); the page
count of each sheet comes from the page footer ("Trang 3 / 16") the workbook prints on every page,
read back with `pdftotext` (poppler-utils) when it is there."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def print_to_pdf(workbook: Path, out_dir: Path) -> Path:
    """The workbook as LibreOffice prints it, with the workbook's own page setup."""
    with tempfile.TemporaryDirectory() as profile:  # a profile of its own: runs never share a lock
        subprocess.run(
            [soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
             "--outdir", str(out_dir), str(workbook)],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
    return out_dir / f"{workbook.stem}.pdf"


def page_count(pdf: Path) -> int:
    """Pages of a PDF: its page objects, which every PDF writer names `/Type /Page`."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))


def pages_per_sheet(pdf: Path) -> dict[str, int] | None:
    """Pages each sheet prints on, from the page header naming the sheet (needs pdftotext)."""
    if not shutil.which("pdftotext"):
        return None
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    sheets: dict[str, int] = {}
    for page in text.split("\f"):
        if match := re.search(r"^\s*\S.*?\s{2,}(.+?)\. Kịch bản", page, re.M):
            sheets[match.group(1)] = sheets.get(match.group(1), 0) + 1
    return sheets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.print_workbook", description=__doc__)
    parser.add_argument("workbooks", nargs="+", type=Path)
    parser.add_argument("--pdf-dir", type=Path, help="keep the PDFs here (default: a temporary folder)")
    args = parser.parse_args(argv)
    if not soffice():
        print("soffice (LibreOffice) is not installed: nothing printed", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        out_dir = args.pdf_dir or Path(scratch)
        out_dir.mkdir(parents=True, exist_ok=True)
        for workbook in args.workbooks:
            started = time.perf_counter()
            pdf = print_to_pdf(workbook, out_dir)
            print(f"{workbook.name}: {page_count(pdf)} pages ({time.perf_counter() - started:.1f} s)")
            for sheet, pages in (pages_per_sheet(pdf) or {}).items():
                print(f"  {sheet:<28}{pages:>4}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
