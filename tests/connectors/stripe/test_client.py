"""Stripe's errors, headers and settings at the connector's HTTP boundary (MockTransport)."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest

from cscor_tools.config import Config
from cscor_tools.connectors import load_connector
from cscor_tools.connectors.base import Secret
from cscor_tools.connectors.settings import connector_settings
from cscor_tools.connectors.stripe import API_VERSION, StripeConnector
from cscor_tools.connectors.stripe.client import StripeHttpClient, redact_keys, redact_secrets
from cscor_tools.connectors.stripe.streams import CustomersStream
from cscor_tools.errors import (
    AuthenticationError,
    ConfigError,
    NotFoundError,
    PermissionDeniedError,
    UnexpectedResponseError,
)

KEY = "rk_test_FAKEnotAkey01"  # obviously fake, shaped like a restricted key


def list_page(http: StripeHttpClient, path: str, params: Any) -> Any:
    return http.get(path, params=params).data


def retrieve(http: StripeHttpClient, path: str) -> Any:
    return http.get(path).data


def client(handler: Any, **kw: Any) -> StripeHttpClient:
    return StripeHttpClient("Stripe", "https://api.stripe.test", credential=Secret(KEY),
                            credential_env="STRIPE_API_KEY",
                            transport=httpx.MockTransport(handler),
                            sleep=lambda s: None, **kw)


def test_the_registry_loads_stripe_through_its_entry_point() -> None:
    assert load_connector("stripe") is StripeConnector


def test_settings_come_from_env_and_base_url_override() -> None:
    env = {"STRIPE_API_KEY": KEY, "STRIPE_API_BASE": "http://127.0.0.1:9"}
    settings = connector_settings(StripeConnector, Config(), env=env)
    assert settings.base_url == "http://127.0.0.1:9"
    assert settings.rate_limit == 100.0 and settings.concurrency == 8
    connector = StripeConnector(settings)
    assert connector.http_headers() == {"Stripe-Version": API_VERSION}
    details = connector.run_details()
    assert details["api_version"] == API_VERSION and details["key_mode"] == "test"
    assert KEY not in repr(details) and KEY not in repr(connector)


def test_a_publishable_key_is_refused_by_name_not_value() -> None:
    settings = connector_settings(StripeConnector, Config(), env={"STRIPE_API_KEY": "pk_live_x1"})
    with pytest.raises(ConfigError, match="STRIPE_API_KEY holds a publishable key") as err:
        StripeConnector(settings)
    assert "pk_live_x1" not in str(err.value)


def test_every_request_sends_the_pinned_version_and_bearer_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"object": "list", "data": [], "has_more": False})

    http = client(handler, headers={"Stripe-Version": API_VERSION})
    list_page(http, "/v1/customers", [("limit", 100), ("created[gte]", 5)])
    (request,) = seen
    assert request.headers["stripe-version"] == API_VERSION
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.url.params["created[gte]"] == "5"


def test_401_names_the_variable_never_the_key() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": {
            "message": f"Invalid API Key provided: {KEY[:8]}****{KEY[-4:]}",
            "type": "invalid_request_error", "code": "api_key_invalid"}})

    with pytest.raises(AuthenticationError) as err:
        list_page(client(handler), "/v1/customers", [])
    assert "STRIPE_API_KEY" in str(err.value) and KEY[:8] not in str(err.value)


def test_403_of_a_restricted_key_says_which_permission_and_hides_the_key() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"error": {
            "message": f"The provided key '{KEY[:8]}***{KEY[-4:]}' does not have the required "
                       "permissions for this endpoint on account 'acct_1'.",
            "type": "invalid_request_error"}})

    with pytest.raises(PermissionDeniedError) as err:
        list_page(client(handler), "/v1/charges", [("limit", 1)])
    message = str(err.value)
    assert "'Charges: Read'" in message and "/v1/charges" in message
    assert KEY[:8] not in message and KEY[-4:] not in message


def test_404_of_an_endpoint_names_it_and_the_likely_causes() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"error": {
            "message": f"Unrecognized request URL (GET: {request.url.path}).",
            "type": "invalid_request_error"}})

    with pytest.raises(NotFoundError) as err:
        list_page(client(handler), "/v1/payment_intents?limit=1", [])
    message = str(err.value)
    assert message.startswith("Stripe on /v1/payment_intents (HTTP 404): "
                              "https://api.stripe.test does not serve this endpoint")
    assert "--api-base" in message and "STRIPE_API_BASE" in message
    assert "may not have access to this API" in message
    assert "limit=1" not in message and KEY[8:] not in message


def test_404_of_a_server_that_is_not_stripe_hides_the_base_urls_user_info() -> None:
    http = StripeHttpClient(
        "Stripe", "https://alice:placeholder@proxy.example/stripe/", credential=Secret(KEY),
        transport=httpx.MockTransport(lambda request: httpx.Response(404, text="<h1>404</h1>")))
    with pytest.raises(NotFoundError) as err:
        list_page(http, "/v1/customers", [])
    message = str(err.value)
    assert "https://proxy.example/stripe does not serve this endpoint: no details given" \
        in message
    assert "alice" not in message and "placeholder" not in message


def test_404_of_a_missing_object_stays_a_plain_not_found() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"error": {
            "message": "No such customer: 'cus_gone'", "type": "invalid_request_error",
            "code": "resource_missing", "param": "id"}})

    with pytest.raises(NotFoundError) as err:
        retrieve(client(handler), "/v1/customers/cus_gone")
    assert err.value.code == "resource_missing"
    assert str(err.value) == ("Stripe on /v1/customers/cus_gone (HTTP 404): not found: "
                              "No such customer: 'cus_gone'")


def test_stripe_should_retry_makes_an_error_transient() -> None:
    answers = [httpx.Response(409, headers={"Stripe-Should-Retry": "true"},
                              json={"error": {"message": "lock_timeout"}}),
               httpx.Response(200, json={"object": "list", "data": [], "has_more": False})]
    http = client(lambda request: answers.pop(0))
    assert list_page(http, "/v1/invoices", [])["data"] == []
    assert http.stats.retries == 1


@pytest.mark.parametrize("body", [{"data": None}, {"has_more": False}, [], "text",
                                  {"data": [{"id": "cus_1", "created": 1}]}])
def test_a_body_that_is_not_a_list_is_an_unexpected_response_not_an_empty_page(
    body: Any,
) -> None:
    settings = connector_settings(StripeConnector, Config(), env={"STRIPE_API_KEY": KEY})
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    connector = StripeConnector(dataclasses.replace(settings, transport=transport))
    stream = CustomersStream(connector)
    with pytest.raises(UnexpectedResponseError) as err:
        stream.make_plan("full", None)
    message = str(err.value)
    assert message.startswith("Stripe on /v1/customers: stream customers: unexpected response")
    assert err.value.exit_code == 5


def test_redact_secrets_removes_keys_and_client_secrets(example: Any) -> None:
    secret = example("payment_intent")["client_secret"]
    text = f"keys sk_live_abc123 and {secret} but not pi_123 or client_secret"
    assert redact_secrets(text) == ("keys [key redacted] and [client secret redacted] but not "
                                    "pi_123 or client_secret")


def test_redact_keys() -> None:
    text = "keys sk_live_abc123, rk_test_****wxyz and pk_test_1 but not skate_park"
    assert redact_keys(text) == ("keys [key redacted], [key redacted] and [key redacted] but "
                                 "not skate_park")
