"""The workspace schema and everything derived from it."""

from __future__ import annotations

import json
import sqlite3

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cscor_tools import schema_render
from cscor_tools.schema import ENTITIES, PROVENANCE, FieldType, Privacy, make_id
from cscor_tools.store.ddl import create_statements

REQUIRED_ENTITIES = {
    "clients", "contacts", "invoices", "invoice_lines", "payments", "notifications", "comments",
}


def test_every_required_entity_exists_with_provenance() -> None:
    assert set(ENTITIES) >= REQUIRED_ENTITIES
    for ent in ENTITIES.values():
        assert ent.column_names[: len(PROVENANCE)] == [f.name for f in PROVENANCE]


def test_every_field_has_a_type_a_description_and_a_privacy_class() -> None:
    for ent in ENTITIES.values():
        for f in ent.fields:
            assert isinstance(f.type, FieldType) and isinstance(f.privacy, Privacy)
            assert len(f.description) > 5, f"{ent.name}.{f.name}"
            for sub in f.fields:
                assert isinstance(sub.privacy, Privacy) and sub.description


def test_clients_carry_what_an_owner_needs() -> None:
    clients = ENTITIES["clients"]
    for name in ("notes", "rating", "workflow_state", "tags", "email", "address"):
        assert clients.has_field(name)
    assert clients.field("notes").privacy == Privacy.FREE_TEXT
    assert clients.field("email").privacy == Privacy.IDENTIFIER


def test_money_is_integer_minor_units_beside_a_currency() -> None:
    for ent in ENTITIES.values():
        money = [f for f in ent.fields if f.privacy == Privacy.FINANCIAL]
        for f in money:
            assert f.type == FieldType.INTEGER, f"{ent.name}.{f.name}"
        if money:
            assert ent.has_field("currency") or ent.name == "clients"


def test_foreign_keys_point_at_entities_that_exist() -> None:
    for ent in ENTITIES.values():
        for f in ent.foreign_keys():
            assert f.references in ENTITIES


def test_json_schema_is_valid_and_has_a_privacy_class_on_every_field() -> None:
    doc = schema_render.json_schemas()
    jsonschema.Draft202012Validator.check_schema(doc)
    assert set(doc["$defs"]) == set(ENTITIES)
    for name, sch in doc["$defs"].items():
        jsonschema.Draft202012Validator.check_schema(sch)
        for prop in sch["properties"].values():
            assert prop["x-privacy"] in {p.value for p in Privacy}
            for sub in prop.get("properties", {}).values():
                assert "x-privacy" in sub
        assert set(sch["properties"]) == set(ENTITIES[name].column_names)


def test_json_schema_accepts_a_good_row_and_rejects_a_bad_one() -> None:
    sch = schema_render.json_schema(ENTITIES["clients"])
    good = {
        "id": "cli_x", "source": "import", "source_id": "1", "deleted": False,
        "synced_at": "2026-01-01T00:00:00Z", "rating": 5, "workflow_state": "active",
        "address": {"country": "FR"}, "tags": ["a"],
    }
    jsonschema.validate(good, sch)
    for bad in ({**good, "rating": 9}, {**good, "workflow_state": "zombie"},
                {**good, "unknown": 1}, {k: v for k, v in good.items() if k != "id"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, sch)


def test_table_schema_has_keys_and_types() -> None:
    ts = schema_render.table_schema(ENTITIES["invoices"])
    assert ts["primaryKey"] == ["id"]
    assert {"fields": ["client_id"], "reference": {"resource": "clients", "fields": ["id"]}} in ts[
        "foreignKeys"
    ]
    types = {f["name"]: f["type"] for f in ts["fields"]}
    assert types["total"] == "integer" and types["issued_at"] == "datetime"


def test_arrow_schema_matches_the_fields() -> None:
    import pyarrow as pa

    sch = schema_render.arrow_schema(ENTITIES["clients"])
    assert sch.names == ENTITIES["clients"].column_names
    assert sch.field("created_at").type == pa.timestamp("us", tz="UTC")
    assert sch.field("tags").type == pa.list_(pa.string())
    assert sch.field("email").metadata[b"privacy"] == b"identifier"


def test_sqlite_ddl_creates_every_table() -> None:
    conn = sqlite3.connect(":memory:")
    for statement in create_statements("sqlite"):
        conn.execute(statement)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert set(ENTITIES) <= tables


def test_markdown_lists_every_field() -> None:
    md = schema_render.markdown()
    for ent in ENTITIES.values():
        for f in ent.fields:
            assert f"`{f.name}`" in md


@given(st.sampled_from(sorted(ENTITIES)), st.text(min_size=1), st.text(min_size=1))
def test_ids_are_stable_prefixed_and_do_not_show_their_inputs(
    entity: str, source: str, source_id: str
) -> None:
    a = make_id(entity, source, source_id)
    assert a == make_id(entity, source, source_id)
    assert a.startswith(ENTITIES[entity].id_prefix + "_") and len(a) == 24
    assert (source_id not in a) or len(source_id) < 4
    assert a != make_id(entity, source, source_id + "x")


def test_schema_is_json_serialisable_for_the_cli() -> None:
    json.dumps(schema_render.table_schemas())
