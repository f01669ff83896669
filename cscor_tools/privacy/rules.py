"""What erasing a person does to each entity, derived from the schema's privacy classes.

Rows that are about the person and nothing else (the client or contact itself, messages to or
from them, their comments) are deleted. Rows kept for tax and the books (invoices, their
lines, payments) are anonymized: every field that names, describes or may describe the person
(identifiers, quasi-identifiers, free text, secrets such as a payment link) becomes NULL, and
so does every reference to a deleted row; amounts, currencies, dates, statuses, invoice
numbers and provider references stay, as do the provenance columns (``source_id`` keeps the
row matched on the next sync, so it is anonymized again rather than added anew).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cscor_tools.schema import ENTITIES, PROVENANCE, Privacy


class Treatment(StrEnum):
    DELETE = "delete"
    ANONYMIZE = "anonymize"


#: how erasure (and the suppression of later writes) treats each entity's matching rows
TREATMENT: dict[str, Treatment] = {
    "clients": Treatment.DELETE,
    "contacts": Treatment.DELETE,
    "invoices": Treatment.ANONYMIZE,  # kept for tax: amounts and dates, not the person
    "invoice_lines": Treatment.ANONYMIZE,
    "payments": Treatment.ANONYMIZE,
    "notifications": Treatment.DELETE,
    # a chat channel about a client stays the team's, without what names the person
    "channels": Treatment.ANONYMIZE,
    "comments": Treatment.DELETE,
    # who got a mailing and what became of their copy: about the person alone
    "campaign_recipients": Treatment.DELETE,
}

#: fields the books need although their class would clear them: the number printed on an
#: invoice is how the tax record names it
KEPT_FOR_THE_BOOKS: dict[str, frozenset[str]] = {"invoices": frozenset({"number"})}
#: the foreign keys that lead from a person's rows to the rows about them, in an order where
#: the rows pointed at are found first: (entity, foreign key, entity it points at)
FOLLOWED: tuple[tuple[str, str, str], ...] = (
    ("invoices", "client_id", "clients"),
    ("invoice_lines", "invoice_id", "invoices"),
    ("payments", "client_id", "clients"),
    ("payments", "invoice_id", "invoices"),
    ("notifications", "client_id", "clients"),
    ("notifications", "contact_id", "contacts"),
    ("channels", "client_id", "clients"),
    ("comments", "client_id", "clients"),
    ("campaign_recipients", "contact_id", "contacts"),
)
_PERSONAL = {Privacy.IDENTIFIER, Privacy.QUASI_IDENTIFIER, Privacy.FREE_TEXT, Privacy.SECRET}
_PROVENANCE = {f.name for f in PROVENANCE}


@dataclass(frozen=True)
class EntityRule:
    entity: str
    treatment: Treatment
    #: the fields anonymization sets to NULL (retention may anonymize rows erasure deletes)
    cleared: tuple[str, ...]


def rule(entity_name: str) -> EntityRule:
    """The erasure rule of an entity; an entity that never concerns a person has none."""
    treatment = TREATMENT.get(entity_name, Treatment.DELETE)
    ent = ENTITIES[entity_name]
    cleared = tuple(
        f.name
        for f in ent.fields
        if f.name not in _PROVENANCE
        and f.name not in KEPT_FOR_THE_BOOKS.get(entity_name, frozenset())
        and (
            f.privacy in _PERSONAL
            or (f.references is not None and TREATMENT.get(f.references) is Treatment.DELETE)
        )
    )
    return EntityRule(entity_name, treatment, cleared)


#: the erasure rule of every entity that may concern a person
RULES: dict[str, EntityRule] = {name: rule(name) for name in TREATMENT}
