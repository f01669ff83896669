"""JSON Lines (one object per line, the default) and the JSON-array form of the same rows.

Objects list the fields in schema order; timestamps are fixed-width UTC text; nested values
are JSON objects and arrays; nulls are null. The text is UTF-8 without escapes for non-ASCII
characters. Encoding is done by Polars, a batch at a time.
"""

from __future__ import annotations

import io

import pyarrow as pa

from cscor_tools.formats.base import FormatWriter
from cscor_tools.formats.text import timestamps_as_text, to_polars


def _ndjson(batch: pa.RecordBatch) -> bytes:
    buf = io.BytesIO()
    timestamps_as_text(to_polars(batch)).write_ndjson(buf)
    return buf.getvalue()


class JsonLinesWriter(FormatWriter):
    name = "jsonl"
    extension = "jsonl"
    media_type = "application/jsonl"
    resource_format = "jsonl"

    def _write(self, batch: pa.RecordBatch) -> None:
        self._sink.write(_ndjson(batch))


class JsonArrayWriter(FormatWriter):
    """One JSON array of objects, one object per line: ``[``, rows joined by ``,``, ``]``."""

    name = "json"
    extension = "json"
    media_type = "application/json"
    resource_format = "json"

    def _write(self, batch: pa.RecordBatch) -> None:
        # A newline byte only ever ends a line: inside strings JSON escapes it as \n.
        body = _ndjson(batch).rstrip(b"\n").replace(b"\n", b",\n")
        self._sink.write((b",\n" if self._rows else b"[\n") + body)

    def _finish(self) -> None:
        self._sink.write(b"\n]\n" if self._rows else b"[]\n")
