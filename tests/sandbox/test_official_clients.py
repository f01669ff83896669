"""The providers' own SDKs, pointed at the sandbox, list every object without error."""

from __future__ import annotations

import stripe
from slack_sdk import WebClient

from cscor_tools.sandbox import Sandbox

STRIPE_LISTS = {
    "customers": "stripe.customers",
    "invoices": "stripe.invoices",
    "charges": "stripe.charges",
    "payment_intents": "stripe.payment_intents",
    "invoice_payments": "stripe.invoice_payments",
    "events": "stripe.events",
}


def _stripe(sb: Sandbox) -> stripe.StripeClient:
    return stripe.StripeClient(
        sb.credentials("stripe"),
        base_addresses={"api": sb.base_url("stripe")},
        http_client=stripe.HTTPXClient(allow_sync_methods=True),
        max_network_retries=0,
    )


def test_stripe_client_lists_every_object(sandbox: Sandbox) -> None:
    client = _stripe(sandbox)
    for resource, kind in STRIPE_LISTS.items():
        service = getattr(client.v1, resource)
        listed = [o.id for o in service.list({"limit": 100}).auto_paging_iter()]
        assert listed == sandbox.expected_ids(kind), resource
    lines = 0
    for invoice in client.v1.invoices.list({"limit": 100}).auto_paging_iter():
        lines += len(list(client.v1.invoices.line_items.list(invoice.id, {"limit": 3})
                          .auto_paging_iter()))
    assert lines == sandbox.expected_counts()["stripe.line_items"]


def test_stripe_client_pages_backwards_with_ending_before(sandbox: Sandbox) -> None:
    client = _stripe(sandbox)
    ids = sandbox.expected_ids("stripe.customers")
    # from the oldest customer towards the newest, as auto_paging_iter does for ending_before
    backward = [c.id for c in client.v1.customers.list(
        {"limit": 4, "ending_before": ids[-1]}).auto_paging_iter()]
    assert backward == ids[:-1][::-1]


def test_stripe_client_typed_objects(sandbox: Sandbox) -> None:
    client = _stripe(sandbox)
    invoice = client.v1.invoices.list({"limit": 1}).data[0]
    assert isinstance(invoice, stripe.Invoice)
    assert invoice.lines.data[0].object == "line_item"
    event = client.v1.events.list({"limit": 1, "type": "invoice.*"}).data[0]
    assert isinstance(event, stripe.Event) and event.type.startswith("invoice.")
    try:
        client.v1.customers.retrieve("cus_missing")
    except stripe.InvalidRequestError as err:
        assert err.http_status == 404 and err.code == "resource_missing"
    else:
        raise AssertionError("a missing customer must raise")


def test_slack_sdk_lists_every_object(sandbox: Sandbox) -> None:
    client = WebClient(token=sandbox.credentials("slack"), base_url=sandbox.base_url("slack"))
    assert client.auth_test()["ok"]
    assert client.team_info()["team"]["domain"]
    users = [u["id"] for page in client.users_list(limit=5) for u in page["members"]]
    assert users == sandbox.expected_ids("slack.users")
    channels = [c for page in client.conversations_list(limit=2, types="public_channel")
                for c in page["channels"]]
    assert [c["id"] for c in channels] == sandbox.expected_ids("slack.channels")
    seen: set[str] = set()
    for channel in channels:
        if not channel["is_member"]:
            continue
        for page in client.conversations_history(channel=channel["id"], limit=20):
            for message in page["messages"]:
                seen.add(f"{channel['id']}/{message['ts']}")
                if message.get("reply_count"):
                    for thread in client.conversations_replies(channel=channel["id"],
                                                               ts=message["ts"], limit=2):
                        seen.update(f"{channel['id']}/{m['ts']}" for m in thread["messages"])
    member = {c["id"] for c in channels if c["is_member"]}
    expected = {m for m in sandbox.expected_ids("slack.messages") if m.split("/")[0] in member}
    assert seen == expected
