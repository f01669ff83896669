"""Batches of records to validated rows, a column at a time.

A batch is a few thousand records of one file, held as columns (``RawBatch``). Each column
is converted with its field's rules (``vector.py``), then the checks that span a row run as
column expressions: required fields, the natural key, the derived id (or, in a bundle, the
id checked against its source and source_id). What comes out is a polars frame of the valid
rows, with ``__i`` giving each row's place in the batch.

A record any of this fails for is built again by ``RowBuilder.build``, the row-at-a-time
definition of the same plan: it raises the rejection that names every problem of the row
(the rejects file and the summary read as they always have), or, for the rare record only
the row path can build (an integer beyond 64 bits), gives the row. Plans with duplicate
columns, whole-object columns or money in major units are built row by row throughout.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from cscor_tools.imports.apply import Item, Rejection
from cscor_tools.imports.codes import CURRENCIES, minor_unit_exponent
from cscor_tools.imports.keys import RowRejected, key_text
from cscor_tools.imports.rowplan import ColumnPlan, RowBuilder
from cscor_tools.imports.vector import ColumnSpec, column_of, convert_columns, logical_dtype
from cscor_tools.schema import Field, make_ids

#: the column of a built frame that says which record of the batch a row came from
INDEX = "__i"


@dataclass
class RawBatch:
    """Records of one file as columns aligned to the plan's columns."""

    numbers: list[int]
    columns: list[pl.Series | list[Any]]
    #: the cells of record i, as ``RowBuilder.build`` takes them
    cells_of: Callable[[int], list[Any]]
    #: record i as read, for the rejects file
    raw_of: Callable[[int], Any]
    #: records with values past the last column (the row builder says why they are refused)
    too_wide: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.numbers)


def batch_of_records(records: Sequence[tuple[int, list[Any], Any]], width: int) -> RawBatch:
    """Records read one at a time (JSON objects, or CSV rows read by the record reader)."""
    padded: list[list[Any]] = []
    too_wide: list[int] = []
    for i, (_, cells, _) in enumerate(records):
        if len(cells) < width:
            cells = cells + [None] * (width - len(cells))
        elif len(cells) > width:
            if any(c is not None and str(c).strip() for c in cells[width:]):
                too_wide.append(i)
            cells = cells[:width]
        padded.append(cells)
    cells_by_column = zip(*padded, strict=True) if padded else ([] for _ in range(width))
    columns = [column_of(list(col)) for col in cells_by_column]
    return RawBatch(
        numbers=[n for n, _, _ in records],
        columns=columns,
        cells_of=lambda i: records[i][1],
        raw_of=lambda i: records[i][2],
        too_wide=too_wide,
    )


def batch_of_frame(numbers: list[int], frame: pl.DataFrame) -> RawBatch:
    """Records read as a frame of columns (a CSV chunk, a Parquet batch)."""
    def cells(i: int) -> list[Any]:
        return list(frame.row(i))

    return RawBatch(numbers=numbers, columns=list(frame.get_columns()), cells_of=cells,
                    raw_of=cells)


@dataclass
class BuiltBatch:
    #: valid rows built a column at a time (``INDEX``: their record in the batch)
    frame: pl.DataFrame
    rejected: list[Rejection]
    #: valid rows built a record at a time (row-only plans, and the odd record only the
    #: row path can build), applied after the frame
    rows: list[Item] = field(default_factory=list)


class ColumnarBuilder:
    """Builds batches with a RowBuilder's plan; the RowBuilder builds the rows it refuses."""

    def __init__(self, builder: RowBuilder) -> None:
        self.builder = builder

    def build(self, batch: RawBatch) -> BuiltBatch:
        plan = self.builder.column_plan()
        m = len(batch)
        if plan.row_only or m == 0:
            return self._row_by_row(batch, range(m), pl.DataFrame({INDEX: []},
                                                                  schema={INDEX: pl.Int64}))
        cols, bad = self._convert(plan, batch)
        self._note_unnamed(plan, batch)
        self._fill_defaults(plan, cols, m)
        if plan.header_currency or plan.money:
            bad = bad | _scale_amounts(plan, cols, m)
        for fname in plan.required:
            bad = bad | (cols[fname].is_null() if fname in cols else pl.repeat(True, m,
                                                                                eager=True))
        if self.builder.opts.verbatim:
            bad = bad | self._check_identity(plan, cols, m)
        else:
            bad = bad | self._derive_identity(plan, cols, m)
        if batch.too_wide:
            bad = bad.scatter(batch.too_wide, [True] * len(batch.too_wide))
        frame = pl.DataFrame(cols).with_columns(pl.int_range(m, dtype=pl.Int64).alias(INDEX))
        return self._row_by_row(batch, bad.arg_true().to_list(), frame.filter(~bad))

    # -- steps ---------------------------------------------------------------------------

    def _convert(self, plan: ColumnPlan, batch: RawBatch) -> tuple[dict[str, pl.Series],
                                                                   pl.Series]:
        opts = self.builder.convert_options
        m = len(batch)
        singles = plan.texts + plan.singles
        parts = [(name, sub, idx, fdef, conv) for name, pieces in plan.structs
                 for sub, idx, fdef, conv in pieces]
        converted = convert_columns(
            [batch.columns[idx] for _, idx, _, _ in singles]
            + [batch.columns[idx] for _, _, idx, _, _ in parts],
            [ColumnSpec(fdef, conv, major=name in plan.money)
             for name, _, fdef, conv in singles]
            + [ColumnSpec(fdef, conv) for _, _, _, fdef, conv in parts],
            opts,
        )
        bad = pl.repeat(False, m, eager=True)
        for got in converted:
            bad = bad | got.bad
        cols: dict[str, pl.Series] = {
            name: got.values.alias(name)
            for (name, *_), got in zip(singles, converted[:len(singles)], strict=True)
        }
        struct_parts: dict[str, dict[str, pl.Series]] = {}
        for (name, sub, *_), got in zip(parts, converted[len(singles):], strict=True):
            struct_parts.setdefault(name, {})[sub] = got.values.alias(sub)
        for name, values in struct_parts.items():
            pieces = pl.DataFrame(values)
            struct = pieces.select(pl.struct(pl.all()).alias(name)).to_series()
            if not self.builder.opts.verbatim:  # a lenient struct of empty cells is no struct
                empty = pieces.select(pl.all_horizontal(pl.all().is_null())).to_series()
                struct = struct.zip_with(~empty, pl.Series(name, [None] * m,
                                                           dtype=struct.dtype))
            cols[name] = struct
        return cols, bad

    def _note_unnamed(self, plan: ColumnPlan, batch: RawBatch) -> None:
        for i in plan.unnamed:
            if i in self.builder.unnamed_with_data:
                continue
            col = batch.columns[i]
            if isinstance(col, list):
                has = any(v is not None and str(v).strip() for v in col)
            elif col.dtype == pl.String():
                has = bool((col.str.strip_chars().fill_null("") != "").any())
            else:
                has = bool(col.is_not_null().any())
            if has:
                self.builder.saw_unnamed_data(i)

    def _fill_defaults(self, plan: ColumnPlan, cols: dict[str, pl.Series], m: int) -> None:
        ent = self.builder.entity
        for fname, value in plan.defaults.items():
            if fname in plan.money:  # an amount in major units, scaled with the others
                constant = pl.repeat(str(value), m, dtype=pl.String, eager=True).alias(fname)
            else:
                constant = _repeat(fname, value, m, ent.field(fname))
            given = cols.get(fname)
            cols[fname] = constant if given is None else given.zip_with(given.is_not_null(),
                                                                       constant)
        for fname, value in plan.base.items():
            if fname not in cols:
                cols[fname] = _repeat(fname, value, m, ent.field(fname))

    def _derive_identity(self, plan: ColumnPlan, cols: dict[str, pl.Series],
                         m: int) -> pl.Series:
        """A plain file's source, source_id and id; True where a row has no key."""
        ent = self.builder.entity
        default = self.builder.opts.source
        source = cols.get("source")
        if source is None:
            source = pl.Series("source", [default] * m, dtype=pl.String)
        else:
            source = source.fill_null(default).replace("", default)
        cols["source"] = source
        if plan.key_fields:
            sid = _key_column(ent.name, plan.key_fields, cols, m, self.builder)
        else:
            sid = cols.get("source_id", pl.Series("source_id", [None] * m, dtype=pl.String))
        cols["source_id"] = sid.alias("source_id")
        cols["id"] = pl.Series("id", make_ids(ent.name, source.to_list(), sid.to_list()),
                               dtype=pl.String)
        return sid.is_null()

    def _check_identity(self, plan: ColumnPlan, cols: dict[str, pl.Series],
                        m: int) -> pl.Series:
        """A bundle row's id must derive from its source and source_id."""
        ent = self.builder.entity
        empty = pl.Series([None] * m, dtype=pl.String)
        given = [cols.get(name, empty) for name in ("id", "source", "source_id")]
        missing = pl.repeat(False, m, eager=True)
        for col in given:
            missing = missing | col.is_null() | (col == "").fill_null(True)
        derived = pl.Series(make_ids(ent.name, given[1].to_list(), given[2].to_list()),
                            dtype=pl.String)
        return missing | (derived != given[0]).fill_null(True)

    def _row_by_row(self, batch: RawBatch, indexes: Sequence[int] | range,
                    frame: pl.DataFrame) -> BuiltBatch:
        rejected: list[Rejection] = []
        rows: list[Item] = []
        for i in indexes:
            try:
                rows.append((batch.numbers[i], self.builder.build(batch.cells_of(i)),
                             batch.raw_of(i)))
            except RowRejected as exc:
                rejected.append((batch.numbers[i], batch.raw_of(i), exc.field, exc.reason))
        return BuiltBatch(frame, rejected, rows)


def _scale_amounts(plan: ColumnPlan, cols: dict[str, pl.Series], m: int) -> pl.Series:
    """The heading's currency, then amounts in major units to minor units of each row's
    currency (``money.py``, a column at a time); True where a row is refused there (the row
    builder says why: a contradicting currency, no currency, more decimals than it has)."""
    bad = pl.repeat(False, m, eager=True)
    currency = cols.get("currency")
    if plan.header_currency:
        given = currency if currency is not None else pl.Series([None] * m, dtype=pl.String)
        bad = bad | (given.is_not_null() & (given != plan.header_currency)).fill_null(False)
        currency = given.fill_null(plan.header_currency).alias("currency")
        cols["currency"] = currency
    if not plan.money:
        return bad
    if currency is None:
        currency = pl.Series([None] * m, dtype=pl.String)
    known = [c for c in CURRENCIES if minor_unit_exponent(c) is not None]
    exponent = currency.replace_strict(known, [minor_unit_exponent(c) for c in known],
                                       default=None, return_dtype=pl.Int64)
    for name in plan.money:
        text = cols[name]
        parts = pl.DataFrame({"t": text, "e": exponent}).select(
            pl.col("t").str.extract(r"^([+-]?)", 1).alias("sign"),
            pl.col("t").str.extract(r"^[+-]?([0-9]+)", 1).cast(pl.Int64).alias("whole"),
            pl.col("t").str.extract(r"\.([0-9]*)$", 1).fill_null("").alias("fraction"),
            pl.col("t").str.contains(r"^[+-]?[0-9]{1,15}(?:\.[0-9]{0,6})?$").alias("plain"),
            pl.col("e"),
        )
        fraction_ok = parts["fraction"].str.strip_chars_end("0").str.len_chars() <= parts["e"]
        ok = (text.is_null() | (parts["plain"] & parts["e"].is_not_null() & fraction_ok))
        minor = parts.select(
            (pl.col("whole") * pl.lit(10).pow(pl.col("e"))
             + pl.col("fraction").str.pad_end(8, "0").str.slice(0, pl.col("e"))
             .cast(pl.Int64, strict=False).fill_null(0))
            * pl.when(pl.col("sign") == "-").then(-1).otherwise(1)
        ).to_series()
        cols[name] = minor.zip_with(ok.fill_null(False) & text.is_not_null(),
                                    pl.Series([None] * m, dtype=pl.Int64)).alias(name)
        bad = bad | ~ok.fill_null(False)
    return bad


def _repeat(name: str, value: Any, m: int, fdef: Field) -> pl.Series:
    dtype = logical_dtype(fdef)
    if isinstance(value, list | dict):  # polars repeats scalars only
        return pl.Series(name, [value] * m, dtype=dtype)
    return pl.repeat(value, m, dtype=dtype, eager=True).alias(name)


def _key_column(entity_name: str, key_fields: Sequence[str], cols: dict[str, pl.Series],
                m: int, builder: RowBuilder) -> pl.Series:
    """source_id from the natural key: one field as text (an email in lower case), several
    as a JSON array; null where a key field is empty."""
    ent = builder.entity
    values = [cols.get(k, pl.Series([None] * m, dtype=pl.String)) for k in key_fields]
    if len(values) == 1:
        col, fdef = values[0], ent.field(key_fields[0])
        if col.dtype == pl.String():
            return col.str.to_lowercase() if fdef.format == "email" else col
        if col.dtype == pl.Int64():
            return col.cast(pl.String)
    emails = [ent.field(k).format == "email" for k in key_fields]
    out: list[str | None] = []
    for row in zip(*(v.to_list() for v in values), strict=True):
        if any(v is None for v in row):
            out.append(None)
            continue
        texts = [key_text(v, e) for v, e in zip(row, emails, strict=True)]
        out.append(texts[0] if len(texts) == 1 else json.dumps(texts, ensure_ascii=False))
    return pl.Series(out, dtype=pl.String)
