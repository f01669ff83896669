"""Renderings of the workspace schema: JSON Schema, Frictionless Table Schema, Arrow, Markdown."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cscor_tools.schema import ENTITIES, SCHEMA_VERSION, Entity, Field, FieldType

if TYPE_CHECKING:
    import pyarrow as pa

_JSON_TYPES: dict[FieldType, dict[str, Any]] = {
    FieldType.STRING: {"type": "string"},
    FieldType.INTEGER: {"type": "integer"},
    FieldType.NUMBER: {"type": "number"},
    FieldType.BOOLEAN: {"type": "boolean"},
    FieldType.TIMESTAMP: {"type": "string", "format": "date-time"},
    FieldType.STRING_LIST: {"type": "array", "items": {"type": "string"}},
    FieldType.STRUCT: {"type": "object"},
}
_JSON_FORMATS = {"email": "email", "url": "uri"}


def _json_property(f: Field) -> dict[str, Any]:
    prop: dict[str, Any] = dict(_JSON_TYPES[f.type])
    if f.type == FieldType.STRUCT:
        prop["properties"] = {sub.name: _json_property(sub) for sub in f.fields}
        prop["additionalProperties"] = False
    if f.format in _JSON_FORMATS:
        prop["format"] = _JSON_FORMATS[f.format]
    elif f.format == "currency":
        prop["pattern"] = "^[a-z]{3}$"
    elif f.format == "country":
        prop["pattern"] = "^[A-Z]{2}$"
    if f.enum:
        prop["enum"] = list(f.enum)
    if f.minimum is not None:
        prop["minimum"] = f.minimum
    if f.maximum is not None:
        prop["maximum"] = f.maximum
    if f.nullable:
        prop["type"] = [prop["type"], "null"]
        if "enum" in prop:
            prop["enum"] = [*prop["enum"], None]
    prop["description"] = f.description
    prop["x-privacy"] = f.privacy.value
    if f.references:
        prop["x-references"] = f"{f.references}.id"
    return prop


def json_schema(ent: Entity) -> dict[str, Any]:
    """JSON Schema (2020-12) of one entity's rows; every property names its privacy class."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://customerscor.com/schemas/workspace/{SCHEMA_VERSION}/{ent.name}.json",
        "title": ent.name,
        "description": ent.description,
        "type": "object",
        "properties": {f.name: _json_property(f) for f in ent.fields},
        "required": [f.name for f in ent.fields if not f.nullable],
        "additionalProperties": False,
    }


def json_schemas() -> dict[str, Any]:
    """Every entity's JSON Schema, under ``$defs``."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Customerscor workspace",
        "x-schema-version": SCHEMA_VERSION,
        "$defs": {name: json_schema(ent) for name, ent in ENTITIES.items()},
    }


_TABLE_TYPES = {
    FieldType.STRING: "string",
    FieldType.INTEGER: "integer",
    FieldType.NUMBER: "number",
    FieldType.BOOLEAN: "boolean",
    FieldType.TIMESTAMP: "datetime",
    FieldType.STRING_LIST: "array",
    FieldType.STRUCT: "object",
}


def table_schema(ent: Entity, *, fields: list[str] | None = None) -> dict[str, Any]:
    """Frictionless Table Schema of an entity (optionally only some of its fields)."""
    chosen = [f for f in ent.fields if fields is None or f.name in fields]
    out_fields = []
    for f in chosen:
        spec: dict[str, Any] = {
            "name": f.name,
            "type": _TABLE_TYPES[f.type],
            "description": f.description,
        }
        if f.format == "email":
            spec["format"] = "email"
        elif f.format == "url":
            spec["format"] = "uri"
        constraints: dict[str, Any] = {}
        if not f.nullable:
            constraints["required"] = True
        if f.enum:
            constraints["enum"] = list(f.enum)
        if f.minimum is not None:
            constraints["minimum"] = f.minimum
        if f.maximum is not None:
            constraints["maximum"] = f.maximum
        if constraints:
            spec["constraints"] = constraints
        out_fields.append(spec)
    names = {f.name for f in chosen}
    schema: dict[str, Any] = {"fields": out_fields, "missingValues": [""]}
    if "id" in names:
        schema["primaryKey"] = ["id"]
    fks = [
        {"fields": [f.name], "reference": {"resource": f.references, "fields": ["id"]}}
        for f in chosen
        if f.references
    ]
    if fks:
        schema["foreignKeys"] = fks
    return schema


def table_schemas() -> dict[str, Any]:
    return {name: table_schema(ent) for name, ent in ENTITIES.items()}


def arrow_type(f: Field) -> pa.DataType:
    import pyarrow as pa

    if f.type == FieldType.STRUCT:
        return pa.struct([pa.field(s.name, arrow_type(s)) for s in f.fields])
    return {
        FieldType.STRING: pa.string(),
        FieldType.INTEGER: pa.int64(),
        FieldType.NUMBER: pa.float64(),
        FieldType.BOOLEAN: pa.bool_(),
        FieldType.TIMESTAMP: pa.timestamp("us", tz="UTC"),
        FieldType.STRING_LIST: pa.list_(pa.string()),
    }[f.type]


def arrow_schema(ent: Entity, *, fields: list[str] | None = None) -> pa.Schema:
    """Arrow schema of an entity; each field's metadata carries its privacy class."""
    import pyarrow as pa

    return pa.schema(
        [
            pa.field(
                f.name,
                arrow_type(f),
                nullable=f.nullable,
                metadata={"privacy": f.privacy.value, "description": f.description},
            )
            for f in ent.fields
            if fields is None or f.name in fields
        ],
        metadata={"entity": ent.name, "schema_version": SCHEMA_VERSION},
    )


def markdown() -> str:
    """The schema as Markdown tables, for people."""
    lines = [f"# Workspace schema {SCHEMA_VERSION}", ""]
    for ent in ENTITIES.values():
        lines += [f"## {ent.name}", "", ent.description, ""]
        lines += ["| field | type | privacy | null | description |", "|---|---|---|---|---|"]
        for f in ent.fields:
            _markdown_row(lines, f, f.name)
            for sub in f.fields:
                _markdown_row(lines, sub, f"{f.name}.{sub.name}")
        lines.append("")
    return "\n".join(lines)


def _markdown_row(lines: list[str], f: Field, name: str) -> None:
    extra = []
    if f.enum:
        extra.append("one of " + ", ".join(f.enum))
    if f.references:
        extra.append(f"→ {f.references}.id")
    if f.minimum is not None or f.maximum is not None:
        extra.append(f"{f.minimum}–{f.maximum}")
    note = f" ({'; '.join(extra)})" if extra else ""
    null = "yes" if f.nullable else "no"
    lines.append(
        f"| `{name}` | {f.type.value} | {f.privacy.value} | {null} | {f.description}{note} |"
    )
