"""Parquet typed from the schema: int64, timestamp[us, UTC], bool, string, list, struct; zstd.

Batches are gathered into row groups of ``row_group_rows`` (large enough for good compression
and fast scans, small enough to keep memory flat), always cut at the same rows, so the same
input gives the same bytes.
"""

from __future__ import annotations

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
            self.schema,
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
