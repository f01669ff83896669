"""Replays of Stripe-shaped exchanges (cassettes/stripe, built from Stripe's example objects;
see its README), and the check that no cassette holds a key.

Expectations are computed from the cassettes' own bodies, so a cassette re-recorded against a
real test-mode account (``CSCOR_VCR_RECORD=all``, see the README) is checked the same way.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from cscor_tools.connectors.stripe import API_VERSION
from cscor_tools.connectors.stripe.client import redact_secrets
from cscor_tools.schema import make_id
from cscor_tools.store import Store
from cscor_tools.workspace import sync_connector
from tests.connectors.cassettes import RECORD_MODE, Scrubber, bodies, credential, recorder
from tests.connectors.stripe.conftest import CASSETTES

KEY_SHAPE = re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{3,}")
#: a payment's client secret (pi_…_secret_…): it can confirm the payment, like a key can
CLIENT_SECRET_SHAPE = re.compile(r"_secret_[A-Za-z0-9]{8,}")
SCRUB = Scrubber(frozenset({"content-type", "stripe-version", "request-id", "accept"}),
                 redact_secrets, scrub_bodies=True)
RECORDER = recorder(CASSETTES, SCRUB)


def listed(name: str, path: str) -> dict[str, dict[str, Any]]:
    return {o["id"]: o for body in bodies(CASSETTES / name, path) for o in body["data"]}


def sync(store: Store) -> Any:
    return sync_connector("stripe", store=store,
                          env={"STRIPE_API_KEY": credential("STRIPE_API_KEY", "sk_test_cassette")},
                          base_url="https://api.stripe.com", concurrency=1)


def test_full_then_incremental_sync_of_stripe_examples(sqlite_store: Store) -> None:
    with RECORDER.use_cassette("full_sync.yaml", allow_playback_repeats=False):
        result = sync(sqlite_store)
    assert result.status == "succeeded", [s.error for s in result.streams]
    customers = listed("full_sync.yaml", "/v1/customers")
    invoices = listed("full_sync.yaml", "/v1/invoices")
    charges = listed("full_sync.yaml", "/v1/charges")
    intents = listed("full_sync.yaml", "/v1/payment_intents")
    assert sqlite_store.count("clients") == len(customers)
    assert sqlite_store.count("invoices") == len(invoices)
    lines = sum(len(i["lines"]["data"]) for i in invoices.values())
    assert sqlite_store.count("invoice_lines") == lines
    assert sqlite_store.count("payments") == len(charges) + len(intents)
    rows = sqlite_store.get_rows("payments", [make_id("payments", "stripe", c) for c in charges])
    for charge_id, charge in charges.items():
        row = rows[make_id("payments", "stripe", charge_id)]
        card = charge["payment_method_details"]["card"]
        assert (row["card_brand"], row["card_last4"], row["card_country"]) == (
            card["brand"], card["last4"], card["country"])
        assert card["fingerprint"] not in repr(row)
        assert row["source_version"] == API_VERSION

    with RECORDER.use_cassette("incremental.yaml", allow_playback_repeats=False):
        result = sync(sqlite_store)
    assert result.status == "succeeded", [s.error for s in result.streams]
    events = listed("incremental.yaml", "/v1/events")
    deleted = {e["data"]["object"]["id"] for e in events.values() if e["type"].endswith(
        ".deleted")}
    gone = {r["source_id"] for entity in ("clients", "invoices")
            for batch in sqlite_store.iter_rows(entity) for r in batch if r["deleted"]}
    assert gone == deleted
    other_versions = {e["api_version"] for e in events.values()} - {API_VERSION}
    warnings = {s.stream: s.warnings for s in result.streams}["events"]
    for version in other_versions:
        assert any(version in w for w in warnings)


def test_no_cassette_contains_a_key() -> None:
    files = sorted(p for p in CASSETTES.iterdir() if p.is_file())
    assert any(p.suffix == ".yaml" for p in files)
    for path in files:
        text = path.read_text()
        assert not KEY_SHAPE.search(text), f"{path.name} holds something shaped like a key"
        if path.suffix == ".yaml":  # (fixture_objects.json is Stripe's examples, verbatim)
            assert not CLIENT_SECRET_SHAPE.search(text), f"{path.name} holds a client secret"
            for item in yaml.safe_load(text)["interactions"]:
                names = {h.lower() for h in item["request"]["headers"]}
                assert not names & {"authorization", "cookie"}, path.name


@pytest.mark.parametrize("name", ["full_sync.yaml", "incremental.yaml"])
def test_cassettes_say_what_they_are(name: str) -> None:
    assert "NOT a recording of a real account" in (CASSETTES / name).read_text()[:300] or \
        RECORD_MODE != "none"


def test_the_recording_scrubber_removes_a_payment_intents_client_secret(
    example: Any
) -> None:
    intent = example("payment_intent")
    secret = intent["client_secret"]
    assert CLIENT_SECRET_SHAPE.search(secret)  # the example holds one shaped like a real one
    response = {"headers": {"Set-Cookie": ["x"]},
                "body": {"string": json.dumps({"object": "list", "data": [intent]}).encode()}}
    scrubbed = SCRUB.response(response)
    body = scrubbed["body"]["string"].decode()
    assert secret not in body and intent["id"] in body
    assert json.loads(body)["data"][0]["client_secret"] == "[client secret redacted]"
    assert scrubbed["headers"] == {}


def test_the_cassette_builder_reproduces_the_cassettes(tmp_path: Path) -> None:
    """The cassettes are exactly what the documented build makes from the fixture objects."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("build", CASSETTES / "build_cassettes.py")
    assert spec and spec.loader
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    objects = json.loads((CASSETTES / "fixture_objects.json").read_text())
    assert build.full_sync(objects) == yaml.safe_load(
        (CASSETTES / "full_sync.yaml").read_text())["interactions"]
    assert build.incremental(objects) == yaml.safe_load(
        (CASSETTES / "incremental.yaml").read_text())["interactions"]
