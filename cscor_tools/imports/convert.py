"""Cell converters: one precompiled function per column turns a raw cell into a workspace value.

A converter takes a non-None raw value — text from CSV, or a typed value from JSON and
Parquet — and returns the field's Python value (None for a blank cell), or raises CellError
with a reason. Everything per column (formats, time zone, enum set, range) is decided once
when the converter is built, so the per-cell path is a few comparisons and one parse.

Two modes: the default *lenient* mode reads what people type (trims blanks, "Yes", "On hold",
"France", "John <john@example.com>"); *verbatim* mode, for this toolkit's own bundles,
accepts only the canonical values an export writes and changes nothing, so a round trip is
exact. Reasons never quote a cell that may hold personal data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from cscor_tools.imports import checks
from cscor_tools.imports.cells import CellError, Converter, kind, short
from cscor_tools.imports.money import parse_amount
from cscor_tools.schema import Field, FieldType


@dataclass(frozen=True)
class ConvertOptions:
    """How cells are read, decided once per file."""

    verbatim: bool = False
    #: an empty string is a missing value (always in lenient mode; in CSV files otherwise)
    blank_is_null: bool = True
    #: the zone naive times are read in (they are stored in UTC)
    timezone: tzinfo = UTC
    #: strptime formats tried after ISO 8601
    date_formats: tuple[str, ...] = ()
    #: decimal separator of amounts in major units: "auto", "." or ","
    decimal: str = "auto"
    #: separator of list cells; None splits on any of , ; |
    list_separator: str | None = None
    #: undo the apostrophe our CSV writer puts before a text cell a spreadsheet would run
    #: as a formula (verbatim CSV only: in anybody else's file the apostrophe is data)
    unguard_formulas: bool = False


_BOOLS = {
    **dict.fromkeys(("true", "yes", "y", "1", "t", "on"), True),
    **dict.fromkeys(("false", "no", "n", "0", "f", "off"), False),
}
_INT_TEXT = re.compile(r"[+-]?[0-9]+(?:\.0*)?", re.ASCII)
_LIST_SPLIT = re.compile(r"[,;|]")


# -- scalar parsers -------------------------------------------------------------------------


#: PostgreSQL cannot store NUL in text. Refused on every store, so a file imports the same
#: way into each, and its row is rejected instead of the whole write failing.
NUL_REASON = "holds a NUL character (\\x00), which text fields cannot store"


def _refuse_nul(v: str) -> str:
    if "\x00" in v:
        raise CellError(NUL_REASON)
    return v


def _text(opts: ConvertOptions) -> Converter:
    if opts.verbatim:
        blank_null = opts.blank_is_null
        restore = _formula_restorer() if opts.unguard_formulas else None

        def verbatim(v: Any) -> Any:
            if v.__class__ is str:
                if blank_null and not v:
                    return None
                _refuse_nul(v)
                return restore(v) if restore is not None and v[:1] == "'" else v
            raise CellError(f"expected text, got {kind(v)}")

        return verbatim

    def lenient(v: Any) -> Any:
        if v.__class__ is str:
            return _refuse_nul(v.strip()) or None
        if isinstance(v, int | float) and not isinstance(v, bool):
            # spreadsheets and JSON tools turn postal codes and phone numbers into numbers
            return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
        raise CellError(f"expected text, got {kind(v)}")

    return lenient


def _formula_restorer() -> Callable[[str], str]:
    from cscor_tools.formats.csv import restore_cell  # the writer's own inverse

    return restore_cell


def _integer(opts: ConvertOptions, hint: str = "") -> Converter:
    strict = opts.verbatim

    def convert(v: Any) -> Any:
        if v.__class__ is str:
            s = v.strip()
            if not s:
                return None
            if s.isascii() and s.isdigit():
                return int(s)
            if not strict and _INT_TEXT.fullmatch(s):
                return int(s.split(".", 1)[0])
            if strict and s[:1] in "+-" and s[1:].isascii() and s[1:].isdigit():
                return int(s)
            raise CellError(f"not a whole number{hint}")
        if isinstance(v, bool):
            raise CellError("expected a number, got a boolean")
        if isinstance(v, int):
            return v
        if isinstance(v, float) and v.is_integer() and not strict:
            return int(v)
        if isinstance(v, Decimal) and v == v.to_integral_value() and not strict:
            return int(v)
        raise CellError(f"not a whole number{hint}")

    return convert


def _major_amount(opts: ConvertOptions) -> Converter:
    """Amounts in major units become Decimals here; the row's currency scales them later."""
    decimal = opts.decimal

    def convert(v: Any) -> Any:
        if v.__class__ is str:
            s = v.strip()
            return parse_amount(s, decimal) if s else None
        if isinstance(v, bool):
            raise CellError("expected an amount, got a boolean")
        if isinstance(v, int | Decimal):
            return Decimal(v)
        if isinstance(v, float):
            return Decimal(repr(v))
        raise CellError(f"expected an amount, got {kind(v)}")

    return convert


def _boolean(opts: ConvertOptions) -> Converter:
    strict = opts.verbatim

    def convert(v: Any) -> Any:
        if v.__class__ is bool:
            return v
        if v.__class__ is str:
            s = v.strip().lower()
            if not s:
                return None
            if strict and s not in ("true", "false"):
                raise CellError(f"not true or false: {short(v)}")
            try:
                return _BOOLS[s]
            except KeyError:
                raise CellError(f"not a yes/no value: {short(v)}") from None
        if isinstance(v, int) and v in (0, 1) and not strict:
            return bool(v)
        raise CellError(f"expected a boolean, got {kind(v)}")

    return convert


def _timestamp(opts: ConvertOptions, formats: Sequence[str]) -> Converter:
    zone = opts.timezone
    tried = " or ".join(["ISO 8601", *formats])

    def to_utc(dt: datetime) -> datetime:
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=zone)
        return dt if dt.tzinfo is UTC else dt.astimezone(UTC)

    def convert(v: Any) -> Any:
        if v.__class__ is str:
            s = v.strip()
            if not s:
                return None
            try:
                return to_utc(datetime.fromisoformat(s))
            except ValueError:
                pass
            for fmt in formats:
                try:
                    return to_utc(datetime.strptime(s, fmt))
                except ValueError:
                    continue
            raise CellError(f"not a date or time ({tried}): {short(s)}")
        if isinstance(v, datetime):
            return to_utc(v)
        if isinstance(v, date):
            return to_utc(datetime(v.year, v.month, v.day))
        raise CellError(f"expected a date or time, got {kind(v)}")

    return convert


def _string_list(opts: ConvertOptions) -> Converter:
    strict = opts.verbatim
    sep = opts.list_separator

    def from_list(items: list[Any]) -> list[str]:
        out = []
        for item in items:
            if item.__class__ is str:
                out.append(_refuse_nul(item if strict else item.strip()))
            elif isinstance(item, int | float) and not isinstance(item, bool) and not strict:
                out.append(str(item))
            else:
                raise CellError(f"list items must be text, got {kind(item)}")
        return out if strict else [i for i in out if i]

    def convert(v: Any) -> Any:
        if v.__class__ is str:
            s = v.strip()
            if not s:
                return None if (opts.blank_is_null or not strict) else []
            if s[0] == "[":
                try:
                    parsed = json.loads(s)
                except ValueError:
                    parsed = None
                if isinstance(parsed, list):
                    return from_list(parsed)
            if strict:
                raise CellError("expected a JSON array of strings")
            parts = _refuse_nul(s).split(sep) if sep else _LIST_SPLIT.split(_refuse_nul(s))
            return [p for p in (p.strip() for p in parts) if p]
        if isinstance(v, list | tuple):
            return from_list(list(v))
        raise CellError(f"expected a list, got {kind(v)}")

    return convert


def _struct(field: Field, opts: ConvertOptions, subs: dict[str, Converter]) -> Converter:
    strict = opts.verbatim
    first = field.fields[0].name

    def from_mapping(obj: dict[str, Any]) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        for key, value in obj.items():
            conv = subs.get(key)
            if conv is None:
                raise CellError(f"{field.name} has no part {short(key)}")
            try:
                out[key] = None if value is None else conv(value)
            except CellError as exc:
                raise CellError(f"{field.name}.{key}: {exc.reason}") from None
        if not strict and all(v is None for v in out.values()):
            return None
        return out

    def convert(v: Any) -> Any:
        if isinstance(v, dict):
            return from_mapping(v)
        if v.__class__ is str:
            s = v.strip()
            if not s:
                return None
            if s[0] == "{":
                try:
                    parsed = json.loads(s)
                except ValueError:
                    parsed = None
                if isinstance(parsed, dict):
                    return from_mapping(parsed)
            if strict:
                raise CellError("expected a JSON object")
            return from_mapping({first: s})
        raise CellError(f"expected an object, got {kind(v)}")

    return convert


# -- assembly -------------------------------------------------------------------------------


def field_converter(
    field: Field,
    opts: ConvertOptions,
    *,
    formats: Sequence[str] = (),
    major: bool = False,
) -> Converter:
    """The converter of one (sub-)field: its type, then its format, enum and range checks."""
    strict = opts.verbatim
    t = field.type
    conv: Converter
    if t == FieldType.STRING:
        conv = _text(opts)
        if field.format == "email":
            conv = checks.email(conv, strict)
        elif field.format == "currency":
            conv = checks.currency(conv, strict)
        elif field.format == "country":
            conv = checks.country(conv, strict)
        elif field.format == "url":
            conv = checks.url(conv)
        if field.enum:
            conv = checks.enum(conv, field.enum, strict)
        return conv
    if t == FieldType.INTEGER:
        if major:
            return _major_amount(opts)
        hint = " (amounts are in minor units, e.g. cents; declare money = \"major\" in the " \
            "mapping for amounts like 12.50)" if field.privacy == "financial" else ""
        conv = _integer(opts, hint)
        if field.minimum is not None or field.maximum is not None:
            conv = checks.bounded(conv, field.minimum, field.maximum)
        return conv
    if t == FieldType.BOOLEAN:
        return _boolean(opts)
    if t == FieldType.TIMESTAMP:
        return _timestamp(opts, tuple(formats) or opts.date_formats)
    if t == FieldType.STRING_LIST:
        return _string_list(opts)
    if t == FieldType.STRUCT:
        subs = {sub.name: field_converter(sub, opts) for sub in field.fields}
        return _struct(field, opts, subs)
    if t == FieldType.NUMBER:
        return _number(opts)
    raise AssertionError(f"no converter for {t}")  # pragma: no cover - every type is handled


def _number(opts: ConvertOptions) -> Converter:
    def convert(v: Any) -> Any:
        if v.__class__ is str:
            s = v.strip()
            if not s:
                return None
            try:
                return float(s)
            except ValueError:
                raise CellError("not a number") from None
        if isinstance(v, int | float) and not isinstance(v, bool):
            return float(v)
        raise CellError(f"expected a number, got {kind(v)}")

    return convert
