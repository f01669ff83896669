"""The list streams: customers, invoices, charges and payment intents, each a few declarations.

Each reads its list in ``created`` windows (see ``slicing``) read in parallel: everything on
the first run or with ``--full``, and afterwards only what was created since the high-water
mark its last complete run left (``created >= hw``, from ``LOOKBACK`` seconds below it: an
object becomes visible in a list a moment after its ``created`` second). Changes to older
objects and deletions come from the ``events`` stream.

A window pages newest first with ``starting_after``; each page's cursor holds the walk's token
and the plan, so a resumed run rebuilds the same windows and asks for the next page. Should
the object it stopped after be gone (deleted meanwhile), the window is read again from its
top: upserts make the repeat harmless.

A window listed to its end is a complete statement of what exists in it, so its last page
sweeps: rows of that ``created`` range which the listing did not touch are tombstoned (deleted
at Stripe, which drops deleted objects from lists). Charges and payment intents are never
swept: Stripe does not delete them, and they share the ``payments`` entity, whose rows two
streams write at different times.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cscor_tools.connectors.base import Page, Slice, check_records, page_changes
from cscor_tools.connectors.pagination import AfterIdPaginator, Params, Walk
from cscor_tools.connectors.rest import LISTED, RestStream
from cscor_tools.connectors.shapes import Shape, one_of, unix_time
from cscor_tools.connectors.stripe import normalize as n
from cscor_tools.connectors.stripe.client import created_params
from cscor_tools.connectors.stripe.objects import object_rows
from cscor_tools.connectors.stripe.slicing import (
    PAGE_SIZE,
    Plan,
    Window,
    find_floor,
    slice_count,
    split,
)
from cscor_tools.errors import BadRequestError, NotFoundError
from cscor_tools.records import ChangeSet, Cursor, Output, StreamState, Sweep
from cscor_tools.schema import utc_now

if TYPE_CHECKING:
    from cscor_tools.connectors.http import JsonResponse
    from cscor_tools.connectors.stripe.connector import StripeConnector

#: seconds re-read below the high-water mark (list visibility lags creation slightly)
LOOKBACK = 300
SWEEP_REASON = "not in Stripe's complete listing of its created range: deleted at source"
RECONCILE_REASON = (
    "not in Stripe's listing during a reconcile (the 30-day events horizon had passed): "
    "deleted at source, exact time unknown"
)


class StripeStream(RestStream):
    """What every Stripe stream shares: the list envelope, and rows read under the API
    version Stripe answered in (a page from a server that ignored ``Stripe-Version`` warns)."""

    paginator = AfterIdPaginator(limit=PAGE_SIZE)
    connector: StripeConnector

    def normalize(self, raw: dict[str, Any]) -> Iterator[Output]:
        return self.record_rows(raw, n.Context(self.connector.api_version, utc_now()))

    def changes(self, page: Page) -> ChangeSet:
        context = n.Context(page.version or self.connector.api_version, utc_now())
        return page_changes(page, lambda raw: self.record_rows(raw, context), stream=self)

    def record_rows(self, raw: dict[str, Any], context: n.Context) -> Iterator[Output]:
        """One record's rows, read as ``context`` says (the version, when)."""
        return object_rows(raw, context)

    def page(self, slice: Slice, walk: Walk, records: list[dict[str, Any]],
             response: JsonResponse, *, last: bool) -> Page:
        page = super().page(slice, walk, records, response, last=last)
        page.version = response.headers.get("stripe-version") or self.connector.api_version
        return page

    def warnings_of(self, response: JsonResponse, *, path: str) -> tuple[str, ...]:
        answered = response.headers.get("stripe-version")
        pinned = self.connector.api_version
        if answered and answered != pinned:
            return (f"Stripe answered {path} under API version {answered}, not the pinned "
                    f"{pinned}; rows record the version received",)
        return ()

    def has_more(self, body: Any, path: str) -> bool:
        more = body.get("has_more") if isinstance(body, Mapping) else None
        if not isinstance(more, bool):
            self.unexpected("the list has no boolean 'has_more'", path)
        return bool(more)


class ListStream(StripeStream):
    """A Stripe list read in parallel ``created`` windows (see the module docstring)."""

    cursor_field = "created"

    # -- planning -----------------------------------------------------------------------------

    def plan(self, state: StreamState, *, full: bool,
             planned: Mapping[str, Sequence[Slice]] | None = None) -> list[Slice]:
        plan = saved_plan(state)
        if plan is None:
            high_water = (state.cursor or {}).get("hw")
            mode = "full" if full or high_water is None else "new"
            since = None if high_water is None or full else max(0, int(high_water) - LOOKBACK)
            plan = self.make_plan(mode, since)
        return window_slices(plan) if plan is not None else []

    def make_plan(self, mode: str, since: int | None) -> Plan | None:
        """Windows over everything (``since`` None) or over what was created from ``since``
        on; None when there is nothing to read."""
        probe, more = self.probe([("limit", PAGE_SIZE), *created_params(gte=since)])
        if not probe:
            return None
        top = int(probe[0]["created"])
        end = top + 1
        if since is not None:
            start, open_below = since, False
        elif not more:
            start, open_below = int(probe[-1]["created"]), True
        else:
            start, open_below = self.find_floor(end), True
        start = min(start, top)
        count = slice_count(sample=len(probe), sample_span=top - int(probe[-1]["created"]),
                            range_span=end - start, has_more=more,
                            max_slices=4 * self.connector.settings.concurrency)
        return Plan(mode, split(start, end, count), open_below, high_water=top)

    def find_floor(self, end: int) -> int:
        def older_than(t: int) -> int | None:
            found, _ = self.probe([("limit", 1), *created_params(lt=t)])
            return int(found[0]["created"]) if found else None

        workers = max(1, min(7, self.connector.settings.concurrency))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stripe-probe") as pool:
            return find_floor(older_than, end, mapper=lambda f, xs: list(pool.map(f, xs)))

    def probe(self, params: Params) -> tuple[list[dict[str, Any]], bool]:
        records, body = self.get_list(self.path, params)
        check_records(self, records, PLANNED, path=self.path)
        return records, self.has_more(body, self.path)

    # -- reading ------------------------------------------------------------------------------

    def slice_params(self, slice: Slice) -> Params:
        return created_params(gte=slice.params["gte"], lt=slice.params["lt"])

    def check(self, slice: Slice, records: list[dict[str, Any]], path: str) -> None:
        window = Window(slice.params["gte"], slice.params["lt"])
        for obj in records:
            created = obj.get("created")
            if type(created) is not int:
                continue  # not a time at all: the record's shape check names it
            if not window.contains(created):
                self.unexpected(f"{obj['id']} (created {obj.get('created')}) is outside the "
                                f"requested window {window.key}", path)

    def fetch(self, path: str, params: Params, walk: Walk) -> JsonResponse:
        try:
            return super().fetch(path, params, walk)
        except (NotFoundError, BadRequestError) as exc:
            if exc.code != "resource_missing" or walk.pages or walk.token is None:
                raise
            # The object a resumed window stopped after is gone: read the window again.
            walk.restart()
            token_param = self.paginator.token_params("")[0][0]
            return super().fetch(path, [p for p in params if p[0] != token_param], walk)

    def page(self, slice: Slice, walk: Walk, records: list[dict[str, Any]],
             response: JsonResponse, *, last: bool) -> Page:
        page = super().page(slice, walk, records, response, last=last)
        page.reconciled = slice.params["plan"]["mode"] == "reconcile"
        assert page.cursor is not None
        page.cursor["plan"] = slice.params["plan"]
        return page

    def sweeps_of(self, slice: Slice, since: datetime) -> list[Sweep]:
        reason = RECONCILE_REASON if slice.params["plan"]["mode"] == "reconcile" else SWEEP_REASON
        low, high = slice.params["gte"], slice.params["lt"]
        return [Sweep(e, n.SOURCE, since, reason, created_from=_moment(low),
                      created_to=_moment(high)) for e in self.sweeps]

    def finish(self, state: StreamState, slice_cursors: Mapping[str, Cursor | None]) -> Cursor:
        cursor: Cursor = {k: v for k, v in (state.cursor or {}).items() if k in ("hw",)}
        plans = [c["plan"] for c in slice_cursors.values() if c and "plan" in c]
        if plans:
            cursor["hw"] = max(int(plans[0]["hw"]), int(cursor.get("hw") or 0))
        cursor["api_version"] = self.connector.api_version
        return cursor


def saved_plan(state: StreamState) -> Plan | None:
    """The plan an interrupted run left in its slice cursors (every cursor carries it)."""
    for cursor in state.slices.values():
        if isinstance(cursor, Mapping) and isinstance(cursor.get("plan"), Mapping):
            return Plan.from_dict(cursor["plan"])
    return None


def window_slices(plan: Plan, prefix: str = "") -> list[Slice]:
    """One slice per window; each carries the plan and the moment its listing begins."""
    listed = utc_now().isoformat()
    return [Slice(prefix + w.key, {"gte": w.gte, "lt": w.lt, "plan": plan.to_dict(),
                                   LISTED: listed})
            for w in plan.windows()]


#: what planning reads of a listed record: when it was created
PLANNED = Shape({"created": unix_time(required=True, nullable=False)})


def listed(kind: str) -> Shape:
    """What every record of the list of ``kind`` says it is (its own shape is the kind's)."""
    return Shape({"object": one_of(kind, required=True, nullable=False)})


def _moment(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


class CustomersStream(ListStream):
    shape = listed("customer")
    name = "customers"
    entities = ("clients", "contacts")
    path = "/v1/customers"
    sweeps = ("clients", "contacts")


class InvoicesStream(ListStream):
    shape = listed("invoice")
    name = "invoices"
    entities = ("invoices", "invoice_lines", "payments")
    path = "/v1/invoices"
    # an invoice's payments name what paid it: worth their bytes
    params = (("expand[]", "data.payments"),)
    sweeps = ("invoices", "invoice_lines")

    def page(self, slice: Slice, walk: Walk, records: list[dict[str, Any]],
             response: JsonResponse, *, last: bool) -> Page:
        for invoice in records:
            if not n.is_deleted(invoice) and n.lines_incomplete(invoice):
                fetch_remaining_lines(self, invoice)
        return super().page(slice, walk, records, response, last=last)


class ChargesStream(ListStream):
    shape = listed("charge")
    name = "charges"
    entities = ("payments",)
    path = "/v1/charges"


class PaymentIntentsStream(ListStream):
    shape = listed("payment_intent")
    name = "payment_intents"
    entities = ("payments",)
    path = "/v1/payment_intents"


def fetch_remaining_lines(stream: StripeStream, invoice: dict[str, Any]) -> None:
    """Page ``/v1/invoices/{id}/lines`` after the embedded lines; the invoice's ``lines``
    then holds every line and says ``has_more: false``."""
    lines = invoice["lines"]
    data: list[dict[str, Any]] = list(lines.get("data") or [])
    path = f"/v1/invoices/{invoice['id']}/lines"
    walk = Walk(stream.paginator, provider=stream.provider, path=path, stream=stream.name,
                token=data[-1]["id"] if data else None)
    while True:
        records, body = stream.get_list(path, walk.params())
        data.extend(records)
        if not walk.advance(body, records):
            break
    invoice["lines"] = {**lines, "data": data, "has_more": False}
