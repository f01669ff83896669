"""Every field of the schema under the built-in policies: a decision each, and none that leaks.

The walk below fails for a field nobody has decided on, so a field added to the schema cannot
slip out of a pseudonymized or accounting bundle by default.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cscor_tools.export import export_bundle
from cscor_tools.minimize import (
    Action,
    FieldPlan,
    Pseudonymizer,
    load_policy,
    plan_policy,
    resolve_hash_key,
)
from cscor_tools.schema import ENTITIES, Entity, Field, Privacy
from cscor_tools.store import Store
from tests.export.readback import read_bundle
from tests.export.sample import seed

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.")

#: Classes whose values name a person, help to, may hide anything, open the person's record at
#: the provider (a subscription, a payment intent, a conversation: ``reference``), or are
#: written freely by the owner (a tag or project name may name anyone: ``label``). The schema
#: says which class a field is in: no policy lists these fields one by one.
CONCEALED_CLASSES = {Privacy.IDENTIFIER, Privacy.QUASI_IDENTIFIER, Privacy.FREE_TEXT,
                     Privacy.SECRET, Privacy.REFERENCE, Privacy.LABEL}

#: Fields whose values point into a provider account whatever their privacy class says: looked
#: up there, they open the person's record. Ids and foreign keys are added from the schema: a
#: workspace id is an unkeyed SHA-256 of entity, source and source id, so whoever holds the
#: provider id can recompute it.
PROVIDER_REFERENCES = {
    "*.source_id",  # cus_…, in_…, ch_…, a Slack message ts: the row's own id at its source
}

#: The fields the export work found classed `none` although they point at a provider record or
#: are written by the owner: each now has the class that says so.
RECLASSIFIED = {
    "invoices.subscription_id": Privacy.REFERENCE,  # sub_…
    "payments.payment_intent_id": Privacy.REFERENCE,  # pi_…
    "notifications.conversation": Privacy.REFERENCE,  # a Slack channel id, an email thread
    "notifications.thread_id": Privacy.REFERENCE,  # a Slack thread ts, an email Message-ID
    # printed on the client's copy; Stripe's carry the customer's invoice prefix
    "invoices.number": Privacy.QUASI_IDENTIFIER,
    "clients.tags": Privacy.LABEL,
    "contacts.tags": Privacy.LABEL,
    "comments.project": Privacy.LABEL,
}

#: Fields written freely by the owner although classed `none` (none left: see RECLASSIFIED).
OWNER_WRITTEN: set[str] = set()

#: Every other `none` field, reviewed: it says nothing of whom a row is about and points at
#: nothing outside the workspace, so it may leave in clear. Only the provenance columns, which
#: every entity shares from one definition, are named by wildcard.
REVIEWED_CLEAR = {
    "*.source", "*.source_version", "*.created_at", "*.updated_at", "*.deleted",
    "*.deleted_at", "*.deleted_reason", "*.synced_at", "*.livemode",
    "clients.currency", "clients.rating", "clients.workflow_state",
    "clients.tax_exempt", "clients.delinquent",
    "contacts.unsubscribed",
    "invoices.status", "invoices.currency", "invoices.issued_at", "invoices.due_at",
    "invoices.paid_at", "invoices.period_start", "invoices.period_end",
    "invoice_lines.quantity", "invoice_lines.currency", "invoice_lines.period_start",
    "invoice_lines.period_end", "invoice_lines.proration",
    "payments.kind", "payments.status", "payments.currency", "payments.method_type",
    "payments.card_brand", "payments.failure_code", "payments.paid_at",
    "notifications.channel", "notifications.direction", "notifications.status",
    "integrations.provider", "integrations.kind", "integrations.region", "integrations.status",
    "notifications.sent_at",
    "notifications.reply_count", "notifications.edited_at", "notifications.scheduled_at",
    # Slack: what kind of account or message, and when a thread moved; not whose
    "contacts.is_bot", "contacts.guest", "contacts.deactivated",
    "notifications.sender_bot", "notifications.subtype", "notifications.latest_reply_at",
    "channels.provider", "channels.kind", "channels.member_count", "channels.is_member",
    "channels.archived",
    "campaigns.status", "campaigns.scheduled_at", "campaigns.sent_at",
    "campaign_recipients.status", "campaign_recipients.bounce_type",
}


def schema_fields() -> Iterator[tuple[Entity, str, Field]]:
    """Every (entity, path, field) of the schema, struct sub-fields included."""
    for ent in ENTITIES.values():
        for f in ent.fields:
            yield ent, f.name, f
            for sub in f.fields:
                yield ent, f"{f.name}.{sub.name}", sub


def listed(names: set[str], ent: Entity, path: str) -> bool:
    return f"{ent.name}.{path}" in names or f"*.{path}" in names


def concealed(ent: Entity, path: str, f: Field) -> bool | None:
    """Whether the field must not leave readable; None while nobody has decided."""
    if (f.privacy in CONCEALED_CLASSES or f.name == "id" or f.references
            or listed(PROVIDER_REFERENCES | OWNER_WRITTEN, ent, path)):
        return True
    if f.privacy is Privacy.FINANCIAL or listed(REVIEWED_CLEAR, ent, path):
        return False  # amounts say how much, not who
    return None


def planned(fp: FieldPlan) -> Iterator[tuple[str, Field, Action]]:
    """(path, field, action) of a plan and its sub-fields; a rebuilt struct is its sub-fields."""
    own = {s.field.name: s.action for s in fp.subfields}
    if not own:
        yield fp.path, fp.field, fp.action
    for sub in fp.field.fields:
        yield f"{fp.path}.{sub.name}", sub, own.get(sub.name, fp.action)


def readable(f: Field, action: Action) -> bool:
    """Whether values leave as they are, or partly so (a mask, a redaction, a prefix)."""
    if action in (Action.DROP, Action.HASH):
        return False
    return f.format != "country"  # a country is as coarse as generalization goes


def test_every_field_has_a_decision() -> None:
    undecided = [f"{e.name}.{p}" for e, p, f in schema_fields() if concealed(e, p, f) is None]
    assert not undecided, (
        f"decide for {undecided}: a provider reference (PROVIDER_REFERENCES), written by the "
        "owner (OWNER_WRITTEN), or safe in clear (REVIEWED_CLEAR)? Then check the policies."
    )
    stale = [
        name for name in PROVIDER_REFERENCES | OWNER_WRITTEN | REVIEWED_CLEAR
        if not any(listed({name}, e, p) for e, p, _ in schema_fields())
    ]
    assert not stale, f"no such field in the schema: {stale}"


def test_the_fields_found_wrong_have_their_class() -> None:
    for path, privacy in RECLASSIFIED.items():
        ent, name = path.split(".")
        assert ENTITIES[ent].field(name).privacy is privacy, path


def test_builtin_policies_follow_the_classes_without_naming_these_fields() -> None:
    from cscor_tools.policies import BUILTIN

    # the only exceptions left are purposes: the books keep the number they record, and
    # leave out which subscription produced an invoice
    purposes = {("accounting", "invoices.number"), ("accounting", "invoices.subscription_id")}
    for name, text in BUILTIN.items():
        for path in RECLASSIFIED:
            named = f'"{path}"' in text or f'"*.{path.split(".")[1]}"' in text
            assert not named or (name, path) in purposes, (name, path)


def test_pseudonymized_lets_nothing_identifying_out_in_clear() -> None:
    plans = plan_policy(load_policy("pseudonymized"))
    leaks = []
    for name, plan in plans.items():
        ent = ENTITIES[name]
        for top in plan.fields:
            for path, f, action in planned(top):
                if concealed(ent, path, f) and readable(f, action):
                    leaks.append(f"{name}.{path}: {action.value}")
    assert not leaks


def test_pseudonymized_hashes_the_references_that_join() -> None:
    plans = plan_policy(load_policy("pseudonymized"))
    for path in ("invoices.subscription_id", "payments.payment_intent_id",
                 "notifications.conversation", "notifications.thread_id", "clients.tags",
                 "comments.project", "invoices.client_id", "clients.email"):
        ent, field_name = path.split(".")
        assert plans[ent].actions()[field_name] == "hash", path


# -- the accounting policy: exactly what the books need --------------------------------------

_PROVENANCE = {"id": "keep", "source": "keep", "created_at": "keep", "updated_at": "keep",
               "deleted": "keep", "deleted_at": "keep", "deleted_reason": "keep",
               "synced_at": "keep", "livemode": "keep"}
ACCOUNTING_OUTPUT: dict[str, dict[str, str]] = {
    "clients": {**_PROVENANCE, "name": "keep", "company": "keep",
                "address": "per sub-field", "address.country": "keep", "currency": "keep",
                "balance": "keep", "tax_exempt": "keep"},
    "invoices": {**_PROVENANCE, "source_id": "keep", "client_id": "keep", "number": "keep",
                 "status": "keep", "currency": "keep", "subtotal": "keep", "tax": "keep",
                 "total": "keep", "amount_due": "keep", "amount_paid": "keep",
                 "amount_remaining": "keep", "customer_name": "keep", "description": "redact",
                 "issued_at": "keep", "due_at": "keep", "paid_at": "keep",
                 "period_start": "keep", "period_end": "keep"},
    "invoice_lines": {**_PROVENANCE, "invoice_id": "keep", "description": "redact",
                      "quantity": "keep", "unit_amount": "keep", "amount": "keep",
                      "currency": "keep", "period_start": "keep", "period_end": "keep",
                      "proration": "keep"},
    "payments": {**_PROVENANCE, "source_id": "keep", "client_id": "keep", "invoice_id": "keep",
                 "kind": "keep", "status": "keep", "amount": "keep", "amount_refunded": "keep",
                 "currency": "keep", "method_type": "keep", "card_brand": "keep",
                 "card_country": "keep", "paid_at": "keep", "payment_intent_id": "keep"},
}


def test_accounting_lets_out_exactly_what_the_books_need() -> None:
    policy = load_policy("accounting")
    assert policy.rows.entities == tuple(ACCOUNTING_OUTPUT)
    plans = plan_policy(policy, policy.rows.entities)
    out = {
        name: {path: action for path, action in plan.actions().items() if action != "drop"}
        for name, plan in plans.items()
    }
    assert out == ACCOUNTING_OUTPUT


# -- exported data ---------------------------------------------------------------------------


def _with_provider_references(store: Store) -> None:
    """The sample workspace, with the provider references the sample leaves empty."""
    changes: dict[str, list[dict[str, Any]]] = {}
    for name, column, value in (
        ("invoices", "subscription_id", lambda i: f"sub_LEAK{i % 3}" if i % 4 else None),
        ("payments", "payment_intent_id", lambda i: f"pi_LEAK{i // 2}"),
        ("notifications", "thread_id", lambda i: f"<t{i % 2}@mail.example.org>"),
    ):
        rows = sorted((r for b in store.iter_rows(name) for r in b), key=lambda r: r["source_id"])
        changes[name] = [{**r, column: value(i)} for i, r in enumerate(rows)]
    for name, rows in changes.items():
        store.upsert(name, rows)


@pytest.fixture
def seeded(sqlite_store: Store) -> Store:
    seed(sqlite_store)
    _with_provider_references(sqlite_store)
    return sqlite_store


def _values(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _values(v)
    elif isinstance(value, list):
        for v in value:
            yield from _values(v)
    elif value is not None:
        yield value


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_no_concealed_value_leaves_a_pseudonymized_bundle(
    seeded: Store, tmp_path: Path, fmt: str
) -> None:
    secret_values: set[Any] = set()
    for ent, path, f in schema_fields():
        if "." in path or not concealed(ent, path, f):
            continue
        for batch in seeded.iter_rows(ent.name, columns=[path]):
            for row in batch:
                stored = row[path]
                if f.fields and isinstance(stored, dict):  # a country may stay
                    stored = {k: v for k, v in stored.items() if f.subfield(k).format is None}
                secret_values.update(v for v in _values(stored) if f.format != "country")
    assert {"sub_LEAK1", "pi_LEAK0", "C123", "Website", "vip", "INV-0001"} <= secret_values
    data = read_bundle(export_bundle(seeded, tmp_path / "b", format=fmt, policy="pseudonymized",
                                     include_deleted=True, env={}).out)
    leaked = {
        (name, column)
        for name, rows in data.items()
        for row in rows
        for column, value in row.items()
        if any(v in secret_values for v in _values(value))
    }
    assert not leaked


def test_pseudonymized_joins_still_work(seeded: Store, tmp_path: Path) -> None:
    data = read_bundle(export_bundle(seeded, tmp_path / "b", format="parquet",
                                     policy="pseudonymized", include_deleted=True, env={}).out)
    p = Pseudonymizer(resolve_hash_key(seeded.get_meta("hash_key"), env={})).pseudonym
    stored = {name: [r for b in seeded.iter_rows(name) for r in b]
              for name in ("clients", "invoices", "payments")}
    clients = {r["id"]: r for r in data["clients"]}
    invoices = {r["id"]: r for r in data["invoices"]}
    payments = {r["id"]: r for r in data["payments"]}
    for client in stored["clients"]:
        hashed = clients[p(client["id"])]["id"]
        theirs = [invoices[p(i["id"])] for i in stored["invoices"]
                  if i["client_id"] == client["id"]]
        assert theirs
        # a client's pseudonymized id is the pseudonymized client_id of each of its invoices
        assert all(i["client_id"] == hashed for i in theirs)
    for invoice in stored["invoices"]:
        sub = invoice["subscription_id"]
        assert invoices[p(invoice["id"])]["subscription_id"] == (sub and p(sub))
    for payment in stored["payments"]:
        exported = payments[p(payment["id"])]
        assert exported["invoice_id"] == p(payment["invoice_id"])
        assert exported["invoice_id"] in invoices
        assert exported["payment_intent_id"] == p(payment["payment_intent_id"])
    # pseudonyms group as the references did: two charges per payment intent, 3 subscriptions
    intents = [r["payment_intent_id"] for r in data["payments"]]
    assert all(intents.count(i) == 2 for i in intents)
    assert len({r["subscription_id"] for r in data["invoices"] if r["subscription_id"]}) == 3


def test_accounting_bundle_keeps_references_and_no_contact_details(
    seeded: Store, tmp_path: Path
) -> None:
    data = read_bundle(export_bundle(seeded, tmp_path / "b", format="csv", policy="accounting",
                                     include_deleted=True).out)
    assert {r["number"] for r in data["invoices"]} >= {"INV-0001", "INV-0002"}
    assert all(r["source_id"].startswith("src_") for r in data["payments"])
    assert all(r["payment_intent_id"].startswith("pi_LEAK") for r in data["payments"])
    assert "subscription_id" not in data["invoices"][0]
    for rows in data.values():
        for row in rows:
            for value in _values(row):
                assert not EMAIL.search(str(value)), value
