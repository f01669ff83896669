"""Every entity has an erasure decision, and what erasure clears follows the privacy classes."""

from __future__ import annotations

from cscor_tools.privacy.rules import FOLLOWED, KEPT_FOR_THE_BOOKS, RULES, TREATMENT, Treatment
from cscor_tools.schema import ENTITIES, Privacy
from cscor_tools.store.privacy import NORMALIZED_LOOKUPS

#: entities that never hold a person's data (what connected accounts say of themselves)
NOT_ABOUT_PEOPLE = {"integrations", "campaigns"}


def test_every_entity_has_an_erasure_decision() -> None:
    undecided = set(ENTITIES) - set(TREATMENT) - NOT_ABOUT_PEOPLE
    assert not undecided, (
        f"decide how erasure treats {sorted(undecided)} (privacy/rules.py TREATMENT), which "
        "fields find a person in it (store/privacy.py NORMALIZED_LOOKUPS) and which foreign "
        "keys lead to it (rules.py FOLLOWED); or list it in NOT_ABOUT_PEOPLE"
    )


def test_every_address_field_is_searched() -> None:
    searched = set(NORMALIZED_LOOKUPS)
    for name in TREATMENT:
        for f in ENTITIES[name].fields:
            if f.format == "email":
                assert (name, f.name) in searched, f"{name}.{f.name} holds an address"


def test_every_reference_to_a_person_is_followed() -> None:
    followed = {(e, f) for e, f, _ in FOLLOWED}
    for name in TREATMENT:
        for f in ENTITIES[name].foreign_keys():
            if f.references in ("clients", "contacts", "invoices") and name != "contacts":
                assert (name, f.name) in followed, f"{name}.{f.name}"


def test_anonymization_clears_what_names_a_person_and_keeps_the_books() -> None:
    for name, rule in RULES.items():
        if rule.treatment is not Treatment.ANONYMIZE:
            continue
        for f in ENTITIES[name].fields:
            personal = f.privacy in (Privacy.IDENTIFIER, Privacy.QUASI_IDENTIFIER,
                                     Privacy.FREE_TEXT, Privacy.SECRET)
            if f.name in ("source_id",) or f.name in KEPT_FOR_THE_BOOKS.get(name, ()):
                assert f.name not in rule.cleared
            elif personal:
                assert f.name in rule.cleared, f"{name}.{f.name}"
            if f.privacy in (Privacy.FINANCIAL, Privacy.REFERENCE):
                assert f.name not in rule.cleared, f"{name}.{f.name}"
