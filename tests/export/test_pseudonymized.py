"""The pseudonymized policy: joins survive, people are not named, pseudonyms are stable."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cscor_tools.export import export_bundle
from cscor_tools.store import Store
from tests.export.readback import bundle_files, read_bundle
from tests.export.sample import seed

ENV_KEY = "a-key-shared-between-two-workspaces-0123456789"


@pytest.fixture
def seeded(sqlite_store: Store) -> Store:
    seed(sqlite_store)
    return sqlite_store


def export(store: Store, out: Path, fmt: str = "parquet", **kw) -> dict[str, list[dict]]:  # type: ignore[no-untyped-def, type-arg]
    result = export_bundle(store, out, format=fmt, policy="pseudonymized", **kw)
    return read_bundle(result.out)


def test_same_person_same_pseudonym_across_entities(seeded: Store, tmp_path: Path) -> None:
    data = export(seeded, tmp_path / "b", include_deleted=True)
    # clients store "Person.1@Example.com", invoices "person.1@example.com": one address
    client_emails = {r["email"] for r in data["clients"]}
    invoice_emails = {r["customer_email"] for r in data["invoices"]}
    payment_emails = {r["receipt_email"] for r in data["payments"]}
    assert invoice_emails <= client_emails
    assert payment_emails <= client_emails
    assert all(re.fullmatch(r"[0-9a-f]{32}", e) for e in client_emails)


def test_hashed_ids_still_join(seeded: Store, tmp_path: Path) -> None:
    data = export(seeded, tmp_path / "b", include_deleted=True)
    client_ids = {r["id"] for r in data["clients"]}
    invoice_ids = {r["id"] for r in data["invoices"]}
    assert {r["invoice_id"] for r in data["invoice_lines"]} <= invoice_ids
    linked = [r["client_id"] in client_ids for r in data["invoices"]]
    assert linked.count(False) == 1  # the one invoice whose client was never synced
    assert not any(i.startswith(("cli_", "inv_")) for i in client_ids | invoice_ids)


def test_nothing_identifying_in_the_files(seeded: Store, tmp_path: Path) -> None:
    result = export_bundle(seeded, tmp_path / "b", format="csv", policy="pseudonymized",
                           include_deleted=True)
    for name, body in bundle_files(result.out).items():
        if name in ("manifest.json", "datapackage.json"):
            continue
        text = body.decode()
        assert not re.search(r"[\w.+-]+@[\w-]+", text), name  # no email, whole or partial
        assert "example" not in text.lower(), name
        assert "Client " not in text and "Contact " not in text and "Author " not in text, name
        assert "Rue de la Paix" not in text and "75002" not in text, name
        assert "GmbH" not in text and "src_" not in text, name
        assert "(555) 010-" not in text and "20 7946" not in text, name  # phones
        assert "Lee" not in text and "CFO" not in text, name  # contacts' names and titles
        # provider references and the owner's labels: hashed or dropped, never in clear
        assert "INV-" not in text and "C123" not in text, name
        assert "Website" not in text and "vip" not in text, name
    clients = read_bundle(result.out)["clients"]
    assert {tuple(r["address"]) for r in clients if r["address"]} == {("country",)}
    assert {r["address"]["country"] for r in clients if r["address"]} == {"FR", "DE"}


def test_pseudonyms_are_stable_across_exports_and_formats(seeded: Store, tmp_path: Path) -> None:
    a = export(seeded, tmp_path / "a")
    b = export(seeded, tmp_path / "b", fmt="csv")
    assert [r["email"] for r in a["clients"]] == [r["email"] for r in b["clients"]]
    assert [r["id"] for r in a["invoices"]] == [r["id"] for r in b["invoices"]]


def test_the_key_decides_the_pseudonyms(seeded: Store, tmp_path: Path) -> None:
    own = export(seeded, tmp_path / "a")
    env = export(seeded, tmp_path / "b", env={"CSCOR_HASH_KEY": ENV_KEY})
    assert {r["email"] for r in own["clients"]}.isdisjoint({r["email"] for r in env["clients"]})
    keys = [json.loads((tmp_path / d / "manifest.json").read_text())["policy"]["pseudonym_key"]
            for d in ("a", "b")]
    assert keys[0]["origin"] == "workspace" and keys[1]["origin"] == "env:CSCOR_HASH_KEY"
    assert keys[0]["key_id"] != keys[1]["key_id"]
