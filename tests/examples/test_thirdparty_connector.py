"""The example third-party connector: found through its entry point, synced from the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from cscor_tools.connectors import available_connectors, load_connector
from cscor_tools.sandbox import Sandbox
from cscor_tools.store import open_store
from cscor_tools.workspace import sync_connector

NAME = "example_resend"


@pytest.fixture(scope="module")
def installed() -> None:
    if NAME not in available_connectors():
        pytest.fail(
            "the example connector is not installed: "
            "pip install -e examples/thirdparty_connector (make does this)"
        )


def test_it_is_registered_through_the_entry_point_group(installed: None) -> None:
    assert available_connectors()[NAME] == "cscor_example_resend:ResendContactsConnector"
    assert load_connector(NAME).name == NAME


def test_it_syncs_and_sweeps_deleted_contacts(installed: None, tmp_path: Path) -> None:
    with Sandbox(seed=11, scale=0.05) as sb:
        env = {"RESEND_API_KEY": sb.credentials("resend")}
        store = open_store(tmp_path / "ws.db")
        try:
            result = sync_connector(NAME, store=store, base_url=sb.base_url("resend"), env=env,
                                    rate_limit=1000)
            expected = sb.expected_counts()["resend.contacts"]
            assert result.status == "succeeded"
            assert store.count("contacts") == expected > 0

            summary = sb.mutate(create=0.0, update=0.0, delete=0.2)
            gone = summary.deleted.get("resend.contact", [])
            assert gone
            sync_connector(NAME, store=store, base_url=sb.base_url("resend"), env=env,
                           rate_limit=1000)
            deleted = {r["source_id"] for b in store.iter_rows("contacts") for r in b
                       if r["deleted"]}
            assert deleted == set(gone)
            assert store.count("contacts", include_deleted=False) == sb.expected_counts()[
                "resend.contacts"
            ]
        finally:
            store.close()
