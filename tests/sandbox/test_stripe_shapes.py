"""Stripe's objects, lists and errors have the 2026 shapes: key sets and value types of
fixtures3.json, the error schema of Stripe's OpenAPI spec, and consistent amounts."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from cscor_tools.sandbox import Sandbox
from cscor_tools.sandbox.world import stripe_api_version

from .specs import stripe_error_problems, stripe_fixtures, stripe_shape_problems

RESOURCES = {
    "customers": "customer",
    "invoices": "invoice",
    "charges": "charge",
    "payment_intents": "payment_intent",
    "invoice_payments": "invoice_payment",
    "events": "event",
}
EVENT_OBJECTS = {
    "customer": "customer", "invoice": "invoice", "charge": "charge",
    "payment_intent": "payment_intent", "invoice_payment": "invoice_payment",
}


def _all(http: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": 100, **params, **({"starting_after": cursor} if cursor else {})}
        page = http.get(path, params=query).json()
        items += page["data"]
        if not page["has_more"]:
            return items
        cursor = page["data"][-1]["id"]


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_every_listed_object_has_the_2026_shape(stripe_http: httpx.Client,
                                                resource: str) -> None:
    response = stripe_http.get(f"/v1/{resource}", params={"limit": 100})
    assert response.status_code == 200
    page = response.json()
    assert list(page) == ["object", "data", "has_more", "url"]
    assert page["object"] == "list" and page["url"] == f"/v1/{resource}"
    assert page["data"], f"the sandbox generated no {resource}"
    for obj in page["data"]:
        assert stripe_shape_problems(obj, RESOURCES[resource]) == [], obj["id"]
        assert obj["livemode"] is False
        assert list(obj)[:2] == ["id", "object"]


def test_retrieve_returns_the_listed_bytes(stripe_http: httpx.Client) -> None:
    for resource in RESOURCES:
        page = stripe_http.get(f"/v1/{resource}", params={"limit": 3}).json()
        for obj in page["data"]:
            single = stripe_http.get(f"/v1/{resource}/{obj['id']}")
            assert single.status_code == 200
            assert single.json() == obj


def test_events_carry_their_objects_and_previous_attributes(stripe_http: httpx.Client) -> None:
    events = _all(stripe_http, "/v1/events")
    assert {e["type"].split(".")[0] for e in events} >= {"customer", "invoice", "charge",
                                                         "payment_intent"}
    updated = 0
    for event in events:
        assert event["api_version"] == stripe_api_version()
        kind = EVENT_OBJECTS[event["type"].rsplit(".", 1)[0]]
        obj = event["data"]["object"]
        assert obj["object"] == kind
        assert stripe_shape_problems(obj, kind) == [], event["id"]
        if event["type"].endswith(".updated"):
            updated += 1
            previous = event["data"]["previous_attributes"]
            assert previous and set(previous) <= set(obj)
        else:
            assert "previous_attributes" not in event["data"]
    assert updated


def test_invoice_amounts_agree_with_lines_and_payments(sandbox: Sandbox,
                                                       stripe_http: httpx.Client) -> None:
    invoices = _all(stripe_http, "/v1/invoices")
    payments = {p["invoice"]: p for p in _all(stripe_http, "/v1/invoice_payments")}
    intents = {p["id"]: p for p in _all(stripe_http, "/v1/payment_intents")}
    for inv in invoices:
        lines = _all(stripe_http, f"/v1/invoices/{inv['id']}/lines")
        record = sandbox.world.stripe.invoices.get(inv["id"])
        assert record is not None and len(lines) == len(record.lines)
        assert inv["lines"]["data"] == lines[:10]
        assert inv["lines"]["has_more"] == (len(lines) > 10)
        assert sum(line["amount"] for line in lines) == inv["total"] == inv["amount_due"]
        assert all(line["invoice"] == inv["id"] for line in lines)
        assert all(stripe_shape_problems(line, "line_item") == [] for line in lines)
        if inv["status"] == "paid":
            assert inv["amount_paid"] == inv["total"] and inv["amount_remaining"] == 0
            assert inv["status_transitions"]["paid_at"] >= inv["status_transitions"][
                "finalized_at"]
            payment = payments[inv["id"]]
            assert payment["amount_paid"] == inv["total"]
            assert intents[payment["payment"]["payment_intent"]]["amount"] == inv["total"]
        if inv["status"] == "draft":
            assert inv["number"] is None and inv["hosted_invoice_url"] is None
        if inv["parent"] is not None:
            sub = inv["parent"]["subscription_details"]["subscription"]
            assert sub.startswith("sub_") and inv["billing_reason"].startswith("subscription")


def test_large_invoices_embed_ten_lines_and_page_the_rest(sandbox: Sandbox) -> None:
    big = next((i for i in sandbox.world.stripe.invoices if len(i.lines) > 10), None)
    if big is None:
        with Sandbox(seed=11, customers=60, invoices_per_customer=3) as other:
            big = next(i for i in other.world.stripe.invoices if len(i.lines) > 10)
            _check_big_invoice(other, big.id)
        return
    _check_big_invoice(sandbox, big.id)


def _check_big_invoice(sb: Sandbox, invoice_id: str) -> None:
    from .conftest import client_for

    with client_for(sb, "stripe") as http:
        inv = http.get(f"/v1/invoices/{invoice_id}").json()
        assert len(inv["lines"]["data"]) == 10 and inv["lines"]["has_more"] is True
        page = http.get(f"/v1/invoices/{invoice_id}/lines", params={"limit": 4}).json()
        assert page["url"] == f"/v1/invoices/{invoice_id}/lines" and page["has_more"]
        assert _all(http, f"/v1/invoices/{invoice_id}/lines")[:10] == inv["lines"]["data"]


def test_charges_look_like_card_payments(stripe_http: httpx.Client) -> None:
    for charge in _all(stripe_http, "/v1/charges"):
        card = charge["payment_method_details"]["card"]
        assert charge["payment_method_details"]["type"] == "card"
        assert len(card["last4"]) == 4 and card["last4"].isdigit()
        assert card["brand"] in ("visa", "mastercard", "amex", "discover", "jcb")
        assert len(card["country"]) == 2
        assert charge["status"] in ("succeeded", "failed")
        assert (charge["failure_code"] is None) == (charge["status"] == "succeeded")
        assert charge["payment_intent"].startswith("pi_")


def test_includable_and_expandable_fields(stripe_http: httpx.Client) -> None:
    paid = next(i for i in _all(stripe_http, "/v1/invoices") if i["status"] == "paid")
    assert "payments" not in paid
    with_payments = stripe_http.get(f"/v1/invoices/{paid['id']}",
                                    params={"expand[]": "payments"}).json()
    assert with_payments["payments"]["object"] == "list"
    assert with_payments["payments"]["data"][0]["invoice"] == paid["id"]
    listed = stripe_http.get("/v1/invoices", params={"limit": 2, "expand[0]": "data.customer"})
    assert all(isinstance(i["customer"], dict) for i in listed.json()["data"])
    # sources is expandable (test_stripe_account_and_expand.py); email is not
    refused = stripe_http.get("/v1/customers", params={"expand[]": "data.email"})
    assert refused.status_code == 400 and stripe_error_problems(refused.json()) == []


def test_deleted_customers_leave_the_list_and_retrieve_as_a_stub() -> None:
    with Sandbox(seed=3, scale=0.05) as sb:
        summary = sb.mutate(counts={"stripe.customers": {"delete": 2}})
        gone = summary.deleted["stripe.customer"]
        from .conftest import client_for

        with client_for(sb, "stripe") as http:
            listed = {c["id"] for c in _all(http, "/v1/customers")}
            assert not listed & set(gone)
            for customer_id in gone:
                stub = http.get(f"/v1/customers/{customer_id}")
                assert stub.status_code == 200
                assert stub.json() == {"id": customer_id, "object": "customer", "deleted": True}
                assert set(stub.json()) == set(stripe_fixtures()["deleted_customer"])
            deleted_events = _all(http, "/v1/events", type="customer.deleted")
            assert {e["data"]["object"]["id"] for e in deleted_events} == set(gone)


# -- errors ---------------------------------------------------------------------------------

ERROR_CASES = [
    # (path, params, headers, status, param)
    ("/v1/customers", {}, {"Authorization": ""}, 401, None),
    ("/v1/customers", {}, {"Authorization": "Bearer sk_test_wrong_key_here"}, 401, None),
    ("/v1/customers/cus_doesnotexist", {}, {}, 404, "id"),
    ("/v1/customers", {"limit": 0}, {}, 400, "limit"),
    ("/v1/customers", {"limit": 101}, {}, 400, "limit"),
    ("/v1/customers", {"limit": "ten"}, {}, 400, "limit"),
    ("/v1/customers", {"colour": "blue"}, {}, 400, "colour"),
    ("/v1/customers", {"starting_after": "a", "ending_before": "b"}, {}, 400, None),
    ("/v1/customers", {"starting_after": "cus_missing"}, {}, 404, "starting_after"),
    ("/v1/customers", {"created[since]": 1}, {}, 400, "created[since]"),
    ("/v1/events", {"type": "customer.*", "types[]": "invoice.paid"}, {}, 400, None),
    ("/v1/customers", {}, {"Stripe-Version": "yesterday"}, 400, "Stripe-Version"),
    ("/v1/refunds", {}, {}, 404, None),
]


@pytest.mark.parametrize(("path", "params", "headers", "status", "param"), ERROR_CASES)
def test_errors_use_stripes_error_object(stripe_http: httpx.Client, path: str,
                                         params: dict[str, Any], headers: dict[str, str],
                                         status: int, param: str | None) -> None:
    response = stripe_http.get(path, params=params, headers=headers)
    assert response.status_code == status
    body = response.json()
    assert stripe_error_problems(body) == []
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"].get("param") == param
    assert "sk_test_wrong_key_here" not in response.text  # a key is never echoed whole


def test_basic_auth_with_the_key_as_user_name(sandbox: Sandbox) -> None:
    token = base64.b64encode(f"{sandbox.credentials('stripe')}:".encode()).decode()
    response = httpx.get(f"{sandbox.base_url('stripe')}/v1/customers",
                         headers={"Authorization": f"Basic {token}"})
    assert response.status_code == 200


def test_stripe_version_is_honoured_and_echoed(stripe_http: httpx.Client) -> None:
    plain = stripe_http.get("/v1/customers", params={"limit": 1})
    assert plain.headers["Stripe-Version"] == stripe_api_version() == "2026-10-28.endive"
    pinned = stripe_http.get("/v1/customers", params={"limit": 1},
                             headers={"Stripe-Version": "2025-03-31.basil"})
    assert pinned.headers["Stripe-Version"] == "2025-03-31.basil"
    assert pinned.headers["Request-Id"].startswith("req_")
