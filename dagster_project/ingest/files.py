"""Landing files as files: what can be told of one before any of its rows is typed. Its content
hash (what the load manifest compares), its CSV header and lines, and why it cannot be read, in
the data team's words, naming the line and the row's id but never a personal value."""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

from dagster_project.domain.landing_contract import LandingSource
from dagster_project.ingest.control import control_path


class FileRejected(Exception):
    """A landing file that cannot be loaded at all."""

    def __init__(self, source_file: str, reason: str):
        super().__init__(f"{source_file}: rejected: {reason}")
        self.source_file = source_file
        self.reason = reason


def file_hash(path: Path, with_control: bool = True) -> str:
    """sha256 of a landing file, then of its control file if it has one: a control file that
    arrives or changes after its data file makes a new version, checked again."""
    digest = hashlib.sha256()
    for part in (path, control_path(path)) if with_control else (path,):
        if part is path or part.exists():
            with part.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()


def csv_header(path: Path, source_file: str) -> list[str]:
    """The header's column names; the file's first checks (empty, encoding, delimiter) happen here."""
    with path.open("rb") as f:
        first_line = f.readline()
    if not first_line.strip():
        raise FileRejected(source_file, "empty file: no header line")
    try:
        header = first_line.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError:
        raise FileRejected(source_file, not_utf8(first_line, 1)) from None
    if "\x00" in header:  # UTF-16 without a byte-order mark decodes, with a NUL every other byte
        raise FileRejected(source_file, not_utf8(first_line, 1))
    if "\r" in header:  # the whole file read as its first line
        raise FileRejected(source_file, "lines end in CR only (classic Mac): save it with LF or CRLF line ends")
    columns = next(csv.reader([header]))
    if len(columns) == 1:
        delimiter = max(OTHER_DELIMITERS, key=header.count)
        if delimiter in header:
            raise FileRejected(source_file, f"delimiter is {OTHER_DELIMITERS[delimiter]} not ','")
    return [c.strip() for c in columns]


OTHER_DELIMITERS = {";": "';'", "\t": "a tab", "|": "'|'"}


def not_utf8(line: bytes, number: int, where: str = "") -> str:
    if number == 1 and (line[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in line):
        return "not UTF-8 (looks like UTF-16): save it as CSV UTF-8"
    return f"not UTF-8 (looks like Windows-1258 or another legacy encoding), first on line {number}{where}"


def csv_problem(path: Path, source: LandingSource, header: list[str], duckdb_error: str) -> str:
    """Why DuckDB could not read a CSV file, in the data team's words and with the line it is on.
    (DuckDB's message quotes the row, personal values and all, and counts records, not lines.)"""
    with path.open("rb") as f:
        for number, line in enumerate(f, 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                record = next(csv.reader([line.decode("utf-8", errors="replace")]), [])
                return not_utf8(line, number, row_key(source, header, record))
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, strict=True)
        next(reader)
        start = reader.line_num + 1
        try:
            for record in reader:
                if record and len(record) != len(header):
                    row = f"line {start}{row_key(source, header, record)}"
                    fields = f"{len(record)} field{'s' if len(record) != 1 else ''}"
                    found = f"{row} has {fields} where the header has {len(header)}"
                    if len(record) > len(header):
                        return f"{found} (a ',' in a value without quotes?)"
                    if next(reader, None) is None and not ends_with_line_break(path):
                        return f"{found}: the file ends in the middle of this row (truncated)"
                    return f"{found} (a missing field, or a line break in a value without quotes?)"
                start = reader.line_num + 1
        except csv.Error as error:
            if "end of data" in str(error):
                return f"line {start}: a quoted value is never closed (a stray '\"'?)"
            return f"line {start}: a '\"' inside a value (quote the whole value and double the '\"' in it)"
    first_line = duckdb_error.splitlines()[0] if duckdb_error else "unknown error"
    return f"unreadable CSV: {first_line.replace(str(path), path.name)}"


def row_key(source: LandingSource, header: list[str], record: list[str]) -> str:
    """' (loan_id L1)': the row's key, to find it by, or nothing when it cannot be told for sure:
    in a row with fields missing or too many, only leading key columns are where the header says
    (a stray delimiter further on shifts the rest), and a value that does not look like an id (a
    whole row read as one field) is never shown: it could be a personal value."""
    keys = list(source.key)
    if len(record) != len(header) and header[: len(keys)] != keys:
        return ""
    values = [record[header.index(k)].strip() if k in header and header.index(k) < len(record) else "" for k in keys]
    if not all(LOOKS_LIKE_AN_ID.fullmatch(v) for v in values):
        return ""
    return " (" + ", ".join(f"{k} {v}" for k, v in zip(keys, values)) + ")"


LOOKS_LIKE_AN_ID = re.compile(r"[\w.-]{1,40}")


def ends_with_line_break(path: Path) -> bool:
    with path.open("rb") as f:
        f.seek(0, 2)
        if f.tell() == 0:
            return False
        f.seek(-1, 2)
        return f.read(1) in (b"\n", b"\r")


def parquet_problem(path: Path) -> str:
    """Why a Parquet file cannot be read: one that begins with the marker `PAR1` is damaged."""
    with path.open("rb") as f:
        head = f.read(4)
    if head != b"PAR1":
        return "not a Parquet file (it does not begin with the Parquet marker)"
    return "Parquet file is corrupt or truncated"


def physical_lines(path: Path) -> int:
    lines, last = 0, b"\n"
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")


def record_start_lines(path: Path) -> list[int]:
    """The physical line each record starts on (the header is line 1): a quoted value may hold a
    line break, and DuckDB skips blank lines."""
    starts = []
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        next(reader)
        line = reader.line_num
        for record in reader:
            if record:
                starts.append(line + 1)
            line = reader.line_num
    return starts
