"""The Minimizer over generated rows: every action through a real plan and a real schema."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cscor_tools.errors import PolicyError
from cscor_tools.minimize import HashKey, Minimizer, Pseudonymizer, load_policy, plan_policy
from cscor_tools.schema import ENTITIES
from cscor_tools.schema_render import arrow_schema

PZ = Pseudonymizer(HashKey(b"t" * 32, "test"))
EVERY_ACTION = """
[policy]
name = "every-action"
extends = "portability"
ids = "hash"
[fields]
"clients.name" = {action = "mask", style = "initial"}
"clients.email" = "hash"
"clients.phone" = "mask"
"clients.company" = "drop"
"clients.address" = "generalize"
"clients.address.postal_code" = {action = "generalize", to = "prefix", length = 2}
"clients.notes" = "redact"
"clients.created_at" = {action = "generalize", to = "month"}
"clients.tags" = "hash"
"clients.source_id" = {action = "generalize", to = "network"}
"""

address = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {k: st.one_of(st.none(), st.text(max_size=10))
         for k in ("line1", "line2", "city", "postal_code", "state")}
        | {"country": st.one_of(st.none(), st.sampled_from(["FR", "DE", "US"]))}
    ),
)
client_rows = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.from_regex(r"cli_[0-9a-f]{20}", fullmatch=True),
            "source": st.just("stripe"),
            "source_id": st.one_of(st.ip_addresses().map(str), st.text(max_size=8)),
            "name": st.one_of(st.none(), st.text(max_size=20)),
            "email": st.one_of(st.none(), st.emails()),
            "phone": st.one_of(st.none(), st.from_regex(r"\+[0-9 ]{6,14}", fullmatch=True)),
            "company": st.one_of(st.none(), st.text(max_size=10)),
            "address": address,
            "notes": st.one_of(st.none(), st.emails().map(lambda e: f"write to {e} please")),
            "created_at": st.one_of(st.none(), st.datetimes(timezones=st.just(__import__(
                "datetime").UTC))),
            "tags": st.one_of(st.none(), st.lists(st.text(max_size=5), max_size=3)),
            "balance": st.one_of(st.none(), st.integers(-(10**12), 10**12)),
            "deleted": st.booleans(),
        }
    ),
    max_size=15,
)


@pytest.fixture(scope="module")
def minimizer(tmp_path_factory: pytest.TempPathFactory) -> Minimizer:
    path: Path = tmp_path_factory.mktemp("policy") / "every.toml"
    path.write_text(EVERY_ACTION, encoding="utf-8")
    return Minimizer(plan_policy(load_policy(path))["clients"], PZ)


def to_batch(rows: list[dict]) -> pa.RecordBatch:  # type: ignore[type-arg]
    full = arrow_schema(ENTITIES["clients"])
    return pa.RecordBatch.from_pylist(rows, schema=full)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(client_rows, st.integers(0, 5))
def test_every_action_on_generated_rows(minimizer: Minimizer, rows: list, skip: int) -> None:  # type: ignore[type-arg]
    batch = to_batch(rows).slice(min(skip, len(rows)))  # sliced: offsets must be honoured
    rows = rows[min(skip, len(rows)):]
    out = minimizer.apply(batch)
    assert out.schema.equals(minimizer.schema)
    assert "company" not in out.schema.names
    for before, after in zip(rows, out.to_pylist(), strict=True):
        assert after["id"] == PZ.pseudonym(before["id"])
        assert (after["name"] is None) == (before["name"] is None)
        if before["name"] is not None:
            assert after["name"] == before["name"][:1] + "***"
        if before["email"] is not None:
            assert after["email"] == PZ.pseudonym(before["email"].strip().lower())
        if before["phone"] is not None:
            assert after["phone"].startswith("***") and len(after["phone"]) <= 7
        if before["address"] is None:
            assert after["address"] is None
        else:
            assert set(after["address"]) == {"postal_code", "country"}
            assert after["address"]["country"] == before["address"]["country"]
            pc_ = before["address"]["postal_code"]
            assert after["address"]["postal_code"] == (pc_[:2] if pc_ is not None else None)
        if before["notes"] is not None:
            assert "@" not in after["notes"] and after["notes"].startswith("write to [email]")
        if before["created_at"] is not None:
            got = after["created_at"]
            assert (got.year, got.month, got.day, got.hour) == (
                before["created_at"].year, before["created_at"].month, 1, 0)
        if before["tags"] is not None:
            assert after["tags"] == [PZ.pseudonym(t) for t in before["tags"]]
        assert after["balance"] == before["balance"]
        assert after["deleted"] == before["deleted"]
        net = after["source_id"]
        assert net is None or re.search(r"/(24|48)$", net)


def test_a_plan_that_hashes_needs_a_key() -> None:
    plan = plan_policy(load_policy("pseudonymized"))["clients"]
    with pytest.raises(PolicyError, match="no key"):
        Minimizer(plan, None)
    assert Minimizer(plan_policy(load_policy("portability"))["clients"]).plan is not None
