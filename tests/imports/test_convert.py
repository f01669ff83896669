"""Cell converters, lenient and verbatim, one field type at a time."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cscor_tools.imports.convert import CellError, ConvertOptions, field_converter
from cscor_tools.imports.money import parse_amount, scale_amount
from cscor_tools.schema import entity

LENIENT = ConvertOptions()
VERBATIM = ConvertOptions(verbatim=True, blank_is_null=False)


def conv(entity_name: str, field: str, opts: ConvertOptions = LENIENT, **kw: Any) -> Any:
    ent = entity(entity_name)
    name, _, sub = field.partition(".")
    f = ent.field(name).subfield(sub) if sub else ent.field(name)
    return field_converter(f, opts, **kw)


@pytest.mark.parametrize(("field", "raw", "value"), [
    ("email", "  John Doe <John@Example.com> ", "John@Example.com"),
    ("email", "mailto:a@b.co", "a@b.co"),
    ("currency", " EUR ", "eur"),
    ("address.country", "france", "FR"),
    ("address.country", "DEU", "DE"),
    ("address.country", "Côte d’Ivoire", "CI"),
    ("address.country", "gb", "GB"),
    ("workflow_state", "On Hold", "on_hold"),
    ("workflow_state", "ON-HOLD", "on_hold"),
    ("rating", "4.0", 4),
    ("rating", 5.0, 5),
    ("rating", "  ", None),
    ("tags", "a; b ,c|d", ["a", "b", "c", "d"]),
    ("tags", '["x", " y "]', ["x", "y"]),
    ("tags", ["x", 2], ["x", "2"]),
    ("phone", 4930123, "4930123"),
    ("livemode", "Yes", True),
    ("livemode", "0", False),
    ("created_at", "2024-02-03", datetime(2024, 2, 3, tzinfo=UTC)),
    ("created_at", "2024-02-03T04:05:06+02:00", datetime(2024, 2, 3, 2, 5, 6, tzinfo=UTC)),
    ("created_at", "2024-02-03T04:05:06.5Z", datetime(2024, 2, 3, 4, 5, 6, 500000, tzinfo=UTC)),
])
def test_lenient_values(field: str, raw: Any, value: Any) -> None:
    assert conv("clients", field)(raw) == value


@pytest.mark.parametrize(("field", "raw", "reason"), [
    ("email", "a@b", "not an email address"),
    ("email", "a b@c.de", "not an email address"),
    ("currency", "EURO", "not an ISO 4217 currency code"),
    ("currency", "xyz", "not an ISO 4217 currency code"),
    ("address.country", "Atlantis", "not an ISO 3166 country"),
    ("workflow_state", "done", "is not one of lead, active, on_hold, archived"),
    ("rating", "0", "out of range"),
    ("rating", "4.5", "not a whole number"),
    ("rating", "1_000", "not a whole number"),
    ("rating", "٣", "not a whole number"),
    ("rating", True, "got a boolean"),
    ("livemode", "perhaps", "not a yes/no value"),
    ("created_at", "yesterday", "not a date or time"),
    ("tags", {"a": 1}, "expected a list"),
    ("name", ["a"], "expected text"),
])
def test_lenient_rejections(field: str, raw: Any, reason: str) -> None:
    with pytest.raises(CellError, match=reason):
        conv("clients", field)(raw)


def test_reasons_never_quote_an_email() -> None:
    with pytest.raises(CellError) as caught:
        conv("clients", "email")("jane.doe@@example.com")
    assert "jane" not in caught.value.reason


def test_naive_times_are_read_in_the_mapping_zone() -> None:
    opts = ConvertOptions(timezone=ZoneInfo("Europe/Paris"), date_formats=("%d/%m/%Y %H:%M",))
    c = conv("clients", "created_at", opts)
    assert c("2024-07-01T12:00:00") == datetime(2024, 7, 1, 10, 0, tzinfo=UTC)
    assert c("01/07/2024 12:00") == datetime(2024, 7, 1, 10, 0, tzinfo=UTC)
    assert c("2024-07-01T12:00:00Z") == datetime(2024, 7, 1, 12, 0, tzinfo=UTC)


def test_verbatim_accepts_only_canonical_values() -> None:
    assert conv("clients", "workflow_state", VERBATIM)("on_hold") == "on_hold"
    assert conv("clients", "name", VERBATIM)("") == ""  # JSON "" is a value
    assert conv("clients", "name", VERBATIM)("  padded ") == "  padded "
    for field, raw in [("workflow_state", "On hold"), ("currency", "EUR"),
                       ("livemode", "yes"), ("rating", 4.0), ("tags", "a;b")]:
        with pytest.raises(CellError):
            conv("clients", field, VERBATIM)(raw)


def test_verbatim_csv_undoes_the_exporters_formula_guard() -> None:
    opts = ConvertOptions(verbatim=True, unguard_formulas=True)
    c = conv("clients", "notes", opts)
    assert c("'=SUM(A1)") == "=SUM(A1)"
    assert c("''=x") == "'=x"
    assert c("'plain") == "'plain"
    assert c("") is None


def test_struct_values() -> None:
    c = conv("clients", "address")
    assert c({"city": " Lyon ", "country": "fr"}) == {"city": "Lyon", "country": "FR"}
    assert c('{"line1": "1 Main"}') == {"line1": "1 Main"}
    assert c("1 Main St") == {"line1": "1 Main St"}
    assert c({"city": "", "country": None}) is None
    with pytest.raises(CellError, match="address has no part 'planet'"):
        c({"planet": "Mars"})
    with pytest.raises(CellError, match=r"address\.country: not an ISO 3166"):
        c({"country": "Narnia"})


@pytest.mark.parametrize(("text", "decimal", "value"), [
    ("1,234.56", "auto", "1234.56"),
    ("1.234,56", "auto", "1234.56"),
    ("1 234,56 €", "auto", "1234.56"),
    ("EUR 12", "auto", "12"),
    ("12,5", "auto", "12.5"),
    ("1,234", "auto", "1234"),
    ("1,234", ",", "1.234"),
    ("-0.5", "auto", "-0.5"),
])
def test_amounts(text: str, decimal: str, value: str) -> None:
    assert parse_amount(text, decimal) == Decimal(value)


def test_scaling_to_minor_units() -> None:
    assert scale_amount(Decimal("12.5"), 2, "eur") == 1250
    assert scale_amount(Decimal("1200"), 0, "jpy") == 1200
    assert scale_amount(Decimal("1.234"), 3, "kwd") == 1234
    with pytest.raises(CellError, match="more decimal places than EUR"):
        scale_amount(Decimal("0.001"), 2, "eur")
    with pytest.raises(CellError, match="not an amount"):
        parse_amount("12.3.4", ".")
