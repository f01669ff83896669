"""The proof connector: the smallest real connector, used to test the engine on both stores."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from cscor_tools.connectors import Connector, KeysetPaginator, RestStream
from cscor_tools.records import Output, Tombstone
from cscor_tools.schema import from_unix, make_id, provenance, utc_now


class ItemsStream(RestStream):
    """Items in (updated, id) order, deletions inline: incremental by its keyset."""

    name = "items"
    entities = ("clients",)
    cursor_field = "updated"
    path = "/items"
    page_size = 20
    paginator = KeysetPaginator(fields=("updated", "id"), params_for=("after_updated", "after_id"),
                                limit=page_size)

    def normalize(self, raw: dict[str, Any]) -> Iterator[Output]:
        if raw.get("deleted"):
            yield "clients", Tombstone(make_id("clients", "proof", raw["id"]),
                                       from_unix(raw["updated"]) or utc_now(), "deleted at source")
            return
        row = provenance(
            "clients", "proof", raw["id"], synced_at=utc_now(),
            created_at=from_unix(raw["created"]), updated_at=from_unix(raw["updated"]),
        )
        row.update(name=raw["name"], email=raw["email"])
        yield "clients", row


class ProofConnector(Connector):
    name = "proof"
    title = "Proof"
    credential_env = "PROOF_TOKEN"
    base_url_env = "PROOF_API_BASE"
    default_base_url = "http://127.0.0.1:9"
    default_rate_limit = 1000.0
    default_burst = 50
    stream_classes = (ItemsStream,)


def main() -> None:
    """Sync the proof connector from a subprocess: argv = base_url workspace."""
    from cscor_tools.connectors import register_connector
    from cscor_tools.workspace import sync_connector

    register_connector(ProofConnector)
    result = sync_connector("proof", base_url=sys.argv[1], workspace=sys.argv[2],
                            env={"PROOF_TOKEN": sys.argv[3]})
    print(result.status)


if __name__ == "__main__":
    main()
