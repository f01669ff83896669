"""References a bundle may carry unresolved: the keys its manifest left out, less refused rows.

A workspace does not hold its foreign keys to integrity: a sync writes an invoice whose client
was never synced, a tombstoned client keeps its contacts, and an export without tombstones
leaves those references pointing outside the bundle. The exporter says so per key in the
manifest (``foreign_keys_left_out``). When such a bundle is restored, a reference the bundle
could not satisfy is taken as the source held it: ids derive from source and source id, so
it still means the same row, and resolves as soon as that row arrives (a later sync, another
import). Refusing it would lose a row the owner has, and break the round trip.

The waiver is as narrow as the bundle's word. It covers only the keys the manifest lists,
and never a reference to a row this import read from the bundle and refused: that row was in
the bundle, the reference held at the source, and its dependants go with it as they would
from any file. (When a refused record's id cannot be read, as for a line that is not JSON,
no reference to its entity is waived: the import cannot tell which row it was.)

Plain files never get this: their foreign keys are always checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class LeftOutReferences:
    """Which unresolved references of a bundle import are kept as the source held them."""

    def __init__(self, left_out: frozenset[tuple[str, str]]) -> None:
        self.left_out = left_out
        self._refused: dict[str, set[str]] = {}
        self._unidentified: set[str] = set()

    def refused(self, entity: str, raw: Any, columns: Sequence[str]) -> None:
        """Note a record of ``entity`` the import refused (``raw`` as the reader gave it)."""
        row_id = _raw_id(raw, columns)
        if row_id is None:
            self._unidentified.add(entity)
        else:
            self._refused.setdefault(entity, set()).add(row_id)

    def keeps(self, entity: str, field: str, target: str, value: str) -> bool:
        """Whether ``entity.field = value``, found nowhere, is kept rather than refused."""
        return (
            (entity, field) in self.left_out
            and target not in self._unidentified
            and value not in self._refused.get(target, ())
        )


def _raw_id(raw: Any, columns: Sequence[str]) -> str | None:
    if isinstance(raw, dict):
        value = raw.get("id")
    elif isinstance(raw, list) and "id" in columns:
        i = list(columns).index("id")
        value = raw[i] if i < len(raw) else None
    else:
        value = None
    return (value.strip() or None) if isinstance(value, str) else None
