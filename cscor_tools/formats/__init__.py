"""Format writers behind one interface (``base.FormatWriter``), chosen by name.

``open_writer("parquet", sink, schema)`` gives a writer; ``write(batch)`` as often as needed;
``close()`` returns the rows, bytes and sha256 written. Formats know bytes and Arrow schemas,
nothing about stores, policies or providers.
"""

from __future__ import annotations

from typing import IO

import pyarrow as pa

from cscor_tools.formats.base import TIMESTAMP_FORMAT, FormatWriter, WriteResult
from cscor_tools.formats.csv import CsvWriter
from cscor_tools.formats.jsonl import JsonArrayWriter, JsonLinesWriter
from cscor_tools.formats.parquet import ParquetWriter

FORMATS: dict[str, type[FormatWriter]] = {
    w.name: w for w in (JsonLinesWriter, JsonArrayWriter, CsvWriter, ParquetWriter)
}

__all__ = [
    "FORMATS",
    "TIMESTAMP_FORMAT",
    "CsvWriter",
    "FormatWriter",
    "JsonArrayWriter",
    "JsonLinesWriter",
    "ParquetWriter",
    "WriteResult",
    "open_writer",
    "writer_class",
]


def writer_class(name: str) -> type[FormatWriter]:
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown format {name!r} (known: {', '.join(FORMATS)})") from None


def open_writer(name: str, sink: IO[bytes], schema: pa.Schema) -> FormatWriter:
    """A writer of format ``name`` over ``sink`` for batches of ``schema``."""
    return writer_class(name)(sink, schema)
