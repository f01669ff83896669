"""Readers: a file (CSV, JSON array, JSON Lines, Parquet) as a stream of records.

A reader never holds the whole file: CSV and JSON are decoded from a buffered byte stream,
a JSON array is parsed one element at a time, Parquet is read a row group batch at a time.
Every record is ``(row, cells, raw, problem)``: its position as the user would look for it
(the spreadsheet row with the header as row 1; the element or line number; the Parquet row),
its cells aligned to ``Table.columns``, the original record for the rejects file, and a reason
when the record could not be read at all. The bytes read are hashed on the way for the run log.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cscor_tools.errors import RejectedInputError
from cscor_tools.imports.sniff import (
    DIALECT_SAMPLE,
    ENCODING_SAMPLE,
    detect_delimiter,
    detect_encoding,
    excel_separator_line,
    looks_binary,
)

Record = tuple[int, list[Any] | None, Any, str | None]

#: the longest CSV value read (in characters): a longer one rejects its row, not the file
MAX_FIELD = 32 << 20
#: Python's csv module refuses longer fields with an error that ends the whole read; its
#: limit is process-wide, so it is only ever raised, to one past ours
if csv.field_size_limit() <= MAX_FIELD:
    csv.field_size_limit(MAX_FIELD + 1)
#: a UTF-8 file is decoded with this error handler: a byte that is not UTF-8 becomes a lone
#: surrogate (as with surrogateescape, so the rejects file gets the same bytes back) and is
#: counted, so that only a file that has any is searched for them, a line at a time
BAD_TEXT = _BAD_TEXT = "cscor-flag-bytes"
_bad_bytes_seen = [0]


def _flag_bad_bytes(exc: UnicodeError) -> tuple[str | bytes, int]:
    _bad_bytes_seen[0] += 1
    return codecs.lookup_error("surrogateescape")(exc)


codecs.register_error(_BAD_TEXT, _flag_bad_bytes)
_SURROGATE = re.compile("[\udc80-\udcff]")

_CHUNK = 1 << 20
#: a JSON array element larger than this is taken for a broken file rather than buffered
_MAX_ELEMENT = 64 << 20
_WS = re.compile(r"[ \t\r\n]*")


@dataclass(frozen=True)
class Source:
    """Something to import from: a name for messages and a way to open its bytes."""

    name: str
    open: Callable[[], IO[bytes]]
    path: Path | None = None
    size: int | None = None

    @classmethod
    def from_path(cls, path: Path) -> Source:
        return cls(str(path), lambda: path.open("rb"), path, path.stat().st_size)


class _HashingReader(io.RawIOBase):
    """Hashes and counts the bytes that pass through it."""

    def __init__(self, inner: IO[bytes]) -> None:
        self._inner = inner
        self.digest = hashlib.sha256()
        self.bytes = 0
        self.at_eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(len(buffer))
        n = len(data)
        if not n:
            self.at_eof = True
            return 0
        buffer[:n] = data
        self.digest.update(data)
        self.bytes += n
        return n

    def drain(self) -> None:
        while not self.at_eof:
            self.readinto(bytearray(_CHUNK))

    def close(self) -> None:
        self._inner.close()
        super().close()


@dataclass
class Table:
    """An open file: its columns, how it was read, and its records (read once)."""

    source: Source
    format: str
    columns: list[str]
    records: Iterator[Record]
    encoding: str | None = None
    delimiter: str | None = None
    #: JSON objects may bring new keys as they go: ``columns`` then grows
    dynamic: bool = False
    #: records rejected for bytes their encoding does not allow
    bad_text_rows: int = 0
    #: the row of a CSV file's header (a "sep=" line or blank lines may come before it)
    header_row: int = 1
    #: a columnar file's batches of ``n`` rows as Arrow record batches (instead of records)
    arrow_batches: Callable[[int], Iterator[Any]] | None = field(default=None, repr=False)
    _hasher: _HashingReader | None = field(default=None, repr=False)
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    @property
    def bytes_read(self) -> int:
        return self._hasher.bytes if self._hasher else 0

    def sha256(self) -> str:
        """The file's SHA-256 (reads whatever the import did not, to hash the whole file)."""
        if self._hasher is not None:
            self._hasher.drain()
            return self._hasher.digest.hexdigest()
        return hash_source(self.source)

    def close(self) -> None:
        for close in reversed(self._closers):
            close()
        self._closers.clear()


def hash_source(source: Source) -> str:
    digest = hashlib.sha256()
    with source.open() as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _check_encoding(name: str, encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise RejectedInputError(f"unknown text encoding {encoding!r}", file=name) from None


def _text_stream(source: Source, encoding: str) -> tuple[io.TextIOWrapper, _HashingReader]:
    hasher = _HashingReader(source.open())
    # UTF-8 with a few bad bytes is still UTF-8: the rows holding them are rejected, naming
    # the bytes, rather than the whole file read in another encoding or refused
    errors = _BAD_TEXT if is_utf8(encoding) else "strict"
    text = io.TextIOWrapper(io.BufferedReader(hasher, _CHUNK), encoding=encoding,
                            errors=errors, newline="")
    return text, hasher


def is_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")


_LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (with BOM)", "utf-16": "UTF-16",
           "utf-16-le": "UTF-16 LE", "utf-16-be": "UTF-16 BE", "utf-32": "UTF-32",
           "cp1252": "Windows-1252", "latin-1": "Latin-1", "iso8859-1": "Latin-1"}


def encoding_label(encoding: str) -> str:
    """How a person names an encoding: ``cp1252`` is Windows-1252."""
    return _LABELS.get(codecs.lookup(encoding).name, _LABELS.get(encoding, encoding))


def bad_bytes(text: str) -> str | None:
    """The bytes of ``text`` that were not valid in its encoding, as hex, or None."""
    found = _SURROGATE.findall(text)
    if not found:
        return None
    shown = " ".join(f"0x{ord(ch) - 0xDC00:02X}" for ch in found[:5])
    return shown + (f" and {len(found) - 5} more" if len(found) > 5 else "")


def _sniff_encoding(source: Source, encoding: str | None) -> tuple[str, str, bool]:
    """(encoding, decoded head, whether the head is the whole file)."""
    with source.open() as f:
        head = f.read(ENCODING_SAMPLE + 1)
    complete = len(head) <= ENCODING_SAMPLE
    head = head[:ENCODING_SAMPLE]
    if encoding:
        chosen = _check_encoding(source.name, encoding)
    else:
        try:
            chosen = detect_encoding(head, complete=complete)
        except RejectedInputError as exc:
            raise RejectedInputError(exc.reason, file=source.name) from None
    text = head.decode(chosen, errors="replace").lstrip("\ufeff")
    if looks_binary(text):
        raise RejectedInputError("looks like a binary file, not text", file=source.name)
    return chosen, text, complete


def _decode_error(source: Source, encoding: str, hasher: _HashingReader) -> RejectedInputError:
    return RejectedInputError(
        f"the text is not valid {encoding} (near byte {hasher.bytes:,}); the start of the "
        "file looked like it, so pass the right encoding explicitly (e.g. --encoding cp1252)",
        file=source.name,
    )


def open_csv(source: Source, encoding: str | None = None) -> Table:
    """A CSV file with its encoding and delimiter detected (or the encoding given)."""
    chosen, head, complete = _sniff_encoding(source, encoding)
    first_line = head.split("\n", 1)[0]
    sep_line = excel_separator_line(first_line)
    delimiter = sep_line or detect_delimiter(
        head[:DIALECT_SAMPLE], complete=complete and len(head) <= DIALECT_SAMPLE
    )
    text, hasher = _text_stream(source, chosen)
    lines = _Lines(text)
    reader = csv.reader(lines, delimiter=delimiter, strict=False)
    numbered = enumerate(reader, 1)
    header: list[str] | None = None
    header_row = 0
    try:
        for n, cells in numbered:
            if n == 1 and sep_line:
                continue
            if any(c.strip() for c in cells):
                header = [c.strip().lstrip("\ufeff").strip() for c in cells]
                header_row = n
                break
    except UnicodeDecodeError:
        text.close()
        raise _decode_error(source, chosen, hasher) from None
    except csv.Error as exc:
        text.close()
        raise RejectedInputError(f"cannot read the header: {exc}", file=source.name) from None
    if header is None:
        text.close()
        raise RejectedInputError("the file is empty (no header row)", file=source.name)

    table = Table(source, "csv", header, iter(()), chosen, delimiter, header_row=header_row,
                  _hasher=hasher)
    table.records = csv_records(table, text, hasher, reader=reader, lines=lines,
                                after_row=header_row)
    table._closers.append(text.close)
    return table


def csv_records(table: Table, text: IO[str], hasher: _HashingReader, *,
                after_row: int, after_line: int = 0, reader: Any = None,
                lines: _Lines | None = None) -> Iterator[Record]:
    """The records of a CSV text stream positioned after its header, numbered from
    ``after_row + 1`` (the spreadsheet's row numbers: the header is row 1); ``after_line``
    is the number of physical lines before the stream."""
    header = table.columns
    width = len(header)
    chosen = table.encoding or "utf-8"
    source = table.source
    if lines is None:
        lines = _Lines(text)
        lines.line = after_line
    if reader is None:
        reader = csv.reader(lines, delimiter=table.delimiter or ",", strict=False)

    def records() -> Iterator[Record]:
        # n is the row as a spreadsheet shows it (the header is row 1): the same number in
        # messages, in the rejects file and in the run log
        n = after_row
        while True:
            lines.start_record()
            try:
                cells = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                raise _decode_error(source, chosen, hasher) from None
            except csv.Error as exc:
                n += 1
                yield n, None, [], _csv_problem(exc, lines)
                continue
            n += 1
            if not any(cells):
                continue
            # The csv module's limit is process-wide and another library may have raised it
            # (frictionless does, on import): the limit a field may hold is checked here too.
            longest = max(map(len, cells))
            if longest > MAX_FIELD:
                yield n, None, [], _too_long(longest)
                continue
            taken = lines.taken
            if len(taken) > 1 and len(cells) < width and '"' in taken[0]:
                # A quote opened on this row and closed lines later, or never: the lines it
                # swallowed are read again as rows of their own
                lines.give_back(taken[1:])
                yield n, None, [taken[0].rstrip("\r\n")], (
                    f"a quote opened on this row (line {lines.line_of_start}) is not closed "
                    f"on its line: it runs over {len(taken)} lines and leaves {len(cells)} "
                    f"of {width} values, so it is taken for a stray quote; the lines after "
                    "it are read as rows"
                )
                continue
            if _bad_bytes_seen[0] and (bad := bad_bytes("".join(taken))):
                table.bad_text_rows += 1
                columns = [header[i] if i < width else f"column {i + 1}"
                           for i, c in enumerate(cells) if _SURROGATE.search(c)]
                where = f" in {', '.join(columns)}" if columns else ""
                yield n, None, cells, (
                    f"bytes that are not valid {encoding_label(chosen)}{where}: {bad} (the rest "
                    f"of the file is read as {encoding_label(chosen)}; pass --encoding if the "
                    "whole file is in another)"
                )
                continue
            yield n, cells, cells, None

    return records()


class _Lines:
    """The physical lines of a text stream, for the csv reader, remembering those of the
    record being read, and taking lines back to be read again."""

    def __init__(self, text: IO[str]) -> None:
        self._text = text
        self._again: list[str] = []
        self.taken: list[str] = []
        #: physical lines read so far (the line a record starts on is the one after)
        self.line = 0
        self.line_of_start = 1

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self._again.pop() if self._again else next(self._text)
        self.line += 1
        self.taken.append(line)
        return line

    def start_record(self) -> None:
        self.taken = []
        self.line_of_start = self.line + 1

    def give_back(self, lines: list[str]) -> None:
        self._again.extend(reversed(lines))
        self.line -= len(lines)


def _csv_problem(exc: csv.Error, lines: _Lines) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return _too_long(max((len(line) for line in lines.taken), default=0))
    return f"unreadable CSV: {text}"


def _too_long(characters: int) -> str:
    return (f"a value of {characters / (1 << 20):.0f}M characters or more, larger than "
            f"the {MAX_FIELD >> 20}M a field may hold")


def _aligned(columns: list[str], index: dict[str, int], obj: dict[str, Any]) -> list[Any]:
    for key in obj:
        if key not in index:
            index[key] = len(columns)
            columns.append(key)
    return [obj.get(c) for c in columns]


def open_jsonl(source: Source, encoding: str | None = None) -> Table:
    """JSON Lines: one object per line; a line that is not an object is a rejected row."""
    chosen, _, _ = _sniff_encoding(source, encoding)
    text, hasher = _text_stream(source, chosen)
    columns: list[str] = []
    index: dict[str, int] = {}
    loads = json.loads

    def records() -> Iterator[Record]:
        try:
            for n, line in enumerate(text, 1):
                if not line.strip():
                    continue
                if _bad_bytes_seen[0] and (bad := bad_bytes(line)):
                    table.bad_text_rows += 1
                    yield (n, None, line.rstrip("\r\n"),
                           f"bytes that are not valid {encoding_label(chosen)}: {bad}")
                    continue
                try:
                    obj = loads(line)
                except ValueError as exc:
                    yield n, None, line.rstrip("\r\n"), f"invalid JSON: {exc}"
                    continue
                except RecursionError:
                    yield n, None, line[:200], "JSON nested too deeply to read"
                    continue
                if not isinstance(obj, dict):
                    yield n, None, obj, "not a JSON object"
                    continue
                yield n, _aligned(columns, index, obj), obj, None
        except UnicodeDecodeError:
            raise _decode_error(source, chosen, hasher) from None

    table = Table(source, "jsonl", columns, records(), chosen, dynamic=True, _hasher=hasher)
    table._closers.append(text.close)
    return table


def _json_elements(text: IO[str], name: str) -> Iterator[tuple[int, Any]]:
    """The elements of a top-level JSON array, parsed one at a time from a text stream."""
    decoder = json.JSONDecoder()
    buf, pos, eof = "", 0, False

    def fill() -> None:
        nonlocal buf, pos, eof
        chunk = text.read(_CHUNK)
        eof = not chunk
        buf, pos = buf[pos:] + chunk, 0

    def skip_ws() -> None:
        nonlocal pos
        while True:
            m = _WS.match(buf, pos)
            pos = m.end() if m else pos
            if pos < len(buf) or eof:
                return
            fill()

    fill()
    skip_ws()
    if pos >= len(buf) or buf[pos] != "[":
        raise RejectedInputError("not a JSON array (expected '[' at the start)", file=name)
    pos += 1
    skip_ws()
    if pos < len(buf) and buf[pos] == "]":
        return
    index = 0
    while True:
        skip_ws()
        while True:
            try:
                value, end = decoder.raw_decode(buf, pos)
                if end < len(buf) or eof:
                    break
            except json.JSONDecodeError as exc:
                if eof or len(buf) - pos > _MAX_ELEMENT:
                    raise RejectedInputError(
                        f"invalid JSON in element {index + 1}: {exc.msg}", file=name,
                        row=index + 1,
                    ) from None
            except RecursionError:
                raise RejectedInputError(f"element {index + 1} is JSON nested too deeply to "
                                         "read", file=name, row=index + 1) from None
            fill()
        index += 1
        yield index, value
        pos = end
        skip_ws()
        sep = buf[pos] if pos < len(buf) else ""
        if sep == ",":
            pos += 1
            continue
        if sep == "]":
            pos += 1
            skip_ws()
            if pos < len(buf):
                raise RejectedInputError("unexpected content after the JSON array", file=name)
            return
        raise RejectedInputError(
            f"expected ',' or ']' after element {index}", file=name, row=index
        )


def open_json(source: Source, encoding: str | None = None) -> Table:
    """A JSON array of objects, streamed; an element that is not an object is rejected."""
    chosen, _, _ = _sniff_encoding(source, encoding)
    text, hasher = _text_stream(source, chosen)
    columns: list[str] = []
    index: dict[str, int] = {}

    def records() -> Iterator[Record]:
        try:
            for n, obj in _json_elements(text, source.name):
                if isinstance(obj, dict):
                    yield n, _aligned(columns, index, obj), obj, None
                else:
                    yield n, None, obj, "not a JSON object"
        except UnicodeDecodeError:
            raise _decode_error(source, chosen, hasher) from None

    table = Table(source, "json", columns, records(), chosen, dynamic=True, _hasher=hasher)
    table._closers.append(text.close)
    return table


def open_parquet(source: Source, batch_rows: int = 4096) -> Table:
    """A Parquet file, read a batch at a time; its typed values go to the converters as-is."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(source.path if source.path is not None else source.open())
    except (pa.ArrowException, OSError) as exc:
        raise RejectedInputError(f"not a readable Parquet file: {exc}", file=source.name) \
            from None
    columns = list(pf.schema_arrow.names)

    def records() -> Iterator[Record]:
        n = 0
        for batch in arrow_batches(batch_rows):
            for values in zip(*(c.to_pylist() for c in batch.columns), strict=True):
                n += 1
                cells = list(values)
                yield n, cells, cells, None

    def arrow_batches(rows: int) -> Iterator[Any]:
        n = 0
        try:
            for batch in pf.iter_batches(batch_size=rows):
                yield batch
                n += batch.num_rows
        except (pa.ArrowException, OSError) as exc:
            raise RejectedInputError(f"unreadable Parquet data: {exc}", file=source.name,
                                     row=n + 1) from None

    table = Table(source, "parquet", columns, records(), arrow_batches=arrow_batches)
    table._closers.append(pf.close)
    return table


def open_table(source: Source, fmt: str, encoding: str | None = None) -> Table:
    """Open ``source`` as ``fmt`` (csv, json, jsonl or parquet)."""
    if fmt == "csv":
        return open_csv(source, encoding)
    if fmt == "jsonl":
        return open_jsonl(source, encoding)
    if fmt == "json":
        return open_json(source, encoding)
    if fmt == "parquet":
        return open_parquet(source)
    raise RejectedInputError(f"cannot import {fmt} files", file=source.name)
