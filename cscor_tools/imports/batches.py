"""A table's records in batches of columns, for the columnar builder.

Records come from the readers one at a time (``readers.py``), with a reason for each one
that could not be read at all; those are set apart (``unreadable``), the others go into a
batch of columns. A JSON file's columns grow as keys appear: the plan is compiled again
for a batch that brought new ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import polars as pl

from cscor_tools.imports.apply import Rejection
from cscor_tools.imports.columnar import RawBatch, batch_of_frame, batch_of_records
from cscor_tools.imports.csvchunks import can_read_fast, read_chunks
from cscor_tools.imports.readers import Table
from cscor_tools.imports.rowplan import RowBuilder


@dataclass
class Batch:
    rows: RawBatch
    #: records that could not be read: (row, raw, None, reason)
    unreadable: list[Rejection]
    #: records read, unreadable ones included
    records: int


def read_batches(table: Table, builder: RowBuilder, size: int) -> Iterator[Batch]:
    """The table's records, ``size`` readable ones at most per batch."""
    if table.arrow_batches is not None:
        yield from _arrow_batches(table, builder, size)
        return
    if not can_read_fast(table):
        yield from _record_batches(table, builder, size)
        return
    for part in read_chunks(table):
        if isinstance(part, Table):
            yield from _record_batches(part, builder, size)
            continue
        height = part.frame.height
        skipped = part.records - height
        for start in range(0, max(height, 1), size):
            frame = part.frame.slice(start, size)
            numbers = part.numbers[start:start + size]
            last = start + size >= height
            yield Batch(batch_of_frame(numbers, frame), [],
                        len(numbers) + (skipped if last else 0))


def _arrow_batches(table: Table, builder: RowBuilder, size: int) -> Iterator[Batch]:
    """A columnar file's batches as they are stored: typed columns, no record in between."""
    assert table.arrow_batches is not None
    first = 1
    for arrow in table.arrow_batches(size):
        numbers = list(range(first, first + arrow.num_rows))
        first += arrow.num_rows
        try:
            frame = pl.from_arrow(arrow)
        except (pl.exceptions.PolarsError, TypeError, ValueError):
            frame = None  # a type polars does not hold: the batch's values, record by record
        if not isinstance(frame, pl.DataFrame):
            rows = [list(values) for values in zip(*(c.to_pylist() for c in arrow.columns),
                                                   strict=True)]
            records = [(n, cells, cells) for n, cells in zip(numbers, rows, strict=True)]
            yield Batch(batch_of_records(records, builder.width), [], len(records))
            continue
        frame = frame.with_columns(pl.col(pl.Categorical).cast(pl.String))
        yield Batch(batch_of_frame(numbers, frame), [], len(numbers))


def _record_batches(table: Table, builder: RowBuilder, size: int) -> Iterator[Batch]:
    records: list[tuple[int, list[Any], Any]] = []
    unreadable: list[Rejection] = []
    count = 0
    for n, cells, raw, problem in table.records:
        count += 1
        if problem is not None or cells is None:
            unreadable.append((n, raw, None, problem or "unreadable record"))
            continue
        records.append((n, cells, raw))
        if len(records) >= size:
            yield _batch(table, builder, records, unreadable, count)
            records, unreadable, count = [], [], 0
    if records or unreadable or count:
        yield _batch(table, builder, records, unreadable, count)


def _batch(table: Table, builder: RowBuilder, records: list[tuple[int, list[Any], Any]],
           unreadable: list[Rejection], count: int) -> Batch:
    if table.dynamic and len(table.columns) != builder.width:
        builder.compile(table.columns)
    return Batch(batch_of_records(records, builder.width), unreadable, count)
