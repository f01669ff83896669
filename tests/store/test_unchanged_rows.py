"""A write that changes nothing leaves a row as it was (its synced_at included), yet a sweep
still knows the row was seen: no live row is ever tombstoned. Both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cscor_tools.export import export_bundle
from cscor_tools.records import ChangeSet, Sweep, Tombstone
from cscor_tools.sandbox import Sandbox
from cscor_tools.schema import make_id, provenance
from cscor_tools.store import Store, open_store
from cscor_tools.workspace import sync_connector

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def client(n: int, synced_at: datetime = T0, **fields: Any) -> dict[str, Any]:
    row = provenance("clients", "test", f"c{n}", synced_at=synced_at,
                     created_at=T0 + timedelta(days=n))
    row.update({"name": f"Client {n}", "email": f"c{n}@example.com",
                "tags": ["a"], "address": {"country": "FR"}, **fields})
    return row


def synced_at(store: Store, n: int) -> datetime:
    (row,) = store.get_rows("clients", [make_id("clients", "test", f"c{n}")]).values()
    value: datetime = row["synced_at"]
    return value


def test_an_unchanged_row_keeps_its_synced_at(store: Store) -> None:
    store.upsert("clients", [client(1), client(2)])
    store.upsert("clients", [client(1, synced_at=T0 + HOUR), client(2, synced_at=T0 + HOUR,
                                                                    name="Renamed")])
    assert synced_at(store, 1) == T0  # nothing changed: not rewritten
    assert synced_at(store, 2) == T0 + HOUR
    # a row stamped by the store (no synced_at of its own) is no different
    partial = {"id": make_id("clients", "test", "c1"), "source": "test", "source_id": "c1",
               "email": "c1@example.com"}
    store.upsert("clients", [partial])
    assert synced_at(store, 1) == T0
    store.upsert("clients", [{**partial, "notes": "now with a note"}])
    assert synced_at(store, 1) > T0 + HOUR


def test_a_sweep_spares_a_row_seen_unchanged_and_takes_one_not_seen(store: Store) -> None:
    store.upsert("clients", [client(1), client(2)])
    listing = T0 + HOUR
    store.upsert("clients", [client(1, synced_at=listing + timedelta(seconds=1))])  # unchanged
    sweep = Sweep("clients", "test", listing, "gone at reconcile")
    assert store.apply(ChangeSet(sweeps=[sweep])) == {"clients.deleted": 1}
    live = {r["source_id"] for b in store.iter_rows("clients", include_deleted=False) for r in b}
    assert live == {"c1"}
    assert synced_at(store, 1) == T0


def test_a_replayed_deletion_rewrites_nothing(store: Store) -> None:
    store.upsert("clients", [client(1)])
    stone = Tombstone(make_id("clients", "test", "c1"), T0, "deleted at source")
    changes = ChangeSet()
    changes.tombstone("clients", stone)
    assert store.apply(changes) == {"clients.deleted": 1}
    first = synced_at(store, 1)
    assert store.apply(changes) == {"clients.deleted": 0}
    assert synced_at(store, 1) == first


def test_an_older_workspace_gets_seen_at_from_synced_at(store_url: str) -> None:
    with open_store(store_url) as store:
        store.upsert("clients", [client(1), client(2)])
        with store.transaction():  # as a workspace written before seen_at existed
            store._execute('ALTER TABLE "clients" DROP COLUMN "seen_at"')
    with open_store(store_url) as store:
        assert "seen_at" in store._columns()["clients"]
        sweep = Sweep("clients", "test", T0 + timedelta(seconds=1), "gone")
        store.upsert("clients", [client(1, synced_at=T0 + HOUR)])  # seen again, unchanged
        assert store.apply(ChangeSet(sweeps=[sweep])) == {"clients.deleted": 1}
        assert [r["source_id"] for b in store.iter_rows("clients", include_deleted=False)
                for r in b] == ["c1"]


def _files(bundle: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(bundle.iterdir())
            if p.name not in ("manifest.json", "datapackage.json")}


def _synced(store: Store) -> dict[str, dict[str, datetime]]:
    from cscor_tools.schema import ENTITIES

    return {e: {r["id"]: r["synced_at"] for b in store.iter_rows(e, columns=["id", "synced_at"])
                for r in b} for e in ENTITIES}


@pytest.mark.parametrize("connector", ["stripe", "example_resend"])
def test_a_sync_with_nothing_new_leaves_rows_and_exports_as_they_were(
    store: Store, tmp_path: Path, connector: str
) -> None:
    provider = {"stripe": "stripe", "example_resend": "resend"}[connector]
    env_name = {"stripe": "STRIPE_API_KEY", "example_resend": "RESEND_API_KEY"}[connector]
    with Sandbox(seed=9, scale=0.03) as sb:
        def sync() -> None:
            result = sync_connector(connector, store=store, base_url=sb.base_url(provider),
                                    env={env_name: sb.credentials(provider)}, rate_limit=1000)
            assert result.status == "succeeded", result

        sync()
        before = _synced(store)
        assert sum(len(v) for v in before.values()) > 0
        export_bundle(store, tmp_path / "a", include_deleted=True)
        sync()  # nothing changed at the provider
        assert _synced(store) == before
        export_bundle(store, tmp_path / "b", include_deleted=True)
        assert _files(tmp_path / "a") == _files(tmp_path / "b")
        counts = store.counts()
        sb.mutate(create=0.0, update=0.0, delete=0.2)  # and a sweep still finds deletions
        sync()
        assert sum(c["deleted"] for c in store.counts().values()) > sum(
            c["deleted"] for c in counts.values())
