"""The list streams: customers, invoices, charges and payment intents, each a few attributes.

Each stream reads its resource in ``created`` windows (see ``slicing`` and ``listing``):
everything on the first run or with ``--full``, and afterwards only what was created since the
high-water mark its last complete run left (``created >= hw``: objects of that second are read
again, harmlessly). Changes to older objects and deletions come from the ``events`` stream.

An incremental window starts ``LOOKBACK`` seconds below the high-water mark: an object
becomes visible in a list a moment after its ``created`` second, so one created just before the
last run's newest object may have been listed only after that run looked.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from cscor_tools.connectors.base import Page, Slice, Stream
from cscor_tools.connectors.stripe.changes import RowSink, add_object
from cscor_tools.connectors.stripe.listing import RESOURCES, Lister, Resource, StripePage
from cscor_tools.connectors.stripe.slicing import Plan, Window
from cscor_tools.errors import ProviderError
from cscor_tools.records import ChangeSet, Cursor, Row, StreamState
from cscor_tools.schema import utc_now

#: seconds re-read below the high-water mark (list visibility lags creation slightly)
LOOKBACK = 300

if TYPE_CHECKING:
    from cscor_tools.connectors.stripe.connector import StripeConnector


def saved_plan(state: StreamState, key: str = "plan") -> dict[str, Any] | None:
    """The plan an interrupted run left in its slice cursors (every cursor carries it)."""
    for cursor in state.slices.values():
        if isinstance(cursor, Mapping) and isinstance(cursor.get(key), Mapping):
            return dict(cursor[key])
    return None


#: the one slice of a stream whose planning failed: reading it raises the planning error
FAILED = "planning-failed"


def failed_plan(stream: Stream, error: ProviderError) -> list[Slice]:
    """A stream whose planning requests failed (a 403 for a key lacking a permission, say)
    fails on its own, like a stream whose reading fails, and the others still run: the
    engine plans every stream before reading any, and would let the error end the run."""
    return [Slice(FAILED, {"error": error})]


def window_slice(window: Window, prefix: str = "") -> Slice:
    return Slice(prefix + window.key, {"gte": window.gte, "lt": window.lt})


def page_changes(page: Page, api_version: str) -> ChangeSet:
    """The rows of a list page: each object as read under the version Stripe answered in."""
    version = page.version if isinstance(page, StripePage) else api_version
    sink = RowSink()
    synced_at = utc_now()
    for obj in page.records:
        if not add_object(sink, obj, version=version, synced_at=synced_at):
            raise ProviderError("Stripe", f"unexpected object {obj.get('object')!r} "
                                f"({obj.get('id')}) in a list")
    changes = sink.changes()
    if page.extra is not None:
        changes.merge(page.extra)
    return changes


class ListStream(Stream):
    """A Stripe list read in parallel ``created`` windows."""

    resource: ClassVar[Resource]
    cursor_field = "created"
    connector: StripeConnector

    def __init__(self, connector: StripeConnector) -> None:
        super().__init__(connector)
        self.lister = Lister(connector.http, self.resource, api_version=connector.api_version,
                             concurrency=connector.settings.concurrency)
        self._plan: Plan | None = None

    def plan(self, state: StreamState, *, full: bool) -> list[Slice]:
        saved = saved_plan(state)
        if saved is not None:
            plan: Plan | None = Plan.from_dict(saved)
        else:
            high_water = (state.cursor or {}).get("hw")
            mode = "full" if full or high_water is None else "new"
            since = None if high_water is None or full else max(0, int(high_water) - LOOKBACK)
            try:
                plan = self.lister.plan(mode, since)
            except ProviderError as exc:
                return failed_plan(self, exc)
        if plan is not None:
            self.connector.note_scan(self.resource.object, plan.mode, plan.high_water)
        self._plan = plan
        return [window_slice(w) for w in plan.windows()] if plan else []

    def read(self, slice: Slice, cursor: Cursor | None) -> Iterator[Page]:
        if slice.key == FAILED:
            raise slice.params["error"]
        assert self._plan is not None, "plan() comes before read()"
        window = Window(slice.params["gte"], slice.params["lt"])
        for page in self.lister.read(window, cursor, self._plan):
            self.connector.count_listed(self.name, len(page.records))
            yield page

    def normalize(self, raw: dict[str, Any]) -> Row:
        """The main row of one object (``changes`` also writes its contacts, lines, links)."""
        sink = RowSink()
        add_object(sink, raw, version=self.connector.api_version, synced_at=utc_now())
        rows = sink.changes().upserts.get(self.entity) or []
        if not rows:
            raise ProviderError("Stripe", f"{raw.get('id')} gave no {self.entity} row")
        return rows[0]

    def changes(self, page: Page) -> ChangeSet:
        return page_changes(page, self.connector.api_version)

    def finish(self, state: StreamState, slice_cursors: Mapping[str, Cursor | None]) -> Cursor:
        plan = self._plan
        cursor: Cursor = dict(state.cursor or {})
        if plan is not None:
            cursor["hw"] = max(plan.high_water, int(cursor.get("hw") or 0))
        cursor["api_version"] = self.connector.api_version
        return cursor


class CustomersStream(ListStream):
    name = "customers"
    entities = ("clients", "contacts")
    resource = RESOURCES["customer"]


class InvoicesStream(ListStream):
    name = "invoices"
    entities = ("invoices", "invoice_lines", "payments")
    resource = RESOURCES["invoice"]


class ChargesStream(ListStream):
    name = "charges"
    entities = ("payments",)
    resource = RESOURCES["charge"]


class PaymentIntentsStream(ListStream):
    name = "payment_intents"
    entities = ("payments",)
    resource = RESOURCES["payment_intent"]
