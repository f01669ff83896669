"""Reading one Stripe list resource: planning its windows and paging through one of them.

A window pages newest first: ``created[gte]`` fixed, the upper end moving down as pages
arrive. After every page the cursor holds both ends of what is left — ``gte`` and
``lte`` = the ``created`` of the last object read, with ``starting_after`` = its id — so a
resumed window re-reads nothing and skips nothing, and the cursor alone says what remains.

A window listed to its end is a complete statement of what exists in it, so its last page
carries a :class:`~cscor_tools.records.Sweep`: rows of that ``created`` range which the listing
did not touch are tombstoned (deleted at Stripe, which drops deleted objects from lists).
Charges and payment intents are never swept: Stripe does not delete them, and they share the
``payments`` entity, whose rows two streams write at different times.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from cscor_tools.connectors.base import Page
from cscor_tools.connectors.http import HttpClient
from cscor_tools.connectors.stripe import normalize as n
from cscor_tools.connectors.stripe.client import ListPage, Params, created_params, list_page
from cscor_tools.connectors.stripe.slicing import (
    PAGE_SIZE,
    Plan,
    Window,
    find_floor,
    slice_count,
    split,
)
from cscor_tools.errors import BadRequestError, NotFoundError, ProviderError
from cscor_tools.records import ChangeSet, Cursor, Sweep

T = TypeVar("T")
R = TypeVar("R")

SWEEP_REASON = "not in Stripe's complete listing of its created range: deleted at source"
RECONCILE_REASON = (
    "not in Stripe's listing during a reconcile (the 30-day events horizon had passed): "
    "deleted at source, exact time unknown"
)


@dataclass(frozen=True)
class Resource:
    """A Stripe list endpoint and what its objects feed."""

    object: str
    path: str
    #: list expansions worth their bytes (an invoice's payments name what paid it)
    expand: tuple[str, ...] = ()
    #: entities whose rows a complete window listing may sweep
    sweeps: tuple[str, ...] = ()


RESOURCES: dict[str, Resource] = {
    r.object: r
    for r in (
        Resource("customer", "/v1/customers", sweeps=("clients", "contacts")),
        Resource("invoice", "/v1/invoices", expand=("data.payments",),
                 sweeps=("invoices", "invoice_lines")),
        Resource("charge", "/v1/charges"),
        Resource("payment_intent", "/v1/payment_intents"),
    )
}


@dataclass
class StripePage(Page):
    """A page, the API version Stripe answered it under, and whether it holds events."""

    version: str | None = None
    feed: bool = False


class Lister:
    """Plans and reads one resource's windows over a shared :class:`HttpClient`."""

    def __init__(self, http: HttpClient, resource: Resource, *, api_version: str,
                 concurrency: int) -> None:
        self.http = http
        self.resource = resource
        self.api_version = api_version
        self.concurrency = concurrency

    # -- planning -----------------------------------------------------------------------------

    def plan(self, mode: str, since: int | None) -> Plan | None:
        """Windows over everything (``since`` None) or over what was created from ``since``
        on; None when there is nothing to read."""
        probe = self._page([("limit", PAGE_SIZE), *created_params(gte=since)])
        newest = probe.newest
        if newest is None:
            return None
        top = int(newest["created"])
        end = top + 1
        if since is not None:
            start, open_below = since, False
        elif not probe.has_more:
            start, open_below = int(probe.data[-1]["created"]), True
        else:
            start, open_below = self.find_floor(end), True
        start = min(start, top)
        count = slice_count(
            sample=len(probe.data),
            sample_span=top - int(probe.data[-1]["created"]),
            range_span=end - start,
            has_more=probe.has_more,
            max_slices=4 * self.concurrency,
        )
        return Plan(mode, split(start, end, count), open_below, high_water=top)

    def find_floor(self, end: int) -> int:
        def older_than(t: int) -> int | None:
            page = self._page([("limit", 1), *created_params(lt=t)])
            return int(page.data[0]["created"]) if page.data else None

        with ThreadPoolExecutor(max_workers=max(1, min(7, self.concurrency)),
                                thread_name_prefix="stripe-probe") as pool:
            return find_floor(older_than, end,
                              mapper=lambda f, xs: list(pool.map(f, xs)))

    # -- reading ------------------------------------------------------------------------------

    def read(self, window: Window, cursor: Cursor | None, plan: Plan) -> Iterator[StripePage]:
        """Pages of one window from where ``cursor`` left it."""
        position = dict(cursor or {})
        since = position.get("since") or datetime.now(UTC).isoformat()
        lte: int | None = position.get("lte")
        after: str | None = position.get("after")
        count = int(position.get("n") or 0)
        reconciled = plan.mode == "reconcile"
        while True:
            params: list[tuple[str, str | int]] = [("limit", PAGE_SIZE)]
            params += created_params(gte=window.gte, lt=None if lte is not None else window.lt,
                                     lte=lte)
            params += [("expand[]", e) for e in self.resource.expand]
            page = self._resume_page(params, after)
            records = page.data
            for obj in records:
                if not window.contains(int(obj.get("created", -1))):
                    raise ProviderError(
                        "Stripe", f"{obj['id']} (created {obj.get('created')}) is outside the "
                        f"requested window {window.key}", path=self.resource.path)
            self.complete_lines(records)
            if records:
                lte, after = int(records[-1]["created"]), records[-1]["id"]
            elif page.has_more:
                raise ProviderError("Stripe", "an empty page said more would follow",
                                    path=self.resource.path)
            count += len(records)
            last = not page.has_more
            extra = self._sweeps(window, since, reconciled) if last else None
            yield StripePage(
                records,
                {"plan": plan.to_dict(), "lte": lte, "after": after, "since": since, "n": count},
                last=last,
                warnings=self._version_warning(page),
                reconciled=reconciled,
                extra=extra,
                version=page.headers.get("stripe-version") or self.api_version,
            )
            if last:
                return

    def _resume_page(self, params: Params, after: str | None) -> ListPage:
        if after is None:
            return self._page(params)
        try:
            return self._page([*params, ("starting_after", after)])
        except (NotFoundError, BadRequestError) as exc:
            if exc.code != "resource_missing":
                raise
            # The object we stopped after is gone (deleted). The cursor's ``lte`` still
            # bounds what is left: read its second again; upserts make the repeat harmless.
            return self._page(params)

    def complete_lines(self, records: list[dict[str, Any]]) -> None:
        """Fetch the lines an invoice does not embed, into the invoice (in place)."""
        if self.resource.object != "invoice":
            return
        for invoice in records:
            if n.is_deleted(invoice) or not n.lines_incomplete(invoice):
                continue
            fetch_remaining_lines(self.http, invoice)

    def _sweeps(self, window: Window, since: str, reconciled: bool) -> ChangeSet | None:
        if not self.resource.sweeps:
            return None
        listed_since = datetime.fromisoformat(since)
        changes = ChangeSet()
        for entity in self.resource.sweeps:
            changes.sweeps.append(Sweep(
                entity, n.SOURCE, listed_since,
                RECONCILE_REASON if reconciled else SWEEP_REASON,
                created_from=_moment(window.gte), created_to=_moment(window.lt),
            ))
        return changes

    def _version_warning(self, page: ListPage) -> tuple[str, ...]:
        answered = page.headers.get("stripe-version")
        if answered and answered != self.api_version:
            return (f"Stripe answered {self.resource.path} under API version {answered}, not "
                    f"the pinned {self.api_version}; rows record the version received",)
        return ()

    def _page(self, params: Params) -> ListPage:
        return list_page(self.http, self.resource.path, params)


def fetch_remaining_lines(http: HttpClient, invoice: dict[str, Any]) -> None:
    """Page ``/v1/invoices/{id}/lines`` after the embedded lines; the invoice's ``lines``
    then holds every line and says ``has_more: false``."""
    lines = invoice["lines"]
    data: list[dict[str, Any]] = list(lines.get("data") or [])
    path = f"/v1/invoices/{invoice['id']}/lines"
    after = data[-1]["id"] if data else None
    while True:
        params: list[tuple[str, str | int]] = [("limit", PAGE_SIZE)]
        if after:
            params.append(("starting_after", after))
        page = list_page(http, path, params)
        data.extend(page.data)
        if not page.has_more or not page.data:
            break
        after = page.data[-1]["id"]
    invoice["lines"] = {**lines, "data": data, "has_more": False}


def _moment(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)
