"""Shared by the text formats: Arrow batches made into Polars frames holding what JSON and CSV
carry, timestamps as fixed-width UTC text (``base.TIMESTAMP_FORMAT``).

The formatting is Polars' (Rust, a column at a time): Arrow's strftime costs several times
as much per value, and an export formats millions of them.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

#: TIMESTAMP_FORMAT as Polars (chrono) spells it
_POLARS_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S%.6fZ"


def to_polars(batch: pa.RecordBatch) -> pl.DataFrame:
    frame = pl.from_arrow(batch)
    assert isinstance(frame, pl.DataFrame)
    return frame


def timestamps_as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every timestamp column as fixed-width UTC text."""
    times = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Datetime)]
    if not times:
        return frame
    return frame.with_columns(
        [pl.col(n).dt.convert_time_zone("UTC").dt.to_string(_POLARS_TIMESTAMP_FORMAT)
         for n in times]
    )
