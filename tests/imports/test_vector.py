"""A column converted a column at a time means exactly what its cells mean one at a time.

The scalar converters (``convert.py``) define every field's rules; the columnar path
(``vector.py``) may only accelerate them. Over generated cells — plain values, the spellings
people type, Unicode spaces at the edges, NUL bytes, near misses — each converted column
must hold the scalar converter's value for every cell, and be marked bad exactly where the
scalar converter raises.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cscor_tools.imports.cells import CellError
from cscor_tools.imports.convert import ConvertOptions, field_converter
from cscor_tools.imports.vector import ColumnSpec, column_of, convert_column, convert_columns
from cscor_tools.schema import ENTITIES, Field

CLIENTS = ENTITIES["clients"]
ADDRESS = CLIENTS.field("address")

FIELDS: dict[str, Field] = {
    "text": CLIENTS.field("name"),
    "email": CLIENTS.field("email"),
    "currency": CLIENTS.field("currency"),
    "country": ADDRESS.subfield("country"),
    "enum": CLIENTS.field("workflow_state"),
    "rating": CLIENTS.field("rating"),
    "boolean": CLIENTS.field("delinquent"),
    "timestamp": CLIENTS.field("created_at"),
    "list": CLIENTS.field("tags"),
}

EDGES = ["", " ", "  ", "\t", "\xa0", "\u2003", "\x1c", "\x85", "\u3000"]
PLAIN = {
    "text": ["Anna", "Müller & Co", "O'Brien", "a, b", "x\x00y", "line\nbreak"],
    "email": ["anna@example.com", "ANNA.1@Example.COM", "Anna <anna@example.com>",
              "mailto:a@b.co", "not an email", "a@b", "é@example.com", "a" * 250 + "@x.com"],
    "currency": ["EUR", "eur", "Eur", "usd", "XXX", "EURO", "€", "ＥＵＲ", "e u r"],
    "country": ["FR", "fr", "France", "Deutschland", "XX", "F", "Côte d’Ivoire", "ＦＲ"],
    "enum": ["active", "On hold", "ON-HOLD", "archived", "Archivé", "lead", "nope", "ACTIVE"],
    "rating": ["1", "5", "0", "6", "3.0", "+4", "-1", "٣", "99999999999999999999", "x"],
    "boolean": ["true", "False", "yes", "N", "1", "0", "on", "maybe", "TRUE", "ｙｅｓ"],
    "timestamp": ["2023-01-05T10:03:00Z", "2023-01-05T10:03:00.123Z",
                  "2023-01-05T10:03:00.123456+00:00", "2023-02-30T10:00:00Z",
                  "2023-01-05T10:03:00+02:00", "2023-01-05", "05/01/2023", "2023-1-5T10:03:00Z",
                  "2023-01-05 10:03:00Z", "2023-01-05T25:03:00Z", "2023-01-05T10:03:00.1Z"],
    "list": ["vip;newsletter", "a, b | c", ";", "[\"x\", \"y\"]", "one", "a;;b", " x ; y ",
             "tab\there", "ü;ß"],
}


def _cells(kind: str) -> st.SearchStrategy[str | None]:
    plain = st.sampled_from(PLAIN[kind])
    edged = st.tuples(st.sampled_from(EDGES), plain, st.sampled_from(EDGES)).map("".join)
    noise = st.text(alphabet=st.sampled_from(list("aA1 ,;|@.:-T+Z\t\xa0\x00é[")), max_size=8)
    return st.one_of(st.none(), plain, edged, noise)


def _scalar(conv: Any, cell: Any) -> tuple[bool, Any]:
    if cell is None:
        return False, None
    try:
        return False, conv(cell)
    except CellError:
        return True, None


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a == b and a.utcoffset() == b.utcoffset() == timedelta(0)
    return a == b


@pytest.mark.parametrize("verbatim", [False, True], ids=["lenient", "verbatim"])
@pytest.mark.parametrize("kind", sorted(FIELDS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_column_means_what_its_cells_mean(kind: str, verbatim: bool, data: Any) -> None:
    field = FIELDS[kind]
    opts = ConvertOptions(verbatim=verbatim, blank_is_null=True)
    conv = field_converter(field, opts)
    cells = data.draw(st.lists(_cells(kind), min_size=1, max_size=40))
    got = convert_column(pl.Series(cells, dtype=pl.String), field, opts, conv)
    values, bad = got.values.to_list(), got.bad.to_list()
    for i, cell in enumerate(cells):
        failed, expected = _scalar(conv, cell)
        assert bad[i] == failed, (cell, values[i])
        if not failed:
            assert _same(values[i], expected), (cell, values[i], expected)


def test_typed_columns_and_mixed_json_columns_follow_the_converter() -> None:
    opts = ConvertOptions()
    rating = FIELDS["rating"]
    conv = field_converter(rating, opts)
    got = convert_column(pl.Series([1, 5, 9, None]), rating, opts, conv)
    assert got.values.to_list() == [1, 5, None, None]
    assert got.bad.to_list() == [False, False, True, False]  # 9 is out of range
    mixed = column_of([3, "4", True, None, 2.0])
    assert isinstance(mixed, list)  # JSON mixing types stays a list, converted cell by cell
    got = convert_column(mixed, rating, opts, conv)
    assert got.values.to_list() == [3, 4, None, None, 2]
    assert got.bad.to_list() == [False, False, True, False, False]
    when = datetime(2024, 3, 1, 12, tzinfo=UTC)
    stamp = FIELDS["timestamp"]
    got = convert_column(pl.Series([when]), stamp, opts, field_converter(stamp, opts))
    assert got.values.to_list() == [when]


def test_columns_converted_together_equal_columns_converted_alone() -> None:
    opts = ConvertOptions()
    specs, columns = [], []
    kinds = ("email", "currency", "timestamp", "list")
    height = max(len(PLAIN[k]) for k in kinds) + 1
    for kind in kinds:
        field = FIELDS[kind]
        specs.append(ColumnSpec(field, field_converter(field, opts)))
        cells: list[str | None] = PLAIN[kind] * 2
        columns.append(pl.Series([*cells[: height - 1], None], dtype=pl.String))
    together = convert_columns(columns, specs, opts)
    for col, spec, got in zip(columns, specs, together, strict=True):
        alone = convert_column(col, spec.field, opts, spec.scalar)
        assert got.values.to_list() == alone.values.to_list()
        assert got.bad.to_list() == alone.bad.to_list()
