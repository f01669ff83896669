"""What a connector is: a provider with a credential and streams that read pages and normalize.

A connector knows its provider and nothing about files or the store. It reads pages with
cursors; the sync engine writes each page and the cursor that follows it in one transaction.

Lifecycle of a stream in one sync::

    plan(state, full)          -> slices to read (resuming unfinished ones from `state`)
    read(slice, cursor)        -> pages, each with the cursor to resume after it
    changes(page)              -> what a page changes in the workspace (normalize per record)
    finish(state, slices)      -> the stream-level cursor once every slice is done

Most streams are declarations over :class:`~cscor_tools.connectors.rest.RestStream`, which
writes ``plan`` and ``read`` once for every provider; a stream only says what its provider
does differently. ``normalize`` is a plain function of one provider record that yields
``(entity, row)`` pairs — or ``(entity, Tombstone)`` — for as many entities as the record
feeds; rows of one id in a page merge through ``records.merge_rows``. A normalizer trusts the
types of the fields it reads because a declared :class:`~cscor_tools.connectors.shapes.Shape`
was checked first (the stream's ``shape``, or the one its normalizer checks per kind): a field
that breaks it fails the page with an error naming the record and the field.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from cscor_tools.connectors.shapes import FieldError, Shape
from cscor_tools.errors import ConfigError, MissingCredentialError, UnexpectedFieldError
from cscor_tools.records import ChangeSet, Cursor, Output, RowSink, StreamState

if TYPE_CHECKING:
    import httpx

    from cscor_tools.connectors.http import HttpClient, RequestStats
    from cscor_tools.connectors.ratelimit import RateLimiter


class Secret:
    """A credential that never shows itself: not in repr, str, logs, errors or JSON."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not value:
            raise ValueError("empty secret")
        self._value = value

    def reveal(self) -> str:
        """The value, for the one place that puts it in a request header."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")


@dataclass(frozen=True)
class ConnectorSettings:
    """Resolved settings of one connector instance (flags beat env beat cscor.toml)."""

    base_url: str
    credential: Secret | None = None
    #: the environment variable the credential came from (or should come from): for messages
    credential_env: str | None = None
    #: requests per second this run may spend at the provider
    rate_limit: float = 10.0
    burst: int = 10
    concurrency: int = 4
    streams: tuple[str, ...] | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    #: an injected httpx transport (tests, fault injection); None uses the network
    transport: httpx.BaseTransport | None = field(default=None, compare=False)
    #: retries of a transient error before it fails the stream
    max_attempts: int = 8
    timeout: float = 30.0
    #: a rate limiter to use instead of one of this instance's own: workers syncing several
    #: workspaces of one provider account share the account's budget through it
    limiter: RateLimiter | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Slice:
    """A part of a stream that can be read independently (e.g. a `created` range)."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Page:
    """One page of a slice: raw provider records and where to resume after them."""

    records: list[dict[str, Any]]
    #: JSON-serialisable position after this page; what `read` gets back on resume
    cursor: Cursor | None
    #: True on the slice's final page
    last: bool = False
    #: things the user must hear about (e.g. payloads from another API version)
    warnings: tuple[str, ...] = ()
    #: True when this page comes from a reconcile scan (a change feed's horizon was passed)
    reconciled: bool = False
    #: changes the stream computed itself (tombstones, sweeps) beside the records
    extra: ChangeSet | None = None
    #: the API version the provider answered this page under, where it versions its API
    version: str | None = None
    #: the path the page was read from, for messages (None: the stream's ``path``)
    path: str | None = None


class Stream(ABC):
    """One kind of object at a provider, declared by a few class attributes."""

    #: stream name, unique within its connector
    name: ClassVar[str]
    #: the workspace entities its records become, the main one first
    entities: ClassVar[tuple[str, ...]]
    #: the record field that identifies a record (pagination refuses pages of ids seen before)
    primary_key: ClassVar[str] = "id"
    #: the record field an incremental read continues after (None: read whole each run)
    cursor_field: ClassVar[str | None] = None
    #: streams plan at once; one that reads what the others planned waits for them and gets
    #: their slices in ``plan(..., planned=…)``
    plans_after_others: ClassVar[bool] = False
    #: what each record must look like where ``normalize`` reads it (checked by the kit
    #: before ``normalize``); None when ``normalize`` checks the shape of each kind it reads
    shape: ClassVar[Shape | None] = None

    def __init__(self, connector: Connector) -> None:
        self.connector = connector

    @property
    def http(self) -> HttpClient:
        return self.connector.http

    @property
    def provider(self) -> str:
        """The provider's name for messages: the connector's title, never a literal."""
        return self.connector.title

    @property
    def entity(self) -> str:
        """The main entity (the first of ``entities``)."""
        return self.entities[0]

    def plan(self, state: StreamState, *, full: bool,
             planned: Mapping[str, Sequence[Slice]] | None = None) -> list[Slice]:
        """The slices to read now. Default: one slice, resumed where it stopped.

        Streams plan at once, each on a thread of its own. ``planned`` holds the other
        streams' slices, for a stream that ``plans_after_others``."""
        return [Slice("all")]

    @abstractmethod
    def read(self, slice: Slice, cursor: Cursor | None) -> Iterator[Page]:
        """Pages of a slice, starting after ``cursor`` (None: from the beginning)."""

    @abstractmethod
    def normalize(self, raw: dict[str, Any]) -> Iterable[Output]:
        """One provider record as ``(entity, row)`` pairs (or ``(entity, Tombstone)``) of the
        workspace: a plain function of its input."""

    def changes(self, page: Page) -> ChangeSet:
        """What a page changes in the workspace: its records normalized, rows of one id
        merged, and what the page computed itself (sweeps)."""
        return page_changes(page, self.normalize, stream=self)

    def finish(self, state: StreamState, slice_cursors: Mapping[str, Cursor | None]) -> Cursor:
        """The stream-level cursor to keep once every planned slice is complete."""
        merged: Cursor = dict(state.cursor or {})
        for cursor in slice_cursors.values():
            if cursor:
                merged.update(cursor)
        return merged


def page_changes(page: Page, normalize: Callable[[dict[str, Any]], Iterable[Output]], *,
                 stream: Stream) -> ChangeSet:
    """A page's records through ``normalize``, rows of one id merged, plus the page's own
    changes: what ``Stream.changes`` does, for a stream that binds ``normalize`` per page.

    Each record is checked against ``stream.shape`` first (where declared); a field that
    breaks a shape — there, or in a check ``normalize`` makes itself — fails the whole page
    with an :class:`~cscor_tools.errors.UnexpectedFieldError` naming the provider, stream,
    path, record and field. Nothing of the page is handed on. Any other exception from
    ``normalize`` is a bug of ours and goes through as it is."""
    sink = RowSink()
    shape = stream.shape
    for index, raw in enumerate(page.records):
        try:
            if shape is not None:
                shape.check(raw)
            sink.extend(normalize(raw))
        except FieldError as exc:
            raise _field_error(stream, raw, index, exc,
                               page.path or getattr(stream, "path", None)) from None
    changes = sink.changes()
    if page.extra is not None:
        changes.merge(page.extra)
    return changes


def check_records(stream: Stream, records: Sequence[dict[str, Any]], shape: Shape, *,
                  path: str | None) -> None:
    """Check records against ``shape`` as they arrive, for a stream whose reading uses their
    fields (to order or to resume) before ``normalize`` sees them: the first field that
    breaks the shape fails the read, named as ``page_changes`` names it."""
    for index, raw in enumerate(records):
        try:
            shape.check(raw)
        except FieldError as exc:
            raise _field_error(stream, raw, index, exc, path) from None


def _field_error(stream: Stream, raw: Mapping[str, Any], index: int, exc: FieldError,
                 path: str | None) -> UnexpectedFieldError:
    return UnexpectedFieldError(
        stream.provider, record=_record_name(raw, stream.primary_key, index),
        field=exc.field, reason=exc.reason, stream=stream.name, path=path)


def _record_name(raw: Mapping[str, Any], key: str, index: int) -> str:
    """How a message names a record: its id, else its place in the page."""
    value = raw.get(key)
    if isinstance(value, str | int) and not isinstance(value, bool) and value != "":
        return repr(value) if isinstance(value, str) else str(value)
    return f"#{index + 1} of the page"


class Connector(ABC):
    """A provider: how to reach it, the credential it needs and the streams it offers."""

    #: registry name, used on the command line: `cscor sync NAME`
    name: ClassVar[str]
    #: human name for messages
    title: ClassVar[str]
    #: where the credential comes from; None for a provider that needs none
    credential_env: ClassVar[str | None] = None
    #: the environment variable that overrides the base URL
    base_url_env: ClassVar[str | None] = None
    default_base_url: ClassVar[str]
    #: the provider's documented request rate (per second) for one account
    default_rate_limit: ClassVar[float] = 10.0
    default_burst: ClassVar[int] = 10
    default_concurrency: ClassVar[int] = 4
    #: which provider of the built-in sandbox can stand in for this one (`cscor demo`)
    sandbox_provider: ClassVar[str | None] = None
    #: the HttpClient subclass that reads this provider's error bodies (None: the default)
    http_client_class: ClassVar[type[HttpClient] | None] = None
    #: the stream classes, in the order they are listed and synced
    stream_classes: ClassVar[Sequence[type[Stream]]] = ()

    def __init__(self, settings: ConnectorSettings) -> None:
        if self.credential_env and settings.credential is None:
            raise MissingCredentialError(self.title, settings.credential_env or self.credential_env,
                                         connector=self.name)
        self.settings = settings
        self._http: HttpClient | None = None
        self._http_lock = threading.Lock()
        known = {cls.name for cls in self.stream_classes}
        unknown = sorted(set(settings.streams or ()) - known)
        if unknown:
            raise ConfigError(
                f"{self.title} has no stream {unknown[0]!r}; streams: {', '.join(sorted(known))}"
            )

    @property
    def http(self) -> HttpClient:
        """The connector's HTTP client: shared limiter, retries, error mapping.

        Made on first use, once: streams plan and read on threads of their own, and two
        clients would each get a rate limiter of their own.
        """
        if self._http is None:
            with self._http_lock:
                if self._http is None:
                    self._http = self.make_http_client()
        return self._http

    def make_http_client(self) -> HttpClient:
        """Build the provider's client from the settings; override ``http_headers`` or
        ``http_client_class`` rather than this where that is enough."""
        from cscor_tools.connectors.http import HttpClient
        from cscor_tools.connectors.ratelimit import RateLimiter

        cls = self.http_client_class or HttpClient
        s = self.settings
        return cls(
            self.title,
            s.base_url,
            credential=s.credential,
            credential_env=s.credential_env or self.credential_env,
            limiter=s.limiter or RateLimiter(s.rate_limit, s.burst),
            transport=s.transport,
            headers=self.http_headers(),
            timeout=s.timeout,
            max_attempts=s.max_attempts,
            pool_size=max(4, s.concurrency * 2),
        )

    def http_headers(self) -> dict[str, str]:
        """Extra non-secret headers every request carries (e.g. an API version)."""
        return {}

    def streams(self) -> list[Stream]:
        """The selected streams (all when the settings name none)."""
        wanted = set(self.settings.streams or ())
        return [cls(self) for cls in self.stream_classes if not wanted or cls.name in wanted]

    @property
    def stats(self) -> RequestStats:
        return self.http.stats

    def run_details(self) -> dict[str, Any]:
        """What the run log should remember of this connector's configuration (no secrets)."""
        return {"base_url": self.settings.base_url}

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def __enter__(self) -> Connector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.settings.base_url!r})"
