"""The messy corpus under tests/data/imports, imported on both stores with exact counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cscor_tools.imports import import_file
from cscor_tools.store import Store

# file, import options, expected counts, the rows (by _row) expected in the rejects file
CASES: list[tuple[str, dict[str, Any], dict[str, int], list[int]]] = [
    ("utf16_contacts.txt", {}, {"rows": 10, "inserted": 7, "rejected": 3}, [5, 8, 10]),
    ("latin1_clients.csv", {"entity": "clients"}, {"rows": 12, "inserted": 10, "rejected": 2},
     [8, 13]),
    ("invoices_de.csv", {"mapping": "invoices.toml"}, {"rows": 10, "inserted": 6,
                                                       "rejected": 4}, [3, 6, 8, 9]),
    ("comments.jsonl", {}, {"rows": 8, "inserted": 6, "rejected": 2}, [4, 9]),
    ("payments.json", {}, {"rows": 5, "inserted": 4, "rejected": 1}, [3]),
    ("pipes_clients.csv", {"entity": "clients"}, {"rows": 5, "inserted": 4, "rejected": 1},
     [4]),
]


def _import_clients(store: Store, corpus: Path, tmp_path: Path) -> None:
    result = import_file(corpus / "excel_semicolon_bom.csv", store=store, entity="clients",
                         rejects=tmp_path / "clients.rejects.csv")
    f = result.files[0]
    assert (f.encoding, f.delimiter) == ("utf-8-sig", ";")
    assert f.counts() == {"rows": 20, "inserted": 18, "updated": 0, "unchanged": 0,
                          "rejected": 2}
    assert f.messages == ["row 8, field 'email': not an email address",
                          "row 14, field 'rating': 7 is out of range (1 to 5)"]


def _rejected_rows(path: Path) -> list[int]:
    import csv
    import json

    if path.suffix == ".json":
        return sorted(item["_row"] for item in json.loads(path.read_text()))
    if path.suffix == ".jsonl":
        return sorted(json.loads(line)["_row"] for line in path.read_text().splitlines())
    from cscor_tools.imports.readers import Source, open_csv

    table = open_csv(Source.from_path(path))
    try:
        at = table.columns.index("_row")
        return sorted(int(cells[at]) for _, cells, _, _ in table.records if cells)
    finally:
        table.close()
    del csv  # pragma: no cover


@pytest.mark.parametrize(("name", "options", "expected", "rejected_rows"), CASES,
                         ids=[c[0] for c in CASES])
def test_corpus_file(store: Store, corpus: Path, tmp_path: Path, name: str,
                     options: dict[str, Any], expected: dict[str, int],
                     rejected_rows: list[int]) -> None:
    _import_clients(store, corpus, tmp_path)
    if "mapping" in options:
        options = {**options, "mapping": corpus / options["mapping"]}
    rejects = tmp_path / f"rejects{Path(name).suffix}"
    result = import_file(corpus / name, store=store, rejects=rejects, **options)
    counts = result.files[0].counts()
    assert counts == {"updated": 0, "unchanged": 0, **expected}
    assert _rejected_rows(rejects) == rejected_rows
    again = import_file(corpus / name, store=store, rejects=tmp_path / f"again{rejects.suffix}",
                        **options)
    assert again.files[0].counts() == {**counts, "inserted": 0,
                                       "unchanged": expected["inserted"]}


def test_excel_values_are_normalized(store: Store, corpus: Path, tmp_path: Path) -> None:
    _import_clients(store, corpus, tmp_path)
    rows = {r["source_id"]: r for batch in store.iter_rows("clients") for r in batch}
    c3 = rows["C-003"]
    assert c3["company"] == "Firma 3 GmbH"
    assert c3["address"] == {"line1": "Hauptstraße 3", "postal_code": "8001", "city": "Zürich",
                             "country": "CH"}
    assert c3["currency"] == "eur"
    assert c3["workflow_state"] == "archived"
    assert rows["C-002"]["workflow_state"] == "on_hold"
    assert c3["tags"] == ["vip", "newsletter"]
    assert c3["created_at"].isoformat() == "2024-03-03T00:00:00+00:00"
    assert rows["C-001"]["address"]["country"] == "DE"  # "Germany" → DE
    assert "C-007" not in rows and "C-013" not in rows


def test_latin1_file_keeps_text_and_never_evaluates(store: Store, corpus: Path,
                                                    tmp_path: Path) -> None:
    import_file(corpus / "latin1_clients.csv", store=store, entity="clients",
                rejects=tmp_path / "r.csv")
    rows = {r["email"]: r for batch in store.iter_rows("clients") for r in batch}
    assert rows["client1@example.fr"]["name"] == "Crème Brûlée SARL 1"
    assert rows["client4@example.fr"]["notes"] == 'Société 4:\nrappeler lundi, dit "oui"'
    assert rows["client10@example.fr"]["notes"].startswith("=HYPERLINK(")
    # matched on email: source_id is the email in lower case, the id derives from it
    assert rows["client1@example.fr"]["source_id"] == "client1@example.fr"


def test_invoices_mapping_converts_money_dates_and_references(
    store: Store, corpus: Path, tmp_path: Path
) -> None:
    _import_clients(store, corpus, tmp_path)
    import_file(corpus / "invoices_de.csv", store=store, mapping=corpus / "invoices.toml",
                rejects=tmp_path / "r.csv")
    invoices = {r["number"]: r for batch in store.iter_rows("invoices") for r in batch}
    clients = {r["source_id"]: r["id"] for batch in store.iter_rows("clients") for r in batch}
    first = invoices["RE-2024-0001"]
    assert first["total"] == 10001 and first["currency"] == "eur"
    assert first["client_id"] == clients["C-001"]
    assert first["issued_at"].isoformat() == "2024-03-31T22:00:00+00:00"  # Berlin midnight
    assert first["customer_name"] == "see client"  # a constant
    assert invoices["RE-2024-0004"]["status"] == "open"
