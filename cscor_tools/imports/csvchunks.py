"""A UTF-8 CSV file read by polars, a few megabytes at a time, as long as it is regular.

Python's csv module reads about 400,000 cells a second here; polars reads the same bytes
twenty times faster. But the record reader (``readers.csv_records``) does more than split
cells: it names a stray quote, a row with too many values, bytes that are not UTF-8, a
field too long to hold, and numbers rows as a spreadsheet does. So polars reads a chunk
only when it can be *shown* to have read it as the record reader would, and hands the rest
of the file to the record reader at the first chunk where that cannot be shown:

* a chunk ends at a line break outside quotes (an even number of quotes before it);
* its bytes are valid UTF-8, and polars parses it with the header's number of columns
  (a row with more values is an error there);
* every delimiter and line break of the chunk is accounted for: those between values and
  records, plus those inside values. A row with fewer values than the header (which
  polars would pad) or a quote that swallowed lines leaves some unaccounted for;
* no blank line (the record reader skips them but counts them), no carriage return
  without its line feed (a line end to the record reader), no value longer than a field
  may hold.

A row whose cells are all empty is skipped and counted, as the record reader does.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, cast

import polars as pl

from cscor_tools.imports.readers import (
    BAD_TEXT,
    MAX_FIELD,
    Table,
    _HashingReader,
    csv_records,
    is_utf8,
)

#: bytes read at a time; a chunk is the complete records among them
BLOCK = 2 << 20
#: a chunk with no record end within this many bytes goes to the record reader
LIMIT = 64 << 20


@dataclass
class Chunk:
    """Consecutive records read by polars: ``frame`` of text columns, ``numbers`` their rows."""

    frame: pl.DataFrame
    numbers: list[int]
    #: records read, the skipped empty ones included
    records: int


def can_read_fast(table: Table) -> bool:
    return (table.format == "csv" and table.encoding is not None and is_utf8(table.encoding)
            and table.header_row == 1 and table.delimiter is not None
            and len(table.delimiter) == 1 and table.delimiter != '"')


def read_chunks(table: Table) -> Iterator[Chunk | Table]:
    """The table's records as polars chunks, then — if a chunk is not regular — one Table
    whose records continue from there, read by the record reader."""
    delimiter = table.delimiter or ","
    width = len(table.columns)
    raw = table.source.open()
    first = raw.read(BLOCK)
    header_end = first.find(b"\n") + 1
    if not header_end or not _header_agrees(first[:header_end], table):
        raw.close()
        yield table  # read as it was opened, a record at a time
        return
    hasher = _HashingReader(cast(IO[bytes], _Joined(first, raw)))
    table._hasher = hasher  # the run log's hash and the progress bar follow this read
    table._closers.append(hasher.close)
    hasher.read(header_end)
    row = line = 1
    pending = b""
    while True:
        block = hasher.read(BLOCK)
        data = pending + block
        if not data:
            return
        end = len(data) if not block else _records_end(data)
        if end is None:
            if len(data) <= LIMIT:
                pending = data
                continue
            yield _rest(table, data, hasher, after_row=row, after_line=line)
            return
        chunk, pending = data[:end], data[end:]
        got = _parse(chunk, width, delimiter, row)
        if got is None:
            yield _rest(table, data, hasher, after_row=row, after_line=line)
            return
        row += got.records
        line += chunk.count(b"\n")
        yield got


def _header_agrees(line: bytes, table: Table) -> bool:
    """The first line is the whole header the record reader found (no quoted line break)."""
    try:
        text = line.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError:
        return False
    if line.count(b'"') % 2:
        return False
    cells = next(csv.reader([text.rstrip("\r\n")], delimiter=table.delimiter or ","), [])
    return [c.strip().lstrip("\ufeff").strip() for c in cells] == table.columns


def _records_end(data: bytes) -> int | None:
    """Just past the last line break outside quotes, or None."""
    end = len(data)
    for _ in range(10_000):
        at = data.rfind(b"\n", 0, end)
        if at < 0:
            return None
        if (data.count(b'"', 0, at) % 2) == 0:
            return at + 1
        end = at
    return None


def _parse(chunk: bytes, width: int, delimiter: str, first_row: int) -> Chunk | None:
    """The chunk's records, or None when it cannot be shown to be read as the record
    reader would."""
    if b"\n\n" in chunk or b"\n\r\n" in chunk or chunk[:1] in (b"\n", b"\r"):
        return None
    if chunk.count(b"\r") != chunk.count(b"\r\n"):  # a lone CR ends a line for csv only
        return None
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError:
        return None
    names = [f"c{i}" for i in range(width)]
    try:
        frame = pl.read_csv(chunk, has_header=False, separator=delimiter, quote_char='"',
                            schema=dict.fromkeys(names, pl.String), infer_schema=False,
                            empty_string_is_null=False, truncate_ragged_lines=False)
    except (pl.exceptions.PolarsError, ValueError):
        return None
    if frame.width != width or frame.height == 0:
        return None
    inside = frame.select(
        pl.sum_horizontal(pl.all().str.count_matches(delimiter, literal=True).sum()).alias("d"),
        pl.sum_horizontal(pl.all().str.count_matches("\n", literal=True).sum()).alias("n"),
        pl.max_horizontal(pl.all().str.len_chars().max()).alias("longest"),
    ).row(0)
    in_delimiters, in_breaks, longest = (v or 0 for v in inside)
    breaks = chunk.count(b"\n") + (0 if chunk.endswith(b"\n") else 1)
    if breaks != frame.height + in_breaks:
        return None
    if chunk.count(delimiter.encode()) != frame.height * (width - 1) + in_delimiters:
        return None
    if longest > MAX_FIELD:
        return None
    numbers = list(range(first_row + 1, first_row + 1 + frame.height))
    empty = frame.select(pl.all_horizontal(pl.all() == "")).to_series()
    if empty.any():
        keep = ~empty
        numbers = [n for n, k in zip(numbers, keep.to_list(), strict=True) if k]
        frame = frame.filter(keep)
    return Chunk(frame, numbers, breaks - in_breaks)


class _Joined(io.RawIOBase):
    """Bytes already read, then the rest of a stream."""

    def __init__(self, head: bytes, rest: IO[bytes] | io.RawIOBase) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _rest(table: Table, head: bytes, hasher: _HashingReader, *, after_row: int,
          after_line: int) -> Table:
    """The table from ``head`` (the bytes after row ``after_row``) on, a record at a time."""
    encoding = table.encoding or "utf-8"
    joined = io.BufferedReader(_Joined(head, hasher), 1 << 20)
    errors = BAD_TEXT if is_utf8(encoding) else "strict"
    text = io.TextIOWrapper(joined, encoding=encoding, errors=errors, newline="")
    table._closers.append(text.close)
    records = csv_records(table, text, hasher, after_row=after_row, after_line=after_line)
    return Table(table.source, table.format, table.columns, records, table.encoding,
                 table.delimiter, header_row=table.header_row, _hasher=hasher)
