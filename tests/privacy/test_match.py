"""Finding one person's rows: exactly theirs, on both stores, whatever the spelling."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cscor_tools.errors import RejectedInputError
from cscor_tools.privacy.match import find_subject
from cscor_tools.privacy.subject import Subject, addresses
from cscor_tools.store import Store
from tests.privacy.people import ANN, LOOKALIKES


def test_finds_exactly_anns_rows_in_every_entity_and_source(store: Store, people) -> None:
    ann, others = people
    found = find_subject(store, Subject.of(ANN))
    assert {name: found.sorted_ids(name) for name in ann} == ann
    everyone_else = {i for other in others for ids in other.values() for i in ids}
    assert not everyone_else & {i for ids in found.ids.values() for i in ids}
    sources = {r["source"] for r in store.get_rows("contacts", found.sorted_ids("contacts"))
               .values()}
    assert sources == {"stripe", "resend", "slack"}


def test_case_and_spaces_do_not_matter(store: Store, people) -> None:
    ann, _ = people
    found = find_subject(store, Subject.of(["  ANN.lee@EXAMPLE.com "]))
    assert found.sorted_ids("clients") == ann["clients"]


def test_plus_addressing_is_an_opt_in(store: Store, people) -> None:
    ann, others = people
    plus = others[LOOKALIKES.index("ann.lee+news@example.com")]
    without = find_subject(store, Subject.of(ANN))
    with_plus = find_subject(store, Subject.of(ANN, plus_addressing=True))
    assert without.sorted_ids("clients") == ann["clients"]
    assert with_plus.sorted_ids("clients") == sorted(ann["clients"] + plus["clients"])


def test_several_addresses_are_one_person(store: Store, people) -> None:
    ann, others = people
    second = LOOKALIKES[0]
    found = find_subject(store, Subject.of([ANN, second]))
    assert found.sorted_ids("invoices") == sorted(ann["invoices"] + others[0]["invoices"])


def test_nobody_is_an_answer(store: Store, people) -> None:
    assert find_subject(store, Subject.of("nobody@example.com")).total == 0


@pytest.mark.parametrize("bad", ["", "ann", "ann@", "@example.com", "a b@example.com"])
def test_an_address_that_is_none_is_refused(bad: str) -> None:
    with pytest.raises(RejectedInputError, match="email"):
        Subject.of(bad)


@settings(max_examples=200, deadline=None)
@given(local=st.from_regex(r"[a-z0-9]{1,8}(\.[a-z0-9]{1,5})?", fullmatch=True),
       other=st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True),
       domain=st.sampled_from(["example.com", "mail.example.org"]))
def test_an_address_matches_itself_and_never_a_neighbour(local: str, other: str,
                                                         domain: str) -> None:
    subject = Subject.of(f"{local}@{domain}")
    assert subject.matches(addresses(f" {local.upper()}@{domain} ")[0])
    assert subject.matches(addresses(f"Someone <{local}@{domain}>, x@y.z")[0])
    for neighbour in (f"{other}{local}@{domain}", f"{local}@{domain}.au",
                      f"{local}@x{domain}", f"{local}+{other}@{domain}"):
        assert not any(subject.matches(a) for a in addresses(neighbour)), neighbour
