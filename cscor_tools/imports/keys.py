"""Row identity: the natural key of a row and the workspace id derived from it.

A plain file's row gets ``source_id`` from its id column, or from its natural key (email for
clients and contacts, number for invoices, or the fields a mapping names): an email is
matched case-insensitively, several key fields are joined as a JSON array. The id is always
``make_id(entity, source, source_id)``, so the same row gets the same id on every import.
A bundle row brings its own id, which must derive from its source and source_id.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cscor_tools.records import Row
from cscor_tools.schema import ENTITIES, Entity, make_id

#: natural keys of files without an id column: the schema's match keys, and the invoice
#: number (unique per issuer, and what every invoicing tool exports)
DEFAULT_KEYS: dict[str, tuple[str, ...]] = {
    **{name: ent.match_keys for name, ent in ENTITIES.items() if ent.match_keys},
    "invoices": ("number",),
}


class RowRejected(Exception):
    """A record that cannot become a row: ``field`` (None for the whole row) and ``reason``."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


def key_text(value: Any, is_email: bool) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return text.lower() if is_email else text


def derive_identity(row: Row, ent: Entity, default_source: str, key_fields: Sequence[str],
                    missing_key: str | None) -> None:
    """Set ``source``, ``source_id`` (from the key fields, if any) and ``id`` on a plain row."""
    source = row.get("source") or default_source
    row["source"] = source
    if key_fields:
        values = []
        for fname in key_fields:
            v = row.get(fname)
            if v is None:
                raise RowRejected(fname, "empty, and the file has no id column to match rows "
                                         f"on ({', '.join(key_fields)} is the key)")
            values.append(key_text(v, ent.field(fname).format == "email"))
        sid = values[0] if len(values) == 1 else json.dumps(values, ensure_ascii=False)
        row["source_id"] = sid
    else:
        given = row.get("source_id")
        if given is None:
            raise RowRejected("source_id", missing_key or "the id column is empty")
        sid = given
    row["id"] = make_id(ent.name, source, sid)


def check_identity(row: Row, ent: Entity) -> None:
    """A bundle row's id must be the one its source and source_id derive."""
    for fname in ("id", "source", "source_id"):
        if not row.get(fname):
            raise RowRejected(fname, "required in a bundle row, but empty")
    if row["id"] != make_id(ent.name, row["source"], row["source_id"]):
        raise RowRejected("id", "does not derive from source and source_id (a pseudonymized "
                                "or edited row cannot be restored)")
