"""Mutations change what the APIs serve, emit the events an incremental sync reads, and
report exactly what changed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cscor_tools.sandbox import Sandbox

from .conftest import client_for


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=21, scale=0.1) as sandbox:
        yield sandbox
        assert not sandbox.internal_errors, sandbox.internal_errors[0]


def _all(http: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = http.get(path, params={"limit": 100, **params,
                                      **({"starting_after": cursor} if cursor else {})}).json()
        items += page["data"]
        if not page["has_more"]:
            return items
        cursor = items[-1]["id"]


def test_summary_matches_the_counts(sb: Sandbox) -> None:
    before = sb.expected_counts()
    summary = sb.mutate(create=0.1, update=0.1, delete=0.05)
    after = sb.expected_counts()
    for kind, noun in (("stripe.customers", "stripe.customer"),
                       ("resend.contacts", "resend.contact"),
                       ("stripe.invoices", "stripe.invoice"),
                       ("slack.messages", "slack.message")):
        created, deleted = summary.count("created", noun), summary.count("deleted", noun)
        assert created > 0, noun
        assert after[kind] == before[kind] + created - deleted, kind
    assert summary.count("deleted", "stripe.customer") > 0
    assert summary.count("updated", "resend.email") == len(summary.last_events) > 0
    assert summary.finished > summary.started
    assert after["stripe.charges"] == before["stripe.charges"] + summary.count(
        "created", "stripe.charge")


def test_stripe_changes_show_in_lists_and_events(sb: Sandbox) -> None:
    with client_for(sb, "stripe") as http:
        newest_event = _all(http, "/v1/events")[0]["created"]
        summary = sb.mutate(create=0.1, update=0.2, delete=0.05)
        customers = {c["id"]: c for c in _all(http, "/v1/customers")}
        for made in summary.created["stripe.customer"]:
            assert made in customers
        assert next(iter(customers)) in summary.created["stripe.customer"]  # newest first
        for gone in summary.deleted.get("stripe.customer", []):
            assert gone not in customers
        # an incremental sync reads exactly the mutation's events, oldest last
        fresh = _all(http, "/v1/events", **{"created[gt]": newest_event})
        assert [e["id"] for e in fresh][::-1] == [e["id"] for e in summary.events]
        updates = [e for e in fresh if e["type"] == "customer.updated"]
        assert len(updates) == summary.count("updated", "stripe.customer")
        for event in updates:
            now = customers.get(event["data"]["object"]["id"])
            previous = event["data"]["previous_attributes"]
            assert previous
            if now is not None:
                assert any(now[k] != v for k, v in previous.items())
        paid = {e["data"]["object"]["id"] for e in fresh if e["type"] == "invoice.paid"}
        for invoice_id in paid:
            assert http.get(f"/v1/invoices/{invoice_id}").json()["status"] == "paid"
        assert {e["data"]["object"]["id"] for e in fresh if e["type"] == "customer.deleted"} \
            == set(summary.deleted.get("stripe.customer", []))


def test_events_older_than_thirty_days_are_gone(sb: Sandbox) -> None:
    with client_for(sb, "stripe") as http:
        events = _all(http, "/v1/events")
        oldest = events[-1]
        assert http.get(f"/v1/events/{oldest['id']}").status_code == 200
        sb.advance(days=31)
        assert _all(http, "/v1/events") == []
        gone = http.get(f"/v1/events/{oldest['id']}")
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "resource_missing"
        summary = sb.mutate(counts={"stripe.customers": {"create": 2}})
        assert [e["id"] for e in _all(http, "/v1/events")][::-1] == [
            e["id"] for e in summary.events]


def test_resend_changes(sb: Sandbox) -> None:
    summary = sb.mutate(counts={"resend.emails": {"create": 3, "update": 5},
                                "resend.contacts": {"create": 2, "update": 2, "delete": 2}})
    assert summary.created.keys() <= {"resend.email", "resend.contact"}
    with client_for(sb, "resend") as http:
        for email_id, (old, new) in summary.last_events.items():
            assert old != new
            assert http.get(f"/emails/{email_id}").json()["last_event"] == new
        newest = http.get("/emails", params={"limit": 3}).json()["data"]
        assert {e["id"] for e in newest} == set(summary.created["resend.email"])
        for contact_id in summary.deleted["resend.contact"]:
            assert http.get(f"/contacts/{contact_id}").status_code == 404
        listed = {c["id"] for c in http.get("/contacts").json()["data"]}
        assert set(summary.created["resend.contact"]) <= listed
        assert not set(summary.deleted["resend.contact"]) & listed


def test_slack_edits_and_deletions(sb: Sandbox) -> None:
    summary = sb.mutate(counts={"slack.messages": {"create": 10, "update": 6, "delete": 6}})
    with client_for(sb, "slack") as http:
        def message(ref: str) -> dict[str, Any] | None:
            channel, ts = ref.split("/")
            history = http.post("conversations.history", data={
                "channel": channel, "latest": ts, "oldest": ts, "inclusive": "true"}).json()
            if history["messages"]:
                return dict(history["messages"][0])
            thread = http.post("conversations.replies", data={"channel": channel, "ts": ts})
            found = [m for m in thread.json().get("messages", []) if m["ts"] == ts]
            return found[0] if found else None

        for ref in summary.created["slack.message"]:
            assert message(ref) is not None, ref
        for ref in summary.updated["slack.message"]:
            edited = message(ref)
            if ref in summary.deleted.get("slack.message", []):
                continue
            assert edited is not None and edited["edited"]["ts"] > edited["ts"]
        for ref in summary.deleted["slack.message"]:
            assert message(ref) is None, ref


def test_counts_change_only_the_named_kinds(sb: Sandbox) -> None:
    before = sb.expected_counts()
    summary = sb.mutate(counts={"stripe.customers": {"update": 3}})
    assert summary.updated == {"stripe.customer": summary.updated["stripe.customer"]}
    assert len(summary.updated["stripe.customer"]) == 3 and not summary.created
    assert sb.expected_counts() == {**before, "stripe.events": sb.expected_counts()[
        "stripe.events"]}
    with pytest.raises(ValueError, match="cannot"):
        sb.mutate(counts={"stripe.payments": {"delete": 1}})
    with pytest.raises(ValueError, match="unknown kind"):
        sb.mutate(counts={"stripe.coupons": {"create": 1}})


def test_the_nth_mutation_of_a_seed_is_always_the_same() -> None:
    summaries = []
    for _ in range(2):
        with Sandbox(seed=5, scale=0.05) as sandbox:
            sandbox.mutate()
            summaries.append(sandbox.mutate(days=2).to_dict())
    assert summaries[0] == summaries[1]
