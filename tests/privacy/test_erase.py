"""Erasure: one transaction, a log without personal data, and a person who stays erased."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cscor_tools.imports import import_file
from cscor_tools.privacy.erase import erase_subject
from cscor_tools.privacy.match import find_subject
from cscor_tools.privacy.rules import RULES
from cscor_tools.privacy.subject import Subject
from cscor_tools.schema import ENTITIES
from cscor_tools.store import Store
from cscor_tools.store import privacy as sql
from tests.privacy.people import ANN, ANN_NAME, ANN_PHONE
from tests.privacy.scan import TABLES, assert_no_personal_data, bookkeeping_text


def dump(store: Store) -> dict[str, Any]:
    """Every row of every table the toolkit writes (synced_at included)."""
    tables = [*ENTITIES, *TABLES, "cscor_runs", "cscor_meta"]
    return {t: sorted(map(repr, store._query(f'SELECT * FROM "{t}"'))) for t in tables}


def test_erasure_deletes_and_anonymizes_anns_rows_only(store: Store, people) -> None:
    ann, others = people
    before = {name: store.count(name) for name in ENTITIES}
    result = erase_subject(store, Subject.of(ANN))
    assert result.deleted == {"clients": 1, "contacts": 3, "notifications": 2, "comments": 1}
    assert result.anonymized == {"invoices": 1, "invoice_lines": 1, "payments": 1}
    for name, treatment in (("clients", "delete"), ("invoices", "anonymize")):
        assert RULES[name].treatment == treatment
    assert store.get_rows("clients", ann["clients"]) == {}
    assert store.count("clients") == before["clients"] - 1
    invoice = store.get_rows("invoices", ann["invoices"])[ann["invoices"][0]]
    assert invoice["customer_email"] is None and invoice["customer_name"] is None
    assert invoice["client_id"] is None and invoice["description"] is None
    assert invoice["total"] == 1201 and invoice["number"] == "INV-0001"  # the books stay
    payment = next(iter(store.get_rows("payments", ann["payments"]).values()))
    assert payment["receipt_email"] is None and payment["amount"] == 1201
    assert payment["payment_intent_id"] == "pi_1"
    for other in others:  # nobody else lost anything
        for name, ids in other.items():
            assert len(store.get_rows(name, ids)) == len(ids)
    assert find_subject(store, Subject.of(ANN)).sorted_ids("clients") == []


def test_a_dry_run_writes_nothing(store: Store, people) -> None:
    before = dump(store)
    result = erase_subject(store, Subject.of(ANN), dry_run=True)
    assert result.dry_run and result.rows == 10 and result.deletion_id is None
    assert dump(store) == before


def test_the_logs_hold_no_email_name_or_phone(store: Store, people) -> None:
    erase_subject(store, Subject.of(ANN))
    text = bookkeeping_text(store)
    assert "subject.erase" in text and len(sql.suppressed(store)["row"]) == 10
    assert_no_personal_data(text, ANN, ANN_NAME, ANN_PHONE, "ann.lee", "example.com")
    (line,) = sql.deletions(store)
    assert line.counts["deleted"]["contacts"] == 3 and line.command == "cscor subject erase"


def test_a_reimported_file_does_not_bring_ann_back(store: Store, store_url: str,
                                                   tmp_path: Path) -> None:
    clients = tmp_path / "clients.csv"
    clients.write_text("id,name,email,phone\nC1,Ann Lee, Ann.Lee@Example.com ,+15550100123\n"
                       "C2,Bob Stone,bob@example.com,\n")
    invoices = tmp_path / "invoices.csv"
    invoices.write_text("id,client_id,number,total,currency,customer_email,status\n"
                        "I1,C1,INV-9,1000,eur,ann.lee@example.com,paid\n"
                        "I2,C2,INV-10,2000,eur,bob@example.com,paid\n")
    assert import_file(clients, store=store).inserted == 2
    assert import_file(invoices, store=store).inserted == 2
    erase_subject(store, Subject.of(ANN))
    assert store.count("clients") == 1
    again = import_file(clients, store=store)
    assert (again.inserted, again.unchanged, again.suppressed) == (0, 1, 1)
    assert again.counts()["clients"]["suppressed"] == 1
    assert store.count("clients") == 1
    assert not find_subject(store, Subject.of(ANN)).ids.get("clients")
    # her invoice is kept for the books, and stays anonymized when its file comes again
    again = import_file(invoices, store=store)
    assert again.suppressed == 1 and again.rejected == 0
    rows = [r for b in store.iter_rows("invoices") for r in b]
    assert sorted((r["number"], r["customer_email"]) for r in rows) == [
        ("INV-10", "bob@example.com"), ("INV-9", None)]
    run = store.runs(limit=1, kind="import")[0]
    assert run.counts["invoices"]["suppressed"] == 1
    assert_no_personal_data(bookkeeping_text(store), ANN, "Ann Lee")


def test_the_guard_knows_an_erased_row_by_its_id_whatever_it_carries(store: Store,
                                                                      people) -> None:
    """A client whose address changed at the source is still the erased client; an invoice
    row that carries neither reference nor address (a partial update) is still hers."""
    from cscor_tools.privacy.guard import WriteGuard

    ann, _ = people
    erase_subject(store, Subject.of(ANN))
    guard = WriteGuard.load(store)
    moved = {"id": ann["clients"][0], "source": "stripe", "email": "ann@new.example"}
    assert guard.screen("clients", [moved]) == ([], 1)
    partial = {"id": ann["invoices"][0], "source": "stripe", "description": "for Ann",
               "status": "paid"}
    (kept,), hits = guard.screen("invoices", [partial])
    assert hits == 1 and kept["description"] is None and kept["status"] == "paid"
    stranger = {"id": "inv_00000000000000000000", "source": "stripe", "description": "x",
                "client_id": "cli_00000000000000000000"}
    assert guard.screen("invoices", [stranger]) == ([stranger], 0)
