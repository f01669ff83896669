"""Semantic checks layered on a text or number converter: email, ISO codes, URL, enum, range.

Each takes the converter of the underlying type and returns one that also checks (and, in
lenient mode, normalizes) the value: "EUR" → "eur", "France" → "FR", "On hold" → "on_hold".
In lenient mode a text cell is trimmed in place rather than through the base converter: these
run for every cell of a million-row file, and a Python call per cell is measurable.
"""

from __future__ import annotations

import re
from typing import Any

from cscor_tools.imports.cells import CellError, Converter, short
from cscor_tools.imports.codes import COUNTRIES, COUNTRY_NAMES, CURRENCIES, fold

_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)

#: how many spellings of enum values a converter remembers (a file has a handful)
_SPELLINGS = 256


def email(base: Converter, strict: bool) -> Converter:
    def convert(v: Any) -> Any:
        s = (v.strip() or None) if (v.__class__ is str and not strict) else base(v)
        if s is None:
            return None
        if not strict:
            if s.endswith(">") and "<" in s:
                s = s[s.rindex("<") + 1 : -1].strip()
            if s[:7].lower() == "mailto:":
                s = s[7:]
        if len(s) > 254 or not _EMAIL.fullmatch(s):
            raise CellError("not an email address")
        return s

    return convert


def currency(base: Converter, strict: bool) -> Converter:
    def convert(v: Any) -> Any:
        s = (v.strip() or None) if (v.__class__ is str and not strict) else base(v)
        if s is None:
            return None
        code = s if strict else s.lower()
        if code not in CURRENCIES:
            raise CellError(f"not an ISO 4217 currency code: {short(s)}")
        return code

    return convert


def country(base: Converter, strict: bool) -> Converter:
    def convert(v: Any) -> Any:
        s = (v.strip() or None) if (v.__class__ is str and not strict) else base(v)
        if s is None:
            return None
        if s in COUNTRIES:
            return s
        if not strict:
            upper = s.upper()
            if upper in COUNTRIES:
                return upper
            named = COUNTRY_NAMES.get(fold(s))
            if named:
                return named
        raise CellError(f"not an ISO 3166 country: {short(s)}")

    return convert


def url(base: Converter) -> Converter:
    def convert(v: Any) -> Any:
        s = base(v)
        if s is not None and not s.lower().startswith(("https://", "http://")):
            raise CellError("not an http(s) URL")
        return s

    return convert


def enum(base: Converter, allowed: tuple[str, ...], strict: bool) -> Converter:
    choices = frozenset(allowed)
    listed = ", ".join(allowed)
    #: a file spells its few values the same way on every row: fold each spelling once
    spellings: dict[str, str] = {}

    def convert(v: Any) -> Any:
        s = (v.strip() or None) if (v.__class__ is str and not strict) else base(v)
        if s is None or s in choices:
            return s
        # "On hold", "ON-HOLD", "Archivé" → on_hold, archived (fold is slow: only on a miss)
        value = spellings.get(s)
        if value is None:
            value = s if strict else fold(s).replace(" ", "_")
            if len(spellings) < _SPELLINGS:
                spellings[s] = value
        if value not in choices:
            raise CellError(f"{short(s)} is not one of {listed}")
        return value

    return convert


def bounded(base: Converter, low: int | None, high: int | None) -> Converter:
    span = f"{'-∞' if low is None else low} to {'∞' if high is None else high}"

    def convert(v: Any) -> Any:
        n = base(v)
        if n is not None and ((low is not None and n < low) or (high is not None and n > high)):
            raise CellError(f"{n} is out of range ({span})")
        return n

    return convert
