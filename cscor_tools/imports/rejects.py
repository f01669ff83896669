"""Rejects files: the rows an import refused, in the input's own format, with why.

Each rejected record is written as it was read (same columns, encoding and delimiter for
CSV; the original object for JSON; the same schema for Parquet) plus two columns: ``_row``
(where it was in the input) and ``_reason`` ("field: reason"). The file is created only when
the first row is rejected, so a clean import leaves nothing behind. Rejected rows are the
owner's data, often personal: the file is created owner-only (0600), as exports are, and a
folder made for it (a bundle's rejects) owner-only too.

A CSV rejects file is opened in a spreadsheet to be fixed, so its cells are as formula-safe
as an export's (``formats.csv.guard_cell``): a cell a spreadsheet would run, header and
reason included, gets an apostrophe in front. A plain number (``-1200``) is left alone: a
spreadsheet reads it as a number, not a formula.
"""

from __future__ import annotations

import codecs
import csv
import json
import os
import re
from pathlib import Path
from typing import IO, Any

from cscor_tools.errors import RejectedInputError
from cscor_tools.formats.csv import guard_cell
from cscor_tools.imports.readers import Table

_PARQUET_FLUSH = 1000
_FILE_MODE = 0o600
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")
_DIR_MODE = 0o700


def default_rejects_path(path: Path) -> Path:
    """``clients.csv`` → ``clients.rejects.csv``, beside the input."""
    return path.with_name(f"{path.stem}.rejects{path.suffix}")


def _escape_or_restore(exc: UnicodeError) -> tuple[str | bytes, int]:
    """surrogateescape where it applies (bytes read undecoded), backslashreplace otherwise."""
    if isinstance(exc, UnicodeEncodeError) and all(
            "\udc80" <= c <= "\udcff" for c in exc.object[exc.start:exc.end]):
        return _SURROGATEESCAPE(exc)
    return _BACKSLASHREPLACE(exc)


def _unicode(encoding: str | None) -> bool:
    return (encoding or "utf-8").lower().replace("_", "-").startswith("utf")


_SURROGATEESCAPE = codecs.lookup_error("surrogateescape")
_BACKSLASHREPLACE = codecs.lookup_error("backslashreplace")
_ERRORS = "cscor-rejects"
codecs.register_error(_ERRORS, _escape_or_restore)


def reason_text(field: str | None, reason: str) -> str:
    return f"{field}: {reason}" if field else reason


class RejectsWriter:
    """Streams rejected records of one table to ``path`` (opened on the first one)."""

    def __init__(self, path: Path, table: Table) -> None:
        self.path = path
        self.table = table
        self.count = 0
        self._file: IO[str] | None = None
        self._csv: Any = None
        self._parquet: Any = None
        self._sink: IO[bytes] | None = None
        self._schema: Any = None
        self._pending: list[list[Any]] = []

    def write(self, row: int, raw: Any, field: str | None, reason: str) -> None:
        why = reason_text(field, reason)
        fmt = self.table.format
        if self.count == 0:
            self._open()
        self.count += 1
        if fmt == "csv":
            width = len(self.table.columns)
            cells = list(raw) + [""] * (width - len(raw))
            self._csv.writerow(_safe_cells([*cells[:width], row, why, *cells[width:]]))
        elif fmt in ("json", "jsonl"):
            record = {**raw} if isinstance(raw, dict) else {"_value": raw}
            record["_row"], record["_reason"] = row, why
            # JSON's own escapes where the file's encoding cannot hold every character
            text = json.dumps(record, ensure_ascii=not _unicode(self.table.encoding),
                              default=str)
            assert self._file is not None
            if fmt == "json":
                self._file.write(("[\n" if self.count == 1 else ",\n") + text)
            else:
                self._file.write(text + "\n")
        else:
            self._pending.append([*raw, row, why])
            if len(self._pending) >= _PARQUET_FLUSH:
                self._flush_parquet()

    def _open(self) -> None:
        fmt = self.table.format
        try:
            if not self.path.parent.exists():
                self.path.parent.mkdir(_DIR_MODE, parents=True, exist_ok=True)
            if fmt == "parquet":
                import pyarrow as pa
                import pyarrow.parquet as pq

                schema = _source_schema(self.table)
                schema = schema.append(pa.field("_row", pa.int64()))
                schema = schema.append(pa.field("_reason", pa.string()))
                self._sink = os.fdopen(_create_private(self.path), "wb")
                self._parquet = pq.ParquetWriter(self._sink, schema)
                self._schema = schema
                return
            encoding = self.table.encoding or "utf-8"
            # bytes a file held that were not of its encoding go back as they were; a
            # character the encoding cannot hold (a reason quoting one) as an escape
            self._file = os.fdopen(_create_private(self.path), "w", encoding=encoding,
                                   errors=_ERRORS, newline="")
            if fmt == "csv":
                self._csv = csv.writer(self._file, delimiter=self.table.delimiter or ",")
                self._csv.writerow(_safe_cells([*self.table.columns, "_row", "_reason"]))
        except OSError as exc:
            raise RejectedInputError(f"cannot write the rejects file: {exc.strerror}",
                                     file=str(self.path)) from None

    def _flush_parquet(self) -> None:
        import pyarrow as pa

        if not self._pending:
            return
        schema = self._schema
        columns = list(zip(*self._pending, strict=True))
        self._parquet.write_table(
            pa.table([pa.array(list(c), type=f.type) for c, f in zip(columns, schema,
                                                                    strict=True)],
                     schema=schema)
        )
        self._pending.clear()

    def close(self) -> None:
        if self._parquet is not None:
            self._flush_parquet()
            self._parquet.close()
            self._parquet = None
        if self._sink is not None:
            self._sink.close()
            self._sink = None
        if self._file is not None:
            if self.table.format == "json":
                self._file.write("\n]\n")
            self._file.close()
            self._file = None


def _safe_cells(cells: list[Any]) -> list[Any]:
    return [guard_cell(c) if isinstance(c, str) and not _PLAIN_NUMBER.fullmatch(c) else c
            for c in cells]


def _create_private(path: Path) -> int:
    """Open ``path`` for writing, owner-only whatever the umask or an earlier file's mode."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _FILE_MODE)
    try:
        os.fchmod(fd, _FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _source_schema(table: Table) -> Any:
    import pyarrow.parquet as pq

    path = table.source.path
    if path is None:  # pragma: no cover - Parquet sources are always real files
        raise RejectedInputError("cannot write Parquet rejects without the input's schema")
    return pq.read_schema(path)
