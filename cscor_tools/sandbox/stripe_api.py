"""Stripe's HTTP surface under ``/v1/``: auth, versioning, list parameters and error bodies.

Reads only: the account, customers, invoices (and their lines), charges, payment intents,
invoice payments and events, each listed and retrieved by id. ``expand[]`` takes every path the
spec's ``x-expandableFields`` allow (:mod:`stripe_expandable`): an id the sandbox keeps expands to
its object, a list it does not keep (a customer's ``sources``) to an empty list, an unset
reference stays null; a path the spec does not allow is refused. Parameter names come from
Stripe's OpenAPI spec (the 2022 copy in shared/specs, for the list endpoints that have not changed
since); an unknown parameter is refused with Stripe's ``parameter_unknown`` error, so a typo in a
connector shows here rather than against the real API.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from cscor_tools.sandbox.collection import Collection, CreatedRange, Page, paginate_sequence
from cscor_tools.sandbox.stripe_account import account_json
from cscor_tools.sandbox.stripe_data import StripeData
from cscor_tools.sandbox.stripe_expandable import EXPANDABLE, Kind
from cscor_tools.sandbox.stripe_records import (
    Customer,
    Event,
    Invoice,
)
from cscor_tools.sandbox.stripe_render import deleted_json, line_text
from cscor_tools.sandbox.template import dumps
from cscor_tools.sandbox.wire import Request, Response

_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$")
_LIST_PARAMS = frozenset({"limit", "starting_after", "ending_before", "expand", "created"})


class StripeError(Exception):
    """An error answer, raised anywhere below a handler and rendered once."""

    def __init__(self, status: int, message: str, *, code: str | None = None,
                 param: str | None = None, type_: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {}
        if code:
            self.body["code"] = code
            self.body["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
        self.body["message"] = message
        if param:
            self.body["param"] = param
        self.body["type"] = type_


def _error_response(err: StripeError) -> Response:
    return Response.json(err.status, {"error": err.body})


@dataclass(frozen=True)
class _Listing:
    """One list endpoint: which collection, which filters, what a missing id is called."""

    collection: Callable[[StripeData], Collection[Any]]
    noun: str
    filters: frozenset[str]


_LISTINGS: dict[str, _Listing] = {
    "customers": _Listing(lambda d: d.customers, "customer",
                          frozenset({"email", "test_clock"})),
    "invoices": _Listing(lambda d: d.invoices, "invoice",
                         frozenset({"customer", "status", "subscription", "collection_method",
                                    "due_date"})),
    "charges": _Listing(lambda d: d.charges, "charge",
                        frozenset({"customer", "payment_intent", "transfer_group"})),
    "payment_intents": _Listing(lambda d: d.payment_intents, "payment_intent",
                                frozenset({"customer"})),
    "invoice_payments": _Listing(lambda d: d.invoice_payments, "invoice_payment",
                                 frozenset({"invoice", "payment", "status"})),
    "events": _Listing(lambda d: d.events, "event",
                       frozenset({"type", "types", "delivery_success"})),
}

#: the objects an expanded id is looked up in
_KEPT: dict[str, Callable[[StripeData], Collection[Any]]] = {
    listing.noun: listing.collection for listing in _LISTINGS.values()}

#: expansions newer than the 2022 spec: invoice payments (2025) and a payment intent's
#: ``latest_charge`` (2022-11-15), as the current API reference documents them
_LATER: dict[str, dict[str, tuple[Kind, tuple[str, ...]]]] = {
    "invoice": {"payments": ("list", ("invoice_payment",))},
    "payment_intent": {"latest_charge": ("ref", ("charge",))},
    "invoice_payment": {"invoice": ("ref", ("invoice",))},
}


def _expandable(kind: str) -> dict[str, tuple[Kind, tuple[str, ...]]]:
    return {**EXPANDABLE.get(kind, {}), **_LATER.get(kind, {})}


def _check_path(kind: str, path: str, shown: str) -> None:
    """Refuse ``path`` unless each step is a property the spec lets expand (a list is
    stepped into through ``data``)."""
    kinds: tuple[str, ...] = (kind,)
    steps = path.split(".")
    at = 0
    while at < len(steps):
        step = steps[at]
        found = [_expandable(k)[step] for k in kinds if step in _expandable(k)]
        if not found:
            raise StripeError(400, f"This property cannot be expanded ({shown}).",
                              param="expand")
        at += 1
        if found[0][0] == "list" and at < len(steps):
            if steps[at] != "data":
                raise StripeError(400, f"This property cannot be expanded ({shown}).",
                                  param="expand")
            at += 1
        kinds = tuple(dict.fromkeys(k for _, held in found for k in held))


def _int(value: Any, param: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StripeError(400, f"Invalid integer: {value}", param=param) from None


def _range(value: Any, param: str) -> CreatedRange:
    if not isinstance(value, dict):
        exact = _int(value, param)
        return CreatedRange(gte=exact, lte=exact)
    unknown = set(value) - {"gt", "gte", "lt", "lte"}
    if unknown:
        name = sorted(unknown)[0]
        raise StripeError(400, f"Received unknown parameter: {param}[{name}]",
                          code="parameter_unknown", param=f"{param}[{name}]")
    return CreatedRange(**{k: _int(v, f"{param}[{k}]") for k, v in value.items()})


def _equals(get: Callable[[Any], Any], value: Any) -> Callable[[Any], bool]:
    return lambda record: bool(get(record) == value)


def _between(get: Callable[[Any], int | None], low: int, high: int) -> Callable[[Any], bool]:
    def test(record: Any) -> bool:
        value = get(record)
        return value is not None and low <= value <= high

    return test


class StripeAPI:
    """Answers ``/v1/…`` requests from a :class:`StripeData`."""

    name = "stripe"

    def __init__(self, data: StripeData, api_key: str) -> None:
        self.data = data
        self.api_key = api_key
        self._request_ids = itertools.count(1)

    # -- envelope ----------------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        version = req.header("stripe-version") or self.data.account.api_version
        try:
            self._authenticate(req)
            if not _VERSION.match(version):
                raise StripeError(400, f"Invalid Stripe API version: {version}",
                                  param="Stripe-Version")
            response = self._route(req)
        except StripeError as err:
            response = _error_response(err)
        return self.finish(response, version)

    def finish(self, response: Response, version: str | None = None) -> Response:
        response.headers.append(("Request-Id", f"req_sandbox{next(self._request_ids):010d}"))
        response.headers.append(("Stripe-Version", version or self.data.account.api_version))
        return response

    def rate_limited(self, req: Request, retry_after: float) -> Response:
        # Stripe's 429 names the problem in the body; it sends no Retry-After header.
        err = StripeError(429, "Too many requests hit the API too quickly. We recommend an "
                          "exponential backoff of your requests.", code="rate_limit")
        return self.finish(_error_response(err), req.header("stripe-version"))

    def server_error(self, req: Request, status: int) -> Response:
        err = StripeError(status, "An unknown error occurred", type_="api_error")
        return self.finish(_error_response(err), req.header("stripe-version"))

    def _authenticate(self, req: Request) -> None:
        scheme, _, value = (req.header("authorization") or "").partition(" ")
        key = value.strip()
        if scheme.lower() == "basic":  # Stripe takes the key as a Basic-auth user name
            try:
                key = base64.b64decode(key).decode().partition(":")[0]
            except ValueError:
                key = ""
        elif scheme.lower() != "bearer":
            key = ""
        if not key:
            raise StripeError(401, "You did not provide an API key. You need to provide your "
                              "API key in the Authorization header, using Bearer auth (e.g. "
                              "'Authorization: Bearer YOUR_SECRET_KEY').")
        if key != self.api_key:
            shown = f"{key[:8]}{'*' * max(0, len(key) - 12)}{key[-4:]}" if len(key) > 12 else "*"
            raise StripeError(401, f"Invalid API Key provided: {shown}", code="api_key_invalid")

    def _route(self, req: Request) -> Response:
        parts = req.path.rstrip("/").split("/")[2:]  # after "", "v1"
        if req.method == "GET" and (parts == ["account"] or
                                    (len(parts) == 2 and parts[0] == "accounts")):
            return self._account(req, parts[1] if len(parts) == 2 else None)
        listing = _LISTINGS.get(parts[0]) if parts else None
        # search (/v1/customers/search…) and writes are not served: say so, as Stripe says of
        # a URL it does not know, rather than answer "no such customer: 'search'"
        if req.method != "GET" or listing is None or len(parts) > 3 or parts[1:2] == ["search"]:
            raise StripeError(404, f"Unrecognized request URL ({req.method}: {req.path}). "
                              "The sandbox serves Stripe's read endpoints only.")
        if len(parts) == 1:
            return self._list(req, parts[0], listing)
        if len(parts) == 3:
            if parts[0] != "invoices" or parts[2] != "lines":
                raise StripeError(404, f"Unrecognized request URL (GET: {req.path}).")
            return self._lines(req, parts[1])
        return self._retrieve(req, listing, parts[1])

    # -- retrieve ----------------------------------------------------------------------------

    def _find(self, listing: _Listing, obj_id: str, param: str = "id") -> Any:
        record = listing.collection(self.data).get(obj_id)
        if record is None or (isinstance(record, Event) and
                              record.created < self.data.events_since()):
            raise StripeError(404, f"No such {listing.noun}: '{obj_id}'",
                              code="resource_missing", param=param)
        return record

    def _retrieve(self, req: Request, listing: _Listing, obj_id: str) -> Response:
        self._check_params(req, frozenset({"expand"}))
        record = self._find(listing, obj_id)
        if not record.live and isinstance(record, Customer | Invoice):
            return Response.json(200, deleted_json(record.id, listing.noun), objects=1)
        expand = self._expand_list(req, listing.noun, prefix="")
        return Response(200, self._object_bytes(record, expand), objects=1)

    def _account(self, req: Request, account_id: str | None) -> Response:
        self._check_params(req, frozenset({"expand"}))
        account = self.data.account
        if account_id is not None and account_id != account.id:
            # Stripe answers so when the account is not one this key may see
            # (its message names the key, masked; the sandbox leaves even that out)
            raise StripeError(403, f"The provided key does not have access to account "
                              f"'{account_id}' (or that account does not exist). Application "
                              "access may have been revoked.",
                              code="account_invalid", param="account")
        expand = self._expand_list(req, "account", prefix="")
        first = min((c.created for c in self.data.customers), default=self.data.clock.now)
        obj = account_json(account, first)
        for path in expand:
            self._expand(obj, ("account",), path.split("."))
        return Response.json(200, obj, objects=1)

    def _object_bytes(self, record: Any, expand: list[str]) -> bytes:
        raw = self.data.json_bytes(record)
        if not expand:
            return raw
        obj = json.loads(raw)
        for path in expand:
            self._expand(obj, (obj["object"],), path.split("."))
        return dumps(obj)

    def _expand(self, obj: dict[str, Any], kinds: tuple[str, ...], steps: list[str]) -> None:
        """Expand one checked path in ``obj`` in place."""
        kind = obj.get("object") if obj.get("object") in kinds else kinds[0]
        step, rest = steps[0], steps[1:]
        shape, held = _expandable(str(kind))[step]
        if step not in obj:
            if shape != "list":
                return  # a property this version of the object does not carry
            obj[step] = self._included_list(obj, step)
        value = obj[step]
        if shape == "ref" and isinstance(value, str):
            value = obj[step] = self._lookup(value, held)
        elif shape == "array" and isinstance(value, list):  # an array of ids (discounts)
            value = obj[step] = [self._lookup(v, held) if isinstance(v, str) else v
                                 for v in value]
        if not rest or value is None:
            return
        if shape == "list":
            items, rest = value.get("data", []), rest[1:]
        else:
            items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict) and rest:
                self._expand(item, held, rest)

    def _lookup(self, obj_id: str, kinds: tuple[str, ...]) -> Any:
        for kind in kinds:
            collection = _KEPT.get(kind)
            record = collection(self.data).get(obj_id) if collection else None
            if record is None:
                continue
            if isinstance(record, Customer | Invoice) and not record.live:
                return deleted_json(record.id, kind)
            return json.loads(self.data.json_bytes(record))
        return obj_id  # an object the sandbox does not keep (a payment method…)

    def _included_list(self, obj: dict[str, Any], step: str) -> dict[str, Any]:
        """A list sent only when expanded: an invoice's payments, or an empty list for what
        the sandbox does not keep (a customer's sources, subscriptions and tax ids…)."""
        url = f"/v1/{obj.get('object')}s/{obj.get('id')}/{step}"
        data = self.data
        if step == "payments" and obj.get("object") == "invoice":
            invoice = data.invoices.get(str(obj.get("id")))
            payments = [data.invoice_payments.get(p) for p in invoice.payments] if invoice else []
            shown = [json.loads(data.json_bytes(p)) for p in payments[:10] if p is not None]
            return {"object": "list", "data": shown, "has_more": len(payments) > 10, "url": url}
        return {"object": "list", "data": [], "has_more": False, "url": url}

    # -- lists -------------------------------------------------------------------------------

    def _check_params(self, req: Request, allowed: frozenset[str]) -> None:
        for name in req.nested:
            if name not in allowed:
                raise StripeError(400, f"Received unknown parameter: {name}",
                                  code="parameter_unknown", param=name)

    def _expand_list(self, req: Request, kind: str, prefix: str) -> list[str]:
        raw = req.nested.get("expand", [])
        paths = raw if isinstance(raw, list) else [raw]
        fields = []
        for path in paths:
            path = str(path)
            if prefix and not path.startswith(prefix):
                raise StripeError(400, f"This property cannot be expanded ({path}).",
                                  param="expand")
            field = path[len(prefix):]
            _check_path(kind, field, path)
            fields.append(field)
        return fields

    def _limit(self, req: Request) -> int:
        raw = req.nested.get("limit")
        if raw is None or raw == "":
            return 10
        limit = _int(raw, "limit")
        if limit < 1:
            raise StripeError(400, "This value must be greater than or equal to 1.",
                              param="limit")
        if limit > 100:
            raise StripeError(400, "This value must be less than or equal to 100.",
                              param="limit")
        return limit

    def _cursors(self, req: Request, listing: _Listing) -> tuple[Any, Any]:
        after_id = req.nested.get("starting_after") or None
        before_id = req.nested.get("ending_before") or None
        if after_id and before_id:
            raise StripeError(400, "You may only specify one of these parameters: "
                              "ending_before, starting_after.")
        # a deleted object still marks a place in the list, so a cursor naming one works
        after = self._find(listing, after_id, "starting_after") if after_id else None
        before = self._find(listing, before_id, "ending_before") if before_id else None
        return after, before

    def _list(self, req: Request, resource: str, listing: _Listing) -> Response:
        self._check_params(req, _LIST_PARAMS | listing.filters)
        limit = self._limit(req)
        expand = self._expand_list(req, listing.noun, prefix="data.")
        after, before = self._cursors(req, listing)
        params = req.nested
        created = _range(params["created"], "created") if "created" in params else None
        index, where = self._filters(resource, params)
        if resource == "events":
            since = self.data.events_since()
            window = created or CreatedRange()
            created = CreatedRange(gt=window.gt, gte=max(window.gte or since, since),
                                   lt=window.lt, lte=window.lte)
        page: Page[Any] = listing.collection(self.data).page(
            limit=limit, after=after, before=before, created=created, index=index, where=where
        )
        items = [self._object_bytes(r, expand) for r in page.items]
        return self._list_response(items, page.has_more, f"/v1/{resource}")

    def _expanded_text(self, raw: bytes, expand: list[str]) -> bytes:
        obj = json.loads(raw)
        for path in expand:
            self._expand(obj, (obj["object"],), path.split("."))
        return dumps(obj)

    @staticmethod
    def _list_response(items: list[bytes], has_more: bool, url: str) -> Response:
        body = b"".join((
            b'{"object":"list","data":[', b",".join(items), b'],"has_more":',
            b"true" if has_more else b"false", b',"url":', dumps(url), b"}",
        ))
        return Response(200, body, objects=len(items))

    def _filters(self, resource: str, params: dict[str, Any]) -> tuple[
            tuple[str, str] | None, Callable[[Any], bool] | None]:
        """An index lookup for the selective filter, and a predicate for the rest."""
        tests: list[Callable[[Any], bool]] = []
        index: tuple[str, str] | None = None
        for name, value in params.items():
            if name in _LIST_PARAMS or value == "":
                continue
            if name == "customer" and resource in ("invoices", "payment_intents"):
                index = ("customer", value)
            elif name == "customer":
                tests.append(_equals(lambda r: r.payment_intent.customer, value))
            elif name == "email":
                index = ("email", value)
            elif name == "invoice":
                tests.append(_equals(lambda r: r.invoice.id, value))
            elif name == "payment_intent":
                tests.append(_equals(lambda r: r.payment_intent.id, value))
            elif name == "payment" and isinstance(value, dict):
                if value.get("payment_intent"):
                    tests.append(_equals(lambda r: r.payment_intent, value["payment_intent"]))
            elif name == "status" and resource == "invoices":
                tests.append(_equals(lambda r: r.status_at(), value))
            elif name == "status":
                tests.append(_equals(lambda r: r.status, value))
            elif name == "subscription":
                tests.append(_equals(lambda r: r.subscription, value))
            elif name == "collection_method":
                tests.append(_equals(lambda r: r.collection_method, value))
            elif name == "due_date":
                low, high = _range(value, "due_date").bounds()
                tests.append(_between(lambda r: r.due_date, low, high))
            elif name in ("type", "types"):
                tests.append(self._type_test(params))
            # test_clock, transfer_group and delivery_success match nothing the sandbox makes
            # differently: no test clocks, no transfers, no webhook endpoints
        if not tests:
            return index, None
        return index, lambda r: all(test(r) for test in tests)

    @staticmethod
    def _type_test(params: dict[str, Any]) -> Callable[[Any], bool]:
        if "type" in params and "types" in params:
            raise StripeError(400, "You may only specify one of these parameters: type, types.")
        if "type" in params:
            pattern = str(params["type"])  # Stripe allows * as a wildcard here
            return lambda e: fnmatchcase(e.type, pattern)
        wanted = params["types"] if isinstance(params["types"], list) else [params["types"]]
        if len(wanted) > 20:
            raise StripeError(400, "You may pass at most 20 values for types.", param="types")
        names = frozenset(wanted)
        return lambda e: e.type in names

    def _lines(self, req: Request, invoice_id: str) -> Response:
        self._check_params(req, frozenset({"limit", "starting_after", "ending_before",
                                           "expand"}))
        invoice = self._find(_LISTINGS["invoices"], invoice_id, "invoice")
        limit = self._limit(req)
        expand = self._expand_list(req, "line_item", prefix="data.")
        after = req.nested.get("starting_after") or None
        before = req.nested.get("ending_before") or None
        if after and before:
            raise StripeError(400, "You may only specify one of these parameters: "
                              "ending_before, starting_after.")
        page = paginate_sequence(invoice.lines, limit=limit, after=after, before=before)
        if page is None:
            missing = after or before
            raise StripeError(404, f"No such line item: '{missing}'", code="resource_missing",
                              param="starting_after" if after else "ending_before")
        items = [line_text(line).encode() for line in page.items]
        if expand:
            items = [self._expanded_text(item, expand) for item in items]
        return self._list_response(items, page.has_more, f"/v1/invoices/{invoice.id}/lines")
