"""Replays of Resend-shaped exchanges (cassettes/resend, built from the examples in Resend's
OpenAPI spec; see its README), and the check that no cassette holds a key."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import vcr

from cscor_tools.config import Config, ConnectorConfig
from cscor_tools.schema import make_id
from cscor_tools.store import Store
from cscor_tools.workspace import sync_connector

REPO = Path(__file__).resolve().parents[3]
CASSETTES = REPO / "cassettes" / "resend"
KEY_SHAPE = re.compile(r"\bre_[A-Za-z0-9_]{8,}")
RECORDER = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="none",
    match_on=["method", "path"],
    filter_headers=["authorization", "cookie"],
)


def examples() -> dict[str, Any]:
    return dict(json.loads((CASSETTES / "example_objects.json").read_text()))


def sync(store: Store) -> Any:
    # one stream at a time: the cassette's interactions of one path are played in order;
    # every run lists the contacts in full
    config = Config(connectors={"resend": ConnectorConfig(
        options={"contacts_reconcile_hours": 0})})
    return sync_connector("resend", store=store, env={"RESEND_API_KEY": "re_cassette_key"},
                          base_url="https://api.resend.com", concurrency=1, rate_limit=100,
                          config=config)


def row(store: Store, entity: str, source_id: str) -> dict[str, Any]:
    rows = store.get_rows(entity, [make_id(entity, "resend", source_id)])
    assert rows, (entity, source_id)
    return next(iter(rows.values()))


def test_a_first_sync_then_the_next_of_the_spec_examples(sqlite_store: Store) -> None:
    o = examples()
    with RECORDER.use_cassette("full_sync.yaml") as cassette:
        first = sync(sqlite_store)
        assert cassette.all_played
    assert first.status == "succeeded", first
    email = row(sqlite_store, "notifications", o["email"]["id"])
    assert email["channel"] == "email" and email["direction"] == "outbound"
    assert email["status"] == "delivered" and email["recipient"] == "delivered@resend.dev"
    assert email["sender"] == o["email"]["from"] and email["client_id"] is None
    received = row(sqlite_store, "notifications", o["received_email"]["id"])
    assert received["direction"] == "inbound" and received["sender"] == "sender@example.com"
    contact = row(sqlite_store, "contacts", o["contact"]["id"])
    assert contact["email"] == "steve.wozniak@gmail.com" and contact["name"] == "Steve Wozniak"
    assert contact["segments"] == ["Newsletter"] and contact["topics"] == ["Product updates"]
    assert contact["unsubscribed"] is False
    campaign = row(sqlite_store, "campaigns", o["broadcast"]["id"])
    assert campaign["name"] == "November announcements" and campaign["status"] == "sent"
    recipient = row(sqlite_store, "campaign_recipients",
                    f"{o['broadcast']['id']}/{o['recipient']['contact_id']}")
    # listed as sent, bounced (permanent) and three more: the most telling outcome wins
    assert recipient["status"] == "complained" and recipient["bounce_type"] == "permanent"
    assert recipient["contact_id"] == contact["id"] and recipient["campaign_id"] == campaign["id"]
    domain = row(sqlite_store, "integrations", o["domain"]["id"])
    assert (domain["kind"], domain["name"], domain["status"]) == (
        "email_domain", "example.com", "not_started")

    with RECORDER.use_cassette("incremental.yaml") as cassette:
        second = sync(sqlite_store)
        assert cassette.all_played
    assert second.status == "succeeded", second
    assert row(sqlite_store, "notifications", o["email"]["id"])["status"] == "bounced"
    assert row(sqlite_store, "notifications", "4ef9a417-02e9-4d39-ad75-9611e0fcc33d")[
        "subject"] == "Second email"
    gone = row(sqlite_store, "contacts", o["contact"]["id"])
    assert gone["deleted"] is True and "Resend" in gone["deleted_reason"]
    details = sqlite_store.runs(1)[0].details
    assert details["emails"]["status_changes"] == 1


def test_no_cassette_contains_a_key() -> None:
    for path in CASSETTES.glob("*.yaml"):
        text = path.read_text()
        assert not KEY_SHAPE.search(text), path
        assert "authorization" not in text.lower(), path


@pytest.mark.parametrize("name", ["full_sync.yaml", "incremental.yaml"])
def test_cassettes_say_what_they_are(name: str) -> None:
    head = (CASSETTES / name).read_text().splitlines()[:3]
    assert any("NOT a recording" in line for line in head)
    assert "NOT a recording" in (CASSETTES / "README.md").read_text()


def test_the_cassette_builder_reproduces_the_cassettes(tmp_path: Path) -> None:
    copy = tmp_path / "resend"
    copy.mkdir()
    shutil.copy(CASSETTES / "build_cassettes.py", copy)
    spec = REPO.parent / "shared" / "specs" / "resend" / "resend.json"
    if not spec.exists():
        pytest.fail(f"{spec} is missing: the builder reads Resend's spec from shared/specs")
    subprocess.run([sys.executable, str(copy / "build_cassettes.py"), str(spec)], check=True)
    for name in ("full_sync.yaml", "incremental.yaml", "example_objects.json"):
        assert (copy / name).read_text() == (CASSETTES / name).read_text(), name
