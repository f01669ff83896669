"""The pieces behind bundle references and fresh-table loads, one at a time."""

from __future__ import annotations

from cscor_tools.imports.apply import SeenIds
from cscor_tools.imports.bundle import left_out_keys
from cscor_tools.imports.references import LeftOutReferences
from cscor_tools.schema import make_id


def test_left_out_keys_trust_only_keys_of_the_schema() -> None:
    manifest = {"foreign_keys_left_out": [
        {"field": "contacts.client_id", "references": "clients", "reason": "1 row(s)…"},
        {"field": "payments.invoice_id", "references": "invoices", "reason": "not exported"},
        {"field": "contacts.name", "references": "clients"},  # not a foreign key
        {"field": "invoices.client_id", "references": "contacts"},  # not what it references
        {"field": "nowhere.client_id", "references": "clients"},
        "contacts.email",
        {"references": "clients"},
    ]}
    assert left_out_keys(manifest) == {("contacts", "client_id"), ("payments", "invoice_id")}
    assert left_out_keys({}) == frozenset()
    assert left_out_keys({"foreign_keys_left_out": "all"}) == frozenset()


def test_a_refused_row_is_never_waived() -> None:
    refs = LeftOutReferences(frozenset({("contacts", "client_id")}))
    gone, refused = make_id("clients", "stripe", "cus_gone"), make_id("clients", "stripe", "cus_x")
    refs.refused("clients", {"id": refused, "name": "x"}, [])
    assert refs.keeps("contacts", "client_id", "clients", gone)
    assert not refs.keeps("contacts", "client_id", "clients", refused)
    assert not refs.keeps("comments", "client_id", "clients", gone)  # not left out
    # a CSV record: found by the position of its id column
    refs.refused("clients", ["Name", make_id("clients", "stripe", "cus_y")], ["name", "id"])
    assert not refs.keeps("contacts", "client_id", "clients", make_id("clients", "stripe",
                                                                       "cus_y"))


def test_a_refused_record_without_an_id_stops_every_waiver_for_its_entity() -> None:
    refs = LeftOutReferences(frozenset({("contacts", "client_id")}))
    refs.refused("clients", "{not json", [])
    assert not refs.keeps("contacts", "client_id", "clients",
                          make_id("clients", "stripe", "cus_gone"))


def test_seen_ids_have_no_false_negatives_and_few_false_positives() -> None:
    seen = SeenIds()
    written = [make_id("clients", "import", str(i)) for i in range(20_000)]
    others = [make_id("clients", "import", f"other-{i}") for i in range(20_000)]
    seen.add_all(written[:10_000])
    seen.add_all(["not-one-of-ours"])
    assert seen.maybe_seen(written[:10_000]) == written[:10_000]
    assert seen.maybe_seen(["not-one-of-ours"]) == ["not-one-of-ours"]
    assert len(seen.maybe_seen(written[10_000:] + others)) < 5
