"""What a bundle says about itself: ``manifest.json`` for us, ``datapackage.json`` for any tool.

Both describe what was actually written: a hashed field is a string whatever it was, a dropped
field is absent, and a foreign key is declared only when every value in the file has its row
in the bundle (a key to an entity not exported, or to rows filtered out, is left out and the
manifest says why). Neither holds a clock time unless the caller asks for one: the manifest
dates the bundle by its data (``data_as_of``), so the whole bundle is as reproducible as the
data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cscor_tools._version import __version__
from cscor_tools.minimize import EntityPlan, HashKey, Policy
from cscor_tools.minimize.plan import FieldPlan
from cscor_tools.minimize.policy import Action
from cscor_tools.schema import SCHEMA_VERSION, FieldType
from cscor_tools.schema_render import table_schema

BUNDLE_KIND = "cscor-export"
BUNDLE_VERSION = 1
_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True)
class ExportedFile:
    """One data file of a bundle."""

    path: str
    entity: str
    rows: int
    bytes: int
    sha256: str
    media_type: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "entity": self.entity,
            "rows": self.rows,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "media_type": self.media_type,
        }


class FileTotals:
    """Totals over the data files an export wrote (its ``files``)."""

    files: tuple[ExportedFile, ...]

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files)


@dataclass(frozen=True)
class LeftOutKey:
    """A foreign key not declared in datapackage.json, and why."""

    entity: str
    field: str
    target: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"field": f"{self.entity}.{self.field}", "references": self.target,
                "reason": self.reason}


def to_json(data: Any) -> bytes:
    """The JSON text of a bundle's metadata files: indented, keys in the order built."""
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()


def iso(moment: datetime | None) -> str | None:
    return moment.strftime(_TIME) if moment is not None else None


def resource_schema(plan: EntityPlan, declared_keys: Sequence[str]) -> dict[str, Any]:
    """The Table Schema of the file written for ``plan``: types as written, keys that hold."""
    kept = {f.field.name: f for f in plan.output}
    schema = table_schema(plan.entity, fields=list(kept))
    for spec in schema["fields"]:
        # A workspace holds what providers sent: Stripe keeps `first..last@example.de`, which
        # RFC 5322 refuses, and a URL as the provider wrote it. A bundle declares only what
        # its values are sure to be, so neither format is promised.
        spec.pop("format", None)
        fp = kept[spec["name"]]
        if fp.changes_values():
            _describe_change(spec, fp)
    keys = [k for k in schema.pop("foreignKeys", []) if k["fields"][0] in declared_keys]
    if keys:
        schema["foreignKeys"] = keys
    return schema


def _describe_change(spec: dict[str, Any], fp: FieldPlan) -> None:
    """A minimized field keeps its name; its type, format and constraints follow its values."""
    if fp.subfields:
        kept = ", ".join(s.field.name for s in fp.subfields if s.kept)
        note = f"Minimized: only {kept} kept."
    else:
        note = f"Minimized: {fp.describe()}."
        as_text = fp.action in (Action.HASH, Action.MASK, Action.REDACT) or (
            fp.action is Action.GENERALIZE and fp.field.type == FieldType.STRING
        )
        if as_text:
            spec["type"] = "array" if fp.field.type == FieldType.STRING_LIST else "string"
    spec.pop("format", None)
    required = spec.get("constraints", {}).get("required")
    spec.pop("constraints", None)
    if required:
        spec["constraints"] = {"required": True}
    spec["description"] = f"{spec['description']} {note}"


def datapackage(
    files: Sequence[ExportedFile],
    schemas: dict[str, dict[str, Any]],
    *,
    resource_format: str,
    dialect: dict[str, Any] | None,
    policy: Policy,
) -> dict[str, Any]:
    """A Frictionless Data Package describing every data file of the bundle."""
    resources = []
    for f in files:
        schema = schemas[f.entity]
        if resource_format == "parquet":
            schema = _as_read_from_parquet(schema)
        if resource_format in ("json", "jsonl") and f.rows == 0:
            resources.append(_empty_json_resource(f, schema))
            continue
        resource: dict[str, Any] = {
            "name": f.entity,
            "path": f.path,
            "profile": "tabular-data-resource",
            "format": resource_format,
            "mediatype": f.media_type,
        }
        if resource_format in ("csv", "jsonl"):
            # Frictionless counts the bytes it reads only through its text loaders: a JSON
            # array (a streaming parser) and Parquet (read by pyarrow) would show declared
            # sizes as mismatches. manifest.json has every file's size and sha256.
            resource["bytes"] = f.bytes
            resource["hash"] = f"sha256:{f.sha256}"
        resource["schema"] = schema
        if resource_format != "parquet":
            resource["encoding"] = "utf-8"
        if dialect:
            resource["dialect"] = dialect
        resources.append(resource)
    return {
        "profile": "tabular-data-package",
        "name": BUNDLE_KIND,
        "title": "Customerscor workspace export",
        "description": (
            f"Workspace schema {SCHEMA_VERSION}, minimized under the {policy.name!r} policy "
            f"({policy.fingerprint()}). manifest.json lists counts, checksums and every rule."
        ),
        "resources": resources,
    }


def _empty_json_resource(f: ExportedFile, schema: dict[str, Any]) -> dict[str, Any]:
    """An entity with no rows, in a JSON or JSON Lines bundle: described inline.

    Its file is in the bundle (``[]``, or no line at all) and in manifest.json, but a JSON
    table reader learns its columns from its first object, and there is none: Frictionless
    refuses such a file. The descriptor gives the same empty table as inline data, a header
    row and no row after it, which every Data Package reader accepts.
    """
    return {
        "name": f.entity,
        "profile": "tabular-data-resource",
        "description": f"No rows: {f.path} in this bundle is empty.",
        "data": [[field["name"] for field in schema["fields"]]],
        "schema": schema,
    }


def _as_read_from_parquet(schema: dict[str, Any]) -> dict[str, Any]:
    """A list field of a Parquet file is declared ``any``.

    The file holds a typed ``list<string>``, but Frictionless reads Parquet through pandas,
    which gives each list as a NumPy array, not the JSON array ``array`` promises. The
    field's description still says what it holds; manifest.json and the file's own schema
    have the type.
    """
    fields = []
    for spec in schema["fields"]:
        if spec["type"] == "array":
            spec = {**spec, "type": "any",
                    "description": f"{spec['description']} A list of text values."}
        fields.append(spec)
    return {**schema, "fields": fields}


def manifest(
    *,
    generated_at: datetime | None,
    data_as_of: datetime | None,
    formulas_protected: bool | None,
    format_name: str,
    policy: Policy,
    plans: dict[str, EntityPlan],
    key: HashKey | None,
    selection: dict[str, Any],
    files: Sequence[ExportedFile],
    datapackage_file: tuple[int, str],
    cursors: Sequence[tuple[str, str, str, Any]],
    left_out: Sequence[LeftOutKey],
) -> dict[str, Any]:
    """manifest.json: what was exported, from what, under which rules. Never the hash key."""
    return {
        "bundle": BUNDLE_KIND,
        "bundle_version": BUNDLE_VERSION,
        "tool": {"name": "cscor_tools", "version": __version__},
        "schema_version": SCHEMA_VERSION,
        # the data's own time, so the same store gives the same bytes; a clock time only
        # when the caller asked for one
        "data_as_of": iso(data_as_of),
        "generated_at": iso(generated_at),
        "format": format_name,
        # CSV: whether text a spreadsheet would run was prefixed with an apostrophe, which
        # an import of this bundle then removes
        "formulas_protected": formulas_protected,
        "policy": {
            "name": policy.name,
            "origin": policy.origin,
            "fingerprint": policy.fingerprint(),
            "rules": policy.as_dict(),
            "fields": {name: plan.actions() for name, plan in plans.items()},
            # which key made the pseudonyms (so two bundles can be known to join), not the key
            "pseudonym_key": (
                {"origin": key.origin, "key_id": key.key_id()} if key is not None else None
            ),
        },
        "selection": selection,
        "files": [f.as_dict() for f in files],
        "datapackage": {"path": "datapackage.json", "bytes": datapackage_file[0],
                        "sha256": datapackage_file[1]},
        "totals": {"rows": sum(f.rows for f in files), "bytes": sum(f.bytes for f in files)},
        "cursors": [
            {"connector": c, "stream": s, "slice": sl, "cursor": cur}
            for c, s, sl, cur in cursors
        ],
        "foreign_keys_left_out": [k.as_dict() for k in left_out],
    }
