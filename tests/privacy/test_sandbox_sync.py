"""Erasure against a real sync: Ann is a customer of the sandbox's Stripe; after her erasure a
full re-sync brings her invoices back anonymized and her customer not at all."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cscor_tools.privacy.erase import erase_subject
from cscor_tools.privacy.match import find_subject
from cscor_tools.privacy.subject import Subject
from cscor_tools.sandbox.sandbox import Sandbox
from cscor_tools.store import Store
from cscor_tools.workspace import sync_connector
from tests.privacy.people import ANN, ANN_NAME, person
from tests.privacy.scan import assert_no_personal_data, bookkeeping_text


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=11, scale=0.1) as sb:
        stripe = sb.world.stripe
        invoiced = {i.customer for i in stripe.invoices}
        customers = [c for c in stripe.customers if c.id in invoiced]
        ann, lookalike = customers[0], customers[1]
        at = int(ann.created) + 60
        stripe.update_customer(ann, at, email=" Ann.Lee@Example.COM", name=ANN_NAME)
        stripe.update_customer(lookalike, at, email="joann.lee@example.com")
        yield sb


def sync(store: Store, sb: Sandbox, *, full: bool = False) -> Any:
    return sync_connector("stripe", store=store, base_url=sb.base_url("stripe"),
                          env={"STRIPE_API_KEY": sb.credentials("stripe")}, full=full)


def test_an_erased_customer_does_not_come_back_with_a_full_resync(
    store: Store, sandbox: Sandbox
) -> None:
    assert sync(store, sandbox).status == "succeeded"
    synced = find_subject(store, Subject.of(ANN))
    stripe_invoices = list(store.get_rows("invoices", synced.sorted_ids("invoices")).values())
    assert stripe_invoices and len(synced.sorted_ids("clients")) == 1
    # Resend and Slack rows of Ann, as their connectors would write them
    person(store, ANN, 900, name=ANN_NAME)
    found = find_subject(store, Subject.of(ANN))
    assert len(found.sorted_ids("clients")) == 2
    lookalike = find_subject(store, Subject.of("joann.lee@example.com"))
    assert lookalike.sorted_ids("clients") and not (
        set(lookalike.sorted_ids("invoices")) & set(found.sorted_ids("invoices")))

    erased = erase_subject(store, Subject.of(ANN))
    assert erased.deleted["clients"] == 2
    result = sync(store, sandbox, full=True)
    assert result.status == "succeeded"
    suppressed = result.suppressed()
    assert suppressed["clients"] >= 1 and suppressed["invoices"] >= len(stripe_invoices)
    assert store.runs(limit=1, kind="sync")[0].counts["suppressed"] == suppressed

    after = find_subject(store, Subject.of(ANN))
    assert not after.ids.get("clients") and not after.ids.get("contacts")
    for row in store.get_rows("invoices", [r["id"] for r in stripe_invoices]).values():
        assert row["customer_email"] is None and row["customer_name"] is None
        assert row["client_id"] is None and row["total"] is not None
    # the lookalike was synced as ever
    assert find_subject(store, Subject.of("joann.lee@example.com")).sorted_ids("clients") \
        == lookalike.sorted_ids("clients")
    assert_no_personal_data(bookkeeping_text(store), ANN, ANN_NAME, "ann.lee")
