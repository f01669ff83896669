"""Mapping files and header aliases."""

from __future__ import annotations

from pathlib import Path

import pytest

from cscor_tools.errors import RejectedInputError
from cscor_tools.imports import import_file, load_mapping
from cscor_tools.imports.aliases import Target, resolve_header
from cscor_tools.store import Store


@pytest.mark.parametrize(("entity", "heading", "target"), [
    ("clients", "Company Name", Target("company")),
    ("clients", "E-mail", Target("email")),
    ("clients", "EMAIL ADDRESS", Target("email")),
    ("clients", "Phone number", Target("phone")),
    ("clients", "Téléphone", Target("phone")),
    ("clients", "Client", Target("name")),
    ("clients", "Straße", Target("address", "line1")),
    ("clients", "address.postal_code", Target("address", "postal_code")),
    ("clients", "ID", Target("source_id")),
    ("invoices", "Client", Target("client_id")),
    ("invoices", "Invoice #", Target("number")),
    ("invoices", "Amount (EUR)", Target("total", major=True, currency="eur")),
    ("invoices", "Total USD", Target("total", major=True, currency="usd")),
    ("invoice_lines", "Price €", Target("unit_amount", major=True, currency="eur")),
    ("invoices", "Amount ($)", Target("total", major=True, currency=None)),
    ("invoices", "Total VAT", None),
    ("clients", "Shoe size", None),
])
def test_header_aliases(entity: str, heading: str, target: Target | None) -> None:
    assert resolve_header(entity, heading) == target


MAPPING = '''
entity = "invoices"
source = "oldcrm"
key = ["number"]
timezone = "America/New_York"
date_formats = ["%m/%d/%Y %I:%M %p"]
money = "major"
decimal = ","
required = ["client_id"]
ignore = ["Internal"]

[columns]
"Kunde" = "client_id"
"Rechnung" = "number"
"Brutto" = "total"
"Steuer" = "tax"
"Notiz" = ""

[constants]
currency = "eur"
status = "open"

[fields.due_at]
formats = ["%d.%m.%Y"]

[fields.tax]
money = "minor"
'''


def test_mapping_file_features(store: Store, tmp_path: Path) -> None:
    (tmp_path / "clients.csv").write_text("id,email\nk1,a@example.com\n")
    import_file(tmp_path / "clients.csv", store=store, source="oldcrm")
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING)
    data = tmp_path / "export.csv"
    data.write_text(
        "Rechnung;Kunde;Brutto;Steuer;Issued;Due date;Internal;Notiz;Extra\n"
        "R1;k1;1.234,50;19;01/31/2024 11:30 PM;28.02.2024;x;y;z\n"
        "R2;;10;0;;;;;\n"
        "R3;k1;10,001;0;;;;;\n"
    )
    result = import_file(data, store=store, mapping=mapping)
    f = result.files[0]
    assert (result.source, f.entity, f.key) == ("oldcrm", "invoices", "number")
    assert f.unknown_columns == ["Extra"]
    assert f.ignored_columns == ["Internal", "Notiz"]
    assert f.messages == ["row 3, field 'client_id': required, but empty",
                          "row 4, field 'total': has more decimal places than EUR allows (2)"]
    (row,) = [r for b in store.iter_rows("invoices") for r in b]
    assert (row["number"], row["total"], row["tax"], row["currency"], row["status"]) == (
        "R1", 123450, 19, "eur", "open")
    assert row["source"] == "oldcrm"
    assert row["issued_at"].isoformat() == "2024-02-01T04:30:00+00:00"  # New York, 11:30 PM
    assert row["due_at"].isoformat() == "2024-02-28T05:00:00+00:00"


@pytest.mark.parametrize(("text", "key", "reason"), [
    ("colour = 'red'", "colour", "unknown key"),
    ("timezone = 'Mars/Olympus'", "timezone", "unknown time zone"),
    ("money = 'cents'", "money", "expected a string (minor, major)"),
    ("date_formats = ['%Q']", "date_formats", "invalid date format"),
    ("[fields.total]\nunits = 'x'", "fields.total.units", "unknown key"),
])
def test_bad_mapping_files_name_the_key(tmp_path: Path, text: str, key: str,
                                        reason: str) -> None:
    path = tmp_path / "m.toml"
    path.write_text(text)
    with pytest.raises(RejectedInputError) as caught:
        load_mapping(path)
    assert caught.value.field == key and reason in caught.value.reason
    assert caught.value.file == str(path)


@pytest.mark.parametrize(("text", "where"), [
    ("[columns]\n'A' = 'no_such_field'", "columns.A"),
    ("[columns]\n'A' = 'address.planet'", "columns.A"),
    ("[constants]\nrating = 9", "constants.rating"),
    ("[constants]\nid = 'x'", "constants.id"),
    ("key = ['nope']", "key"),
])
def test_mapping_targets_are_checked_against_the_schema(sqlite_store: Store, tmp_path: Path,
                                                        text: str, where: str) -> None:
    path = tmp_path / "m.toml"
    path.write_text(text)
    (tmp_path / "clients.csv").write_text("A,email\n1,a@example.com\n")
    with pytest.raises(RejectedInputError) as caught:
        import_file(tmp_path / "clients.csv", store=sqlite_store, mapping=path)
    assert caught.value.field == where


def test_list_separator_and_struct_columns(sqlite_store: Store, tmp_path: Path) -> None:
    (tmp_path / "m.toml").write_text('list_separator = "/"\n')
    (tmp_path / "clients.csv").write_text(
        'email,tags,address\na@example.com,"red / green, blue",'
        '"{""city"": ""Lyon"", ""country"": ""fr""}"\nb@example.com,,12 Rue X\n'
    )
    result = import_file(tmp_path / "clients.csv", store=sqlite_store,
                         mapping=tmp_path / "m.toml")
    assert result.inserted == 2
    rows = {r["email"]: r for b in sqlite_store.iter_rows("clients") for r in b}
    assert rows["a@example.com"]["tags"] == ["red", "green, blue"]
    assert rows["a@example.com"]["address"] == {"city": "Lyon", "country": "FR"}
    assert rows["b@example.com"]["address"] == {"line1": "12 Rue X"}


def test_header_currency_sets_and_checks_the_currency(sqlite_store: Store,
                                                      tmp_path: Path) -> None:
    (tmp_path / "invoices.csv").write_text(
        "number,Amount (JPY),currency\nA,1200,\nB,1200,jpy\nC,1200,usd\nD,12.5,\n"
    )
    result = import_file(tmp_path / "invoices.csv", store=sqlite_store)
    assert result.files[0].messages == [
        "row 4, field 'currency': USD contradicts the column heading (JPY)",
        "row 5, field 'total': has more decimal places than JPY allows (0)",
    ]
    totals = {r["number"]: (r["total"], r["currency"])
              for b in sqlite_store.iter_rows("invoices") for r in b}
    assert totals == {"A": (1200, "jpy"), "B": (1200, "jpy")}


def test_headings_naming_two_currencies_refuse_the_file(sqlite_store: Store,
                                                        tmp_path: Path) -> None:
    (tmp_path / "invoices.csv").write_text("number,Total (EUR),Tax (USD)\nA,1,1\n")
    with pytest.raises(RejectedInputError, match="different currencies"):
        import_file(tmp_path / "invoices.csv", store=sqlite_store)


def test_minor_units_hint(sqlite_store: Store, tmp_path: Path) -> None:
    (tmp_path / "invoices.csv").write_text("number,total,currency\nA,12.50,eur\n")
    result = import_file(tmp_path / "invoices.csv", store=sqlite_store)
    assert "minor units" in result.files[0].messages[0]


THREE_MISTAKES = """\
entity = "clients"
timezone = "Mars/Olympus"
colour = "red"

[columns]
"Kunde" = "name"

[fields.created_at]
formats = ["%d.%m.%Y"]
money = "cents"
"""


def test_every_mistake_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text(THREE_MISTAKES)
    with pytest.raises(RejectedInputError) as caught:
        load_mapping(path)
    first, *mistakes = str(caught.value).splitlines()
    assert first == f"{path}: 3 mistakes in the mapping file:"
    assert [m.split(": ")[:2] for m in mistakes] == [
        ["  line 3", "field 'colour'"],
        ["  line 2", "field 'timezone'"],
        ["  line 10", "field 'fields.created_at.money'"],
    ]
    assert "unknown time zone 'Mars/Olympus'" in mistakes[1]
    assert "expected a string (minor, major)" in mistakes[2]


def test_one_mistake_is_named_alone_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('entity = "clients"\n\n[columns]\n"Kunde" = 3\n')
    with pytest.raises(RejectedInputError) as caught:
        load_mapping(path)
    assert caught.value.field == "columns.Kunde"
    assert str(caught.value) == f"{path}: field 'columns.Kunde': line 4: expected a string"


def test_a_key_not_found_in_the_text_is_on_line_unknown(tmp_path: Path) -> None:
    # an array of tables is not looked up: its line is not guessed
    path = tmp_path / "m.toml"
    path.write_text('entity = "clients"\n[[fields.total]]\nmoney = "major"\n')
    with pytest.raises(RejectedInputError) as caught:
        load_mapping(path)
    assert caught.value.reason == "line ?: expected a table"
    # a dotted key at the top is found on its line
    path.write_text('entity = "clients"\nfields.total = {money = "cents"}\n')
    with pytest.raises(RejectedInputError) as caught:
        load_mapping(path)
    assert caught.value.reason.startswith("line 2: ")


def test_a_valid_mapping_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text(THREE_MISTAKES.replace('colour = "red"\n', "")
                    .replace("Mars/Olympus", "Europe/Berlin").replace('"cents"', '"major"'))
    mapping = load_mapping(path)
    assert mapping.timezone == "Europe/Berlin" and mapping.columns == {"kunde": "name"}
    assert mapping.field_options("created_at").formats == ("%d.%m.%Y",)
    assert mapping.money_major("created_at")


def test_cli_names_every_mapping_mistake_and_exits_7(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cscor_tools.cli import cli
    from cscor_tools.errors import ExitCode

    (tmp_path / "m.toml").write_text(THREE_MISTAKES)
    (tmp_path / "clients.csv").write_text("Kunde,email\nA,a@example.com\n")
    result = CliRunner().invoke(
        cli, ["import", str(tmp_path / "clients.csv"), "--map", str(tmp_path / "m.toml")],
        env={"CSCOR_WORKSPACE": str(tmp_path / "w.db")},
    )
    assert result.exit_code == ExitCode.REJECTED_INPUT
    assert "3 mistakes in the mapping file" in result.output
    assert all(f"line {n}:" in result.output for n in (2, 3, 10))
    assert "Traceback" not in result.output


def test_names_the_schema_does_not_have_are_all_named_with_their_lines(
    sqlite_store: Store, tmp_path: Path,
) -> None:
    (tmp_path / "clients.csv").write_text("Nom,Courriel,Ville\nAcme,a@x.com,Paris\n")
    path = tmp_path / "map.toml"
    path.write_text(
        'entity = "clients"\n'                  # line 1
        'required = ["nosuch_required"]\n'      # line 2
        "[columns]\n"                           # line 3
        '"Nom" = "name"\n'                      # line 4
        '"Courriel" = "e_mail"\n'               # line 5
        '"Ville" = "address.town"\n'            # line 6
        "[constants]\n"                         # line 7
        'source_id = "x"\n'                     # line 8
    )
    with pytest.raises(RejectedInputError) as err:
        import_file(tmp_path / "clients.csv", store=sqlite_store, mapping=path)
    message = str(err.value)
    assert "4 mistakes" in message, message
    for line, what in ((2, "no field 'nosuch_required'"), (5, "no field 'e_mail'"),
                       (6, "no part 'town'"), (8, "plain fields only")):
        assert any(f"line {line}" in row and what in row for row in message.splitlines()), (
            line, message)
    assert sqlite_store.count("clients") == 0
