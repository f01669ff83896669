"""Finding every row that concerns one person, across every source, through indexes.

A person is found by address in the fields that hold one (a client's or contact's email, the
email printed on an invoice, a receipt's address, a message's recipient or sender, a comment's
author); from there the rows that point at what was found follow by foreign key: the invoices
and payments of their client rows, the lines of those invoices, the messages and comments
about them. A contact found at a chat source (a Slack user) also finds the messages whose
recipient or sender is that user's id at the same source.

Every lookup is an index search (``store/privacy.py`` creates the indexes), so the cost grows
with the person's rows, not with the workspace. Opt-in plus-addressing and fields that hold
several addresses (``"Ann <ann@x>, bob@y"``) add a scan of the columns concerned.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cscor_tools.privacy.rules import FOLLOWED
from cscor_tools.privacy.subject import Subject, addresses
from cscor_tools.store import Store
from cscor_tools.store import privacy as sql

#: the fields of each entity that may hold the person's address
ADDRESS_FIELDS: dict[str, tuple[str, ...]] = {
    name: tuple(c for e, c in sql.NORMALIZED_LOOKUPS if e == name)
    for name, _ in sql.NORMALIZED_LOOKUPS
}
#: fields that may hold several addresses or a display name (checked by a scan as well)
MULTI_ADDRESS_FIELDS = {("notifications", "recipient"), ("notifications", "sender"),
                        ("comments", "author")}
#: sources whose people are named in messages by their id there (a Slack user id)
HANDLE_SOURCES = ("slack",)


@dataclass
class Matches:
    """The ids of a person's rows, by entity, and what else identifies them."""

    ids: dict[str, set[str]] = field(default_factory=dict)
    #: every distinct address found on their rows (normalized): all of them are suppressed
    addresses: set[str] = field(default_factory=set)
    #: (source, id at the source) of their chat accounts
    handles: set[tuple[str, str]] = field(default_factory=set)

    def add(self, entity_name: str, ids: set[str] | list[str]) -> int:
        bucket = self.ids.setdefault(entity_name, set())
        before = len(bucket)
        bucket.update(ids)
        return len(bucket) - before

    def sorted_ids(self, entity_name: str) -> list[str]:
        return sorted(self.ids.get(entity_name, ()))

    def counts(self) -> dict[str, int]:
        return {name: len(ids) for name, ids in self.ids.items() if ids}

    @property
    def total(self) -> int:
        return sum(len(ids) for ids in self.ids.values())


def find_subject(store: Store, subject: Subject) -> Matches:
    """Every row of the workspace that concerns ``subject`` (tombstones included)."""
    found = Matches()
    for entity_name, columns in ADDRESS_FIELDS.items():
        for column in columns:
            for row_id, value in _by_address(store, subject, entity_name, column):
                hits = [a for a in addresses(value) if subject.matches(a)]
                if hits:
                    found.add(entity_name, [row_id])
                    found.addresses.update(hits)
    _handles(store, found)
    for entity_name, column, target in FOLLOWED:
        targets = found.ids.get(target)
        if targets:
            found.add(entity_name, sql.referencing(store, entity_name, column, targets))
    return found


def _by_address(
    store: Store, subject: Subject, entity_name: str, column: str
) -> list[tuple[str, str]]:
    rows = sql.match_normalized(store, entity_name, column, subject.emails)
    patterns = []
    if subject.plus_addressing:
        for email in subject.emails:
            local, _, domain = email.partition("@")
            patterns.append(f"%{_like(local)}+%@{_like(domain)}%")
    if (entity_name, column) in MULTI_ADDRESS_FIELDS:
        patterns.extend(f"%{_like(email)}%" for email in subject.emails)
    for pattern in patterns:
        rows.extend(sql.match_pattern(store, entity_name, column, pattern))
    return rows


def _handles(store: Store, found: Matches) -> None:
    """Messages that name a matched contact by their id at a chat source."""
    contacts = found.sorted_ids("contacts")
    if not contacts:
        return
    rows = store.get_rows("contacts", contacts)
    for row in rows.values():
        if row["source"] in HANDLE_SOURCES:
            found.handles.add((row["source"], row["source_id"]))
    if not found.handles:
        return
    wanted = {sid.lower() for _, sid in found.handles}
    for column in ("recipient", "sender"):
        candidates = sql.match_normalized(store, "notifications", column, wanted)
        ids = [rid for rid, _ in candidates]
        for rid, row in store.get_rows("notifications", ids).items():
            if (row["source"], row[column]) in found.handles:
                found.add("notifications", [rid])


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
