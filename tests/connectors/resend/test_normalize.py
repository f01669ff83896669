"""Resend records as rows: plain functions, tested on the spec's own example objects."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cscor_tools.connectors.resend import normalize as n
from cscor_tools.schema import make_id

EXAMPLES = json.loads((Path(__file__).resolve().parents[3] / "cassettes" / "resend"
                       / "example_objects.json").read_text())
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def example(name: str) -> dict[str, Any]:
    return dict(EXAMPLES[name])


@pytest.mark.parametrize(("text", "expected"), [
    ("2023-10-06 23:47:56.678+00", datetime(2023, 10, 6, 23, 47, 56, 678000, tzinfo=UTC)),
    ("2023-10-06T23:47:56.678Z", datetime(2023, 10, 6, 23, 47, 56, 678000, tzinfo=UTC)),
    ("2023-04-03T22:13:42.674981+00:00", datetime(2023, 4, 3, 22, 13, 42, 674981, tzinfo=UTC)),
    (None, None), ("", None),
])
def test_resend_times_parse_in_every_form_it_writes(text: str | None,
                                                    expected: datetime | None) -> None:
    assert n.parse_time(text) == expected


@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1),
                    timezones=st.just(UTC)))
def test_both_time_forms_round_trip(moment: datetime) -> None:
    spaced = moment.strftime("%Y-%m-%d %H:%M:%S.%f") + "+00"
    assert n.parse_time(spaced) == moment
    assert n.parse_time(moment.isoformat()) == moment


def test_a_sent_email_is_an_outbound_notification() -> None:
    raw = example("email") | {"cc": ["a@example.com"], "bcc": None,
                              "scheduled_at": "2023-04-04T08:00:00+00:00"}
    row = n.email_row(raw, direction="outbound", synced_at=NOW)
    assert row["id"] == make_id("notifications", "resend", raw["id"])
    assert (row["channel"], row["direction"], row["status"]) == ("email", "outbound", "delivered")
    assert row["recipient"] == "delivered@resend.dev" and row["cc"] == ["a@example.com"]
    assert row["bcc"] is None and row["scheduled_at"] == datetime(2023, 4, 4, 8, tzinfo=UTC)
    # no link derived from an address (see the package docstring); absent rather than None,
    # so a link the workspace makes is not blanked by the next sync
    assert "client_id" not in row and "contact_id" not in row


def test_a_received_email_is_inbound_and_has_no_scheduled_time() -> None:
    row = n.email_row(example("received_email"), direction="inbound", synced_at=NOW)
    assert row["direction"] == "inbound" and row["status"] == "received"
    assert "scheduled_at" not in row and row["sender"] == "sender@example.com"


def test_a_contact_keeps_segments_only_when_they_were_read() -> None:
    raw = example("contact")
    assert "segments" not in n.contact_row(raw, synced_at=NOW)
    row = n.contact_row(raw, synced_at=NOW, segments={"b", "a"})
    assert row["segments"] == ["a", "b"] and row["name"] == "Steve Wozniak"


def test_topic_rows_are_partial_and_list_the_opt_ins() -> None:
    row = n.contact_topics_row("c1", [{"name": "News", "subscription": "opt_in"},
                                      {"name": "Offers", "subscription": "opt_out"}],
                               synced_at=NOW)
    assert row["topics"] == ["News"] and "email" not in row and "created_at" not in row


def test_a_recipient_is_keyed_by_broadcast_and_contact_not_by_its_page_cursor() -> None:
    raw = example("recipient")
    row = n.recipient_row("b1", raw, "bounced", synced_at=NOW)
    assert row["source_id"] == f"b1/{raw['contact_id']}"
    assert row["contact_id"] == make_id("contacts", "resend", raw["contact_id"])
    assert row["bounce_type"] == "permanent" and row["status"] == "bounced"
    anonymous = n.recipient_row("b1", {"id": "x", "email": " Ann@Example.com"}, "sent",
                                synced_at=NOW)
    assert anonymous["source_id"] == "b1/ann@example.com" and anonymous["contact_id"] is None


def test_a_domain_never_carries_its_dns_records() -> None:
    raw = example("domain") | {"records": [{"record": "DKIM", "value": "p=MIGfMA0G"}]}
    row = n.domain_row(raw, synced_at=NOW)
    assert "MIGfMA0G" not in repr(row)
    assert (row["provider"], row["kind"], row["name"], row["region"]) == (
        "resend", "email_domain", "example.com", "us-east-1")
