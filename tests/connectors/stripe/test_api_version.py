"""The Stripe API version is pinned on purpose: an SDK upgrade cannot change it unnoticed."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

from cscor_tools.connectors.stripe import API_VERSION
from tests.connectors.stripe.conftest import CASSETTES


def test_the_pinned_api_version_is_the_one_the_installed_sdk_pins() -> None:
    import stripe

    assert stripe.api_version == API_VERSION, (
        f"the installed stripe {stripe.VERSION} pins API version {stripe.api_version}, but the "
        f"connector sends {API_VERSION}. Moving to a new API version is a deliberate change: "
        "read Stripe's changelog between the two, update normalize.py (and its tests) for the "
        "layouts that changed, then set API_VERSION in cscor_tools/connectors/stripe/"
        "connector.py and rebuild the cassettes (cassettes/stripe/README.md) — or pin the "
        "stripe package back to the version this one came from."
    )


def test_the_pin_is_a_literal_not_read_from_the_sdk() -> None:
    from cscor_tools.connectors.stripe import connector

    module = ast.parse(Path(connector.__file__).read_text())
    (value,) = [node.value for node in module.body if isinstance(node, ast.Assign)
                and [ast.unparse(t) for t in node.targets] == ["API_VERSION"]]
    assert isinstance(value, ast.Constant) and value.value == API_VERSION, (
        "API_VERSION must stay a literal: read from stripe.api_version, a package upgrade "
        "would change the version sent without anyone deciding it"
    )


def test_the_cassettes_claim_the_pinned_version() -> None:
    for name in ("full_sync.yaml", "incremental.yaml"):
        interactions = yaml.safe_load((CASSETTES / name).read_text())["interactions"]
        sent = {v for i in interactions for v in i["request"]["headers"]["Stripe-Version"]}
        served = {v for i in interactions for v in i["response"]["headers"]["Stripe-Version"]}
        assert sent == served == {API_VERSION}, (
            f"{name} was built under {sent | served}, the connector pins {API_VERSION}: "
            "rebuild it (cassettes/stripe/README.md)"
        )
