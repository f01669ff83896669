"""The account endpoint, and ``expand[]`` as Stripe's spec allows it (``x-expandableFields``).

Expandable paths are read from the spec itself, so a path the spec allows and the sandbox
refuses fails here; the official ``stripe`` SDK, unmodified, retrieves the account and lists
with expansions.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import httpx
import jsonschema
import pytest
import stripe

from cscor_tools.sandbox import Sandbox
from cscor_tools.sandbox.stripe_expandable import EXPANDABLE

from .specs import SPECS, stripe_error_problems, stripe_fixtures, stripe_shape_problems


@cache
def _schemas() -> dict[str, Any]:
    spec = json.loads((SPECS / "stripe" / "spec3.STALE-2022-04-12.json").read_text())
    return dict(spec["components"]["schemas"])


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"].rsplit("/", 1)[1]] if "$ref" in node else []
        return own + [r for k, v in node.items() if k != "$ref" for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _spec_paths(kind: str, depth: int) -> list[str]:
    """Every expandable path of ``kind`` up to ``depth`` steps, read from the spec: each step a
    property in ``x-expandableFields``, lists stepped into through ``data``."""
    schemas = _schemas()

    def walk(kinds: list[str], prefix: str, left: int) -> list[str]:
        out: list[str] = []
        for k in kinds:
            props = schemas[k].get("properties", {})
            for field in schemas[k].get("x-expandableFields", []):
                path = prefix + field
                if path in out:
                    continue
                out.append(path)
                prop = props[field]
                is_list = prop.get("type") == "object" and "data" in prop.get("properties", {})
                if left > 1:
                    nested = walk(list(dict.fromkeys(_refs(prop))),
                                  path + (".data." if is_list else "."), left - 1)
                    out += [p for p in nested if p not in out]
        return out

    return walk([kind], "", depth)


CUSTOMER_PATHS = _spec_paths("customer", 2)
INVOICE_PATHS = _spec_paths("invoice", 2)


def _expanded_problems(obj: dict[str, Any], kinds: tuple[str, ...]) -> list[str]:
    """Check what an expansion put into ``obj`` and put it back as it was unexpanded, so the
    rest can be held to the example objects: an expanded object is held to its own example and
    replaced by its id; a list sent only when expanded (which the examples never carry) is held
    to the spec's schema for it and taken out."""
    problems: list[str] = []
    fixtures = stripe_fixtures()
    schemas = _schemas()
    kind = str(obj["object"]) if obj.get("object") in kinds else kinds[0]
    for key, (shape, held) in EXPANDABLE.get(kind, {}).items():
        value = obj.get(key)
        if shape == "list" and isinstance(value, dict) and key not in fixtures.get(kind, {key}):
            del obj[key]
            schema = {"components": {"schemas": schemas}, **schemas[kind]["properties"][key]}
            problems += [f"{kind}.{key}: {e.message}" for e in
                         jsonschema.Draft202012Validator(schema).iter_errors(value)]
        items = (value["data"] if shape == "list" and isinstance(value, dict)
                 else value if isinstance(value, list) else [value])
        for item in items:
            if not isinstance(item, dict):
                continue
            problems += _expanded_problems(item, held)
            if shape == "ref" and item.get("object") in fixtures:
                problems += stripe_shape_problems(item, str(item["object"]))
                obj[key] = item["id"]
    return problems


def _problems(listed: dict[str, Any], resource: str) -> list[str]:
    problems: list[str] = []
    for obj in listed["data"]:
        problems += _expanded_problems(obj, (resource,))
        problems += stripe_shape_problems(obj, resource)
    return problems


def test_the_table_is_the_spec() -> None:
    schemas = _schemas()
    expected = {name: list(s["x-expandableFields"]) for name, s in schemas.items()
                if s.get("x-expandableFields")}
    assert {name: list(fields) for name, fields in EXPANDABLE.items()} == expected
    for name, fields in EXPANDABLE.items():
        for field, (_, held) in fields.items():
            assert set(held) == set(_refs(schemas[name]["properties"][field])), (name, field)


def test_account_is_the_example_account(stripe_http: httpx.Client) -> None:
    account = stripe_http.get("/v1/account").json()
    assert account["object"] == "account" and account["id"].startswith("acct_")
    assert stripe_shape_problems(account, "account") == []
    assert set(account) == set(stripe_fixtures()["account"])
    by_id = stripe_http.get(f"/v1/accounts/{account['id']}",
                            params={"expand[]": ["settings", "external_accounts"]})
    assert by_id.status_code == 200 and by_id.json() == account
    other = stripe_http.get("/v1/accounts/acct_1NotThisOne0000")
    assert other.status_code == 403 and stripe_error_problems(other.json()) == []
    refused = stripe_http.get("/v1/account", params={"expand[]": "email"})
    assert refused.status_code == 400 and stripe_error_problems(refused.json()) == []


@pytest.mark.parametrize("path", CUSTOMER_PATHS)
def test_every_customer_expansion_of_the_spec(stripe_http: httpx.Client, path: str) -> None:
    response = stripe_http.get("/v1/customers", params={"limit": 5, "expand[]": f"data.{path}"})
    assert response.status_code == 200, response.text
    assert _problems(response.json(), "customer") == []


@pytest.mark.parametrize("path", INVOICE_PATHS)
def test_every_invoice_expansion_of_the_spec(stripe_http: httpx.Client, path: str) -> None:
    response = stripe_http.get("/v1/invoices", params={"limit": 5, "expand[]": f"data.{path}"})
    assert response.status_code == 200, response.text
    assert _problems(response.json(), "invoice") == []


def test_deeper_spec_paths_are_accepted(stripe_http: httpx.Client) -> None:
    deeper = [p for p in _spec_paths("customer", 3) if p not in CUSTOMER_PATHS]
    assert len(deeper) > 100
    for path in deeper:
        response = stripe_http.get("/v1/customers", params={"limit": 1,
                                                            "expand[]": f"data.{path}"})
        assert response.status_code == 200, (path, response.text)


@pytest.mark.parametrize(("url", "path"), [
    ("/v1/customers", "data.email"),          # a property, but not an expandable one
    ("/v1/customers", "data.sources.customer"),  # a list is stepped into through data
    ("/v1/invoices", "data.customer.nonsense"),
    ("/v1/invoices", "customer"),             # a list's expansions start with data.
    ("/v1/invoices/in_missing", "nonsense"),
])
def test_paths_the_spec_does_not_allow_are_refused(stripe_http: httpx.Client, url: str,
                                                   path: str) -> None:
    response = stripe_http.get(url, params={"expand[]": path})
    if url.endswith("in_missing"):  # the expansion is checked before the lookup
        assert response.status_code in (400, 404)
        return
    assert response.status_code == 400
    body = response.json()
    assert stripe_error_problems(body) == []
    assert body["error"]["param"] == "expand" and path in body["error"]["message"]


def test_what_the_sandbox_keeps_expands_and_what_it_does_not_is_empty(
        stripe_http: httpx.Client) -> None:
    listed = stripe_http.get("/v1/invoices", params={
        "limit": 10, "expand[]": ["data.customer.sources", "data.customer.tax_ids",
                                  "data.total_tax_amounts.tax_rate", "data.discounts",
                                  "data.charge"]}).json()
    for invoice in listed["data"]:
        customer = invoice["customer"]
        assert customer["object"] in ("customer",) and customer["id"].startswith("cus_")
        assert customer["sources"] == {"object": "list", "data": [], "has_more": False,
                                       "url": f"/v1/customers/{customer['id']}/sources"}
        assert customer["tax_ids"]["data"] == []
        assert invoice["discounts"] == []
        assert "charge" not in invoice  # gone from invoices since 2025-03-31.basil
    unset = stripe_http.get("/v1/customers", params={"expand[]": "data.default_source"}).json()
    assert all(c["default_source"] is None for c in unset["data"])


def _client(sb: Sandbox) -> stripe.StripeClient:
    return stripe.StripeClient(
        sb.credentials("stripe"),
        base_addresses={"api": sb.base_url("stripe")},
        http_client=stripe.HTTPXClient(allow_sync_methods=True),
        max_network_retries=0,
    )


def test_the_official_sdk_reads_the_account_and_lists_with_expansions(
        sandbox: Sandbox) -> None:
    client = _client(sandbox)
    account = client.v1.accounts.retrieve_current()
    assert isinstance(account, stripe.Account) and account.id.startswith("acct_")
    assert client.v1.accounts.retrieve(account.id).id == account.id
    customers = list(client.v1.customers.list({
        "limit": 7, "expand": ["data.sources", "data.subscriptions", "data.tax_ids",
                               "data.default_source",
                               "data.invoice_settings.default_payment_method"],
    }).auto_paging_iter())
    assert [c.id for c in customers] == sandbox.expected_ids("stripe.customers")
    assert all(c.sources is not None and list(c.sources.data) == [] for c in customers)
    invoices = list(client.v1.invoices.list({
        "limit": 9, "expand": ["data.customer", "data.discounts",
                               "data.total_tax_amounts.tax_rate", "data.payment_intent",
                               "data.lines.data.price"],
    }).auto_paging_iter())
    assert [i.id for i in invoices] == sandbox.expected_ids("stripe.invoices")
    assert all(isinstance(i.customer, stripe.Customer) for i in invoices)
    with pytest.raises(stripe.InvalidRequestError, match="cannot be expanded"):
        client.v1.customers.list({"expand": ["data.name"]})
