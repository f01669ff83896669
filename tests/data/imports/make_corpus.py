"""Writes the messy import corpus beside this file (run it to regenerate; the output is kept).

Each file imitates what a real tool exports, with a known number of bad rows, so the tests can
assert exact counts. The expected counts live in tests/imports/test_corpus.py.
"""

from __future__ import annotations

import codecs
import json
from pathlib import Path

HERE = Path(__file__).parent


def excel_semicolon_bom() -> None:
    """Excel (German locale) "CSV UTF-8": BOM, semicolons, CRLF, quoted cells; 20 rows, 2 bad."""
    head = ("Client ID;Company Name;E-Mail;Phone number;Street;ZIP;City;Country;Currency;"
            "Rating;Status;Tags;Created")
    rows = []
    cities = [("Berlin", "DE", "10115"), ("München", "Germany", "80331"),
              ("Wien", "AT", "1010"), ("Zürich", "Schweiz", "8001"), ("Paris", "FR", "75001")]
    for i in range(1, 21):
        city, country, zip_code = cities[i % 5]
        email = f"kontakt{i}@firma{i}.de"
        rating = str(1 + i % 5)
        if i == 7:
            email = "kontakt7(at)firma7.de"  # bad: not an email address
        if i == 13:
            rating = "7"  # bad: out of range
        status = ["Lead", "Active", "On hold", "Archived"][i % 4]
        tags = '"vip; newsletter"' if i % 3 == 0 else ""
        country_cell = "Switzerland" if country == "Schweiz" else country
        rows.append(f'C-{i:03d};"Firma {i} GmbH";{email};+49 30 {1000 + i};'
                    f'"Hauptstraße {i}";{zip_code};{city};{country_cell};EUR;{rating};{status};'
                    f"{tags};2024-03-{i:02d}")
    text = "\r\n".join([head, *rows]) + "\r\n"
    (HERE / "excel_semicolon_bom.csv").write_bytes(codecs.BOM_UTF8 + text.encode("utf-8"))


def utf16_contacts() -> None:
    """Excel "Unicode Text": UTF-16 LE with BOM, tabs; 10 rows, 1 bad email, 1 unknown client."""
    lines = ["First Name\tLast Name\tE-mail Address\tJob Title\tClient\tOpted out"]
    for i in range(1, 11):
        email = f"person{i}@firma{i}.de"
        client = f"C-{i:03d}"
        if i == 4:
            email = "person4@"  # bad: not an email address
        if i == 9:
            client = "C-999"  # bad: no such client
        lines.append(f"Jürgen{i}\tÖzdemir\t{email}\tGeschäftsführer\t{client}\t"
                     f"{'yes' if i % 2 else 'no'}")
    text = "\r\n".join(lines) + "\r\n"
    (HERE / "utf16_contacts.txt").write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))


def latin1_clients() -> None:
    """An old CRM's export: Windows-1252, commas, quoted newlines, blank lines, duplicate and
    trailing empty columns, formula-looking cells; no id column (matched on email).
    12 records: 1 whose duplicate email columns disagree, 1 bad currency."""
    lines = ['Name,Email,E-mail,Currency,Notes,Country,,']
    for i in range(1, 13):
        email = f"client{i}@example.fr"
        dup = email if i % 2 else ""
        currency = "eur"
        notes = f'"Société {i}:\nrappeler lundi, dit ""oui"""' if i % 4 == 0 else ""
        if i == 5:
            dup = "other5@example.fr"  # bad: duplicate columns disagree
        if i == 8:
            currency = "EURO"  # bad: not an ISO 4217 code
        if i == 10:
            notes = "=HYPERLINK(\"http://evil.example\",\"click\")"  # data, never evaluated
            notes = '"' + notes.replace('"', '""') + '"'
        lines.append(f"Crème Brûlée SARL {i},{email},{dup},{currency},{notes},France,,")
        if i in (3, 6):
            lines.append("")  # blank lines between records
            lines.append(",,,,,,,")  # and an all-empty record
    text = "\r\n".join(lines) + "\r\n"
    (HERE / "latin1_clients.csv").write_bytes(text.encode("cp1252"))


def invoices_major_units() -> None:
    """A spreadsheet of invoices: amounts in euros with decimal commas, dates as dd.mm.yyyy;
    imported with invoices.toml. 10 rows, 1 unknown client, 1 bad date, 1 sub-cent amount."""
    lines = ["Invoice #;Client;Amount (EUR);Status;Issue Date;Due Date;Memo"]
    for i in range(1, 11):
        client = f"C-{i:03d}"
        amount = f"{i * 100},{i:02d}"
        issued = f"{i:02d}.04.2024"
        if i == 2:
            client = "C-404"  # bad: no such client
        if i == 5:
            issued = "31.02.2024"  # bad: no such date
        if i == 8:
            amount = "12,345"  # bad: more decimals than EUR has
        lines.append(f"RE-2024-{i:04d};{client};{amount};{'paid' if i % 2 else 'Open'};"
                     f"{issued};{i:02d}.05.2024;Leistung {i}")
    (HERE / "invoices_de.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (HERE / "invoices.toml").write_text(
        'entity = "invoices"\n'
        'date_formats = ["%d.%m.%Y"]\n'
        'decimal = ","\n'
        'timezone = "Europe/Berlin"\n'
        "\n[columns]\n"
        '"Memo" = "description"\n'
        "\n[constants]\n"
        'customer_name = "see client"\n',
        encoding="utf-8",
    )


def comments_jsonl() -> None:
    """JSON Lines: 8 lines, one not JSON, one not an object, one blank."""
    lines = []
    for i in range(1, 7):
        lines.append(json.dumps({"id": f"cm{i}", "client": f"C-{i:03d}", "project": "Website",
                                 "author": "Ana", "comment": f"Draft {i} ready",
                                 "date": f"2024-05-{i:02d}T09:00:00+02:00"},
                                ensure_ascii=False))
    lines.insert(3, "{not json")
    lines.insert(5, "")
    lines.append('["an", "array"]')
    (HERE / "comments.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def payments_json() -> None:
    """A JSON array of payments with typed values; 5 elements, 1 bad kind."""
    items = []
    for i in range(1, 6):
        items.append({"payment_id": f"p{i}", "customer": f"C-{i:03d}", "amount": 1000 * i,
                      "currency": "EUR", "kind": "manual" if i != 3 else "cash",
                      "paid_at": f"2024-06-{i:02d}T12:00:00Z", "refunded": 0})
    (HERE / "payments.json").write_text(json.dumps(items, indent=2), encoding="utf-8")


def pipes_ragged() -> None:
    """Pipe-delimited, rows of uneven length: 5 rows, 1 with extra values (rejected)."""
    lines = ["email|name|notes"]
    lines.append("a@pipe.example|Alpha|one")
    lines.append("b@pipe.example|Beta")  # short: notes empty
    lines.append("c@pipe.example|Gamma|three|unexpected")  # bad: a fourth value
    lines.append("d@pipe.example|Delta|four||")  # trailing empty values: fine
    lines.append("e@pipe.example|Epsilon|five")
    (HERE / "pipes_clients.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    excel_semicolon_bom()
    utf16_contacts()
    latin1_clients()
    invoices_major_units()
    comments_jsonl()
    payments_json()
    pipes_ragged()
