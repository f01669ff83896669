"""Resolving policies against the schema: precedence, structs, ids, and the secret guard."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from cscor_tools.errors import PolicyError
from cscor_tools.minimize import Action, Policy, Rule, load_policy, plan_policy
from cscor_tools.schema import ENTITIES, Privacy


def plans_for(tmp_path: Path, toml: str) -> dict:  # type: ignore[type-arg]
    path = tmp_path / "p.toml"
    path.write_text('[policy]\nname = "p"\nextends = "portability"\n' + toml, encoding="utf-8")
    return plan_policy(load_policy(path))


def secret_fields() -> list[tuple[str, str]]:
    return [
        (e.name, f.name)
        for e in ENTITIES.values()
        for f in e.fields
        if f.privacy is Privacy.SECRET
    ]


def test_the_schema_has_a_secret_to_guard() -> None:
    assert ("invoices", "hosted_invoice_url") in secret_fields()


def test_secrets_are_dropped_even_by_a_policy_object_that_keeps_them() -> None:
    # Built directly, bypassing the TOML checks: the plan still drops every secret field.
    keep_all = Policy(
        name="leaky",
        classes=tuple((p, Rule(Action.KEEP)) for p in Privacy),
        fields=(("invoices.hosted_invoice_url", Rule(Action.KEEP)),
                ("*.hosted_invoice_url", Rule(Action.KEEP))),
    )
    plans = plan_policy(keep_all)
    for ent_name, field_name in secret_fields():
        plan = plans[ent_name]
        assert field_name not in plan.source_columns
        assert field_name not in plan.arrow_schema().names
        assert plan.actions()[field_name] == "drop"


@pytest.mark.parametrize(
    ("rule", "key", "reason"),
    [
        ('"clientz.email" = "drop"', "clientz.email", "unknown entity"),
        ('"clients.emial" = "drop"', "clients.emial", "unknown field 'emial'"),
        ('"*.nothing" = "drop"', "*.nothing", "no entity has a field"),
        ('"clients.address.planet" = "drop"', "clients.address.planet", "unknown sub-field"),
        ('"clients.email.local" = "drop"', "clients.email.local", "has no sub-fields"),
        ('"clients.id" = "hash"', "clients.id", "ids follow"),
        ('"invoices.client_id" = "hash"', "invoices.client_id", "foreign key"),
        ('"clients.created_at" = "mask"', "clients.created_at", "applies to strings"),
        ('"clients.deleted" = "hash"', "clients.deleted", "hash does not apply to a boolean"),
        ('"clients.company" = "generalize"', "clients.company", "needs `to"),
        ('"clients.tags" = "redact"', "clients.tags", "applies to strings"),
        ('"clients.created_at" = {action = "generalize", to = "network"}', "created_at",
         "day, month or year"),
        ('"clients.balance" = "generalize"', "clients.balance", "does not apply to a integer"),
    ],
)
def test_schema_errors_name_key_and_reason(
    tmp_path: Path, rule: str, key: str, reason: str
) -> None:
    with pytest.raises(PolicyError) as info:
        plans_for(tmp_path, f"[fields]\n{rule}\n")
    message = str(info.value)
    assert "p.toml" in message and key in message and reason in message


def test_class_rule_that_does_not_apply_needs_a_fallback(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"classes.quasi_identifier: .*otherwise"):
        plans_for(tmp_path, '[classes]\nquasi_identifier = "mask"\n')
    plans = plans_for(
        tmp_path, '[classes]\nquasi_identifier = {action = "mask", otherwise = "drop"}\n'
    )
    actions = plans["clients"].actions()
    assert actions["company"] == "mask"  # a string: masked
    assert actions["address"] == "drop"  # a struct cannot be masked: the fallback


def test_status_filter_is_checked(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"rows\.status\.clients: only entities with a status"):
        plans_for(tmp_path, '[rows]\nstatus = {clients = ["x"]}\n')
    with pytest.raises(PolicyError, match="'payed' is not a status of invoices"):
        plans_for(tmp_path, '[rows]\nstatus = {invoices = ["payed"]}\n')
    with pytest.raises(PolicyError, match=r"rows\.entities: unknown entity 'customers'"):
        plans_for(tmp_path, '[rows]\nentities = ["customers"]\n')


def test_precedence_entity_rule_over_wildcard_over_class(tmp_path: Path) -> None:
    plans = plans_for(
        tmp_path,
        '[classes]\nidentifier = "hash"\n[fields]\n"*.email" = "mask"\n"contacts.email" = "drop"\n',
    )
    assert plans["clients"].actions()["email"] == "mask"
    assert plans["contacts"].actions()["email"] == "drop"
    assert plans["clients"].actions()["phone"] == "hash"
    assert plans["clients"].actions()["name"] == "hash"


def test_unnamed_class_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "min.toml"
    path.write_text('[policy]\nname = "min"\n[classes]\nnone = "keep"\n', encoding="utf-8")
    plan = plan_policy(load_policy(path))["invoices"]
    assert "total" not in plan.source_columns  # financial: not named
    assert "customer_email" not in plan.source_columns
    assert "status" in plan.source_columns
    assert plan.source_columns[0] == "id"


def test_ids_and_foreign_keys_change_together() -> None:
    plans = plan_policy(load_policy("pseudonymized"))
    for plan in plans.values():
        for f in plan.fields:
            if f.field.name == "id" or f.field.references:
                assert f.action is Action.HASH, f.path
                assert plan.arrow_schema().field(f.field.name).type == pa.string()


def test_foreign_key_may_be_dropped(tmp_path: Path) -> None:
    plans = plans_for(tmp_path, '[fields]\n"notifications.contact_id" = "drop"\n')
    assert "contact_id" not in plans["notifications"].source_columns


def test_address_generalizes_to_country() -> None:
    plan = plan_policy(load_policy("pseudonymized"))["clients"]
    address = plan.arrow_schema().field("address").type
    assert address == pa.struct([pa.field("country", pa.string())])
    assert "company" not in plan.source_columns


def test_subfield_rules_override_the_struct_rule(tmp_path: Path) -> None:
    plans = plans_for(
        tmp_path,
        '[fields]\n"clients.address" = "drop"\n"clients.address.city" = "keep"\n'
        '"clients.address.postal_code" = {action = "generalize", to = "prefix", length = 2}\n',
    )
    t = plans["clients"].arrow_schema().field("address").type
    assert [f.name for f in t] == ["city", "postal_code"]
    every = plans_for(tmp_path, '[fields]\n"clients.address.line1" = "drop"\n')
    names = [f.name for f in every["clients"].arrow_schema().field("address").type]
    assert names == ["line2", "city", "postal_code", "state", "country"]


def test_struct_with_every_subfield_dropped_is_dropped(tmp_path: Path) -> None:
    plans = plans_for(
        tmp_path,
        "[fields]\n" + "".join(f'"clients.address.{s.name}" = "drop"\n'
                               for s in ENTITIES["clients"].field("address").fields),
    )
    assert "address" not in plans["clients"].source_columns


def test_output_types_follow_actions(tmp_path: Path) -> None:
    plans = plans_for(
        tmp_path,
        '[fields]\n"clients.balance" = "hash"\n"clients.tags" = "hash"\n'
        '"clients.created_at" = {action = "generalize", to = "day"}\n'
        '"clients.email" = "mask"\n',
    )
    schema = plans["clients"].arrow_schema()
    assert schema.field("balance").type == pa.string()
    assert schema.field("tags").type == pa.list_(pa.string())
    assert schema.field("created_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("email").type == pa.string()
    assert schema.field("email").metadata[b"minimized"] == b"mask"
    assert plans["clients"].needs_key
    assert not plan_policy(load_policy("portability"))["clients"].needs_key


def test_entities_subset_keeps_schema_order() -> None:
    plans = plan_policy(load_policy("portability"), ["comments", "clients"])
    assert list(plans) == ["comments", "clients"]
