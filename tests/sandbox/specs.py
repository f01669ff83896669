"""The providers' official schemas (shared/specs), as validators the sandbox tests apply.

Each provider's spec lags or disagrees with its current documentation somewhere; the few
places the sandbox follows the documentation instead are patched in here, one by one, each
with the reason, so that everything else is held to the spec as published.
"""

from __future__ import annotations

import copy
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

REPO = Path(__file__).resolve().parents[2]
SPECS = Path(os.environ.get("CSCOR_SPECS_DIR", REPO.parent / "shared" / "specs"))


def _load(relative: str) -> Any:
    path = SPECS / relative
    if not path.exists():
        pytest.fail(f"{path} is missing: the sandbox tests validate against shared/specs "
                    "(set CSCOR_SPECS_DIR to read it elsewhere)")
    return json.loads(path.read_text())


# -- Stripe: example objects and the error schema ------------------------------------------------


@cache
def stripe_fixtures() -> dict[str, Any]:
    return dict(_load("stripe/fixtures3.json")["resources"])


@cache
def stripe_error_schema() -> dict[str, Any]:
    spec = _load("stripe/spec3.STALE-2022-04-12.json")
    return {"components": spec["components"], "$ref": "#/components/schemas/error"}


#: keys of a fixture the sandbox leaves out on purpose (see stripe_shapes' docstring)
STRIPE_NOT_SENT: dict[str, set[str]] = {
    # removed by API 2025-03-31.basil; stripe's Invoice class no longer declares it
    "invoice": {"subscription"},
    # includable since 2022-11-15: only with expand[]=refunds
    "charge": {"refunds"},
}
#: keys the sandbox sends beyond a fixture's nested example, because their ``type`` says so
STRIPE_ALSO_SENT: dict[tuple[str, str], set[str]] = {
    ("line_item", "pricing"): {"price_details"},
    ("invoice_payment", "payment"): {"payment_intent"},
    ("payment_intent", "last_payment_error"): {"charge", "code", "decline_code", "doc_url",
                                               "message", "payment_method"},
    ("event", "data"): {"previous_attributes"},
}


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def stripe_shape_problems(obj: dict[str, Any], resource: str) -> list[str]:
    """Where ``obj`` differs from the 2026 example of ``resource``: key sets and value types.

    Nested objects are compared where both sides have one; an empty example dict (``{}``)
    says nothing of its keys, and ``null`` on either side says nothing of the type.
    """
    fixtures = stripe_fixtures()
    problems: list[str] = []

    def walk(ours: Any, theirs: Any, kind: str, field: str) -> None:
        where = f"{kind}.{field}" if field else kind
        if ours is None or theirs is None:
            return
        if _kind(ours) != _kind(theirs):
            problems.append(f"{where}: {_kind(ours)} where the example has {_kind(theirs)}")
            return
        if isinstance(ours, dict) and isinstance(ours.get("object"), str) \
                and ours["object"] in fixtures and field:
            # an embedded object (a line of an invoice…) is held to its own example
            kind, field = ours["object"], ""
            theirs = fixtures[kind]
        if isinstance(ours, dict) and theirs:
            extra_ok = STRIPE_ALSO_SENT.get((kind, field), set())
            missing_ok = STRIPE_NOT_SENT.get(kind, set()) if not field else set()
            missing = set(theirs) - set(ours) - missing_ok
            extra = set(ours) - set(theirs) - extra_ok
            if missing:
                problems.append(f"{where}: missing {sorted(missing)}")
            if extra:
                problems.append(f"{where}: not in the example {sorted(extra)}")
            for key in set(ours) & set(theirs):
                if kind == "event" and field == "data" and key == "object":
                    continue  # an event's object has the shape of its own resource
                walk(ours[key], theirs[key], kind, f"{field}.{key}" if field else key)
        elif isinstance(ours, list) and ours and theirs:
            for item in ours:
                walk(item, theirs[0], kind, field)

    walk(obj, fixtures[resource], resource, "")
    return problems


def stripe_error_problems(body: Any) -> list[str]:
    validator = jsonschema.Draft4Validator(stripe_error_schema())
    problems = [e.message for e in validator.iter_errors(body)]
    known = set(_load_error_properties())
    extra = set(body.get("error", {})) - known
    if extra:
        problems.append(f"error keys not in Stripe's schema: {sorted(extra)}")
    return problems


@cache
def _load_error_properties() -> tuple[str, ...]:
    spec = _load("stripe/spec3.STALE-2022-04-12.json")
    return tuple(spec["components"]["schemas"]["api_errors"]["properties"])


# -- Resend: OpenAPI 3.1 ------------------------------------------------------------------------


@cache
def resend_components() -> dict[str, Any]:
    components = copy.deepcopy(_load("resend/resend.json")["components"])
    schemas = components["schemas"]
    # Docs ("List Sent Emails") show cc, bcc and reply_to as null when unset, and each item
    # with scheduled_at; the spec types them as arrays and has no scheduled_at.
    for name in ("bcc", "cc", "reply_to"):
        schemas["Email"]["properties"][name]["type"] = ["array", "null"]
    schemas["Email"]["properties"]["scheduled_at"] = {"type": ["string", "null"]}
    # Docs show a broadcast not yet sent with null scheduled_at/sent_at, listed or retrieved.
    items = schemas["ListBroadcastsResponseSuccess"]["properties"]["data"]["items"]
    for holder in (items, schemas["GetBroadcastResponseSuccess"]):
        for name in ("scheduled_at", "sent_at"):
            holder["properties"][name]["type"] = ["string", "null"]
    # Docs ("Pagination"): every paginated list response carries has_more.
    for name in ("ListContactsResponseSuccess", "ListAudiencesResponseSuccess"):
        schemas[name]["properties"]["has_more"] = {"type": "boolean"}
    # Docs ("Retrieve Broadcast") show "object": "broadcast".
    schemas["GetBroadcastResponseSuccess"]["properties"]["object"] = {"type": "string"}
    return components


def resend_problems(body: Any, schema_name: str) -> list[str]:
    """JSON Schema errors, plus any key the schema does not declare (the spec never says
    ``additionalProperties: false``, so an invented field would otherwise pass)."""
    components = resend_components()
    schema = {"components": components, "$ref": f"#/components/schemas/{schema_name}"}
    validator = jsonschema.Draft202012Validator(schema)
    problems = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
    problems += _undeclared(body, components["schemas"][schema_name], components, "$")
    return problems


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _undeclared(value: Any, schema: dict[str, Any], components: dict[str, Any],
                path: str) -> list[str]:
    schema = _resolve(schema, components)
    out: list[str] = []
    if isinstance(value, dict) and "properties" in schema:
        props = schema["properties"]
        if schema.get("additionalProperties") is not True:
            out += [f"{path}.{k}: not in the schema" for k in value if k not in props]
        for key, item in value.items():
            if key in props:
                out += _undeclared(item, props[key], components, f"{path}.{key}")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            out += _undeclared(item, schema["items"], components, f"{path}[{i}]")
    return out


# -- Slack: Swagger 2.0 -------------------------------------------------------------------------


def _tuple_items_to_any_of(node: Any) -> Any:
    """The Slack spec writes alternatives as a tuple ``items`` on schemas that are not arrays
    (e.g. ``tz: {items: [{type: null}, {type: string}]}``); JSON Schema would ignore those, so
    they are read as the ``anyOf`` they mean."""
    if isinstance(node, list):
        return [_tuple_items_to_any_of(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _tuple_items_to_any_of(v) for k, v in node.items()}
    if isinstance(out.get("items"), list) and out.get("type") != "array":
        out["anyOf"] = out.pop("items")
    return out


@cache
def slack_spec() -> dict[str, Any]:
    spec = _tuple_items_to_any_of(_load("slack/slack_web_openapi_v2.json"))
    defs = spec["definitions"]
    # Docs (docs.slack.dev, "Message object"): an edited message carries edited {user, ts}.
    edited = {"type": "object", "additionalProperties": False,
              "required": ["user", "ts"],
              "properties": {"user": {"$ref": "#/definitions/defs_user_id"},
                             "ts": {"$ref": "#/definitions/defs_ts"}}}
    defs["objs_message"]["properties"]["edited"] = edited
    paths = spec["paths"]
    cursor = {"type": "object", "additionalProperties": False, "required": ["next_cursor"],
              "properties": {"next_cursor": {"type": "string"}}}
    for method in ("/conversations.history", "/conversations.replies"):
        responses = paths[method]["get"]["responses"]
        # Docs: history and replies page with response_metadata.next_cursor (the spec's own
        # examples show it, its schema forbids it), and an empty channel has no messages.
        responses["200"]["schema"]["properties"]["response_metadata"] = cursor
        responses["200"]["schema"]["properties"]["messages"].pop("minItems", None)
        for alternative in responses["200"]["schema"]["properties"]["messages"]["items"].get(
                "anyOf", []):
            alternative["properties"]["edited"] = edited
        # Docs list these errors for both methods; the 2020 spec predates some.
        errors = responses["default"]["schema"]["properties"]["error"]["enum"]
        errors += ["not_in_channel", "invalid_cursor", "ratelimited", "invalid_arguments"]
    return spec


def slack_problems(body: Any, method: str, status: str = "200") -> list[str]:
    spec = slack_spec()
    schema = spec["paths"][f"/{method}"]["get"]["responses"][status]["schema"]
    root = {"definitions": spec["definitions"], **schema}
    validator = jsonschema.Draft4Validator(root)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
