"""Build the Resend cassettes from the examples in Resend's OpenAPI spec (see README.md).

    python cassettes/resend/build_cassettes.py [path/to/resend.json]

Reads ``resend.json`` from resend/resend-openapi (default: ``../shared/specs/resend/`` next to
the repository), makes one example object per list the connector reads from the ``example``
of each property (the spec has no whole-object examples), keeps them in
``example_objects.json``, and writes two vcrpy cassettes that replay a first sync and the next
one of a team holding those objects. Requests carry no Authorization header (what
``filter_headers`` removes from a real recording); response headers are Content-Type and
Resend's ``ratelimit-*`` fields.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DEFAULT_SPEC = REPO.parent / "shared" / "specs" / "resend" / "resend.json"
BASE = "https://api.resend.com"
#: the list schemas whose item examples make the objects (name: (schema, path to the item))
LISTS = {
    "email": "ListEmailsResponse",
    "received_email": "ListReceivedEmailsResponse",
    "contact": "ListContactsResponseSuccess",
    "segment": "ListSegmentsResponseSuccess",
    "topic": "ListTopicsResponseSuccess",
    "contact_topic": "GetContactTopicsResponseSuccess",
    "broadcast": "ListBroadcastsResponseSuccess",
    "recipient": "ListBroadcastRecipientsResponseSuccess",
    "domain": "ListDomainsResponse",
}
OUTCOMES = ("sent", "suppressed", "bounced", "unsubscribed", "complained")
#: what the spec gives no example of: ids from the example broadcast's segment and topic
FILLED = {
    "segment": {"id": "78261eea-8f8b-4381-83c6-79fa7120f1cf", "name": "Newsletter"},
    "topic": {"id": "b6d24b8e-af0b-4c3c-be0c-359bbd97381e", "name": "Product updates"},
    "contact_topic": {"id": "b6d24b8e-af0b-4c3c-be0c-359bbd97381e", "name": "Product updates"},
}


def example(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """An object made of the ``example`` of each property (nested objects too)."""
    while "$ref" in schema:
        schema = components["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if "example" in schema:
        return schema["example"]
    kinds = schema.get("type")
    if kinds == "object" or "properties" in schema:
        out = {}
        for key, prop in schema.get("properties", {}).items():
            value = example(prop, components)
            if value is not None:
                out[key] = value
        return out
    if kinds == "array" and isinstance(schema.get("items"), dict):
        item = example(schema["items"], components)
        return [item] if item not in (None, {}) else None
    if "enum" in schema:
        return schema["enum"][0]
    return None


def objects_of(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    components = spec["components"]
    out = {}
    for name, schema_name in LISTS.items():
        items = components["schemas"][schema_name]["properties"]["data"]["items"]
        out[name] = {**example(items, components), **FILLED.get(name, {})}
    return out


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SPEC
    objects = objects_of(json.loads(source.read_text()))
    (HERE / "example_objects.json").write_text(json.dumps(objects, indent=1, sort_keys=True)
                                               + "\n")
    _write("full_sync.yaml", full_sync(objects))
    _write("incremental.yaml", incremental(objects))
    return 0


def _list(data: list[Any], has_more: bool = False) -> dict[str, Any]:
    return {"object": "list", "has_more": has_more, "data": data}


def _interaction(path: str, body: Any) -> dict[str, Any]:
    return {
        "request": {"body": None, "headers": {"Accept": ["application/json"]},
                    "method": "GET", "uri": BASE + path},
        "response": {
            "status": {"code": 200, "message": "OK"},
            "headers": {"Content-Type": ["application/json"], "ratelimit-limit": ["2"],
                        "ratelimit-remaining": ["1"], "ratelimit-reset": ["1"]},
            "body": {"string": json.dumps(body, sort_keys=True)},
        },
    }


def _sent(o: dict[str, Any]) -> dict[str, Any]:
    """The example broadcast, sent (the spec's example is a draft, which has no recipients)."""
    return dict(o["broadcast"], status="sent")


def _recipients(o: dict[str, Any], broadcast: dict[str, Any],
                again: bool = False) -> list[dict[str, Any]]:
    """Each outcome's listing; a re-read skips ``sent`` (who got it does not change)."""
    path = f"/broadcasts/{broadcast['id']}/recipients"
    plain = {k: v for k, v in o["recipient"].items() if k in ("id", "contact_id", "email")}
    kinds = OUTCOMES[1:] if again else OUTCOMES
    return [_interaction(path, _list([o["recipient"] if kind == "bounced" else plain]))
            for kind in kinds]


def full_sync(o: dict[str, Any]) -> list[dict[str, Any]]:
    """A team of one of everything: each stream's listings, in the order each stream asks."""
    contact = o["contact"]
    out = [
        _interaction("/emails", _list([o["email"]])),
        _interaction("/emails/receiving", _list([o["received_email"]])),
        _interaction("/segments", _list([o["segment"]])),
        # the segment's members, the contacts listing, the topics stream's contacts listing
        *[_interaction("/contacts", _list([contact])) for _ in range(3)],
        _interaction("/topics", _list([o["topic"]])),
        _interaction(f"/contacts/{contact['id']}/topics", _list([o["contact_topic"]])),
        # the broadcasts stream, and the recipients stream's plan
        *[_interaction("/broadcasts", _list([_sent(o)])) for _ in range(2)],
        *_recipients(o, _sent(o)),
        _interaction("/domains", _list([o["domain"]])),
    ]
    return out


def incremental(o: dict[str, Any]) -> list[dict[str, Any]]:
    """The next sync, with a complete contact listing: a new email on top, the example email
    now bounced; the contact deleted (no longer listed); the broadcast's outcomes read again
    (it is recent)."""
    newer = copy.deepcopy(o["email"])
    newer.update(id="4ef9a417-02e9-4d39-ad75-9611e0fcc33d", created_at="2023-04-04 09:00:00+00",
                 subject="Second email", last_event="sent")
    bounced = dict(o["email"], last_event="bounced")
    return [
        _interaction("/emails", _list([newer, bounced])),
        _interaction("/emails/receiving", _list([o["received_email"]])),
        _interaction("/segments", _list([o["segment"]])),
        *[_interaction("/contacts", _list([])) for _ in range(3)],
        _interaction("/topics", _list([o["topic"]])),
        *[_interaction("/broadcasts", _list([_sent(o)])) for _ in range(2)],
        *_recipients(o, _sent(o), again=True),
        _interaction("/domains", _list([o["domain"]])),
    ]


def _write(name: str, interactions: list[dict[str, Any]]) -> None:
    text = yaml.safe_dump({"interactions": interactions, "version": 1}, sort_keys=False,
                          allow_unicode=True, width=100)
    header = ("# Built by cassettes/resend/build_cassettes.py from the examples in Resend's\n"
              "# OpenAPI spec (resend/resend-openapi resend.json): NOT a recording of a real "
              "team.\n")
    (HERE / name).write_text(header + text)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
