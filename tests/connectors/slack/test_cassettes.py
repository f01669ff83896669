"""Replays of Slack-shaped exchanges (cassettes/slack, built from the examples in Slack's
published spec; see its README), and the check that no cassette holds a token.

Expectations are computed from the cassettes' own bodies where they can be, so a cassette
re-recorded against a real workspace (``CSCOR_VCR_RECORD=all``) is checked the same way.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from cscor_tools.config import Config
from cscor_tools.schema import make_id
from cscor_tools.store import Store
from cscor_tools.workspace import sync_connector
from tests.connectors.cassettes import Scrubber, credential, recorder
from tests.connectors.cassettes import bodies as cassette_bodies

from .conftest import CASSETTES, rows

TOKEN_SHAPE = re.compile(r"\bxox[abpre]-[A-Za-z0-9-]+")
RECORDER = recorder(CASSETTES, Scrubber(frozenset({"content-type", "accept"}),
                                        lambda text: TOKEN_SHAPE.sub("[token redacted]", text)))


def bodies(name: str, method: str) -> list[dict[str, Any]]:
    return cassette_bodies(CASSETTES / name, method)


def sync(store: Store) -> Any:
    # one channel at a time, so requests come in the order they were recorded; a high rate,
    # since a replay spends no budget
    return sync_connector("slack", store=store,
                          env={"SLACK_BOT_TOKEN": credential("SLACK_BOT_TOKEN", "xoxb-cassette")},
                          base_url="https://slack.com/api/", concurrency=1, rate_limit=1000.0,
                          config=Config())


def test_a_full_sync_replays_to_the_examples(store: Store) -> None:
    with RECORDER.use_cassette("full_sync.yaml"):
        result = sync(store)
    assert result.status == "succeeded", result
    members = [m for b in bodies("full_sync.yaml", "users.list") for m in b["members"]]
    contacts = rows(store, "contacts")
    assert set(contacts) == {m["id"] for m in members}
    for m in members:
        assert contacts[m["id"]]["email"] == m["profile"].get("email")
        assert contacts[m["id"]]["name"] == m["profile"].get("real_name")
    listed = list({c["id"]: c for b in bodies("full_sync.yaml", "conversations.list")
                   for c in b["channels"]}.values())
    assert set(rows(store, "channels")) == {c["id"] for c in listed}
    team = bodies("full_sync.yaml", "team.info")[0]["team"]
    workspace = rows(store, "integrations")[team["id"]]
    assert workspace["name"] == team["name"] and workspace["kind"] == "slack_workspace"
    notes = rows(store, "notifications")
    general, random = (c["id"] for c in listed)
    history = bodies("full_sync.yaml", "conversations.history")
    thread = bodies("full_sync.yaml", "conversations.replies")[0]["messages"]
    expected = {f"{general}/{m['ts']}" for b in history[:2] for m in b["messages"]}
    expected |= {f"{general}/{m['ts']}" for m in thread}
    expected |= {f"{random}/{m['ts']}" for m in history[2]["messages"]}
    assert set(notes) == expected
    parent = notes[f"{general}/{thread[0]['ts']}"]
    assert parent["reply_count"] == len(thread) - 1 and parent["thread_id"] == thread[0]["ts"]
    reply = notes[f"{general}/{thread[1]['ts']}"]
    assert reply["body"] == thread[1]["text"] and reply["thread_id"] == thread[0]["ts"]
    assert reply["contact_id"] == make_id("contacts", "slack", thread[1]["user"])


def test_the_next_sync_sees_the_edit_and_the_deletion(store: Store) -> None:
    with RECORDER.use_cassette("full_sync.yaml"):
        assert sync(store).status == "succeeded"
    with RECORDER.use_cassette("incremental.yaml") as cassette:
        result = sync(store)
        assert cassette.all_played
    assert result.status == "succeeded", result
    general = bodies("full_sync.yaml", "conversations.list")[0]["channels"][0]["id"]
    before = {m["ts"] for m in bodies("full_sync.yaml", "conversations.history")[0]["messages"]}
    after = bodies("incremental.yaml", "conversations.history")[0]["messages"]
    notes = rows(store, "notifications")
    for m in after:
        row = notes[f"{general}/{m['ts']}"]
        assert row["body"] == m["text"] and row["status"] == "edited" and not row["deleted"]
    for ts in before - {m["ts"] for m in after}:
        assert notes[f"{general}/{ts}"]["deleted"]
    # the history of the lookback only was asked for: the request carried `oldest`
    asked = [i["request"]["uri"] for i in yaml.safe_load(
        (CASSETTES / "incremental.yaml").read_text())["interactions"]]
    assert all("oldest" not in uri for uri in asked)  # matched on path: the query may vary


def test_no_cassette_contains_a_token() -> None:
    for path in [*sorted(CASSETTES.glob("*.yaml")), CASSETTES / "examples.json"]:
        text = path.read_text()
        assert not TOKEN_SHAPE.search(text), path.name
        assert "authorization" not in text.lower(), path.name
        if path.suffix == ".yaml":
            assert text.startswith("# Built by"), path.name  # labelled as built, not recorded


def test_the_cassette_builder_reproduces_the_cassettes(tmp_path: Path) -> None:
    copy = tmp_path / "slack"
    copy.mkdir()
    builder = CASSETTES / "build_cassettes.py"
    (copy / builder.name).write_text(builder.read_text())
    spec = CASSETTES.parents[1].parent / "shared" / "specs" / "slack" / \
        "slack_web_openapi_v2.json"
    subprocess.run([sys.executable, str(copy / builder.name), str(spec)], check=True)
    for name in ("full_sync.yaml", "incremental.yaml", "examples.json"):
        assert (copy / name).read_text() == (CASSETTES / name).read_text(), name
