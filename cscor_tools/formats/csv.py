"""CSV per RFC 4180: UTF-8, a header row, CRLF line ends, fields quoted only when needed.

Cells are written as follows: null is an empty cell; timestamps are fixed-width UTC text;
booleans are ``true``/``false``; lists and structs are JSON text; numbers are plain numbers.

**Formula injection.** A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@``
(and some also one starting with a tab or carriage return) as a formula. So a *text* cell whose
first character is one of these, possibly after apostrophes, gets one more apostrophe in front:
``=SUM(A1)`` is written ``'=SUM(A1)``, ``'=x`` is written ``''=x``. Numeric columns are never
touched (a negative amount stays ``-1200``), nor is JSON text, which starts with ``[`` or ``{``.
The rule is exactly reversible: :func:`restore_cell` removes one apostrophe from a cell that
matches ``'+`` followed by a trigger, which is how an importer gets the original text back.
``CsvWriter(..., protect_formulas=False)`` writes text as it is, for readers that are not
spreadsheets (DuckDB and Polars would keep the apostrophe in ``'+33 …``).
"""

from __future__ import annotations

import io
import re
from typing import IO, Any, ClassVar

import polars as pl
import pyarrow as pa

from cscor_tools.formats.base import FormatWriter
from cscor_tools.formats.text import timestamps_as_text, to_polars

#: the characters that make a spreadsheet evaluate a cell
TRIGGERS = "=+-@\t\r"
_NEEDS_GUARD = r"^'*[=+\-@\t\r]"
_GUARDED = re.compile(r"^'+[=+\-@\t\r]")
_TRIGGERED = re.compile(_NEEDS_GUARD)


def neutralize(arr: pa.Array) -> pa.Array:
    """Text cells a spreadsheet would execute, prefixed with an apostrophe (see above)."""
    frame = pl.DataFrame({"cell": pl.Series(arr, dtype=pl.String)})
    return frame.select(_guarded("cell")).to_series().to_arrow().cast(pa.string())


def _guarded(name: str) -> pl.Expr:
    """The neutralization of one text column, as the writer runs it over a whole frame."""
    column = pl.col(name)
    return (
        pl.when(column.str.contains(_NEEDS_GUARD))
        .then(pl.lit("'") + column)
        .otherwise(column)
        .alias(name)
    )


def guard_cell(cell: str) -> str:
    """One text cell neutralized as :func:`neutralize` does a column."""
    return "'" + cell if _TRIGGERED.match(cell) else cell


def restore_cell(cell: str) -> str:
    """The text a neutralized cell stood for: the inverse of :func:`neutralize`."""
    return cell[1:] if _GUARDED.match(cell) else cell


class CsvWriter(FormatWriter):
    name = "csv"
    extension = "csv"
    media_type = "text/csv"
    resource_format = "csv"
    #: how the bundle's datapackage.json describes the files
    dialect: ClassVar[dict[str, Any]] = {
        "delimiter": ",",
        "lineTerminator": "\r\n",
        "quoteChar": '"',
        "header": True,
    }

    def __init__(self, sink: IO[bytes], schema: pa.Schema, *,
                 protect_formulas: bool = True) -> None:
        self.protect_formulas = protect_formulas
        super().__init__(sink, schema)

    def _open(self) -> None:
        # Written even when no row follows, so an empty export still says what its columns are.
        header = pl.DataFrame(schema=dict.fromkeys(self.schema.names, pl.String))
        self._sink.write(_csv(header, include_header=True))

    def _write(self, batch: pa.RecordBatch) -> None:
        frame = to_polars(batch)
        text = [n for n, t in frame.schema.items() if t == pl.String]
        if text and self.protect_formulas:
            frame = frame.with_columns([_guarded(n) for n in text])
        frame = timestamps_as_text(frame)
        nested = [n for n, t in frame.schema.items() if isinstance(t, pl.Struct | pl.List)]
        if nested:
            frame = frame.with_columns([_json_text(frame, n) for n in nested])
        self._sink.write(_csv(frame, include_header=False))


def _json_text(frame: pl.DataFrame, name: str) -> pl.Expr:
    """A nested column as JSON text; a list is wrapped in a struct to borrow its encoder."""
    column = pl.col(name)
    if isinstance(frame.schema[name], pl.Struct):
        encoded = column.struct.json_encode()
    else:
        prefix = len(f'{{"{name}":')
        encoded = pl.struct(column).struct.json_encode().str.slice(prefix).str.head(-1)
    return pl.when(column.is_null()).then(None).otherwise(encoded).alias(name)


def _csv(frame: pl.DataFrame, *, include_header: bool) -> bytes:
    buf = io.BytesIO()
    frame.write_csv(
        buf,
        include_header=include_header,
        line_terminator="\r\n",
        quote_style="necessary",
        null_value="",
    )
    return buf.getvalue()
