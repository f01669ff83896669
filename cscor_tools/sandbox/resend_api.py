"""Resend's HTTP surface at the root paths: emails sent and received, contacts (with their
segments and topics), segments/audiences, topics, domains, broadcasts and their recipients, with
Resend's pagination, error bodies and the 403 its edge gives a request without a User-Agent.

Pagination (docs, "Pagination"): ``limit`` 1–100, ``after`` or ``before`` an object id (not
both); ``GET /emails`` always pages (20 by default) while the older list endpoints return
everything unless ``limit`` is given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cscor_tools.sandbox.collection import Collection, paginate_sequence
from cscor_tools.sandbox.resend_data import RECIPIENT_TYPES, ResendData
from cscor_tools.sandbox.template import dumps
from cscor_tools.sandbox.wire import Request, Response

_ERROR_NAMES = {
    400: "validation_error", 401: "missing_api_key", 403: "invalid_api_key", 404: "not_found",
    405: "method_not_allowed", 422: "validation_error", 429: "rate_limit_exceeded",
    500: "internal_server_error",
}


class ResendError(Exception):
    def __init__(self, status: int, message: str, name: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.name = name or _ERROR_NAMES.get(status, "application_error")


def error_response(status: int, message: str, name: str | None = None) -> Response:
    err = ResendError(status, message, name)
    return Response.json(status, {"statusCode": status, "message": message, "name": err.name})


class ResendAPI:
    """Answers Resend's paths from a :class:`ResendData`."""

    name = "resend"

    def __init__(self, data: ResendData, api_key: str) -> None:
        self.data = data
        self.api_key = api_key

    def handle(self, req: Request) -> Response:
        if not req.header("user-agent"):
            # Resend's edge (not its API) rejects these, with a plain-text body
            return Response(403, b"error code: 1010", content_type="text/plain; charset=utf-8")
        try:
            self._authenticate(req)
            return self._route(req)
        except ResendError as err:
            return error_response(err.status, str(err), err.name)

    def rate_limited(self, req: Request, retry_after: float) -> Response:
        return error_response(429, "Too many requests. Please limit the number of requests per "
                              "second. Or contact support to increase rate limit.")

    def server_error(self, req: Request, status: int) -> Response:
        return error_response(status, "An unexpected error occurred.", "internal_server_error")

    def _authenticate(self, req: Request) -> None:
        scheme, _, key = (req.header("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise ResendError(401, "Missing API key in the authorization header.")
        if key.strip() != self.api_key:
            raise ResendError(403, "API key is invalid.")

    def _route(self, req: Request) -> Response:
        parts = [p for p in req.path.split("/") if p]
        if req.method == "GET" and parts[:2] == ["emails", "receiving"] and len(parts) <= 3:
            if len(parts) == 3:
                return self._retrieve(self.data.received, parts[2], ResendData.received_json,
                                      "Email")
            return self._list(req, self.data.received, ResendData.received_list_bytes, True,
                              None)
        if req.method == "GET" and len(parts) == 3:
            return self._nested(req, parts)
        if req.method != "GET" or not parts or len(parts) > 2:
            if parts and parts[0] in _ROUTES and req.method != "GET":
                raise ResendError(405, "Method is not allowed for the requested path. The "
                                  "sandbox serves Resend's read endpoints only.")
            raise ResendError(404, "The requested endpoint does not exist.")
        route = _ROUTES.get(parts[0])
        if route is None:
            raise ResendError(404, "The requested endpoint does not exist.")
        collection, item_json, full_json, always_pages, noun = route
        data = self.data
        if len(parts) == 2:
            return self._retrieve(collection(data), parts[1], full_json, noun)
        items = collection(data)
        where = None
        segment = req.flat.get("segment_id") or req.flat.get("audience_id")
        if parts[0] == "contacts" and segment:
            where = lambda c, s=segment: s in c.segments  # noqa: E731
        return self._list(req, items, item_json, always_pages, where)

    def _nested(self, req: Request, parts: list[str]) -> Response:
        """``/contacts/{id}/segments``, ``/contacts/{id}/topics`` and
        ``/broadcasts/{id}/recipients``: small lists kept in their own order."""
        data = self.data
        head, key, tail = parts
        if head == "contacts" and tail in ("segments", "topics"):
            contact = data.contacts.get(key) or data.contact_by_email(key)
            if contact is None or not contact.live:
                raise ResendError(404, "Contact not found")
            rows = (data.contact_segments(contact) if tail == "segments"
                    else data.contact_topics(contact))
            return self._sequence(req, rows, lambda r: r)
        if head == "broadcasts" and tail == "recipients":
            broadcast = data.broadcasts.get(key)
            if broadcast is None or not broadcast.live:
                raise ResendError(404, "Broadcast not found")
            kind = req.flat.get("type")
            if kind not in RECIPIENT_TYPES:
                raise ResendError(422, "The `type` parameter must be one of: "
                                  f"{', '.join(RECIPIENT_TYPES)}.")
            return self._sequence(req, data.recipients(broadcast, kind),
                                  ResendData.recipient_item)
        raise ResendError(404, "The requested endpoint does not exist.")

    def _sequence(self, req: Request, rows: list[Any],
                  render: Callable[[Any], dict[str, Any]]) -> Response:
        limit = self._limit(req, always_pages=True)
        after_id, before_id = req.flat.get("after"), req.flat.get("before")
        if after_id and before_id:
            raise ResendError(422, "You can only use either `after` or `before`, not both.")
        items = [_Keyed(render(r)) for r in rows]
        page = paginate_sequence(items, limit=limit or 20, after=after_id, before=before_id)
        if page is None:
            raise ResendError(422, "The cursor does not match any object of this list.")
        return Response.json(200, {"object": "list", "has_more": page.has_more,
                                   "data": [i.body for i in page.items]},
                             objects=len(page.items))

    def _limit(self, req: Request, *, always_pages: bool) -> int | None:
        raw_limit = req.flat.get("limit")
        if raw_limit is None and not always_pages:
            return None
        try:
            limit = int(raw_limit) if raw_limit is not None else 20
        except ValueError:
            raise ResendError(422, "The `limit` parameter must be an integer.") from None
        if not 1 <= limit <= 100:
            raise ResendError(422, "The `limit` parameter must be between 1 and 100.")
        return limit

    def _retrieve(self, items: Collection[Any], key: str, render: Callable[..., Any],
                  noun: str) -> Response:
        record = items.get(key)
        if record is None and noun == "Contact":  # contacts are found by id or by email
            record = self.data.contact_by_email(key)
        if record is None or not record.live:
            raise ResendError(404, f"{noun} not found")
        return Response.json(200, render(self.data, record), objects=1)

    def _list(self, req: Request, items: Collection[Any], item_bytes: Callable[..., bytes],
              always_pages: bool, where: Callable[[Any], bool] | None) -> Response:
        params = req.flat
        limit = self._limit(req, always_pages=always_pages)
        after_id, before_id = params.get("after"), params.get("before")
        if after_id and before_id:
            raise ResendError(422, "You can only use either `after` or `before`, not both.")
        after = items.get(after_id) if after_id else None
        before = items.get(before_id) if before_id else None
        if (after_id and after is None) or (before_id and before is None):
            raise ResendError(422, "The cursor does not match any object of this list.")
        page = items.page(limit=limit if limit is not None else max(1, len(items)),
                          after=after, before=before, where=where)
        body = b"".join((
            b'{"object":"list","has_more":', b"true" if page.has_more else b"false",
            b',"data":[', b",".join(item_bytes(self.data, r) for r in page.items), b"]}",
        ))
        return Response(200, body, objects=len(page.items))


def _bytes(render: Callable[[Any], dict[str, Any]]) -> Callable[[ResendData, Any], bytes]:
    return lambda data, record: dumps(render(record))


_ROUTES: dict[str, tuple[Callable[[ResendData], Collection[Any]], Callable[..., bytes],
                          Callable[..., Any], bool, str]] = {
    # path: (collection, list item bytes, retrieve json, always paginated, noun for 404s)
    "emails": (lambda d: d.emails, ResendData.email_list_bytes,
               ResendData.email_json, True, "Email"),
    "contacts": (lambda d: d.contacts, ResendData.contact_list_bytes,
                 ResendData.contact_json, False, "Contact"),
    "domains": (lambda d: d.domains, _bytes(ResendData.domain_item),
                ResendData.domain_json, False, "Domain"),
    "segments": (lambda d: d.segments, _bytes(ResendData.segment_item),
                 lambda d, s: {"object": "segment", **ResendData.segment_item(s)}, False,
                 "Segment"),
    # Resend renamed audiences to segments; the old endpoints still answer, same objects
    "audiences": (lambda d: d.segments, _bytes(ResendData.segment_item),
                  lambda d, s: {"object": "audience", **ResendData.segment_item(s)}, False,
                  "Audience"),
    "broadcasts": (lambda d: d.broadcasts, _bytes(ResendData.broadcast_item),
                   ResendData.broadcast_json, False, "Broadcast"),
    "topics": (lambda d: d.topics, _bytes(ResendData.topic_item),
               ResendData.topic_json, False, "Topic"),
}


class _Keyed:
    """A rendered row that a sequence paginates by its ``id``."""

    __slots__ = ("body", "id")

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.id: str = body["id"]
