"""Retention: exact to the second, per entity, from a TOML policy or the defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cscor_tools.errors import PolicyError
from cscor_tools.privacy.retention import (
    Period,
    apply_retention,
    load_retention_policy,
    parse_retention_policy,
)
from cscor_tools.records import Tombstone
from cscor_tools.schema import provenance
from cscor_tools.store import Store

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def _notification(n: int, sent: datetime) -> dict[str, object]:
    row = provenance("notifications", "resend", f"em_{n}", synced_at=NOW, created_at=sent)
    row.update(channel="email", recipient=f"p{n}@example.com", sent_at=sent)
    return row


def test_a_row_exactly_its_period_old_stays_and_one_a_second_older_goes(store: Store) -> None:
    cutoff = NOW - timedelta(days=30)
    sent = [cutoff - timedelta(seconds=1), cutoff, cutoff + timedelta(seconds=1)]
    store.upsert("notifications", [_notification(i, s) for i, s in enumerate(sent)])
    policy = parse_retention_policy(
        {"retention": {"notifications": {"keep": "30d", "field": "sent_at"}}}, origin="t")
    dry = apply_retention(store, policy, dry_run=True, now=NOW)
    assert dry.entities["notifications"]["deleted"] == 1 and store.count("notifications") == 3
    done = apply_retention(store, policy, now=NOW)
    assert done.entities["notifications"]["cutoff"] == cutoff.isoformat()
    left = sorted(r["sent_at"] for b in store.iter_rows("notifications") for r in b)
    assert left == sent[1:]


def test_anonymize_keeps_the_amounts(store: Store) -> None:
    old = provenance("invoices", "stripe", "in_old", synced_at=NOW,
                     created_at=datetime(2015, 1, 1, tzinfo=UTC))
    old.update(customer_email="old@example.com", customer_name="Old Client", total=500,
               number="INV-1")
    store.upsert("invoices", [old])
    result = apply_retention(store, None, now=NOW)  # the defaults: ten years, anonymized
    assert result.entities["invoices"]["anonymized"] == 1
    (row,) = [r for b in store.iter_rows("invoices") for r in b]
    assert (row["customer_email"], row["customer_name"], row["total"], row["number"]) == (
        None, None, 500, "INV-1")


def test_tombstones_go_after_their_period(store: Store) -> None:
    rows = [_notification(i, NOW) for i in range(2)]
    store.upsert("notifications", rows)
    gone = NOW - timedelta(days=90)
    with store.transaction() as tx:
        tx.tombstone("notifications", [Tombstone(rows[0]["id"], gone - timedelta(seconds=1),
                                                 "event"),
                                       Tombstone(rows[1]["id"], gone, "event")], NOW)
    result = apply_retention(store, None, now=NOW)
    assert result.entities["notifications"]["tombstones_deleted"] == 1
    assert store.count("notifications") == 1


@pytest.mark.parametrize(("text", "moment", "expected"), [
    ("1y", datetime(2024, 2, 29, tzinfo=UTC), datetime(2023, 2, 28, tzinfo=UTC)),
    ("1mo", datetime(2026, 3, 31, 5, tzinfo=UTC), datetime(2026, 2, 28, 5, tzinfo=UTC)),
    ("1y6mo", datetime(2026, 3, 1, tzinfo=UTC), datetime(2024, 9, 1, tzinfo=UTC)),
    ("36h", datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 2, 28, 12, tzinfo=UTC)),
    ("1s", datetime(2026, 1, 1, tzinfo=UTC), datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)),
])
def test_periods_are_calendar_exact(text: str, moment: datetime, expected: datetime) -> None:
    assert Period.parse(text, "t").before(moment) == expected


@pytest.mark.parametrize(("body", "message"), [
    ('[retention.nope]\nkeep = "1d"\n', "retention.nope: unknown entity"),
    ('[retention.comments]\nkeep = "soon"\n', "keep = 'soon'"),
    ('[retention.comments]\nkeep = "1d"\nfield = "body"\n', "not a time of comments"),
    ('[retention.comments]\nkeep = "1d"\naction = "shred"\n', "retention.comments.action"),
    ('[retention.comments]\nfield = "created_at"\n', "retention.comments.keep"),
])
def test_a_wrong_policy_names_file_key_and_reason(tmp_path: Path, body: str,
                                                  message: str) -> None:
    path = tmp_path / "keep.toml"
    path.write_text(body)
    with pytest.raises(PolicyError, match=message) as info:
        load_retention_policy(path)
    assert str(path) in str(info.value)
