"""A batch built a column at a time is the batch built a row at a time.

``RowBuilder.build`` is the definition of what a record becomes. For generated files —
amounts in major units with the currencies of every minor unit, a currency named by the
heading, constants, natural keys, emails to fold, dates, blanks and mistakes — the columnar
builder must give the same rows for the records it accepts and refuse the same records
with the same reasons.
"""

from __future__ import annotations

import csv
import io
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cscor_tools.imports.columnar import INDEX, ColumnarBuilder, batch_of_records
from cscor_tools.imports.keys import RowRejected
from cscor_tools.imports.mapping import ColumnMapping, parse_mapping
from cscor_tools.imports.readers import Source, open_csv
from cscor_tools.imports.rowplan import PlanOptions, RowBuilder

AMOUNTS = ["12.50", "12.5", "-3", "+7.00", "0.001", "1,234.50", "1.234,50", "12", "", " 9 ",
           "12.505", "abc", "1e3", "99999999999999999", "€ 4.20", "0.10"]
CURRENCIES = ["eur", "EUR", "jpy", "kwd", "xau", "", "zzz", "usd"]
EMAILS = ["a@example.com", "A@Example.com", "Bob <b@example.com>", "", "nope", "c@x.io"]
DATES = ["2024-01-05T10:00:00Z", "2024-01-05", "05/01/2024", "", "2024-13-01T00:00:00Z"]
STATUSES = ["paid", "Open", "void", "", "lost"]
NUMBERS = ["INV-1", "INV-2", "INV-3", "", "INV-1"]


@st.composite
def invoice_files(draw: Any) -> tuple[str, str]:
    heading = draw(st.sampled_from(["Amount", "Amount (EUR)", "Total (JPY)"]))
    with_currency = draw(st.booleans())
    header = ["Number", heading, "Customer email", "Issued", "Status"]
    if with_currency:
        header.append("Currency")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for _ in range(draw(st.integers(1, 30))):
        row = [draw(st.sampled_from(NUMBERS)), draw(st.sampled_from(AMOUNTS)),
               draw(st.sampled_from(EMAILS)), draw(st.sampled_from(DATES)),
               draw(st.sampled_from(STATUSES))]
        if with_currency:
            row.append(draw(st.sampled_from(CURRENCIES)))
        writer.writerow(row)
    mapping = draw(st.sampled_from([
        'money = "major"\ndate_formats = ["%d/%m/%Y"]\n',
        'money = "major"\n[columns]\n"Amount" = "amount_due"\n',
        '[fields.total]\nmoney = "major"\n[constants]\ncurrency = "eur"\n',
        '[columns]\n"Amount" = "amount_due"\n',
    ]))
    return out.getvalue(), mapping


CLIENT_COLUMNS = {
    "ID": ["C1", "C2", "", "C1", " C3 "],
    "E-mail": EMAILS,
    "City": ["Paris", " Lyon ", "", "Wien\xa0"],
    "Country": ["FR", "fr", "France", "XX", "", "Deutschland"],
    "Rating": ["1", "5", "6", "", "3.0", "x"],
    "Tags": ["vip;news", "", ";", "a | b", "[\"x\"]"],
    "Status": ["lead", "On hold", "ARCHIVED", "", "gone"],
    "Created": DATES,
    "Phone": ["+49 30 1", "", "\x00"],
}


@st.composite
def client_files(draw: Any) -> tuple[str, str]:
    header = draw(st.lists(st.sampled_from(sorted(CLIENT_COLUMNS)), min_size=1, unique=True))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for _ in range(draw(st.integers(1, 30))):
        writer.writerow([draw(st.sampled_from(CLIENT_COLUMNS[h])) for h in header])
    mapping = draw(st.sampled_from(["", 'key = ["email"]\n', '[constants]\nrating = "3"\n',
                                    'list_separator = "|"\n']))
    return out.getvalue(), mapping


def _builders(path: Path, mapping: ColumnMapping,
              entity: str) -> tuple[RowBuilder, RowBuilder, Any]:
    table = open_csv(Source.from_path(path))
    opts = PlanOptions(entity=entity, source="import", file=str(path),
                       synced_at=datetime(2024, 1, 1, tzinfo=UTC))
    return RowBuilder(table.columns, mapping, opts), RowBuilder(table.columns, mapping,
                                                                 opts), table


@settings(max_examples=200, deadline=None)
@given(data=st.one_of(invoice_files().map(lambda d: ("invoices", *d)),
                      client_files().map(lambda d: ("clients", *d))))
def test_columns_build_what_rows_build(data: tuple[str, str, str],
                                       tmp_path_factory: Any) -> None:
    entity, text, mapping_text = data
    folder = tmp_path_factory.mktemp("columnar")
    path = folder / f"{entity}.csv"
    path.write_text(text)
    try:
        mapping = parse_mapping(tomllib.loads(mapping_text), str(folder / "m.toml"),
                                text=mapping_text)
        by_rows, by_columns, table = _builders(path, mapping, entity)
    except Exception as exc:  # a plan the file cannot have is refused alike either way
        assert type(exc).__name__ == "RejectedInputError", exc
        return
    records = [(n, cells, cells) for n, cells, _, problem in table.records if problem is None]
    table.close()
    expected: dict[int, Any] = {}
    for n, cells, _ in records:
        try:
            expected[n] = by_rows.build(cells)
        except RowRejected as exc:
            expected[n] = (exc.field, exc.reason)
    built = ColumnarBuilder(by_columns).build(batch_of_records(records, by_columns.width))
    got: dict[int, Any] = {n: (field, reason) for n, _, field, reason in built.rejected}
    numbers = [n for n, _, _ in records]
    for row in built.frame.to_dicts():
        got[numbers[row.pop(INDEX)]] = row
    for n, row, _ in built.rows:
        got[n] = row
    assert got.keys() == expected.keys()
    for n, want in expected.items():
        assert _comparable(got[n]) == _comparable(want), n


def _comparable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (v.astimezone(UTC) if isinstance(v, datetime) else v)
                for k, v in value.items()}
    return value
