"""Frames of rows in the store's text: what ``Transaction.load`` hands each backend.

Timestamps become the fixed-width UTC text SQLite stores (PostgreSQL reads the same text
into ``timestamptz``), lists and structs the canonical JSON of ``dumps_json`` (sorted keys,
no spaces, no ASCII escaping), so a row loaded from a frame is stored byte for byte as the
same row upserted one at a time: a re-import compares equal, whichever route wrote it.
"""

from __future__ import annotations

import polars as pl

#: ``sqlite.encode_time``'s text
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%.6fZ"


def _json(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if isinstance(dtype, pl.Struct):
        ordered = sorted(f.name for f in dtype.fields)
        text = pl.struct([expr.struct.field(n) for n in ordered]).struct.json_encode()
    else:  # a list: wrapped in a struct to reach the JSON encoder, then unwrapped
        text = pl.struct(expr.alias("x")).struct.json_encode().str.slice(5).str.head(-1)
    return pl.when(expr.is_null()).then(None).otherwise(text)


def encode_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame's columns as the store writes them (text, integers, floats, booleans)."""
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            if dtype.time_zone is None:
                raise ValueError(f"{name}: refusing naive datetimes (times must carry a zone)")
            exprs.append(col.dt.convert_time_zone("UTC").dt.strftime(TIME_FORMAT).alias(name))
        elif isinstance(dtype, pl.Struct | pl.List):
            exprs.append(_json(col, dtype).alias(name))
        else:
            exprs.append(col)
    return frame.select(exprs)
