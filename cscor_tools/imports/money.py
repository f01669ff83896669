"""Money: amounts written in major units ("1.234,50 €") to integer minor units (123450).

Amounts are parsed as exact decimals, then scaled by the ISO 4217 minor unit of the row's
currency, which may come from a currency column, a mapping constant, or a heading such as
"Amount (EUR)". A value with more decimals than its currency has is refused, never rounded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from cscor_tools.imports.cells import CellError
from cscor_tools.imports.codes import minor_unit_exponent
from cscor_tools.imports.keys import RowRejected
from cscor_tools.records import Row

_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)
_THOUSANDS_ONLY = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+", re.ASCII)
_MONEY_NOISE = str.maketrans("", "", " \u00a0\u202f'€£$")


def parse_amount(text: str, decimal: str) -> Decimal:
    """An amount in major units as written ("1,234.50", "1.234,50 €", "$12") → Decimal."""
    s = text.translate(_MONEY_NOISE)
    if s[:3].isalpha():
        s = s[3:]
    if s[-3:].isalpha():
        s = s[:-3]
    sep = decimal
    if sep == "auto":
        if "," in s and "." in s:
            sep = "," if s.rfind(",") > s.rfind(".") else "."
        elif "," in s:
            sep = "." if _THOUSANDS_ONLY.fullmatch(s) else ","
        else:
            sep = "."
    s = s.replace("." if sep == "," else ",", "")
    if sep == ",":
        s = s.replace(",", ".")
    if not _DECIMAL_TEXT.fullmatch(s):
        raise CellError("not an amount")
    try:
        return Decimal(s)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise CellError("not an amount") from None


def scale_amount(amount: Decimal, exponent: int, currency: str) -> int:
    """Major units → integer minor units; refuses more decimals than the currency has."""
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise CellError(
            f"has more decimal places than {currency.upper()} allows ({exponent})"
        )
    return int(scaled)


def apply_header_currency(row: Row, currency: str) -> None:
    """The heading's currency fills an empty currency and must agree with a given one."""
    given = row.get("currency")
    if given is None:
        row["currency"] = currency
    elif given != currency:
        raise RowRejected("currency", f"{given.upper()} contradicts the column heading "
                                      f"({currency.upper()})")


def scale_row(row: Row, fields: Sequence[str]) -> None:
    """Turn the row's major-unit Decimals into minor units of its currency."""
    currency = row.get("currency")
    for name in fields:
        amount = row.get(name)
        if amount is None:
            continue
        if currency is None:
            raise RowRejected(name, "an amount in major units needs a currency (add a "
                                    "currency column, or set one in [constants])")
        exponent = minor_unit_exponent(currency)
        if exponent is None:
            raise RowRejected(name, f"{currency.upper()} has no minor unit to convert to")
        try:
            row[name] = scale_amount(amount, exponent, currency)
        except CellError as exc:
            raise RowRejected(name, exc.reason) from None
