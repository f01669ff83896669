"""Normalization of Stripe's own example objects, and of generated variations of them."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cscor_tools.connectors.stripe import normalize as n
from cscor_tools.connectors.stripe.objects import object_rows
from cscor_tools.records import RowSink
from cscor_tools.schema import ENTITIES, make_id

NOW = datetime(2026, 11, 1, tzinfo=UTC)
CTX = n.Context("2026-10-28.endive", NOW)


def rows_of(obj: dict[str, Any], **kw: Any) -> dict[str, list[dict[str, Any]]]:
    sink = RowSink()
    context = n.Context("v1", NOW, kw.pop("updated_at", None),
                        snapshot=kw.pop("from_event", False))
    sink.extend(object_rows(obj, context, **kw))
    changes = sink.changes()
    assert changes, "an object of a kind we read gives rows"
    out = {e: list(r) for e, r in changes.upserts.items()}
    for entity, stones in changes.tombstones.items():
        out[f"{entity}.tombstones"] = list(stones)  # type: ignore[arg-type]
    return out


def test_every_row_uses_only_schema_columns(example: Any) -> None:
    for name in ("customer", "invoice", "charge", "payment_intent"):
        for entity, rows in rows_of(example(name)).items():
            for row in rows:
                unknown = set(row) - set(ENTITIES[entity].column_names)
                assert not unknown, (name, entity, unknown)


def test_a_customer_keeps_what_an_owner_needs(example: Any) -> None:
    customer = example("customer")
    customer.update(metadata={"plan": "gold", "crm_id": "A-17"}, tax_exempt="reverse",
                    preferred_locales=["de", "en"], invoice_prefix="ACME01", delinquent=True,
                    shipping={"name": "Acme GmbH", "phone": "+49 30 1234",
                              "address": {"line1": "Hauptstr. 1", "city": "Berlin",
                                          "postal_code": "10115", "country": "DE"}})
    (row,) = rows_of(customer)["clients"]
    assert row["metadata"] == '{"crm_id":"A-17","plan":"gold"}'
    assert (row["tax_exempt"], row["preferred_locales"], row["invoice_prefix"],
            row["delinquent"]) == ("reverse", ["de", "en"], "ACME01", True)
    assert row["shipping"] == {"line1": "Hauptstr. 1", "line2": None, "city": "Berlin",
                               "postal_code": "10115", "state": None, "country": "DE"}
    customer.update(metadata={}, shipping=None)
    (row,) = rows_of(customer)["clients"]
    assert row["metadata"] is None and row["shipping"] is None
    invoice = example("invoice")
    invoice["metadata"] = {"order": "42"}
    (inv,) = rows_of(invoice)["invoices"]
    assert inv["metadata"] == '{"order":"42"}'


def test_customer_becomes_a_client(example: Any) -> None:
    customer = example("customer")
    customer.update(name="Acme GmbH", email="billing@acme.example", description="VIP",
                    address={"line1": "1 Main St", "line2": None, "city": "Berlin",
                             "postal_code": "10115", "state": None, "country": "DE"})
    (row,) = rows_of(customer)["clients"]
    assert row["id"] == make_id("clients", "stripe", "cus_QXg1o8vcGmoR32")
    assert (row["source"], row["source_id"]) == ("stripe", "cus_QXg1o8vcGmoR32")
    assert row["source_version"] == "v1" and row["livemode"] is False
    assert row["name"] == "Acme GmbH" and row["notes"] == "VIP"
    assert row["address"]["country"] == "DE" and row["currency"] == "usd"
    assert row["created_at"] == datetime.fromtimestamp(1234567890, UTC)
    # a list read cannot say when the customer last changed: updated_at is left alone
    assert "updated_at" not in row


def test_the_example_customer_has_no_separate_contact(example: Any) -> None:
    assert "contacts" not in rows_of(example("customer"))


def test_a_company_shipping_to_a_named_person_has_that_contact(example: Any) -> None:
    customer = example("customer")
    customer.update(name="Acme GmbH", phone="+49 30 1",
                    shipping={"name": "Jenny Rosen", "phone": "+49 30 2", "address": None})
    (contact,) = rows_of(customer)["contacts"]
    assert contact["name"] == "Jenny Rosen" and contact["phone"] == "+49 30 2"
    assert contact["email"] is None  # a recipient's email is not known to be the customer's
    assert contact["client_id"] == make_id("clients", "stripe", customer["id"])


def test_an_individual_name_is_the_contact(example: Any) -> None:
    customer = example("customer")
    customer.update(business_name="Acme GmbH", individual_name="Jenny Rosen",
                    email="jenny@acme.example", name="Acme GmbH")
    (contact,) = rows_of(customer)["contacts"]
    assert (contact["name"], contact["email"]) == ("Jenny Rosen", "jenny@acme.example")
    assert rows_of(customer)["clients"][0]["company"] == "Acme GmbH"


def test_a_customer_update_without_a_person_tombstones_its_old_contact(example: Any) -> None:
    got = rows_of(example("customer"), from_event=True, updated_at=NOW)
    (stone,) = got["contacts.tombstones"]
    assert stone.id == make_id("contacts", "stripe", "cus_QXg1o8vcGmoR32")


def test_deleted_stub_becomes_tombstones(example: Any) -> None:
    got = rows_of(example("deleted_customer"))
    assert "clients" not in got
    (stone,) = got["clients.tombstones"]
    assert stone.id == make_id("clients", "stripe", "cus_QXg1o8vcGmoR32")
    assert got["contacts.tombstones"]
    (inv,) = rows_of(example("deleted_invoice"))["invoices.tombstones"]
    assert inv.id == make_id("invoices", "stripe", "in_1Pgc6tB7WZ01zgkWu9fdqL6I")


def test_a_deletion_event_keeps_the_last_snapshot_as_a_tombstone(example: Any) -> None:
    got = rows_of(example("invoice"), deleted_at=NOW, reason="deleted at source (evt_1)")
    (row,) = got["invoices"]
    assert row["deleted"] is True and row["deleted_at"] == NOW
    assert row["deleted_reason"] == "deleted at source (evt_1)"
    assert all(line["deleted"] for line in got["invoice_lines"])


def test_invoice_current_layout(example: Any) -> None:
    invoice = example("invoice")
    got = rows_of(invoice)
    (row,) = got["invoices"]
    assert row["client_id"] == make_id("clients", "stripe", "cus_QXg1o8vcGmoR32")
    assert row["subscription_id"] == "subscription"  # parent.subscription_details
    assert (row["total"], row["subtotal"], row["amount_due"]) == (1000, 1000, 1000)
    assert row["status"] == "draft" and row["issued_at"] is None
    assert row["due_at"] == datetime.fromtimestamp(1234567890, UTC)
    (line,) = got["invoice_lines"]
    assert line["invoice_id"] == row["id"] and line["amount"] == 1000
    assert line["proration"] is True  # parent.invoice_item_details.proration
    assert line["created_at"] == row["created_at"]  # lines take their invoice's created


def test_invoice_pre_basil_layout(example: Any) -> None:
    invoice = example("invoice")
    del invoice["parent"]
    invoice.update(subscription="sub_123", charge="ch_123", payment_intent="pi_123",
                   tax=0, total_taxes=None)
    line = invoice["lines"]["data"][0]
    del line["parent"], line["pricing"]
    line.update(proration=False, price={"unit_amount": 1000, "unit_amount_decimal": "1000"})
    got = rows_of(invoice)
    assert got["invoices"][0]["subscription_id"] == "sub_123"
    assert got["invoice_lines"][0]["unit_amount"] == 1000
    assert got["invoice_lines"][0]["proration"] is False
    links = {r["source_id"]: r for r in got["payments"]}
    assert set(links) == {"ch_123", "pi_123"}
    assert links["pi_123"]["invoice_id"] == got["invoices"][0]["id"]


def test_invoice_payments_link_the_payment_intent(example: Any) -> None:
    invoice = example("invoice")
    invoice["payments"] = {"object": "list", "has_more": False, "data": [
        {**example("invoice_payment"), "invoice": invoice["id"],
         "payment": {"type": "payment_intent", "payment_intent": "pi_9"}}]}
    (link,) = rows_of(invoice)["payments"]
    assert link == {
        "id": make_id("payments", "stripe", "pi_9"), "source": "stripe", "source_id": "pi_9",
        "deleted": False, "kind": "payment_intent", "payment_intent_id": "pi_9",
        "invoice_id": make_id("invoices", "stripe", invoice["id"]),
        "client_id": make_id("clients", "stripe", "cus_QXg1o8vcGmoR32"),
    }


def test_an_invoice_of_a_deleted_customer_still_points_at_it(example: Any) -> None:
    invoice = example("invoice")
    invoice["customer"] = example("deleted_customer")  # an expansion of a deleted customer
    (row,) = rows_of(invoice)["invoices"]
    assert row["client_id"] == make_id("clients", "stripe", "cus_QXg1o8vcGmoR32")


def test_charge_keeps_brand_last4_country_and_nothing_else_of_the_card(example: Any) -> None:
    (row,) = rows_of(example("charge"))["payments"]
    assert (row["card_brand"], row["card_last4"], row["card_country"]) == ("visa", "4242", "US")
    assert row["kind"] == "charge" and row["method_type"] == "card"
    assert row["paid_at"] == datetime.fromtimestamp(1234567890, UTC)
    text = repr(row)
    for secret in ("AOB934RVNwzk6xtn", "2030", "exp_", "fingerprint", "client_secret"):
        assert secret not in text


def test_payment_intent(example: Any) -> None:
    (row,) = rows_of(example("payment_intent"))["payments"]
    assert row["kind"] == "payment_intent" and row["payment_intent_id"] == row["source_id"]
    assert row["status"] == "requires_payment_method" and row["amount"] == 1099
    assert row["failure_code"] is None
    assert "invoice_id" not in row  # basil removed payment_intent.invoice: nothing to blank


CARD_JUNK = st.dictionaries(
    st.sampled_from(["fingerprint", "exp_month", "exp_year", "network_token", "wallet",
                     "three_d_secure", "iin", "issuer", "moto"]),
    st.one_of(st.text(min_size=6, max_size=12, alphabet="XYZQW"), st.integers(9000, 9999)),
    min_size=1,
)


@given(junk=CARD_JUNK)
@settings(max_examples=50, deadline=None)
def test_no_card_detail_beyond_brand_last4_country_ever_reaches_a_row(
    examples: dict[str, Any], junk: dict[str, Any]
) -> None:
    charge = copy.deepcopy(examples["charge"])
    charge["payment_method_details"]["card"].update(junk)
    (row,) = rows_of(charge)["payments"]
    values = {str(v) for v in row.values()}
    for value in junk.values():
        assert str(value) not in values


DROPPABLE = {
    # (``created`` is required of every object in every version: its absence is an error,
    # see tests/reliability/test_fields.py)
    "customer": ["name", "email", "phone", "address", "currency", "balance", "description",
                 "livemode"],
    "invoice": ["customer", "number", "status", "total", "subtotal", "due_date", "parent",
                "status_transitions", "period_start", "hosted_invoice_url", "livemode"],
    "charge": ["customer", "status", "amount", "payment_method_details", "payment_intent",
               "failure_code", "livemode"],
    "payment_intent": ["customer", "status", "amount", "last_payment_error", "livemode"],
}
COLUMN_OF = {"description": "notes", "due_date": "due_at", "parent": "subscription_id",
             "customer": "client_id", "payment_method_details": "card_brand",
             "payment_intent": "payment_intent_id", "last_payment_error": "failure_code",
             "status_transitions": "paid_at", "period_start": "period_start",
             "created": "created_at"}


@given(data=st.data(), kind=st.sampled_from(sorted(DROPPABLE)))
@settings(max_examples=60, deadline=None)
def test_a_field_the_payload_lacks_never_becomes_a_column(
    examples: dict[str, Any], data: st.DataObject, kind: str
) -> None:
    """Payloads of another API version lack fields: their rows must not blank those columns
    (created_at aside: provenance always has one)."""
    obj = copy.deepcopy(examples[kind])
    dropped = data.draw(st.lists(st.sampled_from(DROPPABLE[kind]), unique=True, min_size=1))
    for key in dropped:
        obj.pop(key, None)
    if kind == "invoice" and "parent" in dropped:
        obj.pop("subscription", None)
    entity = {"customer": "clients", "invoice": "invoices"}.get(kind, "payments")
    row = rows_of(obj)[entity][0]
    for key in dropped:
        column = COLUMN_OF.get(key, key)
        if column == "created_at":
            assert row["created_at"] is None
        elif column not in ("paid_at",) or kind == "invoice":
            assert column not in row, (key, column)


@given(
    name=st.one_of(st.none(), st.text(max_size=20)),
    shipping_name=st.one_of(st.none(), st.text(max_size=20)),
    individual=st.one_of(st.none(), st.text(max_size=20)),
)
@settings(max_examples=100, deadline=None)
def test_a_contact_is_a_person_other_than_the_customer(
    examples: dict[str, Any], name: str | None, shipping_name: str | None,
    individual: str | None,
) -> None:
    customer = copy.deepcopy(examples["customer"])
    customer.update(name=name, individual_name=individual,
                    shipping={"name": shipping_name, "phone": None, "address": None})
    person = n.customer_person(customer)
    if person is not None:
        assert person[0].strip() and person[0] in ((individual or "").strip(),
                                                   (shipping_name or "").strip())
        assert person[0] != (name or "").strip() or individual
    elif shipping_name and shipping_name.strip() and shipping_name.strip() != (name or "").strip():
        raise AssertionError("a named shipping recipient other than the customer is a contact")
