"""The declarative REST stream: ``plan`` and ``read`` written once, for every provider.

A stream declares what its endpoint is and what its records become::

    class ContactsStream(RestStream):
        name = "contacts"
        entities = ("contacts",)
        path = "/contacts"
        paginator = AfterIdPaginator(param="after")

        def normalize(self, raw):
            yield "contacts", contact_row(raw)

and the kit reads it: one slice (or the slices ``plan`` returns, their ``params`` sent with
every request), each walked page by page through a :class:`~.pagination.Walk` that refuses
to loop, each page checkpointed with the walk's token so a killed sync resumes at the page it
stopped at. A stream with a ``cursor_field`` on a resumable scheme (keyset) is incremental by
default: the next run's walk starts where the last complete one stopped, ``--full`` from the
beginning. A stream that declares ``sweeps`` lists everything each run, and the last page of
a complete listing tombstones the rows of those entities it did not touch (deleted at the
provider, which just stops listing them); the listing's start time rides in every page's
cursor, so a listing resumed after a crash still sweeps against the moment it really began.

Hooks, for what a provider does differently: ``slice_params`` (how a slice becomes query
parameters), ``fetch`` (one request), ``records_of`` (where the records are in a body),
``check`` (records a page must not hold), ``page`` (what a page carries beside its records),
``warnings_of`` (what the user must hear about a response). ``shape`` (see
:mod:`~cscor_tools.connectors.shapes`) declares what each record must look like where
``normalize`` reads it: a record that breaks it fails the page, naming the record and field.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from cscor_tools.connectors.base import Page, Slice, Stream
from cscor_tools.connectors.pagination import Paginator, Params, Walk
from cscor_tools.errors import UnexpectedResponseError
from cscor_tools.records import ChangeSet, Cursor, StreamState, Sweep
from cscor_tools.schema import utc_now

if TYPE_CHECKING:
    from cscor_tools.connectors.http import JsonResponse

#: slice parameters the kit keeps for itself (never sent): where an incremental walk starts,
#: and when a sweeping listing began
START = "start"
LISTED = "listed_since"
RESERVED = frozenset({START, LISTED})


class RestStream(Stream):
    """A provider list endpoint read page by page (see the module docstring)."""

    #: the endpoint, relative to the connector's base URL
    path: ClassVar[str]
    #: query parameters every request sends
    params: ClassVar[Sequence[tuple[str, Any]]] = ()
    #: where the records are in a response body, as a dotted path ("" : the body itself)
    records_key: ClassVar[str] = "data"
    paginator: ClassVar[Paginator]
    #: entities a complete listing sweeps (rows of this connector's source it did not touch
    #: become tombstones); only for streams that list everything each run
    sweeps: ClassVar[tuple[str, ...]] = ()
    sweep_reason: ClassVar[str] = "no longer listed by the provider: deleted at source"

    # -- planning -----------------------------------------------------------------------------

    def plan(self, state: StreamState, *, full: bool,
             planned: Mapping[str, Sequence[Slice]] | None = None) -> list[Slice]:
        """One slice; with a ``cursor_field``, it starts where the last run's walk stopped."""
        start = (state.cursor or {}).get("token")
        if self.cursor_field and start is not None and not full:
            return [Slice("all", {START: start})]
        if self.sweeps:
            return [Slice("all", {LISTED: utc_now().isoformat()})]
        return [Slice("all")]

    # -- reading ------------------------------------------------------------------------------

    def read(self, slice: Slice, cursor: Cursor | None) -> Iterator[Page]:
        path = self.path_of(slice)
        token = (cursor or {}).get("token", slice.params.get(START))
        if LISTED in slice.params:  # a resumed listing keeps the start of the one it resumes
            slice = Slice(slice.key, {**slice.params,
                                      LISTED: (cursor or {}).get(LISTED, slice.params[LISTED])})
        walk = Walk(self.paginator, provider=self.provider, path=path, stream=self.name,
                    token=token, key=self.primary_key)
        while True:
            response = self.fetch(path, [*self.params, *self.slice_params(slice),
                                         *walk.params()], walk)
            records = self.records_of(response.data, path)
            self.check(slice, records, path)
            more = walk.advance(response.data, records)
            yield self.page(slice, walk, records, response, last=not more)
            if not more:
                return

    def path_of(self, slice: Slice) -> str:
        """The path a slice reads (override for per-slice paths, e.g. a channel's)."""
        return self.path

    def slice_params(self, slice: Slice) -> Params:
        """The query parameters a slice adds to every request of its walk."""
        return [(k, v) for k, v in slice.params.items() if k not in RESERVED]

    def fetch(self, path: str, params: Params, walk: Walk) -> JsonResponse:
        """One page's request (rate-limited, retried, errors mapped by the HTTP client)."""
        return self.http.get(path, params=params)

    def get_list(self, path: str, params: Params) -> tuple[list[dict[str, Any]], Any]:
        """One request outside a walk (a planning probe): its records and its body."""
        body = self.http.get(path, params=params).data
        return self.records_of(body, path), body

    def records_of(self, body: Any, path: str) -> list[dict[str, Any]]:
        """The records of a body; anything but a list of objects there is an error."""
        node = body
        for key in self.records_key.split(".") if self.records_key else ():
            if not isinstance(node, Mapping) or key not in node:
                self.unexpected(f"no {self.records_key!r} in the body", path)
            node = node[key]
        if not isinstance(node, list) or not all(isinstance(r, dict) for r in node):
            self.unexpected(f"{self.records_key or 'the body'!r} is not a list of objects", path)
        return node

    def check(self, slice: Slice, records: list[dict[str, Any]], path: str) -> None:
        """Refuse records a page must not hold (override; default: accept all)."""

    def page(self, slice: Slice, walk: Walk, records: list[dict[str, Any]],
             response: JsonResponse, *, last: bool) -> Page:
        """The page to hand the engine: its cursor is the walk's token, so a resumed read
        asks for the next page."""
        cursor: Cursor = {"token": _jsonable(walk.token)}
        extra = None
        if LISTED in slice.params:
            cursor[LISTED] = slice.params[LISTED]
            if last and self.sweeps:
                since = datetime.fromisoformat(slice.params[LISTED])
                extra = ChangeSet(sweeps=self.sweeps_of(slice, since))
        path = self.path_of(slice)
        return Page(records, cursor, last=last, extra=extra, path=path,
                    warnings=self.warnings_of(response, path=path))

    def sweeps_of(self, slice: Slice, since: datetime) -> list[Sweep]:
        """What a complete listing of ``slice`` (begun at ``since``) sweeps: every row of
        the ``sweeps`` entities (override to narrow the scope, e.g. a ``created`` range)."""
        return [Sweep(e, self.connector.name, since, self.sweep_reason) for e in self.sweeps]

    def warnings_of(self, response: JsonResponse, *, path: str) -> tuple[str, ...]:
        return ()

    def unexpected(self, what: str, path: str) -> Any:
        raise UnexpectedResponseError(self.provider, what, stream=self.name, path=path)


def _jsonable(token: Any) -> Any:
    return list(token) if isinstance(token, tuple) else token
