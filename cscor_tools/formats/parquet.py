"""Parquet typed from the schema: int64, timestamp[us, UTC], bool, string, list, struct; zstd.
Integer columns are marked as nullable integers for pandas (see ``_with_pandas_types``).

Batches are gathered into row groups of ``row_group_rows`` (large enough for good compression
and fast scans, small enough to keep memory flat), always cut at the same rows, so the same
input gives the same bytes.
"""

from __future__ import annotations

import json
from typing import IO

import pyarrow as pa
import pyarrow.parquet as pq

from cscor_tools.formats.base import FormatWriter

ROW_GROUP_ROWS = 128 * 1024


class ParquetWriter(FormatWriter):
    name = "parquet"
    extension = "parquet"
    media_type = "application/vnd.apache.parquet"
    resource_format = "parquet"
    compressed = True

    def __init__(
        self, sink: IO[bytes], schema: pa.Schema, *, row_group_rows: int = ROW_GROUP_ROWS
    ) -> None:
        self._row_group_rows = row_group_rows
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        super().__init__(sink, schema)

    def _open(self) -> None:
        self._writer = pq.ParquetWriter(
            self._sink,
            _with_pandas_types(self.schema),
            compression="zstd",
            compression_level=3,
            use_dictionary=True,
            write_statistics=True,
        )

    def _write(self, batch: pa.RecordBatch) -> None:
        self._pending.append(batch)
        self._pending_rows += batch.num_rows
        while self._pending_rows >= self._row_group_rows:
            table = pa.Table.from_batches(self._pending, self.schema)
            group, rest = table.slice(0, self._row_group_rows), table.slice(self._row_group_rows)
            self._writer.write_table(group, row_group_size=self._row_group_rows)
            self._pending = rest.combine_chunks().to_batches() if rest.num_rows else []
            self._pending_rows = rest.num_rows

    def _finish(self) -> None:
        if self._pending_rows:
            table = pa.Table.from_batches(self._pending, self.schema)
            self._writer.write_table(table, row_group_size=self._row_group_rows)
        self._pending = []
        self._writer.close()


def _with_pandas_types(schema: pa.Schema) -> pa.Schema:
    """The schema, telling pandas that integer columns are nullable integers.

    Without it pandas (and tools reading Parquet through it, such as Frictionless) turns an
    integer column holding a null into floats, ``1200`` into ``1200.0`` and null into NaN.
    The ``pandas`` key of the file's metadata is where pyarrow looks for the types pandas
    should give; every other reader ignores it.
    """
    columns = [
        {"name": f.name, "field_name": f.name, "pandas_type": "int64", "numpy_type": "Int64",
         "metadata": None}
        for f in schema
        if pa.types.is_integer(f.type)
    ]
    if not columns:
        return schema
    pandas = {"index_columns": [], "column_indexes": [], "columns": columns}
    metadata = {**(schema.metadata or {}), b"pandas": json.dumps(pandas).encode()}
    return schema.with_metadata(metadata)
