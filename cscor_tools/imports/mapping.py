"""Mapping files: a TOML description of how a file's columns become workspace fields.

Every key is optional::

    entity = "invoices"            # which entity the file holds
    source = "oldcrm"              # source name of the rows (default "import")
    key = ["number"]               # natural key when the file has no id column
    timezone = "Europe/Berlin"     # zone of times written without one (default UTC)
    date_formats = ["%d.%m.%Y"]    # strptime formats tried after ISO 8601
    money = "major"                # amounts as 12.50 rather than minor units (1250)
    decimal = ","                  # decimal separator of such amounts: auto, "." or ","
    list_separator = ";"           # separator of list cells such as tags
    required = ["name"]            # fields a row must have
    ignore = ["Internal ref"]      # columns to skip without calling them unknown

    [columns]                      # heading → field, "field.sub", or "" to skip
    "Kunde" = "client_id"
    "Straße" = "address.line1"

    [constants]                    # values for rows whose file gives none
    currency = "eur"

    [fields.issued_at]             # per-field options
    formats = ["%d/%m/%Y"]
    [fields.tax]
    money = "minor"

Names in a mapping are only ever compared with schema field names; they never reach SQL.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cscor_tools.errors import RejectedInputError
from cscor_tools.imports.codes import fold

_TOP_KEYS = {
    "entity", "source", "key", "timezone", "date_formats", "money", "decimal",
    "list_separator", "required", "ignore", "columns", "constants", "fields",
}
_FIELD_KEYS = {"formats", "money"}


@dataclass(frozen=True)
class FieldOptions:
    """Options for one field: its own date formats, or its money units."""

    formats: tuple[str, ...] = ()
    money: str | None = None


@dataclass(frozen=True)
class ColumnMapping:
    """A parsed mapping file (or the empty default: aliases only)."""

    path: str | None = None
    entity: str | None = None
    source: str | None = None
    key: tuple[str, ...] = ()
    timezone: str = "UTC"
    date_formats: tuple[str, ...] = ()
    money: str = "minor"
    decimal: str = "auto"
    list_separator: str | None = None
    required: tuple[str, ...] = ()
    #: folded headings to skip
    ignore: frozenset[str] = frozenset()
    #: folded heading → "field", "field.sub" or "" (skip)
    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, FieldOptions] = field(default_factory=dict)

    def field_options(self, name: str) -> FieldOptions:
        return self.fields.get(name, FieldOptions())

    def money_major(self, name: str) -> bool:
        units = self.field_options(name).money or self.money
        return units == "major"


def load_mapping(path: str | os.PathLike[str]) -> ColumnMapping:
    """Read and check a TOML mapping file; RejectedInputError names the file and the key."""
    where = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise RejectedInputError(f"cannot read the mapping file: {exc.strerror}",
                                 file=where) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RejectedInputError(f"not a valid TOML file: {exc}", file=where) from None
    return parse_mapping(data, where)


def _fail(where: str | None, key: str, reason: str) -> RejectedInputError:
    return RejectedInputError(reason, file=where, field=key)


def _strings(where: str | None, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise _fail(where, key, "expected a string or a list of strings")


def _text(where: str | None, key: str, value: Any, choices: tuple[str, ...] = ()) -> str:
    if not isinstance(value, str) or (choices and value not in choices):
        allowed = f" ({', '.join(choices)})" if choices else ""
        raise _fail(where, key, f"expected a string{allowed}")
    return value


def _check_formats(where: str | None, key: str, formats: tuple[str, ...]) -> None:
    sample = datetime(2001, 2, 3, 4, 5, 6)
    for fmt in formats:
        try:
            datetime.strptime(sample.strftime(fmt), fmt)
        except ValueError as exc:
            raise _fail(where, key, f"invalid date format {fmt!r}: {exc}") from None


def parse_mapping(data: dict[str, Any], where: str | None = None) -> ColumnMapping:
    """A ColumnMapping from already-parsed TOML (or a dict built in Python)."""
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        expected = ", ".join(sorted(_TOP_KEYS))
        raise _fail(where, unknown[0], f"unknown key; expected one of {expected}")
    kw: dict[str, Any] = {"path": where}
    if "entity" in data:
        kw["entity"] = _text(where, "entity", data["entity"])
    if "source" in data:
        source = _text(where, "source", data["source"]).strip()
        if not source:
            raise _fail(where, "source", "must not be empty")
        kw["source"] = source
    if "key" in data:
        kw["key"] = _strings(where, "key", data["key"])
    if "timezone" in data:
        tz = _text(where, "timezone", data["timezone"])
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise _fail(where, "timezone", f"unknown time zone {tz!r}") from None
        kw["timezone"] = tz
    if "date_formats" in data:
        kw["date_formats"] = _strings(where, "date_formats", data["date_formats"])
        _check_formats(where, "date_formats", kw["date_formats"])
    if "money" in data:
        kw["money"] = _text(where, "money", data["money"], ("minor", "major"))
    if "decimal" in data:
        kw["decimal"] = _text(where, "decimal", data["decimal"], ("auto", ".", ","))
    if "list_separator" in data:
        sep = _text(where, "list_separator", data["list_separator"])
        if not sep:
            raise _fail(where, "list_separator", "must not be empty")
        kw["list_separator"] = sep
    if "required" in data:
        kw["required"] = _strings(where, "required", data["required"])
    if "ignore" in data:
        kw["ignore"] = frozenset(fold(h) for h in _strings(where, "ignore", data["ignore"]))
    columns = data.get("columns", {})
    if not isinstance(columns, dict):
        raise _fail(where, "columns", "expected a table of heading = field")
    kw["columns"] = {
        fold(h): _text(where, f"columns.{h}", target).strip() for h, target in columns.items()
    }
    constants = data.get("constants", {})
    if not isinstance(constants, dict):
        raise _fail(where, "constants", "expected a table of field = value")
    kw["constants"] = dict(constants)
    fields = data.get("fields", {})
    if not isinstance(fields, dict):
        raise _fail(where, "fields", "expected tables [fields.NAME]")
    options: dict[str, FieldOptions] = {}
    for name, spec in fields.items():
        if not isinstance(spec, dict):
            raise _fail(where, f"fields.{name}", "expected a table")
        bad = sorted(set(spec) - _FIELD_KEYS)
        if bad:
            raise _fail(where, f"fields.{name}.{bad[0]}", "unknown key (formats, money)")
        formats = _strings(where, f"fields.{name}.formats", spec.get("formats", []))
        _check_formats(where, f"fields.{name}.formats", formats)
        money = spec.get("money")
        if money is not None:
            money = _text(where, f"fields.{name}.money", money, ("minor", "major"))
        options[name] = FieldOptions(formats, money)
    kw["fields"] = options
    return ColumnMapping(**kw)
