"""Columns of cells to columns of values: the converters of ``convert.py``, a column at a time.

The scalar converters stay the one definition of what a cell means. A column is converted in
two steps:

1. a *fast accept*: polars expressions decide the cells whose meaning is plain — "EUR" in a
   currency column, "anna@example.com" in an email column, an ISO 8601 UTC timestamp — and
   give exactly the value the scalar converter gives them;
2. every other non-empty cell (a spelling to fold, a date in a mapped format, a mistake) goes
   to the scalar converter, once per distinct value, and its value or its CellError is
   spread back over the column.

So a vector rule may only ever accept *less* than its converter, never something else:
``tests/imports/test_vector.py`` checks, over generated cells, that both steps together give
the scalar converter's value for every cell and fail exactly where it fails. A cell that
fails is only *marked* here; the row it is in is built again by ``RowBuilder.build``, whose
message names every problem of the row, as it always has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from cscor_tools.imports.cells import CellError, Converter
from cscor_tools.imports.checks import _EMAIL
from cscor_tools.imports.codes import COUNTRIES, CURRENCIES
from cscor_tools.imports.convert import _BOOLS, ConvertOptions
from cscor_tools.schema import Field, FieldType

#: what ``str.strip()`` removes that is ASCII; the rest of Python's whitespace (NEL, NBSP,
#: the Unicode spaces) is left at the edges for the scalar converter to strip
_ASCII_SPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
_ODD_EDGE = r"^\s|\s$"
_EMAIL_FULL = f"^(?:{_EMAIL.pattern})$"
#: an ISO 8601 time in UTC that ``datetime.fromisoformat`` and polars read alike
_ISO_UTC = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3}|\.\d{6})?(?:Z|\+00:00)$"
_ISO_FORMAT = "%Y-%m-%dT%H:%M:%S%.fZ"
#: whole numbers that fit a 64-bit integer whatever their digits
_SMALL_INT = r"^[0-9]{1,18}$"
#: list cells without whitespace other than spaces, control characters or brackets: their
#: items strip and split the same way in both implementations
_PLAIN_LIST = r"^[^\[\x00-\x1f\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"

_BAD = object()


def logical_dtype(field: Field) -> pl.DataType:
    """The polars type of a field's values (before the store encodes them)."""
    t = field.type
    if t == FieldType.INTEGER:
        return pl.Int64()
    if t == FieldType.BOOLEAN:
        return pl.Boolean()
    if t == FieldType.TIMESTAMP:
        return pl.Datetime("us", "UTC")
    if t == FieldType.NUMBER:
        return pl.Float64()
    if t == FieldType.STRING_LIST:
        return pl.List(pl.String())
    if t == FieldType.STRUCT:
        return pl.Struct({sub.name: logical_dtype(sub) for sub in field.fields})
    return pl.String()


@dataclass(frozen=True)
class Converted:
    """A converted column: values (null where blank or failed) and where cells failed."""

    values: pl.Series
    bad: pl.Series


def column_of(values: list[Any]) -> pl.Series | list[Any]:
    """Cells read one record at a time as a column: a typed Series when they share a type,
    else the list itself (JSON may mix types in one key; each such cell is converted alone)."""
    kinds = {v.__class__ for v in values if v is not None}
    if not kinds:
        return pl.Series(values, dtype=pl.String())
    if kinds == {str}:
        return pl.Series(values, dtype=pl.String())
    if kinds == {int} and all(-(1 << 63) <= v < (1 << 63) for v in values if v is not None):
        return pl.Series(values, dtype=pl.Int64())
    if kinds == {bool}:
        return pl.Series(values, dtype=pl.Boolean())
    if kinds == {float}:
        return pl.Series(values, dtype=pl.Float64())
    return values


@dataclass(frozen=True)
class ColumnSpec:
    """A column to convert: the field its cells become and that field's converter."""

    field: Field
    scalar: Converter
    #: an amount in major units: its value is the amount's decimal text (``money.py`` and
    #: ``columnar.scale_amounts`` turn it into minor units once the row's currency is known)
    major: bool = False

    @property
    def dtype(self) -> pl.DataType:
        return pl.String() if self.major else logical_dtype(self.field)

    @property
    def convert(self) -> Converter:
        if not self.major:
            return self.scalar
        scalar = self.scalar

        def as_text(v: Any) -> Any:
            amount = scalar(v)
            return None if amount is None else str(amount)

        return as_text


def convert_columns(cells: list[pl.Series | list[Any]], specs: list[ColumnSpec],
                    opts: ConvertOptions) -> list[Converted]:
    """Convert columns together: every fast rule in one polars query (one pass, its columns
    in parallel), then each column's leftovers through its converter."""
    exprs: list[pl.Expr] = []
    inputs: dict[str, pl.Series] = {}
    ruled: list[bool] = []
    for k, (col, spec) in enumerate(zip(cells, specs, strict=True)):
        if isinstance(col, list):
            ruled.append(False)
            continue
        name = f"c{k}"
        inputs[name] = col
        if spec.major:
            rule = _amount_rule(pl.col(name), opts) if col.dtype == pl.String() else None
        else:
            rule = _fast_rule(pl.col(name), col.dtype, spec.field, opts)
        ruled.append(rule is not None)
        if rule is not None:
            value_expr, decided_expr = rule
            exprs += [value_expr.cast(spec.dtype).alias(f"v{k}"),
                      (decided_expr | pl.col(name).is_null()).fill_null(False).alias(f"d{k}")]
    out = pl.DataFrame(inputs).select(exprs) if exprs else None
    results = []
    for k, (col, spec) in enumerate(zip(cells, specs, strict=True)):
        dtype = spec.dtype
        if isinstance(col, list):
            results.append(_one_by_one(col, dtype, spec.convert))
            continue
        values: pl.Series
        decided: pl.Series
        if ruled[k] and out is not None:
            values, decided = out[f"v{k}"], out[f"d{k}"]
        else:
            values, decided = pl.Series([None] * col.len(), dtype=dtype), col.is_null()
        if decided.all():
            results.append(Converted(values, pl.repeat(False, col.len(), eager=True)))
        else:
            results.append(_fill_undecided(col, values, decided, dtype, spec.convert))
    return results


def convert_column(cells: pl.Series | list[Any], field: Field, opts: ConvertOptions,
                   scalar: Converter) -> Converted:
    """Convert one column with ``field``'s rules; ``scalar`` is the field's converter."""
    return convert_columns([cells], [ColumnSpec(field, scalar)], opts)[0]


def _fill_undecided(cells: pl.Series, values: pl.Series, decided: pl.Series,
                    dtype: pl.DataType, scalar: Converter) -> Converted:
    """The scalar converter over the distinct cells the fast rule left, spread back."""
    where = (~decided).arg_true()
    pending = cells.gather(where)
    try:
        distinct = pending.unique().to_list()
    except pl.exceptions.PolarsError:  # unhashable values (lists, structs): one by one
        return _one_by_one(cells.to_list(), dtype, scalar)
    results: dict[Any, Any] = {}
    for cell in distinct:
        try:
            results[_key(cell)] = scalar(cell)
        except CellError:
            results[_key(cell)] = _BAD
    full: list[Any] = [None] * cells.len()
    flags = [False] * cells.len()
    for i, cell in zip(where.to_list(), pending.to_list(), strict=True):
        value = results[_key(cell)]
        if value is _BAD:
            flags[i] = True
        else:
            full[i] = value
    values = values.zip_with(decided, pl.Series(full, dtype=dtype))
    return Converted(values, pl.Series(flags, dtype=pl.Boolean()))


def _key(cell: Any) -> Any:
    return tuple(cell) if isinstance(cell, list) else cell


def _one_by_one(cells: list[Any], dtype: pl.DataType, scalar: Converter) -> Converted:
    values: list[Any] = []
    bad: list[bool] = []
    for cell in cells:
        if cell is None:
            values.append(None)
            bad.append(False)
            continue
        try:
            values.append(scalar(cell))
            bad.append(False)
        except CellError:
            values.append(None)
            bad.append(True)
    return Converted(pl.Series(values, dtype=dtype), pl.Series(bad, dtype=pl.Boolean()))


# -- fast rules -------------------------------------------------------------------------------

Rule = tuple[pl.Expr, pl.Expr]  # (value, decided)


def _fast_rule(c: pl.Expr, dtype: pl.DataType, field: Field,
               opts: ConvertOptions) -> Rule | None:
    """The expressions that decide the plain cells of column ``c``, or None (all to the
    scalar converter)."""
    t = field.type
    if dtype == pl.String():
        return _text_rule(c, field, opts)
    if dtype == pl.Int64() and t == FieldType.INTEGER:
        return c, _in_bounds(c, field)
    if dtype == pl.Boolean() and t == FieldType.BOOLEAN:
        return c, pl.lit(True)
    if isinstance(dtype, pl.Datetime) and t == FieldType.TIMESTAMP and dtype.time_zone:
        return c.dt.convert_time_zone("UTC"), pl.lit(True)
    return None


def _stripped(c: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(the cell as ``str.strip()`` leaves it, whether that could not be told here)."""
    s = c.str.strip_chars(_ASCII_SPACE)
    odd = s.str.contains(_ODD_EDGE) | c.str.contains("\x00", literal=True)
    return s, odd


def _text_rule(c: pl.Expr, field: Field, opts: ConvertOptions) -> Rule | None:
    t = field.type
    if opts.verbatim:
        return _verbatim_rule(c, field, opts)
    s, odd = _stripped(c)
    blank = s == ""
    plain = ~odd
    if t == FieldType.STRING:
        if field.enum is not None:
            if field.format is not None:
                return None
            ok = blank | s.is_in(list(field.enum))
        elif field.format is None:
            ok = pl.lit(True)
        elif field.format == "email":
            ok = blank | (s.str.contains(_EMAIL_FULL) & (s.str.len_chars() <= 254))
        elif field.format == "currency":
            low = s.str.to_lowercase()
            ok = blank | (s.str.contains(r"^[A-Za-z]{3}$") & low.is_in(sorted(CURRENCIES)))
            return pl.when(blank).then(None).otherwise(low), plain & ok
        elif field.format == "country":
            up = s.str.to_uppercase()
            exact = s.is_in(sorted(COUNTRIES))
            ok = blank | exact | (s.str.contains(r"^[A-Za-z]{2}$") & up.is_in(sorted(COUNTRIES)))
            value = pl.when(blank).then(None).when(exact).then(s).otherwise(up)
            return value, plain & ok
        elif field.format == "url":
            ok = blank | s.str.contains(r"^[Hh][Tt][Tt][Pp][Ss]?://")
        else:
            return None
        return pl.when(blank).then(None).otherwise(s), plain & ok
    if t == FieldType.INTEGER:
        digits = s.str.contains(_SMALL_INT)
        number = pl.when(digits).then(s).otherwise(None).cast(pl.Int64, strict=False)
        value = pl.when(blank).then(None).otherwise(number)
        return value, plain & (blank | (digits & _in_bounds(number, field)))
    if t == FieldType.BOOLEAN:
        low = s.str.to_lowercase()
        known = low.is_in(list(_BOOLS))
        value = pl.when(blank | ~known).then(None).otherwise(
            low.replace_strict(list(_BOOLS), list(_BOOLS.values()), default=None,
                               return_dtype=pl.Boolean))
        return value, plain & (blank | known)
    if t == FieldType.TIMESTAMP:
        return _timestamp_rule(s, plain, blank)
    if t == FieldType.STRING_LIST:
        return _list_rule(s, plain, blank, opts)
    return None


def _amount_rule(c: pl.Expr, opts: ConvertOptions) -> Rule | None:
    """Plain amounts in major units ("1234.50", "-7"): their text, as ``parse_amount``
    reads them when the decimal separator is a point or left to be guessed."""
    if opts.decimal not in ("auto", "."):
        return None
    s, odd = _stripped(c)
    blank = s == ""
    plain = s.str.contains(r"^[+-]?[0-9]{1,15}(?:\.[0-9]{1,6})?$")
    return pl.when(blank).then(None).otherwise(s), ~odd & (blank | plain)


def _in_bounds(number: pl.Expr, field: Field) -> pl.Expr:
    ok = pl.lit(True)
    if field.minimum is not None:
        ok = ok & (number >= field.minimum)
    if field.maximum is not None:
        ok = ok & (number <= field.maximum)
    return ok.fill_null(False)


def _timestamp_rule(s: pl.Expr, plain: pl.Expr, blank: pl.Expr) -> Rule:
    iso = s.str.contains(_ISO_UTC)
    # "+00:00" is written "Z" first: a literal suffix keeps polars on its fast parser
    parsed = pl.when(iso).then(s).otherwise(None).str.replace(r"\+00:00$", "Z").str.strptime(
        pl.Datetime("us"), _ISO_FORMAT, strict=False).dt.replace_time_zone("UTC")
    value = pl.when(blank).then(None).otherwise(parsed)
    return value, plain & (blank | parsed.is_not_null())


def _list_rule(s: pl.Expr, plain: pl.Expr, blank: pl.Expr, opts: ConvertOptions) -> Rule:
    sep = opts.list_separator
    simple = s.str.contains(_PLAIN_LIST)
    parts = s.str.split(sep) if sep else s.str.replace_all(r"[;|]", ",").str.split(",")
    items = parts.list.eval(pl.element().str.strip_chars(" ")).list.eval(
        pl.element().filter(pl.element() != ""))
    value = pl.when(blank).then(None).otherwise(items)
    return value, plain & (blank | simple)


def _verbatim_rule(c: pl.Expr, field: Field, opts: ConvertOptions) -> Rule | None:
    """Our own bundles: canonical values only, changed in nothing."""
    blank = (c == "") if opts.blank_is_null else pl.lit(False)
    clean = ~c.str.contains("\x00", literal=True)
    if opts.unguard_formulas:
        clean = clean & ~c.str.starts_with("'")
    t = field.type
    if t == FieldType.STRING:
        if field.enum is not None:
            if field.format is not None:
                return None
            ok = c.is_in(list(field.enum))
        elif field.format is None:
            ok = pl.lit(True)
        elif field.format == "currency":
            ok = c.is_in(sorted(CURRENCIES))
        elif field.format == "country":
            ok = c.is_in(sorted(COUNTRIES))
        elif field.format == "email":
            ok = c.str.contains(_EMAIL_FULL) & (c.str.len_chars() <= 254)
        else:
            return None
        return pl.when(blank).then(None).otherwise(c), clean & (blank | ok)
    if t == FieldType.INTEGER:
        digits = c.str.contains(_SMALL_INT)
        number = pl.when(digits).then(c).otherwise(None).cast(pl.Int64, strict=False)
        return number, (c == "") | (digits & _in_bounds(number, field))
    if t == FieldType.BOOLEAN:
        known = c.is_in(["true", "false"])
        return pl.when(known).then(c == "true").otherwise(None), (c == "") | known
    if t == FieldType.TIMESTAMP:
        return _timestamp_rule(c, clean, c == "")
    return None
