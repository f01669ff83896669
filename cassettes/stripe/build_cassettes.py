"""Build the Stripe cassettes from Stripe's own example objects (see README.md beside this file).

    python cassettes/stripe/build_cassettes.py [path/to/fixtures3.json]

Reads ``fixtures3.json`` from stripe/openapi (default: ``../shared/specs/stripe/`` next to the
repository), keeps the example objects the connector reads in ``fixture_objects.json``, and
writes two vcrpy cassettes that replay a full sync and an incremental sync of a one-customer
account made of those objects. Requests carry no Authorization header: it is what
``filter_headers=["authorization"]`` removes when a cassette is recorded for real. Response
bodies go through the same scrubber as a real recording (``redact_secrets``: keys and payment
client secrets, such as the example PaymentIntent's). The events claim the connector's pinned
``API_VERSION``, imported rather than repeated, so the cassettes cannot drift from it.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from cscor_tools.connectors.stripe.client import redact_secrets
from cscor_tools.connectors.stripe.connector import API_VERSION

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DEFAULT_FIXTURES = REPO.parent / "shared" / "specs" / "stripe" / "fixtures3.json"
BASE = "https://api.stripe.com"
KEPT = ("customer", "deleted_customer", "invoice", "deleted_invoice", "line_item", "charge",
        "payment_intent", "invoice_payment", "event")
#: the API version the events below claim; one is older, to show a version warning
PINNED = API_VERSION
OLDER = "2024-06-20"


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_FIXTURES
    resources = json.loads(source.read_text())["resources"]
    objects = {name: resources[name] for name in KEPT}
    (HERE / "fixture_objects.json").write_text(json.dumps(objects, indent=1, sort_keys=True)
                                               + "\n")
    _write("full_sync.yaml", full_sync(objects))
    _write("incremental.yaml", incremental(objects))
    return 0


def _list(path: str, data: list[Any], has_more: bool = False) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": path}


def _interaction(path: str, body: Any) -> dict[str, Any]:
    return {
        "request": {
            "body": None,
            "headers": {"Accept": ["application/json"], "Stripe-Version": [PINNED]},
            "method": "GET",
            "uri": BASE + path,
        },
        "response": {
            "status": {"code": 200, "message": "OK"},
            "headers": {"Content-Type": ["application/json"], "Stripe-Version": [PINNED],
                        "Request-Id": ["req_fixture"]},
            "body": {"string": redact_secrets(json.dumps(body, sort_keys=True))},
        },
    }


def full_sync(o: dict[str, Any]) -> list[dict[str, Any]]:
    """Each list twice (the planning probe, then its one window) and an empty event list."""
    out = []
    for path, name in (("/v1/customers", "customer"), ("/v1/invoices", "invoice"),
                       ("/v1/charges", "charge"), ("/v1/payment_intents", "payment_intent")):
        page = _list(path, [o[name]])
        out += [_interaction(path, page), _interaction(path, page)]
    out.append(_interaction("/v1/events", _list("/v1/events", [])))
    return out


def _event(o: dict[str, Any], n: int, type_: str, obj: Any, version: str) -> dict[str, Any]:
    event = copy.deepcopy(o["event"])
    created = o["customer"]["created"] + 3600 * n
    event.update(id=f"evt_fixture{n}", type=type_, api_version=version, created=created,
                 data={"object": obj})
    return event


def incremental(o: dict[str, Any]) -> list[dict[str, Any]]:
    """Nothing new in the lists; three events: the customer renamed (under an older API
    version), the draft invoice deleted, the customer deleted."""
    renamed = dict(o["customer"], name="Jenny Rosen")
    events = [
        _event(o, 1, "customer.updated", renamed, OLDER),
        _event(o, 2, "invoice.deleted", o["invoice"], PINNED),
        _event(o, 3, "customer.deleted", renamed, PINNED),
    ]
    out = [_interaction(path, _list(path, []))
           for path in ("/v1/customers", "/v1/invoices", "/v1/charges", "/v1/payment_intents")]
    newest_first = events[::-1]
    out.append(_interaction("/v1/events", _list("/v1/events", newest_first[:1], True)))
    out.append(_interaction("/v1/events", _list("/v1/events", newest_first)))
    return out


def _write(name: str, interactions: list[dict[str, Any]]) -> None:
    text = yaml.safe_dump({"interactions": interactions, "version": 1}, sort_keys=False,
                          allow_unicode=True, width=100)
    header = ("# Built by cassettes/stripe/build_cassettes.py from Stripe's example objects\n"
              "# (stripe/openapi fixtures3.json): NOT a recording of a real account.\n")
    (HERE / name).write_text(header + text)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
