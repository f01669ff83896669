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
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cscor_tools.errors import RejectedInputError
from cscor_tools.imports.codes import fold
from cscor_tools.schema import ENTITIES
from cscor_tools.toml_lines import line_label

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
    #: folded heading → the heading as written (to find its line)
    headings: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    #: the file's TOML, for the lines of mistakes found once the entity is known
    text: str | None = field(default=None, compare=False, repr=False)

    def mistakes(self) -> Mistakes:
        """A collector for mistakes of this mapping that the schema reveals later."""
        return Mistakes(self.path, self.text)

    def field_options(self, name: str) -> FieldOptions:
        return self.fields.get(name, FieldOptions())

    def money_major(self, name: str) -> bool:
        units = self.field_options(name).money or self.money
        return units == "major"


def load_mapping(path: str | os.PathLike[str]) -> ColumnMapping:
    """Read and check a TOML mapping file.

    One RejectedInputError names the file and every mistake in it, one per line, each with its
    key and the line of the file where the key is written ("line ?" where that cannot be told).
    """
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
        data = tomllib.loads(text)
    except OSError as exc:
        raise RejectedInputError(f"cannot read the mapping file: {exc.strerror}",
                                 file=where) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RejectedInputError(f"not a valid TOML file: {exc}", file=where) from None
    return parse_mapping(data, where, text=text)


class Mistakes:
    """The mistakes found in one mapping, raised together as one RejectedInputError."""

    def __init__(self, where: str | None, text: str | None) -> None:
        self.where = where
        self.text = text
        self.found: list[tuple[tuple[str, ...], str]] = []

    def add(self, path: tuple[str, ...], reason: str) -> None:
        self.found.append((path, reason))

    def _line(self, path: tuple[str, ...]) -> str:
        return f"{line_label(self.text, path)}: " if self.text is not None else ""

    def raise_if_any(self) -> None:
        if len(self.found) == 1:
            (path, reason), = self.found
            raise RejectedInputError(f"{self._line(path)}{reason}", file=self.where,
                                     field=".".join(path))
        if self.found:
            listed = "\n".join(
                f"  {self._line(path)}field {'.'.join(path)!r}: {reason}"
                for path, reason in self.found
            )
            raise RejectedInputError(
                f"{len(self.found)} mistakes in the mapping file:\n{listed}", file=self.where
            )


class _Invalid(Exception):
    """One value is wrong: its reason, added to the mistakes by the caller that knows the key."""


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise _Invalid("expected a string or a list of strings")


def _text(value: Any, choices: tuple[str, ...] = ()) -> str:
    if not isinstance(value, str) or (choices and value not in choices):
        allowed = f" ({', '.join(choices)})" if choices else ""
        raise _Invalid(f"expected a string{allowed}")
    return value


def _nonempty(value: Any) -> str:
    text = _text(value).strip()
    if not text:
        raise _Invalid("must not be empty")
    return text


def _timezone(value: Any) -> str:
    tz = _text(value)
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise _Invalid(f"unknown time zone {tz!r}") from None
    return tz


def _formats(value: Any) -> tuple[str, ...]:
    formats = _strings(value)
    sample = datetime(2001, 2, 3, 4, 5, 6)
    for fmt in formats:
        try:
            datetime.strptime(sample.strftime(fmt), fmt)
        except ValueError as exc:
            raise _Invalid(f"invalid date format {fmt!r}: {exc}") from None
    return formats


def _money(value: Any) -> str:
    return _text(value, ("minor", "major"))


def _separator(value: Any) -> str:
    sep = _text(value)
    if not sep:
        raise _Invalid("must not be empty")
    return sep


def _folded(value: Any) -> frozenset[str]:
    return frozenset(fold(h) for h in _strings(value))


#: each top-level key that holds a value, and how that value is read and checked
_READERS: dict[str, Callable[[Any], Any]] = {
    "entity": lambda v: _text(v, tuple(ENTITIES)),  # a name of the schema, or a mistake
    "source": _nonempty,
    "key": _strings,
    "timezone": _timezone,
    "date_formats": _formats,
    "money": _money,
    "decimal": lambda v: _text(v, ("auto", ".", ",")),
    "list_separator": _separator,
    "required": _strings,
    "ignore": _folded,
}


def parse_mapping(
    data: dict[str, Any], where: str | None = None, *, text: str | None = None
) -> ColumnMapping:
    """A ColumnMapping from already-parsed TOML (or a dict built in Python).

    ``text``, the file's TOML, lets each mistake name its line; all mistakes are reported at once.
    """
    m = Mistakes(where, text)
    for key in sorted(set(data) - _TOP_KEYS):
        m.add((key,), f"unknown key; expected one of {', '.join(sorted(_TOP_KEYS))}")
    kw: dict[str, Any] = {"path": where, "text": text, "headings": {}}
    for key, read in _READERS.items():
        if key in data:
            try:
                kw[key] = read(data[key])
            except _Invalid as exc:
                m.add((key,), str(exc))
    kw["columns"] = {}
    columns = _table(data, "columns", "expected a table of heading = field", m)
    for heading, target in columns.items():
        try:
            kw["columns"][fold(heading)] = _text(target).strip()
            kw["headings"][fold(heading)] = heading
        except _Invalid as exc:
            m.add(("columns", heading), str(exc))
    kw["constants"] = dict(_table(data, "constants", "expected a table of field = value", m))
    kw["fields"] = {}
    for name, spec in _table(data, "fields", "expected tables [fields.NAME]", m).items():
        if not isinstance(spec, dict):
            m.add(("fields", name), "expected a table")
            continue
        for bad in sorted(set(spec) - _FIELD_KEYS):
            m.add(("fields", name, bad), "unknown key (formats, money)")
        options = FieldOptions()
        try:
            options = replace(options, formats=_formats(spec.get("formats", [])))
        except _Invalid as exc:
            m.add(("fields", name, "formats"), str(exc))
        if spec.get("money") is not None:
            try:
                options = replace(options, money=_money(spec["money"]))
            except _Invalid as exc:
                m.add(("fields", name, "money"), str(exc))
        kw["fields"][name] = options
    m.raise_if_any()
    return ColumnMapping(**kw)


def _table(data: dict[str, Any], key: str, reason: str, m: Mistakes) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        m.add((key,), reason)
        return {}
    return value
