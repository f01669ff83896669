"""The proof connector: the smallest real connector, used to test the engine on both stores."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from cscor_tools.connectors import Connector, Page, Slice, Stream
from cscor_tools.records import ChangeSet, Cursor, Row, StreamState, Tombstone
from cscor_tools.schema import from_unix, make_id, provenance, utc_now


class ItemsStream(Stream):
    name = "items"
    entity = "clients"
    cursor_field = "updated"
    page_size = 20

    def plan(self, state: StreamState, *, full: bool) -> list[Slice]:
        start = None if full else state.cursor
        return [Slice("all", {"start": start})]

    def read(self, slice: Slice, cursor: Cursor | None) -> Iterator[Page]:
        position = cursor or slice.params.get("start") or {"updated": 0, "id": ""}
        while True:
            body = self.http.get(
                "/items",
                params={
                    "after_updated": position["updated"],
                    "after_id": position["id"],
                    "limit": self.page_size,
                },
            ).data
            items = body["data"]
            if items:
                position = {"updated": items[-1]["updated"], "id": items[-1]["id"]}
            yield Page(items, dict(position), last=not body["has_more"])
            if not body["has_more"]:
                return

    def normalize(self, raw: dict[str, Any]) -> Row:
        row = provenance(
            "clients", "proof", raw["id"], synced_at=utc_now(),
            created_at=from_unix(raw["created"]), updated_at=from_unix(raw["updated"]),
        )
        row.update(name=raw["name"], email=raw["email"])
        return row

    def changes(self, page: Page) -> ChangeSet:
        changes = ChangeSet()
        for raw in page.records:
            if raw.get("deleted"):
                changes.tombstone(
                    "clients",
                    Tombstone(make_id("clients", "proof", raw["id"]),
                              from_unix(raw["updated"]) or utc_now(), "deleted at source"),
                )
            else:
                changes.add("clients", self.normalize(raw))
        return changes


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
