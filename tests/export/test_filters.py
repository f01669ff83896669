"""Row filters: time range, entities, statuses, tombstones, and the keys they leave dangling."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cscor_tools.errors import PolicyError, RejectedInputError
from cscor_tools.export import export_bundle
from cscor_tools.store import Store
from tests.export.readback import bundle_files, read_bundle
from tests.export.sample import seed


@pytest.fixture
def seeded(store: Store) -> Store:
    seed(store)
    return store


def rows_of(out: Path, entity: str) -> list[dict]:  # type: ignore[type-arg]
    return read_bundle(out)[entity]


def manifest(out: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((out / "manifest.json").read_text())


def test_time_range_bounds_created_at(seeded: Store, tmp_path: Path) -> None:
    since, until = datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC)
    result = export_bundle(seeded, tmp_path / "b", since="2024-03-01", until=until,
                           include_deleted=True)
    for name in ("clients", "invoices"):
        got = rows_of(result.out, name)
        assert got, name
        assert all(since <= r["created_at"] < until for r in got)
        every = [r for b in seeded.iter_rows(name) for r in b]
        assert len(got) == sum(1 for r in every if since <= r["created_at"] < until)
    assert manifest(result.out)["selection"]["time_range"] == {
        "field": "created_at", "since": "2024-03-01T00:00:00.000000Z",
        "until": "2024-06-01T00:00:00.000000Z",
    }


def test_time_range_narrows_the_policys(seeded: Store, tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text('[policy]\nextends = "portability"\n[rows]\nsince = 2024-02-01\n'
                      "until = 2024-12-31\n", encoding="utf-8")
    result = export_bundle(seeded, tmp_path / "b", policy=policy, since="2023-01-01",
                           until="2024-05-01T00:00:00Z")
    selection = manifest(result.out)["selection"]["time_range"]
    assert selection["since"] == "2024-02-01T00:00:00.000000Z"  # the policy's, narrower
    assert selection["until"] == "2024-05-01T00:00:00.000000Z"  # the caller's, narrower
    with pytest.raises(RejectedInputError, match="time range is empty"):
        export_bundle(seeded, tmp_path / "c", policy=policy, until="2024-01-01")
    with pytest.raises(RejectedInputError, match="not an ISO date"):
        export_bundle(seeded, tmp_path / "d", since="yesterday")
    assert not (tmp_path / "c").exists() and not (tmp_path / "d").exists()


def test_entities(seeded: Store, tmp_path: Path) -> None:
    result = export_bundle(seeded, tmp_path / "b", entities=["invoices", "clients"])
    assert sorted(bundle_files(result.out)) == [
        "clients.jsonl", "datapackage.json", "invoices.jsonl", "manifest.json"
    ]
    assert [f.entity for f in result.files] == ["clients", "invoices"]  # schema order
    with pytest.raises(RejectedInputError, match="unknown entity 'customers'"):
        export_bundle(seeded, tmp_path / "c", entities=["customers"])
    with pytest.raises(PolicyError, match="does not let comments out"):
        export_bundle(seeded, tmp_path / "d", entities=["comments"], policy="accounting")


def test_statuses_from_the_accounting_policy(seeded: Store, tmp_path: Path) -> None:
    result = export_bundle(seeded, tmp_path / "b", policy="accounting", format="csv")
    assert {f.entity for f in result.files} == {"clients", "invoices", "invoice_lines", "payments"}
    invoices = rows_of(result.out, "invoices")
    assert invoices and {r["status"] for r in invoices} <= {"open", "paid", "void"}
    assert {r["status"] for r in rows_of(result.out, "payments")} == {"succeeded"}
    assert manifest(result.out)["selection"]["status"]["invoices"] == [
        "open", "paid", "uncollectible", "void"
    ]


def test_tombstones_only_when_asked(seeded: Store, tmp_path: Path) -> None:
    live = rows_of(export_bundle(seeded, tmp_path / "a", entities=["clients"]).out, "clients")
    every = rows_of(
        export_bundle(seeded, tmp_path / "b", entities=["clients"], include_deleted=True).out,
        "clients",
    )
    assert not any(r["deleted"] for r in live)
    tombstones = [r for r in every if r["deleted"]]
    assert len(tombstones) == 1 and tombstones[0]["deleted_reason"] == "event"
    assert len(every) == len(live) + 1


def test_keys_to_filtered_rows_are_left_out(seeded: Store, tmp_path: Path) -> None:
    only = export_bundle(seeded, tmp_path / "a", entities=["invoices", "invoice_lines"],
                         include_deleted=True)
    left = manifest(only.out)["foreign_keys_left_out"]
    assert {"field": "invoices.client_id", "references": "clients",
            "reason": "clients is not exported"} in left
    package = json.loads((only.out / "datapackage.json").read_text())
    lines = next(r for r in package["resources"] if r["name"] == "invoice_lines")
    assert lines["schema"]["foreignKeys"] == [
        {"fields": ["invoice_id"], "reference": {"resource": "invoices", "fields": ["id"]}}
    ]
    paid_only = tmp_path / "paid.toml"
    paid_only.write_text('[policy]\nextends = "portability"\n[rows]\n'
                         'status = {invoices = ["paid"]}\n', encoding="utf-8")
    paid = export_bundle(seeded, tmp_path / "b", policy=paid_only,
                         entities=["invoices", "invoice_lines"], include_deleted=True)
    reasons = {k["field"]: k["reason"] for k in manifest(paid.out)["foreign_keys_left_out"]}
    # lines of unpaid invoices point to invoices filtered out
    assert reasons["invoice_lines.invoice_id"].startswith("9 row(s) point to invoices rows")
